#!/usr/bin/env python3
"""make_seeds.py: writes the seed corpora of the fuzz targets (tests/fuzz/corpus/).

Run from the repository root once; the seeds are kept in git so that a fuzz
run starts from inputs that reach deep into each loader.  Prefix bytes are the
targets' own (see the comment at the top of each fuzz_*.c)."""
import glob, gzip, os, shutil, struct, zlib

ROOT = "tests/fuzz/corpus"

def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

# ---- frontend: every sample and every known-bad model
for p in sorted(glob.glob("samples/*.lyr") + glob.glob("tests/bad/*.lyr")):
    put("frontend", os.path.basename(os.path.dirname(p)) + "_" + os.path.basename(p),
        open(p, "rb").read())
put("frontend", "crlf_bom.lyr", b"\xef\xbb\xbf" + open("samples/shape.lyr", "rb").read().replace(b"\n", b"\r\n"))
put("frontend", "cnn_all_ops.lyr", b"""model all;
input x[1, 8, 8];
layer c = conv2d(x, 2, kernel=3, stride=1, pad=1, init=he);
layer m = maxpool(c, size=2);
layer a = avgpool(c, size=2, stride=2);
layer s = add(m, a);
layer t = mul(s, m);
layer f = flatten(t);
layer r = reshape(f, [2, 16]);
layer g = flatten(r);
layer d = dropout(g, 0.25);
layer l = leaky_relu(d, alpha=0.1);
weight W[4, 32] = normal(0, 0.1);
frozen weight b[4] = constant(0.5);
layer lin = linear(l, W, b);
layer k = concat(lin, lin);
layer q = dense(k, 3, bias=0, init=uniform(-1, 1));
output p = softmax(q);
loss cross_entropy(p);
train { optimizer = sgd(lr=0.1, momentum=0.9, weight_decay=1e-4); batch = 8; epochs = 2; seed = 3; shuffle = 0; }
""")

# ---- data: spec bytes (in - 1, output/classifier/optional bits, labels length) + file
def spec(inp, out, classes=False, optional=False, nlabels=0):
    return bytes([inp - 1, (out - 1) | (8 if classes else 0) | (16 if optional else 0), nlabels])

put("data", "xor.csv", spec(2, 1) + open("samples/xor.csv", "rb").read())
put("data", "shape.csv", spec(3, 1) + open("samples/shape.csv", "rb").read())
put("data", "sine_head.csv", spec(1, 1) + b"".join(open("samples/sine.csv", "rb").readlines()[:8]))
put("data", "classes.csv", spec(2, 3, classes=True) + b"a,b,label\r\n0.5,1e-3,2\r\n-1,nan,0\n\n1,2,1\n")
put("data", "predict.csv", spec(2, 1, optional=True) + b"1,2\n3,4\n")
put("data", "xor.csv.gz", spec(2, 1) + gzip.compress(open("samples/xor.csv", "rb").read()))

def idx(dims, payload):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload

images = idx([3, 2, 2], bytes(range(0, 12 * 20, 20)))
labels = idx([3], bytes([0, 2, 1]))
put("data", "images_labels.idx", spec(4, 3, classes=True, nlabels=len(labels)) + images + labels)
put("data", "images_only.idx", spec(4, 3, classes=True, optional=True) + images)
gl = gzip.compress(labels)
put("data", "images_labels.idx.gz", spec(4, 3, classes=True, nlabels=len(gl)) + gzip.compress(images) + gl)
put("data", "regression_labels.idx", spec(4, 1, nlabels=len(labels)) + images + labels)

# ---- weights: the fixed table of fuzz_weights.c, saved the way weights.c does
def lyw(tensors, values):
    table = b""
    for name, dims in tensors:
        table += struct.pack("<H", len(name)) + name.encode() + struct.pack("<I", len(dims))
        table += b"".join(struct.pack("<I", d) for d in dims)
    h = 0xcbf29ce484222325
    for c in table:
        h = ((h ^ c) * 0x100000001b3) & (2**64 - 1)
    body = table + b"".join(struct.pack("<f", v) for v in values)
    size = 28 + len(body) + 4
    data = b"LYRW" + struct.pack("<IQIQ", 1, size, len(tensors), h) + body
    return data + struct.pack("<I", zlib.crc32(data))

