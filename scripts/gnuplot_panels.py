"""Clustered bar charts drawn with gnuplot: what scripts/bench-chart.py (the
C++ benchmarks) and python/bench/chart.py (the Python package's) share.

A chart is one PNG of panels, each a Panel: x labels (rows) by series (bars
per label). Needs gnuplot with the pngcairo terminal (Debian: gnuplot-nox).
"""
import os
import shutil
import subprocess
import sys
import tempfile

SERIES_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"]


class Panel:
    """A clustered bar chart: rows (x labels) by series (bars per label).
    The y axis starts at `ymin` (default 1 on a log scale, else 0); `hline`
    draws a dashed reference level."""

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
        if self.hline is not None:
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


def have_gnuplot(program):
    """Whether gnuplot is on PATH; if not, says so on stderr as `program`."""
    if shutil.which("gnuplot") is not None:
        return True
    print(f"{program}: gnuplot not found (Debian: apt-get install gnuplot-nox)", file=sys.stderr)
    return False


def render(panels, out, subtitle, cols):
    """Draws `panels` into the PNG `out`, `cols` panels a row. Returns a
    process exit code (gnuplot's errors go to stderr)."""
    nrows = (len(panels) + cols - 1) // cols
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
        for i, p in enumerate(panels):
            script.append(p.script(os.path.join(tmp, f"panel{i}.dat")))
        script.append("unset multiplot")
        run = subprocess.run(["gnuplot"], input="\n".join(script) + "\n", text=True,
                             capture_output=True)
        if run.returncode != 0:
            print(run.stderr, file=sys.stderr)
            return 1
    print(f"wrote {os.path.normpath(out)} ({len(panels)} panels)")
    return 0
