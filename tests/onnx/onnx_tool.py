"""onnx_tool.py: the small steps of t_onnx.sh that need Python.

    onnx_tool.py check M.onnx X.csv Y.csv   onnx.checker (full) accepts M, and
                                            ref_eval.py's outputs on X equal Y
    onnx_tool.py close A.csv B.csv          the numbers agree (conformance.py's tolerance)
    onnx_tool.py nocomments A.c B.c         the C files are the same once comments are removed
    onnx_tool.py handmade OUTDIR            small graphs torch does not write the same way
    onnx_tool.py bad OUTDIR                 broken .onnx files, one per way of being broken
    onnx_tool.py opset M.onnx               the default-domain opset M imports
    onnx_tool.py nodes M.onnx OP N [A V]    M has exactly N nodes of type OP (with
                                            attribute A equal to V)
    onnx_tool.py bnstats M.onnx             every BatchNormalization's mean and
                                            variance are not the identity's 0 and 1
    onnx_tool.py data OUT.csv ROWS N K      ROWS random rows of N inputs and a
                                            class index below K (K < 0: -K values)
"""
import os
import re
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref_eval  # noqa: E402
from conformance import close  # noqa: E402


def read_csv(path, ncols=None):
    """The numbers of a CSV file (a header line, as layerc allows, skipped)."""
    with open(path) as f:
        first = f.readline()
    try:
        [float(v) for v in first.split(',')]
        skip = 0
    except ValueError:
        skip = 1
    rows = np.loadtxt(path, delimiter=',', ndmin=2, skiprows=skip)
    return rows[:, :ncols] if ncols else rows


def cmd_check(model_path, x_csv, y_csv):
    m = onnx.load(model_path)
    onnx.checker.check_model(m, full_check=True)
    opset = next(o.version for o in m.opset_import if o.domain in ('', 'ai.onnx'))
    if opset < 13:
        sys.exit('%s: opset %d, under 13' % (model_path, opset))
    inp = m.graph.input[0]
    shape = [d.dim_value for d in inp.type.tensor_type.shape.dim[1:]]
    n = int(np.prod(shape))
    x = read_csv(x_csv, n).reshape([-1] + shape)
    got = list(ref_eval.run(m, {inp.name: x}).values())[0]
    want = read_csv(y_csv)
    got = got.reshape(len(got), -1)
    if not close(want, got):
        sys.exit('%s: layerc predict and the NumPy evaluation differ by %g' % (model_path, np.max(np.abs(got - want))))


def cmd_nodes(model_path, op, n, attr=None, val=None):
    nodes = [x for x in onnx.load(model_path).graph.node if x.op_type == op]
    if attr is not None:
        nodes = [x for x in nodes if any(a.name == attr and str(helper.get_attribute_value(a)) == val
                                         for a in x.attribute)]
    if len(nodes) != int(n):
        sys.exit('%s: %d %s nodes%s, want %s' % (model_path, len(nodes), op,
                                                 ' with %s=%s' % (attr, val) if attr else '', n))


def cmd_bnstats(model_path):
    g = onnx.load(model_path).graph
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    for x in g.node:
        if x.op_type == 'BatchNormalization':
            mean, var = inits[x.input[3]], inits[x.input[4]]
            if not np.any(mean != 0) or not np.any(var != 1):
                sys.exit('%s: %s has the statistics of an untrained batchnorm' % (model_path, x.name))


def cmd_data(out, rows, n, k):
    rng = np.random.default_rng(3)
    rows, n, k = int(rows), int(n), int(k)
    x = rng.uniform(-1, 1, (rows, n))
    t = rng.integers(0, k, (rows, 1)) if k > 0 else rng.uniform(-1, 1, (rows, -k))
    np.savetxt(out, np.concatenate([x, t], axis=1), delimiter=',', fmt='%.9g')


def cmd_close(a, b):
    x, y = read_csv(a), read_csv(b)
    if x.shape != y.shape or not close(x, y):
        sys.exit('%s and %s differ%s' % (a, b, '' if x.shape != y.shape else ' by up to %g' % np.max(np.abs(x - y))))


def strip(path):
    text = open(path).read()
    return re.sub(r'/\*.*?\*/', '', re.sub(r'#include "[^"]*\.h"', '', text), flags=re.S)


