"""lyw.py: layerc weight files (.lyw), read and written independently of layerc.

Layout (docs/WEIGHTS.md, runtime/weights.c), all little-endian:
  "LYRW", u32 version (1), u64 file size, u32 tensor count,
  u64 FNV-1a-64 of the tensor table,
  table: per tensor u16 name length, name bytes, u32 rank, u32 dims[rank],
  values: float32 of every tensor in table order,
  u32 CRC-32 (zlib's) of everything before it.
"""
import struct
import zlib

import numpy as np


def _fnv1a64(b):
    h = 0xCBF29CE484222325
    for c in b:
        h = ((h ^ c) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def write(path, tensors):
    """tensors: list of (name, dims, values) in the model's declaration order."""
    table = b""
    values = b""
    for name, dims, vals in tensors:
        nb = name.encode()
        table += struct.pack("<H", len(nb)) + nb + struct.pack("<I", len(dims))
        table += b"".join(struct.pack("<I", d) for d in dims)
        values += np.asarray(vals, dtype="<f4").tobytes()
    size = 28 + len(table) + len(values) + 4
    head = b"LYRW" + struct.pack("<IQIQ", 1, size, len(tensors), _fnv1a64(table))
    body = head + table + values
    with open(path, "wb") as f:
        f.write(body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF))


def read(path):
    """-> list of (name, dims, float32 array); raises ValueError on a bad file."""
    with open(path, "rb") as f:
        b = f.read()
    if len(b) < 32 or b[:4] != b"LYRW":
        raise ValueError(f"{path}: not a .lyw file")
    version, size, count, sig = struct.unpack_from("<IQIQ", b, 4)
    if version != 1 or size != len(b):
        raise ValueError(f"{path}: version {version}, size {size} for {len(b)} bytes")
    if zlib.crc32(b[:-4]) & 0xFFFFFFFF != struct.unpack_from("<I", b, len(b) - 4)[0]:
        raise ValueError(f"{path}: bad CRC")
    at = 28
    table = []
    for _ in range(count):
        (n,) = struct.unpack_from("<H", b, at)
        name = b[at + 2:at + 2 + n].decode()
        at += 2 + n
        (rank,) = struct.unpack_from("<I", b, at)
        dims = list(struct.unpack_from(f"<{rank}I", b, at + 4))
        at += 4 + 4 * rank
        table.append((name, dims))
    if _fnv1a64(b[28:at]) != sig:
        raise ValueError(f"{path}: signature does not match the table")
    out = []
    for name, dims in table:
        k = int(np.prod(dims)) if dims else 1
        out.append((name, dims, np.frombuffer(b, dtype="<f4", count=k, offset=at).copy()))
        at += 4 * k
    if at != len(b) - 4:
        raise ValueError(f"{path}: {len(b) - 4 - at} stray bytes")
    return out
