#!/usr/bin/env python3
"""Python logging benchmark: hydra_logger against stdlib logging, structlog, loguru.

usage: bench.py [--records N] [--runs R] [--threads 1,4] [--only NAME[,NAME]]
                [--json FILE] [--quick]

Every contender writes the same record, "user logged in" with the fields
user="alice" and n=i, as a text line (timestamp, level, logger name, message,
fields) to a file in a temporary directory, from 1 and from 4 threads (each
thread logs its share; a threading.Barrier starts them together). The time is
end to end: from the first call to the moment everything is in the file (the
loggers' flush / complete), so an asynchronous logger is not credited for
records still queued. After each run the file is checked: the right number of
lines, and each n=0..N-1 exactly once; a run that fails the check is an error
and makes the program exit non-zero (CI runs --quick for that).

Contenders (each run is a fresh child process: bench.py --child ...):

  stdlib              logging + logging.FileHandler + Formatter
  structlog           structlog, WriteLoggerFactory, TimeStamper + KeyValueRenderer
  loguru              loguru, logger.add(path, format=..., enqueue=False)
  loguru_enqueue      the same with enqueue=True
  hydra               hydra_logger.HydraLogger, async, log.info("...", user=..., n=i)
  hydra_handler       stdlib logging -> hydra_logger.logging.HydraHandler
  hydra_handler_fast  the same with fast_records=True
  disabled            the cost of a call below the level: log.debug() on a logger
                      at INFO, hydra against stdlib (ns per call)

The stdlib-speed contenders log a fraction of --records (records/s is what is
compared, and the run stays short); the table gives the median of the runs and
every run, and each row's ratio to stdlib at the same thread count. Runs are
interleaved (run 1 of every row, then run 2...) so that noise on this shared
machine spreads over all rows.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from itertools import repeat

MESSAGE = "user logged in"
WARMUP = 200  # records logged (and flushed) before the clock starts; message "warm up", n=-1
STDLIB_FORMAT = "%(asctime)s %(levelname)s [%(name)s] %(message)s user=%(user)s n=%(n)s"
LOGURU_FORMAT = ("{time:YYYY-MM-DD HH:mm:ss.SSS} {level} [{name}] {message} "
                 "user={extra[user]} n={extra[n]}")

# name: (share of --records it logs, description)
CONTENDERS = {
    "stdlib": (1 / 4, "logging.FileHandler"),
    "structlog": (1 / 4, "structlog WriteLogger, KeyValueRenderer"),
    "loguru": (1 / 8, "loguru, enqueue=False"),
    "loguru_enqueue": (1 / 40, "loguru, enqueue=True"),  # ~10k records/s: a short run
    "hydra": (1, "hydra_logger native front end (async)"),
    "hydra_handler": (1 / 4, "stdlib logging -> HydraHandler"),
    "hydra_handler_fast": (1 / 4, "HydraHandler(fast_records=True)"),
}
ALL_NAMES = list(CONTENDERS) + ["disabled"]
TARGETS = [  # (row, threshold of x stdlib, what the issue asks)
    ("hydra", 10.0, "native front end >= 10x stdlib, end to end"),
    ("hydra_handler", 1.0, "HydraHandler >= 1x stdlib"),
    ("hydra_handler_fast", 1.3, "HydraHandler(fast_records=True) >= 1.3x stdlib"),
]


# --------------------------------------------------------------------------
# The child: one contender, one thread count, one run. Prints one JSON line.
# --------------------------------------------------------------------------

def _keyword_calls(logger):
    """(warm, work) for a logger that takes fields as keywords (structlog,
    loguru, hydra_logger): ``logger.info(MESSAGE, user="alice", n=i)``."""

    def work(start, stop):
        info = logger.info
        for i in range(start, stop):
            info(MESSAGE, user="alice", n=i)

    def warm(n):
        for _ in range(n):
            logger.info("warm up", user="alice", n=-1)

    return warm, work


def _hydra_config(path):
    return {"layers": {"APP": {"level": "INFO", "destinations": [
        {"type": "file", "path": path, "format": "text"}]}}}


def setup(name, path):
    """Returns (warm(n), work(start, stop), flush(), close()) for a contender.

    work logs records n=start..stop-1; flush makes everything logged so far be
    in the file; close releases the file.
    """
    if name == "stdlib" or name.startswith("hydra_handler"):
        import logging

        logger = logging.getLogger("bench")
        logger.propagate = False
        logger.setLevel(logging.INFO)
        if name == "stdlib":
            handler = logging.FileHandler(path)
            handler.setFormatter(logging.Formatter(STDLIB_FORMAT))
            hydra = None
        else:
            import hydra_logger
            from hydra_logger.logging import HydraHandler

            hydra = hydra_logger.HydraLogger(_hydra_config(path))
            handler = HydraHandler(logger=hydra, fast_records=(name == "hydra_handler_fast"))
        logger.addHandler(handler)

        def work(start, stop):
            info = logger.info
            for i in range(start, stop):
                info(MESSAGE, extra={"user": "alice", "n": i})

        def warm(n):
            for _ in range(n):
                logger.info("warm up", extra={"user": "alice", "n": -1})

        def close():
            logger.removeHandler(handler)
            handler.close()
            if hydra is not None:
                hydra.close()

        return warm, work, handler.flush, close

    if name == "structlog":
        import logging

        import structlog

        out = open(path, "w", encoding="utf-8")
        structlog.configure(
            processors=[
                structlog.processors.TimeStamper(fmt="%Y-%m-%d %H:%M:%S.%f", utc=False),
                structlog.processors.add_log_level,
                structlog.processors.KeyValueRenderer(
                    key_order=["timestamp", "level", "logger", "event"],
                    repr_native_str=False),
            ],
            wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
            logger_factory=structlog.WriteLoggerFactory(file=out),
            cache_logger_on_first_use=True,
        )
        logger = structlog.get_logger().bind(logger="bench")

        warm, work = _keyword_calls(logger)
        return warm, work, out.flush, out.close  # WriteLogger flushes each line itself

    if name.startswith("loguru"):
        from loguru import logger

        logger.remove()
        logger.add(path, format=LOGURU_FORMAT, enqueue=(name == "loguru_enqueue"))

        warm, work = _keyword_calls(logger)
        return warm, work, logger.complete, logger.remove

    if name == "hydra":
        import hydra_logger

        log = hydra_logger.HydraLogger(_hydra_config(path))

        warm, work = _keyword_calls(log)
        return warm, work, log.flush, log.close

    raise SystemExit(f"bench: unknown contender {name!r}")


_N_RE = re.compile(rb" n=(\d+)")


def check_file(path, records):
    """(lines, problem or None): WARMUP + records lines, n=0..records-1 once each."""
    with open(path, "rb") as f:
        data = f.read()
    lines = data.count(b"\n")
    problem = None
    if lines != WARMUP + records:
        problem = f"{lines} lines in the file, expected {WARMUP + records}"
    else:
        ns = [int(m) for m in _N_RE.findall(data)]
        if len(ns) != records or sum(ns) != records * (records - 1) // 2 or \
                len(set(ns)) != records:
            problem = (f"the n= values are not 0..{records - 1} once each "
                       f"({len(ns)} found, {len(set(ns))} distinct)")
    return lines, len(data), problem


def run_child(name, threads, records, directory):
    path = os.path.join(directory, f"{name}-{threads}t.log")
    warm, work, flush, close = setup(name, path)
    warm(WARMUP)
    flush()
    per = records // threads
    t0 = [0.0, 0.0]

    def started():
        t0[0] = time.perf_counter()
        t0[1] = time.process_time()

    barrier = threading.Barrier(threads, action=started)

    def worker(k):
        barrier.wait()
        work(k * per, (k + 1) * per)

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    t_calls = time.perf_counter()
    flush()
    t_end = time.perf_counter()
    cpu = time.process_time() - t0[1]
    close()
    lines, size, problem = check_file(path, per * threads)
    elapsed = t_end - t0[0]
    return {
        "name": name, "threads": threads, "records": per * threads,
        "seconds": elapsed, "calls_seconds": t_calls - t0[0],
        "records_per_s": per * threads / elapsed, "cpu_s": cpu,
        "lines": lines, "bytes_per_line": size / max(lines, 1), "problem": problem,
    }


def _disabled_loops():
    # Written out, as a user writes them: attribute look-up and call each time.
    def hydra_plain(log, n):
        for _ in repeat(None, n):
            log.debug("user logged in")

    def hydra_fields(log, n):
        for _ in repeat(None, n):
            log.debug("user logged in", user="alice")

    def stdlib_plain(log, n):
        for _ in repeat(None, n):
            log.debug("user logged in")

    def stdlib_fields(log, n):
        for _ in repeat(None, n):
            log.debug("user logged in", extra={"user": "alice"})

    def loop_only(log, n):
        for _ in repeat(None, n):
            pass

    return {"hydra_plain": hydra_plain, "hydra_fields": hydra_fields,
            "stdlib_plain": stdlib_plain, "stdlib_fields": stdlib_fields,
            "loop_only": loop_only}


def run_disabled(calls, directory):
    """ns per disabled call: the calls are split into 5 chunks per variant,
    interleaved across variants; the median chunk is reported."""
    import logging

    import hydra_logger

    hpath = os.path.join(directory, "disabled-hydra.log")
    spath = os.path.join(directory, "disabled-stdlib.log")
    hydra = hydra_logger.HydraLogger(_hydra_config(hpath))
    std = logging.getLogger("bench")
    std.propagate = False
    std.setLevel(logging.INFO)
    handler = logging.FileHandler(spath)
    handler.setFormatter(logging.Formatter(STDLIB_FORMAT))
    std.addHandler(handler)
    loops = _disabled_loops()
    target = {k: (hydra if k.startswith("hydra") else std) for k in loops}
    chunk = max(calls // 5, 1)
    for k, fn in loops.items():  # warm up (hydra's first call fills its layer cache)
        fn(target[k], 1000)
    samples = {k: [] for k in loops}
    for _ in range(5):
        for k, fn in loops.items():
            t = time.perf_counter_ns()
            fn(target[k], chunk)
            samples[k].append((time.perf_counter_ns() - t) / chunk)
    hydra.close()
    std.removeHandler(handler)
    handler.close()
    problem = None
    for p in (hpath, spath):
        if os.path.exists(p) and os.path.getsize(p) != 0:
            problem = f"{p}: a disabled call wrote something"
    return {"name": "disabled", "calls": chunk * 5,
            "ns_per_call": {k: statistics.median(v) for k, v in samples.items()},
            "samples": samples, "problem": problem}


def child_main(args):
    directory = args.dir
    if args.child == "disabled":
        result = run_disabled(args.records, directory)
    else:
        result = run_child(args.child, int(args.threads), args.records, directory)
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


# --------------------------------------------------------------------------
# The parent: runs the children, checks, tabulates.
# --------------------------------------------------------------------------

def spawn(name, threads, records, timeout):
    with tempfile.TemporaryDirectory(prefix="pybench-") as directory:
        cmd = [sys.executable, os.path.abspath(__file__), "--child", name, "--threads",
               str(threads), "--records", str(records), "--dir", directory]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"name": name, "threads": threads, "problem": f"timed out after {timeout} s"}
    if proc.returncode != 0 or not proc.stdout.strip():
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"name": name, "threads": threads,
                "problem": f"child exited {proc.returncode}: {tail}"}
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except ValueError:
        return {"name": name, "threads": threads, "problem": "child printed no JSON"}


def loadavg():
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def fmt_rate(v):
    if v is None:
        return "-"
    if v >= 1e6:
        return f"{v / 1e6:.2f}M"
    return f"{v / 1e3:.1f}k"


def versions():
    out = {"python": platform.python_version()}
    for mod in ("structlog", "loguru", "hydra_logger"):
        try:
            from importlib.metadata import version

            out[mod] = version(mod)
        except Exception:
            try:
                out[mod] = getattr(__import__(mod), "__version__", "?")
            except Exception:
                out[mod] = None
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=None,
                    help="records per run of the fastest contender (default 400000; "
                         "--quick 20000); the slower ones log a fixed share of it")
    ap.add_argument("--runs", type=int, default=None, help="runs per row (default 3; --quick 1)")
    ap.add_argument("--threads", default="1,4", help="thread counts (default 1,4)")
    ap.add_argument("--only", default=None,
                    help="comma-separated: " + ",".join(ALL_NAMES)
                    + " (the x stdlib column needs stdlib among them)")
    ap.add_argument("--json", default=None, help="write the results to this file")
    ap.add_argument("--disabled-calls", type=int, default=None,
                    help="calls per variant of the disabled-call test (default 2000000; "
                         "--quick 200000)")
    ap.add_argument("--quick", action="store_true", help="a smoke run: small N, one run")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per child run")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--dir", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        return child_main(args)

    records = args.records or (20000 if args.quick else 400000)
    runs = args.runs or (1 if args.quick else 3)
    dcalls = args.disabled_calls or (200000 if args.quick else 2000000)
    threads = [int(t) for t in args.threads.split(",") if t.strip()]
    names = ALL_NAMES
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        bad = [n for n in names if n not in ALL_NAMES]
        if bad:
            ap.error(f"unknown contender(s) {', '.join(bad)}: choose from {', '.join(ALL_NAMES)}")
    if records < 40 * max(threads) or runs < 1 or min(threads) < 1:
        ap.error("--records too small for the thread counts, or --runs/--threads < 1")

    rows = [(n, t) for n in names if n != "disabled" for t in threads]
    plan = {(n, t): max(int(records * CONTENDERS[n][0]) // t * t, t) for n, t in rows}
    started = time.time()
    load_before = loadavg()
    print(f"bench: {len(rows)} rows x {runs} runs, records {records} "
          f"(load average {load_before:.2f}, {os.cpu_count()} cores)", file=sys.stderr)
    results = {n: {str(t): {"records": plan[(n, t)], "runs": []} for t in threads}
               for n in names if n != "disabled"}
    disabled_runs = []
    problems = []
    for r in range(runs):
        for n, t in rows:
            res = spawn(n, t, plan[(n, t)], args.timeout)
            if res.get("problem"):
                problems.append(f"{n} {t}t run {r + 1}: {res['problem']}")
            results[n][str(t)]["runs"].append(res)
            print(f"  run {r + 1}/{runs} {n:<19} {t}t  "
                  f"{fmt_rate(res.get('records_per_s')):>8} rec/s"
                  + (f"  ERROR: {res['problem']}" if res.get("problem") else ""),
                  file=sys.stderr)
        if "disabled" in names:
            res = spawn("disabled", 1, dcalls, args.timeout)
            if res.get("problem"):
                problems.append(f"disabled run {r + 1}: {res['problem']}")
            disabled_runs.append(res)

    # Medians and ratios.
    for n, by_t in results.items():
        for t, row in by_t.items():
            rates = [x["records_per_s"] for x in row["runs"]
                     if not x.get("problem") and "records_per_s" in x]
            row["rates"] = rates
            row["median_records_per_s"] = statistics.median(rates) if rates else None
            cpus = [x["cpu_s"] / x["records"] * 1e6 for x in row["runs"]
                    if not x.get("problem") and "cpu_s" in x]
            row["median_cpu_us_per_record"] = statistics.median(cpus) if cpus else None
            bpl = [x["bytes_per_line"] for x in row["runs"] if "bytes_per_line" in x]
            row["bytes_per_line"] = bpl[0] if bpl else None
    for n, by_t in results.items():
        for t, row in by_t.items():
            base = results.get("stdlib", {}).get(t, {}).get("median_records_per_s")
            m = row["median_records_per_s"]
            row["x_stdlib"] = m / base if (m and base) else None

    disabled = None
    good = [d for d in disabled_runs if not d.get("problem") and "ns_per_call" in d]
    if good:
        keys = good[0]["ns_per_call"].keys()
        disabled = {"calls": good[0]["calls"],
                    "median_ns_per_call": {k: statistics.median(d["ns_per_call"][k]
                                                                for d in good) for k in keys},
                    "runs": [d["ns_per_call"] for d in good]}

    # The table.
    print()
    print(f"{'contender':<20}{'threads':>7}{'records':>9}{'median rec/s':>14}"
          f"{'x stdlib':>10}{'CPU us/rec':>11}  runs (rec/s)")
    for n, by_t in results.items():
        for t, row in by_t.items():
            x = row["x_stdlib"]
            cpu = row["median_cpu_us_per_record"]
            runs_txt = " ".join(fmt_rate(v) for v in row["rates"])
            print(f"{n:<20}{t:>7}{row['records']:>9}{fmt_rate(row['median_records_per_s']):>14}"
                  f"{(f'{x:.2f}x' if x else '-'):>10}{(f'{cpu:.2f}' if cpu else '-'):>11}"
                  f"  {runs_txt}")
    if disabled:
        d = disabled["median_ns_per_call"]
        print()
        print(f"disabled call (log.debug on a logger at INFO), ns per call, median of "
              f"{len(good)} run(s) x {disabled['calls']} calls; the bare loop costs "
              f"{d['loop_only']:.1f} ns and is included")
        print(f"  {'':<24}{'hydra':>10}{'stdlib':>10}{'hydra/stdlib':>14}")
        for variant, label in (("plain", 'debug("m")'), ("fields", "debug(m, user=...)")):
            h, s = d[f"hydra_{variant}"], d[f"stdlib_{variant}"]
            print(f"  {label:<24}{h:>10.1f}{s:>10.1f}{h / s:>14.2f}")

    # The targets.
    targets = []
    for row_name, threshold, text in TARGETS:
        for t in threads:
            x = results.get(row_name, {}).get(str(t), {}).get("x_stdlib")
            if x is not None:
                targets.append({"target": text, "threads": t, "value": x,
                                "threshold": threshold, "met": x >= threshold})
    if disabled:
        d = disabled["median_ns_per_call"]
        for variant in ("plain", "fields"):
            h, s = d[f"hydra_{variant}"], d[f"stdlib_{variant}"]
            targets.append({"target": f"disabled call ({variant}) no slower than stdlib's",
                            "threads": 1, "value": h / s, "threshold": 1.0, "met": h <= s})
    if targets:
        print()
        print("targets:")
        for tg in targets:
            unit = "x" if "disabled" not in tg["target"] else " (hydra/stdlib time)"
            print(f"  {'met ' if tg['met'] else 'MISS'}  {tg['target']}, {tg['threads']}t: "
                  f"{tg['value']:.2f}{unit}")

    elapsed = time.time() - started
    load_after = loadavg()
    print(f"\n{elapsed:.1f} s; load average {load_before:.2f} before, {load_after:.2f} after",
          file=sys.stderr)
    if args.json:
        out = {
            "machine": {"date": time.strftime("%Y-%m-%d %H:%M"), "cores": os.cpu_count(),
                        "cpu": _cpu_name(), "load_before": load_before, "load_after": load_after,
                        "quick": args.quick, "seconds": elapsed, **versions()},
            "config": {"records": records, "runs": runs, "threads": threads,
                       "disabled_calls": dcalls, "warmup": WARMUP,
                       "shares": {n: CONTENDERS[n][0] for n in CONTENDERS}},
            "throughput": results, "disabled": disabled, "disabled_runs": disabled_runs,
            "targets": targets, "problems": problems,
        }
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
        print(f"wrote {args.json}", file=sys.stderr)
    if problems:
        print("\nERRORS:", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    return 0


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    sys.exit(main())