def cmd_nocomments(a, b):
    if strip(a) != strip(b):
        import difflib
        d = list(difflib.unified_diff(strip(a).splitlines(), strip(b).splitlines(), lineterm=''))
        sys.exit('%s and %s differ:\n%s' % (a, b, '\n'.join(d[:20])))


def value(name, shape, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def save(model, path):
    onnx.save(model, path)


def make(nodes, inputs, outputs, inits, opset=13, name='g'):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid('', opset)])


def cmd_handmade(out):
    """Graphs for the importer's fusions, with their NumPy outputs on X."""
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(3)
    f = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    t = numpy_helper.from_array
    cases = {
        # MatMul + Add: one dense layer with its bias
        'matmul_add': make([helper.make_node('MatMul', ['x', 'W'], ['h']),
                            helper.make_node('Add', ['h', 'B'], ['y'])],
                           [value('x', ['N', 6])], [value('y', ['N', 4])], [t(f(6, 4), 'W'), t(f(4), 'B')]),
        # Conv without bias + Add of [1, F, 1, 1]: the convolution's bias
        'conv_add': make([helper.make_node('Conv', ['x', 'W'], ['h'], pads=[1, 1, 1, 1]),
                          helper.make_node('Add', ['h', 'B'], ['y'])],
                         [value('x', ['N', 2, 5, 5])], [value('y', ['N', 3, 5, 5])],
                         [t(f(3, 2, 3, 3), 'W'), t(f(1, 3, 1, 1), 'B')]),
        # Gemm with transB=0, alpha, beta and a [1, M] bias folded into the weights
        'gemm_scaled': make([helper.make_node('Gemm', ['x', 'B', 'C'], ['y'], alpha=0.5, beta=2.0)],
                            [value('x', ['N', 5])], [value('y', ['N', 3])], [t(f(5, 3), 'B'), t(f(1, 3), 'C')]),
        # Softmax before opset 13: the whole sample, flattened
        'softmax_old': make([helper.make_node('Softmax', ['x'], ['y'], axis=1)],
                            [value('x', ['N', 2, 3])], [value('y', ['N', 2, 3])], [], opset=11),
        # Clip before opset 11 (attributes): relu6... or relu when max is open
        'clip_relu': make([helper.make_node('Clip', ['x'], ['y'], min=0.0)],
                          [value('x', ['N', 4])], [value('y', ['N', 4])], [], opset=6),
        # Concat of two images along channels: layerc's concat, then a reshape for the conv
        'concat_conv': make([helper.make_node('Relu', ['x'], ['a']), helper.make_node('Sigmoid', ['x'], ['b']),
                             helper.make_node('Concat', ['a', 'b'], ['c'], axis=1),
                             helper.make_node('Conv', ['c', 'W', 'B'], ['y'])],
                            [value('x', ['N', 2, 4, 4])], [value('y', ['N', 1, 2, 2])],
                            [t(f(1, 4, 3, 3), 'W'), t(f(1), 'B')]),
        # x.view(N, -1) as torch writes it, from Shape, Gather, Unsqueeze and Concat
        'view_fold': make([helper.make_node('Shape', ['x'], ['s']),
                           helper.make_node('Constant', [], ['i'], value=t(np.array(0, dtype=np.int64))),
                           helper.make_node('Gather', ['s', 'i'], ['n'], axis=0),
                           helper.make_node('Unsqueeze', ['n', 'ax'], ['n1']),
                           helper.make_node('Concat', ['n1', 'm1'], ['shape'], axis=0),
                           helper.make_node('Reshape', ['x', 'shape'], ['v']),
                           helper.make_node('Gemm', ['v', 'W'], ['y'], transB=1)],
                          [value('x', ['N', 2, 3])], [value('y', ['N', 2])],
                          [t(np.array([0], dtype=np.int64), 'ax'), t(np.array([-1], dtype=np.int64), 'm1'),
                           t(f(2, 6), 'W')]),
        # F.gelu as torch writes it (ONNX's Gelu needs opset 20): one gelu layer
        'gelu_torch': make([helper.make_node('Div', ['x', 'sqrt2'], ['d']), helper.make_node('Erf', ['d'], ['e']),
                            helper.make_node('Constant', [], ['one'], value=t(np.array(1, dtype=np.float32))),
                            helper.make_node('Add', ['e', 'one'], ['a']), helper.make_node('Mul', ['x', 'a'], ['m']),
                            helper.make_node('Mul', ['m', 'half'], ['y'])],
                           [value('x', ['N', 5])], [value('y', ['N', 5])],
                           [t(np.array(np.sqrt(2), dtype=np.float32), 'sqrt2'),
                            t(np.array(0.5, dtype=np.float32), 'half')]),
        # LayerNormalization over the last two axes (torch's nn.LayerNorm([3, 4])): a reshape, then layernorm
        'layernorm_2axes': make([helper.make_node('LayerNormalization', ['x', 'g', 'b'], ['y'], axis=2)],
                                [value('x', ['N', 2, 3, 4])], [value('y', ['N', 2, 3, 4])], [t(f(3, 4), 'g'), t(f(3, 4), 'b')],
                                opset=17),
        # ONNX's own Gelu (opset 20, newer than Debian's onnx 1.12 checks)
        'gelu_op': make([helper.make_node('Gelu', ['x'], ['y'])], [value('x', ['N', 5])], [value('y', ['N', 5])], [],
                        opset=20),
        # a 1-D pool as older torch writes it: Unsqueeze, a 2-D pool, Squeeze (no layers for the two)
        'unsqueeze_pool': make([helper.make_node('Unsqueeze', ['x', 'ax'], ['u']),
                                helper.make_node('AveragePool', ['u'], ['p'], kernel_shape=[1, 2], strides=[1, 2]),
                                helper.make_node('Squeeze', ['p', 'ax'], ['y'])],
                               [value('x', ['N', 3, 8])], [value('y', ['N', 3, 4])],
                               [t(np.array([2], dtype=np.int64), 'ax')]),
    }
    for name, m in cases.items():
        if name != 'gelu_op':
            onnx.checker.check_model(m)
        save(m, os.path.join(out, name + '.onnx'))
        inp = m.graph.input[0]
        shape = [d.dim_value for d in inp.type.tensor_type.shape.dim[1:]]
        x = rng.standard_normal([4] + shape) * 3
        y = list(ref_eval.run(m, {inp.name: x}).values())[0]
        np.savetxt(os.path.join(out, name + '.x.csv'), x.reshape(4, -1), delimiter=',', fmt='%.9g')
        np.savetxt(os.path.join(out, name + '.y.csv'), y.reshape(4, -1), delimiter=',', fmt='%.9g')


