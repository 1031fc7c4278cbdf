#!/bin/sh
# Fashion-MNIST end to end on a subset (2,000 training images, 1,000 test
# images): the MLP and the CNN train through the JIT and must beat 70% test
# accuracy (at lr 0.05: 2,000 images make few steps); the log has one row
# per epoch.  The full runs are benchmarks, reported in docs/, not tests.
. "$(dirname "$0")/lib.sh"
D=/usr/share/datasets/fashion-mnist
if [ ! -f $D/train-images-idx3-ubyte.gz ]; then
    echo "fashion: 0 passed, 1 failed (dataset-fashion-mnist is not installed)"
    exit 1
fi
subset $D/train-images-idx3-ubyte.gz 2000 "$tmp/train-images"
subset $D/train-labels-idx1-ubyte.gz 2000 "$tmp/train-labels"
subset $D/t10k-images-idx3-ubyte.gz 1000 "$tmp/test-images"
subset $D/t10k-labels-idx1-ubyte.gz 1000 "$tmp/test-labels"
for model in fashion_mlp fashion_cnn; do
    "$LAYERC" train samples/$model.lyr "$tmp/train-images" --labels "$tmp/train-labels" \
        --test "$tmp/test-images" --test-labels "$tmp/test-labels" --epochs 4 --lr 0.05 \
        --log "$tmp/$model.csv" --save "$tmp/$model.lyw" --quiet > "$tmp/$model.out" 2>&1
    result $? "$model trains: $(tail -3 "$tmp/$model.out")"
    acc=$(tail -1 "$tmp/$model.csv" | cut -d, -f5)
    awk -v a="$acc" 'BEGIN { exit !(a > 0.70) }'
    result $? "$model test accuracy after 4 epochs on 2,000 images is $acc, want > 0.70"
    [ "$(head -1 "$tmp/$model.csv")" = "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds" ] &&
    [ "$(wc -l < "$tmp/$model.csv")" -eq 5 ]
    result $? "$model log: header and one row per epoch"
    "$LAYERC" eval samples/$model.lyr "$tmp/test-images" --labels "$tmp/test-labels" \
        --weights "$tmp/$model.lyw" > "$tmp/$model.eval"
    grep -q "accuracy" "$tmp/$model.eval" && grep -q "confusion matrix" "$tmp/$model.eval"
    result $? "$model eval prints accuracy and the confusion matrix"
    e=$(sed -n 's/.*accuracy \([0-9.]*\)%.*/\1/p' "$tmp/$model.eval")
    awk -v a="$acc" -v e="$e" 'BEGIN { d = a * 100 - e; if (d < 0) d = -d; exit !(d < 0.01) }'
    result $? "$model eval of the saved weights gives the logged accuracy ($e% vs $acc)"
done
finish "fashion"
