#!/usr/bin/env python3
"""Draw a python/bench/bench.py --json result as a PNG with gnuplot.

usage: chart.py RESULT.json [OUT.png]   (default: docs/python-bench.png)

Panels: end-to-end throughput by contender (1 and 4 threads), the ratio to
stdlib logging at the same thread count, the CPU time per record (every
thread of the process, the C++ backend's included) and the cost of a
disabled call. The look follows scripts/bench-chart.py. Needs gnuplot with
the pngcairo terminal (Debian: gnuplot-nox).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

SERIES_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"]
LABELS = {
    "stdlib": "stdlib logging", "structlog": "structlog", "loguru": "loguru",
    "loguru_enqueue": "loguru enqueue", "hydra": "hydra native",
    "hydra_handler": "HydraHandler", "hydra_handler_fast": "HydraHandler fast",
}


class Panel:
    """A clustered bar chart: rows (x labels) by series (bars per label)."""

    def __init__(self, title, ylabel, series, colors=None, log=False, ymin=None, hline=None):
        self.title, self.ylabel, self.series, self.log = title, ylabel, series, log
        self.colors = colors or SERIES_COLORS
        self.ymin, self.hline = ymin, hline
        self.rows = []  # (label, [value or None per series])

    def add(self, label, values):
        if any(v is not None for v in values):
            self.rows.append((label, values))

    def script(self, data_path):
        with open(data_path, "w") as f:
            for label, values in self.rows:
                cells = ["?" if v is None else f"{v:.6g}" for v in values]
                f.write(f'"{label}" ' + " ".join(cells) + "\n")
        ymin = self.ymin if self.ymin is not None else (1 if self.log else 0)
        lines = [f'set title "{self.title}"', f'set ylabel "{self.ylabel}"',
                 "set logscale y" if self.log else "unset logscale y",
                 f"set yrange [{ymin}:*]", "unset arrow"]
        if self.hline is not None:  # a reference level, dashed
            lines.append(f"set arrow from graph 0, first {self.hline} to graph 1, "
                         f"first {self.hline} nohead dt 2 lw 1.5 lc rgb '#444444' front")
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
    if shutil.which("gnuplot") is None:
        print("chart: gnuplot not found (Debian: apt-get install gnuplot-nox)", file=sys.stderr)
        return 1
    with open(sys.argv[1]) as f:
        result = json.load(f)
    out = sys.argv[2] if len(sys.argv) == 3 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "python-bench.png")
    ps = panels(result)
    if not ps:
        print("chart: nothing to draw in the result", file=sys.stderr)
        return 1
    cols = 2
    nrows = (len(ps) + cols - 1) // cols
    m = result.get("machine", {})
    c = result.get("config", {})
    subtitle = (f"python/bench/bench.py {'--quick ' if m.get('quick') else ''}"
                f"{m.get('date', '')}, {m.get('cores', '?')} cores {m.get('cpu', '')}, "
                f"Python {m.get('python', '?')}, structlog {m.get('structlog', '?')}, "
                f"loguru {m.get('loguru', '?')}, median of {c.get('runs', '?')} runs")
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
