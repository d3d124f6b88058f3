#!/usr/bin/env python3
"""Compare a hydra-bench --json result with a stored baseline.

Absolute times differ from machine to machine and run to run, so the
comparison is of ratios measured in the same run: each Hydra logger against
spdlog in the same mode (hydra_sync / spdlog_sync, hydra_async /
spdlog_async). A ratio that got worse than the baseline's by more than the
tolerance is a regression. Lost lines (lines_verified or bytes_verified
false, anywhere) always are.

Ratios compared, where both files have them:
  throughput        records/s, per thread count             (higher is better)
  latency           p50 and p99, drained int+int+double      (lower is better)
  latency_matrix    p50 and p99 per regime, message, threads (lower is better)
  formats           records/s of each Hydra format against spdlog's text line
                    in the same mode                         (higher is better)
  startup           median ms to the first record in a file  (lower is better)
  memory            peak RSS per workload                    (lower is better)
  compile           CPU seconds and object bytes of 500 statements (lower is better)

Tails (p99) and start-up times move most from run to run on a shared machine:
their ratios get twice the tolerance (--tail-tolerance, default 0.5).

usage: bench-compare.py BASELINE.json NEW.json [--tolerance 0.25] [--tail-tolerance 0.5]
                        [--report-only]
Exit status: 0 when nothing regressed (or --report-only), 1 otherwise.
"""
import argparse
import json
import sys

PAIRS = [("hydra_sync", "spdlog_sync"), ("hydra_async", "spdlog_async")]
HIGHER, LOWER = "higher", "lower"


def ratio(a, b):
    if a is None or b is None or b <= 0:
        return None
    return a / b


def throughput_ratios(result):
    # Per thread count when the run has it; else the one-thread table.
    by_threads = result.get("throughput_threads") or {
        name: {"1": row} for name, row in result.get("throughput", {}).items()}
    out = {}
    for hydra, spdlog in PAIRS:
        for threads_key, row in by_threads.get(hydra, {}).items():
            other = by_threads.get(spdlog, {}).get(threads_key)
            if other:
                out[("throughput", hydra, threads_key, "records_per_s")] = ratio(
                    row["records_per_s"], other["records_per_s"])
    return out


def latency_table_ratios(table, prefix):
    out = {}
    for hydra, spdlog in PAIRS:
        for threads_key, row in table.get(hydra, {}).items():
            other = table.get(spdlog, {}).get(threads_key)
            if not other:
                continue
            for q in ("p50_ns", "p99_ns"):
                out[prefix + (hydra, threads_key, q)] = ratio(row[q], other[q])
    return out


def latency_ratios(result):
    return latency_table_ratios(result.get("latency", {}), ("latency",))


def latency_matrix_ratios(result):
    out = {}
    for regime, messages in result.get("latency_matrix", {}).items():
        for message, table in messages.items():
            if (regime, message) == ("drained", "int_int_double"):
                continue  # the same figures as "latency"
            out.update(latency_table_ratios(table, ("latency", regime, message)))
    return out


def format_ratios(result):
    fm = result.get("formats", {})
    out = {}
    for hydra, spdlog in PAIRS:
        ref = fm.get(spdlog, {}).get("text", {}).get("plain", {}).get("records_per_s")
        for fmt_name, variants in fm.get(hydra, {}).items():
            for variant, row in variants.items():
                out[("formats", hydra, fmt_name, variant)] = ratio(row["records_per_s"], ref)
    return out


def startup_ratios(result):
    st = result.get("startup", {})
    return {("startup", hydra, "median_ms"): ratio(st.get(hydra, {}).get("median_ms"),
                                                   st.get(spdlog, {}).get("median_ms"))
            for hydra, spdlog in PAIRS}


def memory_ratios(result):
    mem = result.get("memory", {})
    out = {}
    for hydra, spdlog in PAIRS:
        for workload, row in mem.get(hydra, {}).items():
            other = mem.get(spdlog, {}).get(workload, {})
            out[("memory", hydra, workload, "peak_rss")] = ratio(
                row.get("peak_rss_kb"), other.get("peak_rss_kb"))
    return out


def compile_ratios(result):
    cc = result.get("compile", {})
    ref = cc.get("spdlog_500", {})
    out = {}
    for unit in ("hydra_500", "hydra_named_500"):
        for key in ("cpu_s", "object_bytes"):
            out[("compile", unit, key)] = ratio(cc.get(unit, {}).get(key), ref.get(key))
    return out


CHECKS = [
    (throughput_ratios, HIGHER),
    (latency_ratios, LOWER),
    (latency_matrix_ratios, LOWER),
    (format_ratios, HIGHER),
    (startup_ratios, LOWER),
    (memory_ratios, LOWER),
    (compile_ratios, LOWER),
]


def lost_lines(result):
    lost = []

    def walk(node, path):
        if isinstance(node, dict):
            for flag in ("lines_verified", "bytes_verified"):
                if node.get(flag) is False:
                    lost.append(" ".join(path + [flag]))
            for key, value in node.items():
                walk(value, path + [key])

    for section in ("throughput", "throughput_threads", "formats"):
        walk(result.get(section, {}), [section])
    return lost


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("baseline")
    parser.add_argument("new")
    parser.add_argument("--tolerance", type=float, default=0.25,
                        help="allowed relative worsening of a ratio (default 0.25)")
    parser.add_argument("--tail-tolerance", type=float, default=0.5,
                        help="the same for p99 latency and start-up ratios (default 0.5)")
    parser.add_argument("--report-only", action="store_true",
                        help="print the comparison but always exit 0")
    args = parser.parse_args()
    with open(args.baseline) as f:
        base = json.load(f)
    with open(args.new) as f:
        new = json.load(f)

    regressions = []
    print(f"{'metric':56} {'baseline':>9} {'new':>9}  (Hydra / spdlog, same mode)")
    for extract, better in CHECKS:
        b, n = extract(base), extract(new)
        for key in sorted(k for k in set(b) & set(n) if b[k] is not None and n[k] is not None):
            noisy = key[-1] in ("p99_ns", "median_ms")
            tolerance = args.tail_tolerance if noisy else args.tolerance
            if better == HIGHER:
                flag = n[key] < b[key] * (1 - tolerance)
            else:
                flag = n[key] > b[key] * (1 + tolerance)
            print(f"{' '.join(key):56} {b[key]:9.2f} {n[key]:9.2f}"
                  f"{'  REGRESSION' if flag else ''}")
            if flag:
                regressions.append(key)
    for what in lost_lines(new):
        print(f"{what}: output did not match: REGRESSION")
        regressions.append((what,))

    if regressions:
        print(f"{len(regressions)} regression(s) beyond a tolerance of {args.tolerance:.0%} "
              f"({args.tail_tolerance:.0%} for tails and start-up)")
        return 0 if args.report_only else 1
    print("no regression beyond the tolerance")
    return 0


if __name__ == "__main__":
    sys.exit(main())
