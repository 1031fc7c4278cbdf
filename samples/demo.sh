#!/bin/sh
# make demo: train Fashion-MNIST through the JIT, then ship the trained
# model as plain C and classify test images with it.
set -e
D=/usr/share/datasets/fashion-mnist
out=build/demo
mkdir -p $out
echo "== 1. train samples/fashion_mlp.lyr for 2 epochs, in memory (libtcc JIT)"
echo "\$ layerc train samples/fashion_mlp.lyr \$D/train-images-idx3-ubyte.gz --labels ... --test ... --epochs 2 --save $out/fashion.lyw"
./layerc train samples/fashion_mlp.lyr $D/train-images-idx3-ubyte.gz \
    --labels $D/train-labels-idx1-ubyte.gz \
    --test $D/t10k-images-idx3-ubyte.gz --test-labels $D/t10k-labels-idx1-ubyte.gz \
    --epochs 2 --save $out/fashion.lyw --log $out/fashion.csv
echo
echo "== 2. compile the model to C with the trained weights baked in (forward pass only)"
echo "\$ layerc samples/fashion_mlp.lyr --weights $out/fashion.lyw --inference -o $out/fashion_mlp.c"
./layerc samples/fashion_mlp.lyr --weights $out/fashion.lyw --inference -o $out/fashion_mlp.c
ls -l $out/fashion_mlp.c $out/fashion_mlp.h | awk '{ print "   ", $5, "bytes", $9 }'
echo
echo "== 3. build a plain C program with it and classify 10 test images"
echo "\$ cc -O2 -I$out samples/classify.c $out/fashion_mlp.c -lm -o $out/classify"
cc -O2 -std=c99 -I$out samples/classify.c $out/fashion_mlp.c -lm -o $out/classify
gzip -dc $D/t10k-images-idx3-ubyte.gz > $out/t10k-images-idx3-ubyte
gzip -dc $D/t10k-labels-idx1-ubyte.gz > $out/t10k-labels-idx1-ubyte
$out/classify $out/t10k-images-idx3-ubyte $out/t10k-labels-idx1-ubyte 10
