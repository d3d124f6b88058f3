#!/usr/bin/env python3
"""Print a hydra-bench --json result as the Markdown tables of docs/benchmarks.md.

usage: bench-tables.py RESULT.json

Sections follow the scenarios present in the result; a --quick result gives
fewer tables.
"""
import json
import sys

from bench_json import get  # scripts/ is on sys.path: the script's own folder

LOGGERS = ["hydra_sync", "spdlog_sync", "hydra_async", "spdlog_async"]
MESSAGES = [("int_int_double", "int, int, double"), ("string40", "40-char std::string"),
            ("static", "static string"), ("fields3", "three structured fields")]


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out) + "\n"


def mrec(v):
    return f"{v / 1e6:.2f} M" if v else "–"


def ns(v):
    return "–" if v is None else f"{v:,.0f}"


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 64
    with open(sys.argv[1]) as f:
        r = json.load(f)
    out = []
    tt = r.get("throughput_threads", {})
    if tt:
        rows = []
        for threads in ("1", "2"):
            for name in LOGGERS:
                row = get(tt, name, threads)
                if row:
                    ratio = row.get("x_spdlog_sync")
                    rows.append([name, threads, mrec(row["records_per_s"]),
                                 f"{row['mb_per_s']:.0f}", f"{row['bytes_per_line']:.1f}",
                                 f"{ratio:.2f}" if ratio is not None else "-",
                                 "yes" if row["lines_verified"] and row.get("bytes_verified", True)
                                 else "**NO**"])
        out.append("### Throughput\n\n" + table(
            ["logger", "threads", "records/s", "MB/s", "bytes/line", "x spdlog_sync", "verified"],
            rows))

    lm = r.get("latency_matrix")
    regimes = lm.items() if lm else [("drained", {"int_int_double": r.get("latency", {})})]
    for regime, messages in regimes:
        for threads in ("1", "2"):
            rows = []
            for key, label in MESSAGES:
                for name in ["floor", "bare_ring"] + LOGGERS:
                    row = get(messages, key, name, threads)
                    if row:
                        rows.append([label if name != "floor" else "(no call)", name,
                                     ns(row["p50_ns"]), ns(row["p90_ns"]), ns(row["p99_ns"]),
                                     ns(row["p999_ns"]), ns(row["max_ns"])])
            if rows:
                out.append(f"### Caller latency, {regime}, {threads} thread"
                           f"{'s' if threads == '2' else ''} (ns)\n\n" + table(
                               ["message", "logger", "p50", "p90", "p99", "p99.9", "max"], rows))

    fm = r.get("formats")
    if fm:
        rows = []
        for name in LOGGERS:
            for fmt_name in ("text", "json", "logfmt"):
                for variant in ("plain", "fields"):
                    row = get(fm, name, fmt_name, variant)
                    if row:
                        rows.append([name, fmt_name, "yes" if variant == "fields" else "no",
                                     mrec(row["records_per_s"]), f"{row['mb_per_s']:.0f}",
                                     f"{row['bytes_per_line']:.1f}"])
        out.append("### Formats (1 thread)\n\n" + table(
            ["logger", "format", "fields", "records/s", "MB/s", "bytes/line"], rows))

    mem = r.get("memory")
    if mem:
        rows = []
        for name in ["floor"] + LOGGERS:
            cells = [get(mem, name, w, "peak_rss_kb")
                     for w in ("one_record", "throughput_1t", "throughput_2t")]
            if any(cells):
                rows.append([name] + [f"{c / 1024:.1f}" if c else "–" for c in cells])
        out.append("### Peak RSS (MiB)\n\n" + table(
            ["logger", "one record", "throughput, 1 thread", "throughput, 2 threads"], rows))
    qf = r.get("queue_footprint")
    if qf:
        rows = []
        h = qf.get("hydra_async", {})
        if "per_thread_capacity_bytes" in h:
            per = ", ".join(f"{k} {v:.0f}" for k, v in h.get("record_bytes", {}).items())
            rows.append(["hydra_async", f"{h['per_thread_capacity_bytes'] // 1024} KiB per "
                         f"logging thread", per or "–"])
        s = qf.get("spdlog_async", {})
        if "total_bytes" in s:
            rows.append(["spdlog_async", f"{s['total_bytes'] / 1048576:.1f} MiB shared "
                         f"({s['slots']} slots × {s['slot_bytes']} B)",
                         f"{s['slot_bytes']} (a slot)"])
        out.append("### Async queue footprint (default settings)\n\n" + table(
            ["logger", "queue memory", "bytes per record"], rows))

    st = r.get("startup")
    if st:
        rows = [[name, f"{st[name]['median_ms']:.2f}", f"{st[name]['min_ms']:.2f}"]
                for name in ["floor"] + LOGGERS if name in st]
        out.append("### Start-up to the first record in a file (ms)\n\n" + table(
            ["logger", "median", "min"], rows))

    cc = r.get("compile")
    if cc and "skipped" not in cc:
        rows = []
        for unit in ("hydra_include", "spdlog_include", "hydra_500", "hydra_named_500",
                     "spdlog_500"):
            row = cc.get(unit)
            if row:
                rows.append([unit, row["statements"], f"{row['cpu_s']:.2f}",
                             f"{row['wall_s']:.2f}", f"{row['object_bytes'] / 1024:.0f}"])
        out.append(f"### Compile cost (`{cc.get('command', '')}`)\n\n" + table(
            ["unit", "statements", "CPU s", "wall s", "object KiB"], rows))
    print("\n".join(out), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