def cmd_bad(out):
    """Each file, and what the importer's message must name."""
    os.makedirs(out, exist_ok=True)
    good = make([helper.make_node('Relu', ['x'], ['h'], name='r1'),
                 helper.make_node('Gemm', ['h', 'W', 'B'], ['y'], name='fc', transB=1)],
                [value('x', ['N', 3])], [value('y', ['N', 2])],
                [numpy_helper.from_array(np.ones((2, 3), np.float32), 'W'),
                 numpy_helper.from_array(np.ones(2, np.float32), 'B')])
    raw = good.SerializeToString()
    files = {}
    files['truncated'] = raw[:len(raw) * 2 // 3]
    files['not_protobuf'] = b'\x89PNG\r\n\x1a\n not an onnx model at all \xff\xff\xff'
    files['empty'] = b''
    m = onnx.ModelProto()
    m.CopyFrom(good)
    del m.graph.initializer[1]          # fc's bias B: nothing produces it
    files['missing_initializer'] = m.SerializeToString()
    m = onnx.ModelProto()
    m.CopyFrom(good)
    m.graph.node[1].input[0] = 'nowhere'
    files['dangling_input'] = m.SerializeToString()
    m = make([helper.make_node('Relu', ['x', 'b'], ['a'], name='first'),
              helper.make_node('Relu', ['a'], ['b'], name='second'),
              helper.make_node('Relu', ['a'], ['y'], name='last')],
             [value('x', ['N', 3])], [value('y', ['N', 3])], [])
    files['cycle'] = m.SerializeToString()
    m = onnx.ModelProto()
    m.CopyFrom(good)
    m.graph.input[0].type.tensor_type.shape.dim[1].dim_value = 1 << 40
    files['absurd_input_dims'] = m.SerializeToString()
    m = onnx.ModelProto()
    m.CopyFrom(good)
    w = m.graph.initializer[0]
    del w.dims[:]
    w.dims.extend([1 << 31, 1 << 31])   # the data holds 6 floats
    files['absurd_initializer_dims'] = m.SerializeToString()
    m = onnx.ModelProto()
    m.CopyFrom(good)
    helper.set_model_props(m, {'layerc.train': 'optimizer = sgd(lr=1e300); batch = 4;'})
    files['bad_metadata'] = m.SerializeToString()
    m = make([helper.make_node('Sin', ['x'], ['y'], name='sin')],
             [value('x', ['N', 3])], [value('y', ['N', 3])], [])
    files['unsupported_op'] = m.SerializeToString()
    # Erf and Div are taken only as the five nodes of torch's GELU
    m = make([helper.make_node('Erf', ['x'], ['y'], name='erf')],
             [value('x', ['N', 3])], [value('y', ['N', 3])], [])
    files['lone_erf'] = m.SerializeToString()
    m = make([helper.make_node('Div', ['x', 's'], ['d'], name='div'), helper.make_node('Erf', ['d'], ['e'], name='erf'),
              helper.make_node('Add', ['e', 'one'], ['a'], name='add'), helper.make_node('Mul', ['x', 'a'], ['m'], name='mul'),
              helper.make_node('Mul', ['m', 'half'], ['y'], name='half')],
             [value('x', ['N', 3])], [value('y', ['N', 3])],
             [numpy_helper.from_array(np.array(1.5, np.float32), 's'), numpy_helper.from_array(np.array(1, np.float32), 'one'),
              numpy_helper.from_array(np.array(0.5, np.float32), 'half')])
    files['gelu_wrong_divisor'] = m.SerializeToString()
    # pads (1 before, 0 after): asymmetric, and not Keras' 'same' (which puts the extra one after)
    m = make([helper.make_node('Conv', ['x', 'W'], ['y'], name='c', pads=[1, 1, 0, 0])],
             [value('x', ['N', 1, 5, 5])], [value('y', ['N', 1, 4, 4])],
             [numpy_helper.from_array(np.ones((1, 1, 2, 2), np.float32), 'W')])
    files['unsupported_attribute'] = m.SerializeToString()
    # messages nested 90,000 deep (a graph in an attribute of a node of a graph ...):
    # protobuf-c would recurse once a level and run out of stack
    headers, size = [], 0
    for _ in range(30000):
        for tag in (0x32, 0x2a, 0x0a):   # AttributeProto.g, NodeProto.attribute, GraphProto.node
            h = bytes([tag]) + _varint(size)
            headers.append(h)
            size += len(h)
    headers.append(b'\x3a' + _varint(size))   # ModelProto.graph
    files['deep_nesting'] = b''.join(reversed(headers))
    # metadata that would add statements is not used (the import succeeds without it)
    m = onnx.ModelProto()
    m.CopyFrom(good)
    helper.set_model_props(m, {'layerc.train': 'batch = 4; }\nlayer evil = relu(x); train {',
                               'layerc.loss': 'mse(y); layer evil2 = relu(x); loss mse', 'layerc.init.fc': 'he\nlayer'})
    with open(os.path.join(out, 'injection.onnx.ok'), 'wb') as fh:
        fh.write(m.SerializeToString())
    for name, data in files.items():
        with open(os.path.join(out, name + '.onnx'), 'wb') as fh:
            fh.write(data)


def _varint(n):
    out = b''
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def cmd_opset(path):
    m = onnx.load(path)
    print(next(o.version for o in m.opset_import if o.domain in ('', 'ai.onnx')))


if __name__ == '__main__':
    cmds = {'check': cmd_check, 'close': cmd_close, 'data': cmd_data, 'nodes': cmd_nodes, 'bnstats': cmd_bnstats, 'nocomments': cmd_nocomments, 'handmade': cmd_handmade,
            'bad': cmd_bad, 'opset': cmd_opset}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](*sys.argv[2:])
