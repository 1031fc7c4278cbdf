#!/bin/sh
# The PyTorch comparison (tests/torch/verify.py) as part of `make test`,
# with Debian's python3-torch (make test installs it: tests/deps.sh).  Fails
# when PyTorch is missing: a suite that skips it proves less than it says.
. "$(dirname "$0")/lib.sh"
if ! /usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1; then
    echo "FAIL python3-torch is not installed (apt-get install python3-torch python3-numpy, or sh tests/deps.sh test)"
    echo "torch: 0 passed, 1 failed"
    exit 1
fi
[ -f tests/torch/verify.py ] || { echo "torch: 0 passed, 1 failed (tests/torch/verify.py missing)"; exit 1; }
/usr/bin/python3 tests/torch/verify.py --quick
