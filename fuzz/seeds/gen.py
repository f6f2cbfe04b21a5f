#!/usr/bin/env python3
"""Hand-built seeds no tool here writes: the base BTF of the btf_split target and
small RPM packages (lead, signature, header, cpio payload in every compression).

Usage: gen.py OUTDIR VMLINUX   (writes OUTDIR/base.btf and OUTDIR/*.rpm)
"""
import bz2
import gzip
import lzma
import os
import struct
import subprocess
import sys


def base_btf():
    """int, struct base { int x; }, struct base *: the base built in btf_split.rs."""
    strs = b"\0int\0base\0x\0"
    types = struct.pack("<III", 1, 1 << 24, 4) + struct.pack("<I", (1 << 24) | 32)
    types += struct.pack("<III", 5, (4 << 24) | 1, 4) + struct.pack("<III", 10, 1, 0)
    types += struct.pack("<III", 0, 2 << 24, 2)
    hdr = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(strs))
    return hdr + types + strs


def header(entries):
    """An RPM header structure from (tag, type, value) entries."""
    index, store = b"", b""
    for tag, ty, value in entries:
        if ty == 4:  # INT32 array
            store += b"\0" * (-len(store) % 4)
            data = b"".join(struct.pack(">I", v) for v in value)
            count = len(value)
        elif ty == 8:  # STRING_ARRAY
            data = b"".join(s.encode() + b"\0" for s in value)
            count = len(value)
        else:  # STRING
            data = value.encode() + b"\0"
            count = 1
        index += struct.pack(">IIII", tag, ty, len(store), count)
        store += data
    return b"\x8e\xad\xe8\x01\0\0\0\0" + struct.pack(">II", len(entries), len(store)) + index + store


def cpio(members):
    out = b""
    for ino, (name, mode, data) in enumerate(members + [("TRAILER!!!", 0, b"")], 1):
        name = name.encode() + b"\0"
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name), 0]
        out += b"070701" + b"".join(b"%08X" % f for f in fields) + name
        out += b"\0" * (-len(out) % 4) + data + b"\0" * (-(len(out) + len(data)) % 4)
    return out


def rpm(payload, compressor, files):
    lead = bytearray(96)
    lead[0:4] = b"\xed\xab\xee\xdb"
    lead[4:6] = b"\x03\x00"
    lead[78:80] = struct.pack(">H", 5)
    hdr = header([
        (1000, 6, "kernel-debuginfo"),
        (1027, 8, [f for f, _, _ in files]),
        (1028, 4, [len(d) for _, _, d in files]),
        (1030, 4, [m for _, m, _ in files]),
        (1124, 6, "cpio"),
        (1125, 6, compressor),
    ])
    sig = header([(1000, 4, [len(hdr) + len(payload)])])
    return bytes(lead) + sig + b"\0" * (-len(sig) % 8) + hdr + payload


def main():
    out, vmlinux = sys.argv[1], open(sys.argv[2], "rb").read()
    with open(os.path.join(out, "base.btf"), "wb") as f:
        f.write(base_btf())
    files = [
        ("/usr/share/doc/kernel/README", 0o100644, b"readme\n"),
        ("/usr/lib/debug/lib/modules/6.1.0-1.fc40.x86_64/vmlinux", 0o100644, vmlinux),
    ]
    raw = cpio([("." + n, m, d) for n, m, d in files])
    for comp, data in [
        ("gzip", gzip.compress(raw, mtime=0)),
        ("bzip2", bz2.compress(raw)),
        ("xz", lzma.compress(raw)),
        ("lzma", lzma.compress(raw, format=lzma.FORMAT_ALONE)),
        ("zstd", subprocess.run(["zstd", "-q", "-c"], input=raw, capture_output=True, check=True).stdout),
        ("none", raw),
    ]:
        with open(os.path.join(out, f"kernel-debuginfo-{comp}.rpm"), "wb") as f:
            f.write(rpm(data, comp, files))


main()
