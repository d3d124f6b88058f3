#!/usr/bin/env python3
"""Draw a hydra-bench --json result as a PNG with gnuplot.

usage: bench-chart.py RESULT.json [OUT.png]   (default: docs/benchmarks.png)

One image, a panel per scenario found in the result: throughput, caller
latency (drained and sustained regimes, and by message), formats, start-up,
peak memory and compile cost. Panels whose data the result lacks (a --quick
run has no sustained regime and no compile cost) are left out. Needs gnuplot
with the pngcairo terminal (Debian: gnuplot-nox).
"""
import json
import os
import sys

# scripts/ is on sys.path: the script's own folder.
from bench_json import get
from gnuplot_panels import Panel, have_gnuplot, render

LOGGERS = ["hydra_sync", "hydra_async", "spdlog_sync", "spdlog_async"]
COLORS = {"hydra_sync": "#1f77b4", "hydra_async": "#17becf",
          "spdlog_sync": "#d62728", "spdlog_async": "#ff9896", "floor": "#7f7f7f"}


def panels(r):
    out = []
    # Throughput, 1 and 2 threads.
    tt = r.get("throughput_threads") or {k: {"1": v} for k, v in r.get("throughput", {}).items()}
    p = Panel("Throughput, text line to a file", "million records/s", ["1 thread", "2 threads"])
    for name in LOGGERS:
        p.add(name, [(get(tt, name, t, "records_per_s") or 0) / 1e6 or None for t in ("1", "2")])
    out.append(p)
    # Latency, drained and sustained, int+int+double, one thread.
    qs = [("p50_ns", "p50"), ("p99_ns", "p99"), ("p999_ns", "p99.9")]
    for regime in ("drained", "sustained"):
        src = get(r, "latency_matrix", regime, "int_int_double")
        if src is None and regime == "drained":
            src = r.get("latency")
        if not src:
            continue
        p = Panel(f"Caller latency, {regime}, int+int+double, 1 thread",
                  "ns per call (log)", [q[1] for q in qs], log=True)
        for name in ["floor"] + LOGGERS:
            p.add(name, [max(get(src, name, "1", q[0]) or 0, 1) if get(src, name, "1") else None
                         for q in qs])
        out.append(p)
    # Latency by message: sustained p50, one thread.
    msgs = [("int_int_double", "int,int,double"), ("string40", "string(40)"),
            ("static", "static"), ("fields3", "3 fields")]
    for regime, q, qname in (("sustained", "p50_ns", "p50"), ("drained", "p99_ns", "p99")):
        src = get(r, "latency_matrix", regime)
        if not src:
            continue
        p = Panel(f"Caller latency by message, {regime} {qname}, 1 thread", "ns per call (log)",
                  LOGGERS, [COLORS[n] for n in LOGGERS], log=True)
        for key, label in msgs:
            p.add(label, [max(v, 1) if (v := get(src, key, n, "1", q)) is not None else None
                          for n in LOGGERS])
        out.append(p)
    # Formats.
    fm = r.get("formats")
    if fm:
        p = Panel("Formats, 1 thread (spdlog: its text line)", "million records/s",
                  ["sync", "async"], [COLORS["hydra_sync"], COLORS["hydra_async"]])
        for fmt_name, label in (("text", "text"), ("json", "JSON"), ("logfmt", "logfmt")):
            for variant, suffix in (("plain", ""), ("fields", "+fields")):
                p.add(label + suffix,
                      [(get(fm, f"hydra_{m}", fmt_name, variant, "records_per_s") or 0) / 1e6
                       or None for m in ("sync", "async")])
        p.add("spdlog text", [(get(fm, f"spdlog_{m}", "text", "plain", "records_per_s") or 0)
                              / 1e6 or None for m in ("sync", "async")])
        out.append(p)
    # Start-up.
    st = r.get("startup")
    if st:
        p = Panel("Start-up: spawn to first record in the file", "ms", ["median", "min"])
        for name in ["floor"] + LOGGERS:
            p.add(name, [get(st, name, "median_ms"), get(st, name, "min_ms")])
        out.append(p)
    # Memory.
    mem = r.get("memory")
    if mem:
        works = [("one_record", "one record"), ("throughput_1t", "1 thread"),
                 ("throughput_2t", "2 threads")]
        p = Panel("Peak RSS of the process", "MiB", [w[1] for w in works])
        for name in ["floor"] + LOGGERS:
            p.add(name, [(v / 1024 if (v := get(mem, name, w[0], "peak_rss_kb")) else None)
                         for w in works])
        out.append(p)
    # Compile cost.
    cc = r.get("compile")
    if cc and "skipped" not in cc:
        p = Panel("Compile cost of one translation unit", "CPU s (median)",
                  ["includes only", "500 statements"])
        for lib, label in (("hydra", "hydra"), ("spdlog", "spdlog")):
            p.add(label, [get(cc, f"{lib}_include", "cpu_s"), get(cc, f"{lib}_500", "cpu_s")])
        p.add("hydra named", [None, get(cc, "hydra_named_500", "cpu_s")])
        out.append(p)
    return [p for p in out if p.rows]


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 64
    if not have_gnuplot("bench-chart"):
        return 1
    with open(sys.argv[1]) as f:
        result = json.load(f)
    out = sys.argv[2] if len(sys.argv) == 3 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "docs", "benchmarks.png")
    ps = panels(result)
    machine = result.get("machine", {})
    subtitle = (f"hydra-bench {'--quick ' if machine.get('quick') else ''}"
                f"{machine.get('date', '')}, {machine.get('cores', '?')} cores "
                f"{machine.get('cpu', '')}, spdlog {machine.get('spdlog', '?')}")
    return render(ps, out, subtitle, cols=2 if len(ps) <= 4 else 3)


if __name__ == "__main__":
    sys.exit(main())
