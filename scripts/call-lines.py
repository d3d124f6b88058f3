#!/usr/bin/env python3
"""Counts the cache lines one Hydra async log call touches.

Runs build/bench/hydra-call-lines under valgrind's lackey (Debian package
valgrind) and prints, for each timed call, the distinct 64-byte code lines
and data lines (read, written, all) between the program's two markers.
Call 0 makes the thread's queue; calls 1-8 are from the program's one call
site of that kind, 9-17 from one of forty (see bench/call_lines.cpp).

    scripts/call-lines.py [path/to/hydra-call-lines]

build/bench/hydra-call-lines-inline is the same program built with
HYDRA_INLINE_CALLS (each call's fast path compiled into its call site).
"""
import re
import subprocess
import sys

program = sys.argv[1] if len(sys.argv) > 1 else "build/bench/hydra-call-lines"
trace = subprocess.run(["valgrind", "--tool=lackey", "--trace-mem=yes", program],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                       check=True).stderr.splitlines()
markers = next(line for line in trace if line.startswith("markers "))
begin, end = (int(x, 16) for x in markers.split()[1:3])
access = re.compile(r"^(I| S| L| M)\s+([0-9a-f]+),(\d+)")
calls, current = [], None
for line in trace:
    m = access.match(line)
    if not m:
        continue
    kind, addr, size = m.group(1).strip(), int(m.group(2), 16), int(m.group(3))
    if kind in ("S", "M") and addr in (begin, end):
        if addr == begin:
            current = {"I": set(), "L": set(), "S": set()}
        elif current is not None:
            calls.append(current)
            current = None
        continue
    if current is None:
        continue
    lines = {addr // 64, (addr + size - 1) // 64}
    if kind == "I":
        current["I"] |= lines
    elif kind == "L":
        current["L"] |= lines
    else:  # S, or M (a read and a write)
        current["S"] |= lines
        if kind == "M":
            current["L"] |= lines
for i, c in enumerate(calls):
    print(f"call {i}: code lines {len(c['I'])}, data lines {len(c['L'] | c['S'])} "
          f"(read {len(c['L'])}, written {len(c['S'])})")
