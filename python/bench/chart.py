#!/usr/bin/env python3
"""Draw a python/bench/bench.py --json result as a PNG with gnuplot.

usage: chart.py RESULT.json [OUT.png]   (default: docs/python-bench.png)

Panels: end-to-end throughput by contender (1 and 4 threads), the ratio to
stdlib logging at the same thread count, the CPU time per record (every
thread of the process, the C++ backend's included) and the cost of a
disabled call, drawn as scripts/bench-chart.py draws its charts
(scripts/gnuplot_panels.py). Needs gnuplot with the pngcairo terminal
(Debian: gnuplot-nox).
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from gnuplot_panels import Panel, have_gnuplot, render  # noqa: E402

LABELS = {
    "stdlib": "stdlib logging", "structlog": "structlog", "loguru": "loguru",
    "loguru_enqueue": "loguru enqueue", "hydra": "hydra native",
    "hydra_handler": "HydraHandler", "hydra_handler_fast": "HydraHandler fast",
}


def panels(r):
    out = []
    tp = r.get("throughput", {})
    threads = [str(t) for t in r.get("config", {}).get("threads", [1, 4])]
    series = [f"{t} thread{'s' if t != '1' else ''}" for t in threads]

    def cell(name, t, key, scale=1.0):
        v = tp.get(name, {}).get(t, {}).get(key)
        return v * scale if v else None

    p = Panel("Throughput to a file, end to end (median)", "thousand records/s (log)", series,
              log=True)
    for name in tp:
        p.add(LABELS.get(name, name), [cell(name, t, "median_records_per_s", 1e-3)
                                       for t in threads])
    out.append(p)
    p = Panel("Ratio to stdlib logging, same thread count", "x stdlib (log)", series, log=True,
              ymin=0.1, hline=1)
    for name in tp:
        if name != "stdlib":
            p.add(LABELS.get(name, name), [cell(name, t, "x_stdlib") for t in threads])
    out.append(p)
    p = Panel("CPU time per record, all threads of the process", "microseconds (log)", series,
              log=True, ymin=0.1)
    for name in tp:
        p.add(LABELS.get(name, name), [cell(name, t, "median_cpu_us_per_record")
                                       for t in threads])
    out.append(p)
    d = (r.get("disabled") or {}).get("median_ns_per_call")
    if d:
        p = Panel("A disabled call: debug() on a logger at INFO", "ns per call (median)",
                  ["hydra native", "stdlib logging"], ["#1f77b4", "#d62728"])
        p.add("debug('m')", [d.get("hydra_plain"), d.get("stdlib_plain")])
        p.add("debug('m', user=...)", [d.get("hydra_fields"), d.get("stdlib_fields")])
        out.append(p)
    return [p for p in out if p.rows]


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 64
    if not have_gnuplot("chart"):
        return 1
    with open(sys.argv[1]) as f:
        result = json.load(f)
    out = sys.argv[2] if len(sys.argv) == 3 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "python-bench.png")
    ps = panels(result)
    if not ps:
        print("chart: nothing to draw in the result", file=sys.stderr)
        return 1
    m = result.get("machine", {})
    c = result.get("config", {})
    subtitle = (f"python/bench/bench.py {'--quick ' if m.get('quick') else ''}"
                f"{m.get('date', '')}, {m.get('cores', '?')} cores {m.get('cpu', '')}, "
                f"Python {m.get('python', '?')}, structlog {m.get('structlog', '?')}, "
                f"loguru {m.get('loguru', '?')}, median of {c.get('runs', '?')} runs")
    return render(ps, out, subtitle, cols=2)

if __name__ == "__main__":
    sys.exit(main())
