#!/bin/sh
# Installs the Debian packages a step needs when they are missing, saying so.
#   build: flex, bison, libtcc (libtcc-dev) and tcc's runtime files (tcc), zlib,
#          protobuf-c and onnx.proto (ONNX import and export)
#   demo:  the Fashion-MNIST data set
#   torch: python3-torch and python3-numpy (test-only)
#   qemu:  qemu-user, to run layerc on an emulated CPU without AVX (test-only)
#   bench: OpenBLAS with its pthread build, for PyTorch and the sgemm peak
#   test:  everything `make test` uses, so that no group of the suite is left
#          out on a fresh machine (a group that cannot run fails)
# When everything is there this costs one dpkg-query; apt-get runs only
# when something is missing.
set -e
need=""

# The packages of the list that are not installed.
missing() {
    installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null | awk '$2 == "ii" { print $1 }')
    for p in "$@"; do
        case " $(echo $installed) " in *" $p "*) ;; *) echo "$p" ;; esac
    done
}

case "$1" in
build)
    command -v flex  >/dev/null 2>&1 || need="$need flex"
    command -v bison >/dev/null 2>&1 || need="$need bison"
    [ -f /usr/include/libtcc.h ] || need="$need libtcc-dev"
    [ -d /usr/lib/x86_64-linux-gnu/tcc ] || [ -d /usr/lib/tcc ] || need="$need tcc"
    [ -f /usr/include/zlib.h ] || need="$need zlib1g-dev"
    # ONNX import/export: C generated from onnx.proto by protoc-c
    command -v protoc-c >/dev/null 2>&1 || need="$need protobuf-c-compiler"
    [ -f /usr/include/protobuf-c/protobuf-c.h ] || need="$need libprotobuf-c-dev"
    [ -f /usr/include/onnx/onnx.proto ] || need="$need libonnx-dev"
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
test)
    # the build, the reference implementations (PyTorch, NumPy), the data, the
    # tools the groups drive (Graphviz, Open MPI, groff, clang, g++ and tcc for the
    # generated C, QEMU and the ARM toolchain, ONNX and protobuf-c, gnuplot)
    if ! command -v dpkg-query >/dev/null 2>&1; then
        echo "layerc: tests/deps.sh test needs Debian's dpkg and apt-get; install by hand what README.md lists" >&2
        exit 1
    fi
    need=$(missing flex bison tcc libtcc-dev zlib1g-dev clang g++ \
        python3-torch python3-numpy dataset-fashion-mnist graphviz \
        libopenmpi-dev openmpi-bin groff-base \
        qemu-system-arm qemu-user gcc-arm-none-eabi libnewlib-arm-none-eabi \
        libprotobuf-c-dev protobuf-c-compiler libonnx-dev libonnx-testdata python3-onnx gnuplot-nox)
    need=$(echo $need)
    [ -n "$need" ] && need=" $need"
    ;;
*)
    echo "usage: sh tests/deps.sh build|demo|torch|qemu|bench|test" >&2
    exit 2
    ;;
esac
[ -z "$need" ] && exit 0
echo "layerc: installing missing Debian packages:$need"
if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $need >/dev/null
