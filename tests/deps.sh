#!/bin/sh
# Installs the Debian packages a step needs when they are missing, saying so.
#   build: flex, bison, libtcc (libtcc-dev) and tcc's runtime files (tcc), zlib
#   demo:  the Fashion-MNIST data set
#   torch: python3-torch and python3-numpy (test-only)
#   qemu:  qemu-user, to run layerc on an emulated CPU without AVX (test-only)
#   bench: OpenBLAS with its pthread build, for PyTorch and the sgemm peak
set -e
need=""
case "$1" in
build)
    command -v flex  >/dev/null 2>&1 || need="$need flex"
    command -v bison >/dev/null 2>&1 || need="$need bison"
    [ -f /usr/include/libtcc.h ] || need="$need libtcc-dev"
    [ -d /usr/lib/x86_64-linux-gnu/tcc ] || [ -d /usr/lib/tcc ] || need="$need tcc"
    [ -f /usr/include/zlib.h ] || need="$need zlib1g-dev"
    ;;
demo)
    [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || need="$need dataset-fashion-mnist"
    ;;
torch)
    /usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1 || need="$need python3-torch python3-numpy"
    ;;
qemu)
    command -v qemu-x86_64 >/dev/null 2>&1 || need="$need qemu-user"
    ;;
bench)
    ls /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas*.so* >/dev/null 2>&1 ||
        ls /usr/lib/*/openblas-pthread/libopenblas*.so* >/dev/null 2>&1 || need="$need libopenblas0-pthread"
    ;;
esac
[ -z "$need" ] && exit 0
echo "layerc: installing missing Debian packages:$need"
if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $need >/dev/null
