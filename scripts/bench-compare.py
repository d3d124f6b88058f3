#!/usr/bin/env python3
"""Compare a hydra-bench --json result with a stored baseline.

Absolute times differ from machine to machine and run to run, so the
comparison is of ratios measured in the same run: each Hydra logger against
spdlog in the same mode (hydra_sync / spdlog_sync, hydra_async /
spdlog_async). A ratio that got worse than the baseline's by more than the
tolerance is a regression. Lost lines (lines_verified false) always are.

usage: bench-compare.py BASELINE.json NEW.json [--tolerance 0.25] [--report-only]
Exit status: 0 when nothing regressed (or --report-only), 1 otherwise.
"""
import argparse
import json
import sys

PAIRS = [("hydra_sync", "spdlog_sync"), ("hydra_async", "spdlog_async")]


def throughput_ratios(result):
    # Per thread count when the run has it; else the one-thread table.
    by_threads = result.get("throughput_threads") or {
        name: {"1": row} for name, row in result.get("throughput", {}).items()}
    out = {}
    for hydra, spdlog in PAIRS:
        for threads_key, row in by_threads.get(hydra, {}).items():
            other = by_threads.get(spdlog, {}).get(threads_key)
            if other:
                out[(hydra, threads_key, "records_per_s")] = (
                    row["records_per_s"] / other["records_per_s"])
    return out


def latency_ratios(result):
    out = {}
    lat = result.get("latency", {})
    for hydra, spdlog in PAIRS:
        for threads_key, row in lat.get(hydra, {}).items():
            other = lat.get(spdlog, {}).get(threads_key)
            if not other:
                continue
            for q in ("p50_ns", "p99_ns"):
                if other[q] > 0:
                    out[(hydra, threads_key, q)] = row[q] / other[q]
    return out


def lost_lines(result):
    lost = []
    for name, row in result.get("throughput", {}).items():
        if not row.get("lines_verified", True):
            lost.append(name)
    return lost


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("baseline")
    parser.add_argument("new")
    parser.add_argument("--tolerance", type=float, default=0.25,
                        help="allowed relative worsening of a ratio (default 0.25)")
    parser.add_argument("--report-only", action="store_true",
                        help="print the comparison but always exit 0")
    args = parser.parse_args()
    with open(args.baseline) as f:
        base = json.load(f)
    with open(args.new) as f:
        new = json.load(f)

    regressions = []
    print(f"{'metric':44} {'baseline':>9} {'new':>9}  (Hydra / spdlog, same mode)")
    # Throughput: higher ratio is better.
    b, n = throughput_ratios(base), throughput_ratios(new)
    for key in sorted(set(b) & set(n)):
        flag = n[key] < b[key] * (1 - args.tolerance)
        print(f"{' '.join(key):44} {b[key]:9.2f} {n[key]:9.2f}{'  REGRESSION' if flag else ''}")
        if flag:
            regressions.append(key)
    # Latency: lower ratio is better.
    b, n = latency_ratios(base), latency_ratios(new)
    for key in sorted(set(b) & set(n)):
        flag = n[key] > b[key] * (1 + args.tolerance)
        print(f"{' '.join(key):44} {b[key]:9.2f} {n[key]:9.2f}{'  REGRESSION' if flag else ''}")
        if flag:
            regressions.append(key)
    for name in lost_lines(new):
        print(f"{name}: output line count did not match: REGRESSION")
        regressions.append((name, "lines_verified"))

    if regressions:
        print(f"{len(regressions)} regression(s) beyond a tolerance of {args.tolerance:.0%}")
        return 0 if args.report_only else 1
    print("no regression beyond the tolerance")
    return 0


if __name__ == "__main__":
    sys.exit(main())
