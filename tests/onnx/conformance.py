"""conformance.py: layerc against the ONNX backend test data (Debian's libonnx-testdata).

    python3 tests/onnx/conformance.py LAYERC WORKDIR [DATA_DIR]

Every case of data/node/ and data/pytorch-converted/ is imported with
`layerc import`; the ones it takes (the applicable cases) run through the
JIT with `layerc predict` on the case's input, and the outputs are compared
with the case's expected output.  A case layerc refuses is skipped with the
importer's reason: an op it has no translation for, an attribute or form it
cannot express exactly, a batch/shape form (layerc models take one sample's
shape, the batch is the data's rows), a graph form (one input, one output
computed from it), or an input that is not float.

A layerc model has one input: a case's further inputs (a Conv's weights, a
Gemm's B and C, Clip's bounds) are made initializers with the values of the
case's own data set, which leaves the case's numbers as they are.

Agreement: |layerc - expected| <= RTOL |expected| + ATOL with RTOL = 1e-5
and ATOL = 1e-6 * max(1, max |expected|).  The floor is for results that
are sums of terms of both signs (a convolution of 27 products of values
near 1 ends near 0 with a float32 rounding of about 27 * 6e-8 = 1.6e-6 of
the terms' size, which no relative bound can hold); 1e-6 of the largest
output is 8 float32 ulps at that scale.

Also checks ref_eval.py (the NumPy reference for exports) on every case
whose ops it implements.  Prints each failure, the skipped cases by reason,
and the last line "RESULT passed=P failed=F applicable=A skipped=S".
"""
import collections
import glob
import os
import re
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref_eval  # noqa: E402

RTOL = 1e-5


def close(got, want):
    atol = 1e-6 * max(1.0, float(np.max(np.abs(want))) if want.size else 1.0)
    return got.shape == want.shape and bool(np.all(np.abs(got - want) <= RTOL * np.abs(want) + atol))


def load_pb(path):
    """A TensorProto file as an array; None for sequences, maps, optionals."""
    t = onnx.TensorProto()
    with open(path, 'rb') as f:
        t.ParseFromString(f.read())
    try:
        return numpy_helper.to_array(t)
    except Exception:
        return None


def promote_inputs(model, arrays):
    """Inputs after the first become initializers holding the case's values."""
    inits = {t.name for t in model.graph.initializer}
    real = [i for i in model.graph.input if i.name not in inits]
    for vi, arr in zip(real[1:], arrays[1:]):
        model.graph.initializer.append(numpy_helper.from_array(arr, vi.name))
    return model


def as_rows(x):
    """A batch [N, ...] as N CSV rows of one sample each."""
    x = np.asarray(x)
    if x.ndim == 0:
        x = x.reshape(1)
    return x.reshape(x.shape[0], -1)


def write_csv(path, rows):
    with open(path, 'w') as f:
        for r in rows:
            f.write(','.join(repr(float(v)) for v in r) + '\n')


def reason_of(stderr):
    """The importer's refusal, shortened to its kind for the summary."""
    line = stderr.strip().splitlines()[0] if stderr.strip() else 'no message'
    line = re.sub(r'; nothing written$', '', line)
    m = re.search(r'layerc has no translation for (\w+)', line)
    if m:
        return 'unsupported op ' + m.group(1), line
    if re.search(r'domain "[^"]*" is not ONNX', line):
        return 'ops of another domain', line
    if re.search(r'element type|is not a tensor|data type', line):
        return 'input or data type (layerc computes in float)', line
    if re.search(r'graph has \d+ inputs|graph has \d+ outputs|is used, and layerc computes only|is a constant',
                 line):
        return 'graph form (one input, one output computed from it)', line
    if re.search(r'batch|sample|-D convolution|pools over|shape|rank|broadcast', line):
        return 'batch/shape form', line
    return 'unsupported attribute or form', line


def ref_eval_check(model, arrays, outputs):
    """ref_eval.py on the case, when it implements every op: None, or (ok, why)."""
    if any(n.op_type not in ref_eval.SUPPORTED for n in model.graph.node):
        return None
    inits = {t.name for t in model.graph.initializer}
    real = [i.name for i in model.graph.input if i.name not in inits]
    try:
        got = ref_eval.run(model, dict(zip(real, arrays)))
    except NotImplementedError:
        return None
    except Exception as e:  # an attribute form the reference does not do
        return None if 'ceil_mode' in str(e) else (False, repr(e))
    for o, want in zip(model.graph.output, outputs):
        if want.dtype.kind != 'f':
            return None
        if not close(np.asarray(got[o.name], dtype=np.float64), want.astype(np.float64)):
            return False, 'ref_eval differs'
    return True, ''