model = [("h.W", [4, 3]), ("h.b", [4]), ("out.W", [2, 4]), ("out.b", [2])]
good = lyw(model, [i / 8 for i in range(26)])
put("weights", "model.lyw", b"\x00" + good)
put("weights", "model_repair.lyw", b"\x01" + good[:-4])
put("weights", "other_model.lyw", b"\x00" + lyw([("h.W", [3, 4]), ("h.b", [4])], [0] * 16))
put("weights", "empty_table.lyw", b"\x00" + lyw([], []))
# repaired (byte 0 = 1): the harness fixes size, signature and CRC, so these
# reach the comparison with the model's table
put("weights", "other_model_repair.lyw", b"\x01" + lyw([("h.W", [3, 4]), ("h.b", [4])], [0] * 16)[:-4])
put("weights", "extra_tensor_repair.lyw", b"\x01" + lyw(model + [("extra", [1])], [1] * 27)[:-4])
put("weights", "rank9_repair.lyw", b"\x01" + lyw([("h.W", [1] * 9)], [1])[:-4])
if os.path.exists("build/fuzz/xor.lyw"):
    put("weights", "xor.lyw", b"\x00" + open("build/fuzz/xor.lyw", "rb").read())

# ---- npz: archives as numpy writes them (raw mode, byte 0 = 0), and the
# same arrays as entries for the harness to pack (byte 0 = 1 stored, 3 deflated)
def npy(shape, dtype="<f4", fortran=False, count=None):
    dims = "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    head = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (dtype, fortran, dims)
    total = (10 + len(head) + 1 + 63) // 64 * 64
    head = head + " " * (total - 10 - len(head) - 1) + "\n"
    n = 1
    for d in shape:
        n *= d
    fmt = {"<f4": "<f", "<f8": "<d", ">f4": ">f", ">f8": ">d"}[dtype]
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head.encode() + \
        b"".join(struct.pack(fmt, i / 4) for i in range(n if count is None else count))

def entries(arrays):
    out = b""
    for name, data in arrays:
        out += bytes([len(name)]) + name.encode() + struct.pack("<H", len(data)) + data
    return out

good = [(n + ".npy", npy(s)) for n, s in model]
put("npz", "entries_stored", b"\x01" + entries(good))
put("npz", "entries_deflated", b"\x03" + entries(good))
put("npz", "entries_f8_fortran_be", b"\x01" + entries(
    [("h.W.npy", npy([4, 3], "<f8", True)), ("h.b.npy", npy([4], ">f4")),
     ("out.W.npy", npy([2, 4], ">f8")), ("out.b", npy([2]))]))
put("npz", "entries_wrong_shape", b"\x01" + entries([("h.W.npy", npy([3, 4]))] + good[1:]))

import io, zipfile
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
    for name, data in good:
        with zf.open(name, "w", force_zip64=True) as f:   # as numpy.savez does
            f.write(data)
put("npz", "zipfile_zip64_stored.npz", b"\x00" + buf.getvalue())
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
    for name, data in good:
        zf.writestr(name, data)
    zf.comment = b"a comment after the directory"
put("npz", "zipfile_deflated_comment.npz", b"\x00" + buf.getvalue())

# ---- onnx: small models the importer takes, or refuses for each reason
# (needs python3-onnx, as tests/onnx/ does; the seeds are kept in git)
try:
    import sys, tempfile
    import onnx
    sys.path.insert(0, "tests/onnx")
    import onnx_tool, conformance
    with tempfile.TemporaryDirectory() as d:
        onnx_tool.cmd_handmade(d)
        onnx_tool.cmd_bad(d)
        for p in sorted(glob.glob(os.path.join(d, "*.onnx"))):
            data = open(p, "rb").read()
            if len(data) <= 8192:
                put("onnx", os.path.basename(p), data)
    for case in ("node/test_relu", "node/test_basic_conv_with_padding", "node/test_gemm_default_vector_bias",
                 "node/test_maxpool_2d_strides", "node/test_softmax_example", "node/test_reshape_negative_dim",
                 "node/test_clip", "node/test_batchnorm_example", "pytorch-converted/test_Conv2d_depthwise"):
        base = "/usr/share/libonnx-testdata/data/" + case
        model = onnx.load(base + "/model.onnx")
        arrays = [conformance.load_pb(p) for p in sorted(glob.glob(base + "/test_data_set_0/input_*.pb"))]
        data = conformance.promote_inputs(model, arrays).SerializeToString()
        if len(data) <= 8192:
            put("onnx", os.path.basename(case) + ".onnx", data)
except ImportError:
    print("make_seeds.py: python3-onnx is not installed: no onnx seeds")
