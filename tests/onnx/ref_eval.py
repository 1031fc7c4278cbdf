"""ref_eval.py: a small NumPy evaluator of ONNX graphs, the reference the
exported files are checked against (Debian 12 has no onnxruntime, and
python3-onnx 1.12 has no onnx.reference).

It implements, from the ONNX operator documents, the ops layerc's exporter
writes, in float64, independently of layerc's kernels.  conformance.py also
runs it on the ONNX test data of those ops, so it is itself checked against
ONNX's expected outputs.

    run(model, {input_name: array}) -> {output_name: array}
"""
import math

import numpy as np
from onnx import numpy_helper, helper


def _attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _window(x, kernel, strides, pads, dilations, fill):
    """x [N, C, *spatial] padded, as windows [N, C, *out, *kernel]."""
    n = len(kernel)
    pad_width = [(0, 0), (0, 0)] + [(pads[i], pads[i + n]) for i in range(n)]
    xp = np.pad(x, pad_width, constant_values=fill)
    out = [(xp.shape[2 + i] - ((kernel[i] - 1) * dilations[i] + 1)) // strides[i] + 1 for i in range(n)]
    idx = np.indices(out + list(kernel))
    coords = [idx[i] * strides[i] + idx[n + i] * dilations[i] for i in range(n)]
    return xp[(slice(None), slice(None)) + tuple(coords)], out


def _geometry(node, x, kernel):
    a = _attrs(node)
    n = len(kernel)
    strides = list(a.get('strides', [1] * n))
    dil = list(a.get('dilations', [1] * n))
    pads = list(a.get('pads', [0] * (2 * n)))
    mode = a.get('auto_pad', b'NOTSET')
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if mode in ('SAME_UPPER', 'SAME_LOWER'):
        for i in range(n):
            size = x.shape[2 + i]
            span = (kernel[i] - 1) * dil[i] + 1
            need = max((-(-size // strides[i]) - 1) * strides[i] + span - size, 0)
            lo = need // 2 if mode == 'SAME_UPPER' else need - need // 2
            pads[i], pads[i + n] = lo, need - lo
    elif mode == 'VALID':
        pads = [0] * (2 * n)
    return strides, pads, dil


def conv(node, x, w, b=None):
    a = _attrs(node)
    g = a.get('group', 1)
    kernel = list(w.shape[2:])
    strides, pads, dil = _geometry(node, x, kernel)
    win, out = _window(x, kernel, strides, pads, dil, 0.0)  # [N, C, *out, *k]
    N, C = x.shape[:2]
    F = w.shape[0]
    cg, fg = C // g, F // g
    ys = []
    for gi in range(g):
        xw = win[:, gi * cg:(gi + 1) * cg]            # [N, cg, *out, *k]
        wg = w[gi * fg:(gi + 1) * fg]                  # [fg, cg, *k]
        n = len(kernel)
        xw = np.moveaxis(xw, 1, 1 + n)                 # [N, *out, cg, *k]
        y = np.tensordot(xw, wg, axes=(list(range(1 + n, 2 + 2 * n)), list(range(1, 2 + n))))
        ys.append(np.moveaxis(y, -1, 1))               # [N, fg, *out]
    y = np.concatenate(ys, axis=1)
    if b is not None:
        y = y + b.reshape((1, F) + (1,) * len(kernel))
    return y


def pool(node, x, kind):
    a = _attrs(node)
    kernel = list(a['kernel_shape'])
    strides, pads, dil = _geometry(node, x, kernel)
    if a.get('ceil_mode', 0):
        raise NotImplementedError('ceil_mode')
    n = len(kernel)
    axes = tuple(range(2 + n, 2 + 2 * n))
    if kind == 'max':
        win, _ = _window(x, kernel, strides, pads, dil, -np.inf)
        return win.max(axis=axes)
    win, _ = _window(x, kernel, strides, pads, dil, 0.0)
    if a.get('count_include_pad', 0):
        return win.mean(axis=axes)
    ones, _ = _window(np.ones_like(x), kernel, strides, pads, dil, 0.0)
    return win.sum(axis=axes) / ones.sum(axis=axes)


def softmax(node, x, opset):
    a = _attrs(node)
    if opset < 13:
        axis = a.get('axis', 1)
        shape = x.shape
        x2 = x.reshape(int(np.prod(shape[:axis])), -1)
        e = np.exp(x2 - x2.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True)).reshape(shape)
    axis = a.get('axis', -1)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def reshape(node, x, shape):
    shape = [int(v) for v in shape]
    allowzero = _attrs(node).get('allowzero', 0)
    out = [x.shape[i] if (v == 0 and not allowzero) else v for i, v in enumerate(shape)]
    return x.reshape(out)


def _gemm(node, a, b, c=None):
    at = _attrs(node)
    if at.get('transA', 0):
        a = a.T
    if at.get('transB', 0):
        b = b.T
    y = at.get('alpha', 1.0) * (a @ b)
    if c is not None:
        y = y + at.get('beta', 1.0) * c
    return y


def run(model, feeds):
    opset = next(o.version for o in model.opset_import if o.domain in ('', 'ai.onnx'))
    env = {t.name: numpy_helper.to_array(t).astype(np.float64)
           if numpy_helper.to_array(t).dtype.kind == 'f' else numpy_helper.to_array(t)
           for t in model.graph.initializer}
    env.update({k: np.asarray(v, dtype=np.float64) if np.asarray(v).dtype.kind == 'f' else np.asarray(v)
                for k, v in feeds.items()})
    for node in model.graph.node:
        ins = [env[i] if i else None for i in node.input]
        a = _attrs(node)
        op = node.op_type
        # the inference form only: one result, no training mode
        if len([o for o in node.output if o]) > 1 or a.get('training_mode', 0) or \
                (op == 'Dropout' and len(ins) > 2 and ins[2] is not None and bool(ins[2])):
            raise NotImplementedError(op + ' in a training form')
        x = ins[0] if ins else None
        if op == 'Conv':
            y = conv(node, *ins)
        elif op == 'MaxPool':
            y = pool(node, x, 'max')
        elif op == 'AveragePool':
            y = pool(node, x, 'avg')
        elif op == 'GlobalAveragePool':
            y = x.mean(axis=tuple(range(2, x.ndim)), keepdims=True)
        elif op == 'GlobalMaxPool':
            y = x.max(axis=tuple(range(2, x.ndim)), keepdims=True)
        elif op == 'Gemm':
            y = _gemm(node, *ins)
        elif op == 'MatMul':
            y = x @ ins[1]
        elif op == 'Relu':
            y = np.maximum(x, 0)
        elif op == 'Sigmoid':
            y = 1 / (1 + np.exp(-x))
        elif op == 'Tanh':
            y = np.tanh(x)
        elif op == 'LeakyRelu':
            y = np.where(x > 0, x, a.get('alpha', 0.01) * x)
        elif op == 'Elu':
            y = np.where(x > 0, x, a.get('alpha', 1.0) * (np.exp(x) - 1))
        elif op == 'HardSwish':
            y = x * np.clip(x / 6 + 0.5, 0, 1)
        elif op == 'Clip':
            lo = ins[1] if len(ins) > 1 and ins[1] is not None else a.get('min', -np.inf)
            hi = ins[2] if len(ins) > 2 and ins[2] is not None else a.get('max', np.inf)
            y = np.minimum(np.maximum(x, lo), hi)
        elif op == 'Softmax':
            y = softmax(node, x, opset)
        elif op == 'Add':
            y = x + ins[1]
        elif op == 'Mul':
            y = x * ins[1]
        elif op == 'Sub':
            y = x - ins[1]
        elif op == 'Div':
            y = x / ins[1]
        elif op == 'Gelu':
            if a.get('approximate', b'none') not in (b'none', 'none'):
                raise NotImplementedError('Gelu approximate=tanh')
            y = x * (np.vectorize(math.erf)(x / math.sqrt(2)) + 1) / 2 if x.size else x
        elif op == 'Erf':
            y = np.vectorize(math.erf)(x) if x.size else x
        elif op == 'Concat':
            y = np.concatenate(ins, axis=a['axis'])
        elif op == 'Flatten':
            axis = a.get('axis', 1)
            y = x.reshape(int(np.prod(x.shape[:axis])), -1)
        elif op == 'Reshape':
            y = reshape(node, x, ins[1])
        elif op in ('Identity', 'Dropout'):
            y = x
        elif op == 'BatchNormalization':
            s, b, m, v = ins[1:5]
            shp = (1, -1) + (1,) * (x.ndim - 2)
            y = (x - m.reshape(shp)) / np.sqrt(v.reshape(shp) + a.get('epsilon', 1e-5)) * s.reshape(shp) + b.reshape(shp)
        elif op == 'LayerNormalization':
            axis = a.get('axis', -1)
            axes = tuple(range(axis % x.ndim, x.ndim))
            mu = x.mean(axis=axes, keepdims=True)
            var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
            y = (x - mu) / np.sqrt(var + a.get('epsilon', 1e-5)) * ins[1]
            if len(ins) > 2 and ins[2] is not None:
                y = y + ins[2]
        elif op == 'Constant':
            y = numpy_helper.to_array(a['value'])
        elif op == 'Shape':
            y = np.array(x.shape, dtype=np.int64)
        elif op == 'Gather':
            y = np.take(x, ins[1], axis=a.get('axis', 0))
        elif op == 'Unsqueeze':
            axes = a['axes'] if opset < 13 else ins[1]
            y = np.expand_dims(x, tuple(int(v) for v in axes))
        elif op == 'Squeeze':
            axes = a.get('axes') if opset < 13 else (ins[1] if len(ins) > 1 else None)
            y = np.squeeze(x) if axes is None else np.squeeze(x, tuple(int(v) for v in axes))
        else:
            raise NotImplementedError(op)
        env[node.output[0]] = y
    return {o.name: env[o.name] for o in model.graph.output}


SUPPORTED = {'Conv', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'Gemm', 'MatMul', 'Relu',
             'Sigmoid', 'Tanh', 'LeakyRelu', 'Elu', 'HardSwish', 'Clip', 'Softmax', 'Add', 'Sub', 'Mul', 'Div', 'Erf', 'Concat',
             'Flatten', 'Reshape', 'Identity', 'Dropout', 'BatchNormalization', 'LayerNormalization', 'Constant',
             'Shape', 'Gather', 'Unsqueeze', 'Squeeze'}