def main():
    layerc, work = sys.argv[1], sys.argv[2]
    root = sys.argv[3] if len(sys.argv) > 3 else '/usr/share/libonnx-testdata/data'
    cases = sorted(glob.glob(os.path.join(root, 'node', '*'))) + \
        sorted(glob.glob(os.path.join(root, 'pytorch-converted', '*')))
    passed, failed, skipped = [], [], collections.defaultdict(list)
    ref_passed, ref_failed = 0, []
    os.makedirs(work, exist_ok=True)
    for case in cases:
        name = os.path.basename(case)
        sets = sorted(glob.glob(os.path.join(case, 'test_data_set_*')))
        if not os.path.exists(os.path.join(case, 'model.onnx')) or not sets:
            continue
        model = onnx.load(os.path.join(case, 'model.onnx'))
        data = sets[0]
        arrays = [load_pb(p) for p in sorted(glob.glob(os.path.join(data, 'input_*.pb')),
                                             key=lambda p: int(re.findall(r'\d+', os.path.basename(p))[0]))]
        outputs = [load_pb(p) for p in sorted(glob.glob(os.path.join(data, 'output_*.pb')),
                                              key=lambda p: int(re.findall(r'\d+', os.path.basename(p))[0]))]
        tensors = all(a is not None for a in arrays + outputs)
        r = ref_eval_check(model, arrays, outputs) if tensors else None
        if r is not None:
            if r[0]:
                ref_passed += 1
            else:
                ref_failed.append((name, r[1]))
        if tensors:
            model = promote_inputs(model, arrays)
        d = os.path.join(work, name)
        os.makedirs(d, exist_ok=True)
        onnx_path = os.path.join(d, 'model.onnx')
        onnx.save(model, onnx_path)
        lyr = os.path.join(d, 'case.lyr')
        p = subprocess.run([layerc, 'import', onnx_path, '-o', lyr], capture_output=True, text=True)
        if p.returncode not in (0, 1):
            failed.append((name, 'import exited with %d: %s' % (p.returncode, p.stderr.strip()[-300:])))
            continue
        if p.returncode == 1:
            if os.path.exists(lyr):
                failed.append((name, 'import refused the model but wrote ' + lyr))
                continue
            kind, line = reason_of(p.stderr)
            skipped[kind].append((name, line))
            continue
        if not tensors or not arrays or arrays[0].dtype.kind != 'f' or len(outputs) != 1:
            failed.append((name, 'imported although its input or outputs are not what layerc takes'))
            continue
        rows = as_rows(arrays[0])
        csv = os.path.join(d, 'input.csv')
        write_csv(csv, rows)
        p = subprocess.run([layerc, 'predict', lyr, csv, '--weights', os.path.join(d, 'case.lyw')],
                           capture_output=True, text=True)
        if p.returncode != 0:
            failed.append((name, 'predict failed: ' + p.stderr.strip()[-300:]))
            continue
        got = np.array([[float(v) for v in line.split(',')] for line in p.stdout.strip().splitlines()])
        want = as_rows(outputs[0]).astype(np.float64)
        if close(got.reshape(want.shape) if got.size == want.size else got, want):
            passed.append(name)
        else:
            err = np.max(np.abs(got.reshape(want.shape) - want)) if got.size == want.size else float('nan')
            failed.append((name, 'outputs differ (largest difference %g; shapes %s and %s)'
                           % (err, got.shape, want.shape)))
    nskip = sum(len(v) for v in skipped.values())
    print('ONNX test data (%s): %d cases, %d applicable, %d passed, %d failed, %d skipped'
          % (root, len(passed) + len(failed) + nskip, len(passed) + len(failed), len(passed), len(failed), nskip))
    print('passed: ' + ' '.join(passed))
    for name, why in failed:
        print('FAIL onnx case %s: %s' % (name, why))
    for kind in sorted(skipped, key=lambda k: (-len(skipped[k]), k)):
        items = skipped[kind]
        print('skipped (%d): %s: %s' % (len(items), kind, ' '.join(n for n, _ in items)))
    if os.environ.get('ONNX_VERBOSE'):
        for kind, items in skipped.items():
            for n, line in items:
                print('  %s: %s' % (n, line))
    print('ref_eval.py on the cases of its ops: %d agree, %d differ' % (ref_passed, len(ref_failed)))
    for name, why in ref_failed:
        print('FAIL ref_eval on %s: %s' % (name, why))
    print('RESULT passed=%d failed=%d applicable=%d skipped=%d ref_passed=%d ref_failed=%d'
          % (len(passed), len(failed), len(passed) + len(failed), nskip, ref_passed, len(ref_failed)))
    return 0 if not failed and not ref_failed else 1


if __name__ == '__main__':
    sys.exit(main())
