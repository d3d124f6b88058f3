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
import shutil
import subprocess
import sys

from bench_json import get  # scripts/ is on sys.path: the script's own folder
import tempfile

LOGGERS = ["hydra_sync", "hydra_async", "spdlog_sync", "spdlog_async"]
COLORS = {"hydra_sync": "#1f77b4", "hydra_async": "#17becf",
          "spdlog_sync": "#d62728", "spdlog_async": "#ff9896", "floor": "#7f7f7f"}
SERIES_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"]


class Panel:
    """A clustered bar chart: rows (x labels) by series (bars per label)."""

    def __init__(self, title, ylabel, series, colors=None, log=False):
        self.title, self.ylabel, self.series, self.log = title, ylabel, series, log
        self.colors = colors or SERIES_COLORS
        self.rows = []  # (label, [value or None per series])

    def add(self, label, values):
        if any(v is not None for v in values):
            self.rows.append((label, values))

    def script(self, data_path):
        with open(data_path, "w") as f:
            for label, values in self.rows:
                cells = ["?" if v is None else f"{v:.6g}" for v in values]
                f.write(f'"{label}" ' + " ".join(cells) + "\n")
        lines = [f'set title "{self.title}"', f'set ylabel "{self.ylabel}"',
                 "set logscale y" if self.log else "unset logscale y",
                 "set yrange [1:*]" if self.log else "set yrange [0:*]"]
        plots = []
        for i, name in enumerate(self.series):
            color = self.colors[i % len(self.colors)]
            using = f"{i + 2}:xtic(1)" if i == 0 else f"{i + 2}"
            src = f"'{data_path}'" if i == 0 else "''"
            plots.append(f'{src} using {using} title "{name}" lc rgb "{color}"')
        lines.append("plot " + ", ".join(plots))
        return "\n".join(lines)


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
    if shutil.which("gnuplot") is None:
        print("bench-chart: gnuplot not found (Debian: apt-get install gnuplot-nox)",
              file=sys.stderr)
        return 1
    with open(sys.argv[1]) as f:
        result = json.load(f)
    out = sys.argv[2] if len(sys.argv) == 3 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "docs", "benchmarks.png")
    ps = panels(result)
    cols = 2 if len(ps) <= 4 else 3
    nrows = (len(ps) + cols - 1) // cols
    machine = result.get("machine", {})
    subtitle = (f"hydra-bench {'--quick ' if machine.get('quick') else ''}"
                f"{machine.get('date', '')}, {machine.get('cores', '?')} cores "
                f"{machine.get('cpu', '')}, spdlog {machine.get('spdlog', '?')}")
    with tempfile.TemporaryDirectory() as tmp:
        script = [
            f"set terminal pngcairo noenhanced size {cols * 560},{nrows * 400 + 40} font 'Sans,9'",
            f"set output '{out}'",
            "set style data histograms",
            "set style histogram clustered gap 1",
            "set style fill solid 0.9 border -1",
            "set boxwidth 0.9",
            "set grid ytics",
            "set key below horizontal font 'Sans,8'",
            "set xtics rotate by -25 font 'Sans,8' nomirror",
            "set datafile missing '?'",
            f"set multiplot layout {nrows},{cols} title \"{subtitle}\"",
        ]
        for i, p in enumerate(ps):
            script.append(p.script(os.path.join(tmp, f"panel{i}.dat")))
        script.append("unset multiplot")
        run = subprocess.run(["gnuplot"], input="\n".join(script) + "\n", text=True,
                             capture_output=True)
        if run.returncode != 0:
            print(run.stderr, file=sys.stderr)
            return 1
    print(f"wrote {os.path.normpath(out)} ({len(ps)} panels)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
