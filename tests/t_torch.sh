#!/bin/sh
# The PyTorch comparison (tests/torch/verify.py) as part of `make test`,
# when Debian's python3-torch is installed (CI installs it).
. "$(dirname "$0")/lib.sh"
if ! /usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1; then
    echo "torch: 0 passed, 0 failed (python3-torch not installed: skipped)"
    exit 0
fi
[ -f tests/torch/verify.py ] || { echo "torch: 0 passed, 1 failed (tests/torch/verify.py missing)"; exit 1; }
/usr/bin/python3 tests/torch/verify.py --quick
