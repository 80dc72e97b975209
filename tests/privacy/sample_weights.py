#!/usr/bin/env python3
"""Prints decimal renderings of weight values of a safetensors checkpoint, one per line, for
grepping logs: values with 0.01 <= |v| < 0.1 (so that no timing or count printed by the parties
looks like them), each as its first 4 significant digits truncated and rounded.

Usage: sample_weights.py MODEL.safetensors COUNT
"""
import json
import struct
import sys

SIZES = {"F16": 2, "F32": 4, "BF16": 2}


def decode(dtype, raw):
    if dtype == "F16":
        return struct.unpack("<e", raw)[0]
    if dtype == "F32":
        return struct.unpack("<f", raw)[0]
    return struct.unpack("<f", b"\0\0" + raw)[0]  # bfloat16: the high half of a float32


def tensors(path):
    with open(path, "rb") as f:
        length = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(length))
        data = f.read()
    for name, info in sorted(header.items()):
        if name != "__metadata__":
            yield name, info["dtype"], data[info["data_offsets"][0]:info["data_offsets"][1]]


def renderings(value):
    magnitude = abs(value)
    digits = f"{magnitude:.12f}"  # "0.0xyzw..." for 0.01 <= magnitude < 0.1
    truncated = digits[:7]
    rounded = f"{magnitude:.5f}"
    return {truncated, rounded}


def main():
    path, count = sys.argv[1], int(sys.argv[2])
    values = []
    for name, dtype, raw in tensors(path):
        size = SIZES[dtype]
        step = max(1, len(raw) // size // 4)  # a few values spread over every tensor
        for i in range(0, len(raw) // size, step):
            value = decode(dtype, raw[i * size:(i + 1) * size])
            if 0.01 <= abs(value) < 0.1:
                values.append(value)
    if len(values) < count:
        sys.exit(f"only {len(values)} suitable weight values in {path}")
    stride = len(values) // count
    for value in values[::stride][:count]:
        for text in sorted(renderings(value)):
            print(text)


if __name__ == "__main__":
    main()
