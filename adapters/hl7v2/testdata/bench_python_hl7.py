"""Parse throughput of python-hl7 (Debian's python3-hl7), the baseline of
BenchmarkParse in bench_test.go.

Usage: bench_python_hl7.py MIX_FILE MIN_SECONDS

MIX_FILE holds the benchmark's messages separated by the byte 0x1C, each
with CR segment terminators, as the Go benchmark wrote them. The messages
are decoded to str first (python-hl7 parses str); then hl7.parse, which
splits every segment, field, repetition, component and subcomponent, runs
over all of them in full passes until MIN_SECONDS have elapsed. Prints one
JSON object.
"""
import json
import sys
import time

import hl7


def main():
    path, min_seconds = sys.argv[1], float(sys.argv[2])
    with open(path, "rb") as f:
        raw = f.read().split(b"\x1c")
    msgs = []
    nbytes = 0
    for m in raw:
        if not m:
            continue
        nbytes += len(m)
        try:
            msgs.append(m.decode("utf-8"))
        except UnicodeDecodeError:
            msgs.append(m.decode("latin-1"))
    failed = 0
    for m in msgs:
        try:
            hl7.parse(m)
        except Exception:
            failed += 1
    passes = 0
    start = time.perf_counter()
    while True:
        for m in msgs:
            try:
                hl7.parse(m)
            except Exception:
                pass
        passes += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            break
    print(json.dumps({
        "parser": "python3-hl7 " + getattr(hl7, "__version__", "?"),
        "python": sys.version.split()[0],
        "messages": len(msgs),
        "failed": failed,
        "passes": passes,
        "seconds": elapsed,
        "msgs_per_s": passes * len(msgs) / elapsed,
        "mb_per_s": passes * nbytes / elapsed / 1e6,
    }))


if __name__ == "__main__":
    main()
