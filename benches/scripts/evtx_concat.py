"""Builds a large EVTX file for benchmarks by repeating the chunks of real
EVTX files (until faultline-corpus writes EVTX of its own).

usage: python3 evtx_concat.py OUT SIZE_MIB FILE.evtx [FILE.evtx ...]

The first input's 4 KiB file header is kept. Each pass over the chunks
after the first gives their records new ids (shifted past the last pass's)
and their headers new checksums, so no chunk repeats another byte for byte:
faultline reads a repeated chunk once, as a copy's artefact, and a file of
repeats would be read as its distinct chunks only.
"""
import struct
import sys
import zlib

CHUNK = 65536
HEADER = 4096
CHUNK_HEADER = 512


def renumbered(chunk, shift):
    """`chunk` with its records' ids and numbers moved on by `shift`."""
    if shift == 0:
        return chunk
    c = bytearray(chunk)
    for at in (8, 16, 24, 32):  # first and last record numbers and ids
        (v,) = struct.unpack_from("<Q", c, at)
        struct.pack_into("<Q", c, at, v + shift)
    free = struct.unpack_from("<I", c, 48)[0]
    pos = CHUNK_HEADER
    while pos + 24 <= min(free, CHUNK) and c[pos:pos + 4] == b"\x2a\x2a\x00\x00":
        size = struct.unpack_from("<I", c, pos + 4)[0]
        if size < 24 or pos + size > CHUNK:
            break
        (rid,) = struct.unpack_from("<Q", c, pos + 8)
        struct.pack_into("<Q", c, pos + 8, rid + shift)
        pos += size
    struct.pack_into("<I", c, 52, zlib.crc32(bytes(c[CHUNK_HEADER:free])) & 0xFFFFFFFF)
    struct.pack_into("<I", c, 124, zlib.crc32(bytes(c[:120] + c[128:CHUNK_HEADER])) & 0xFFFFFFFF)
    return bytes(c)


out, size_mib, inputs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
chunks = []
header = None
for path in inputs:
    data = open(path, "rb").read()
    header = header or data[:HEADER]
    for i in range(HEADER, len(data) - CHUNK + 1, CHUNK):
        c = data[i:i + CHUNK]
        if c.startswith(b"ElfChnk\0"):
            chunks.append(c)
# A pass moves ids past every id the chunks hold.
span = max(struct.unpack_from("<Q", c, 32)[0] for c in chunks) + 1
target = size_mib * 1024 * 1024
with open(out, "wb") as f:
    f.write(header)
    written = HEADER
    i = 0
    while written < target:
        f.write(renumbered(chunks[i % len(chunks)], (i // len(chunks)) * span))
        written += CHUNK
        i += 1
print(f"{out}: {i} chunks from {len(chunks)} distinct, {written} bytes")
