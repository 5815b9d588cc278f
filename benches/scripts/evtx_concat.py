"""Builds a large EVTX file for benchmarks by repeating the chunks of real
EVTX files (until faultline-corpus writes EVTX of its own).

usage: python3 evtx_concat.py OUT SIZE_MIB FILE.evtx [FILE.evtx ...]

The first input's 4 KiB file header is kept; readers that walk every 64 KiB
chunk slot (the evtx crate, faultline) read the copies; record ids repeat.
"""
import sys

CHUNK = 65536
HEADER = 4096

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
target = size_mib * 1024 * 1024
with open(out, "wb") as f:
    f.write(header)
    written = HEADER
    i = 0
    while written < target:
        f.write(chunks[i % len(chunks)])
        written += CHUNK
        i += 1
print(f"{out}: {i} chunks from {len(chunks)} distinct, {written} bytes")
