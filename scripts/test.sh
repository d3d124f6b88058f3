#!/usr/bin/env bash
# Quick start, part 2: install what is needed, build, and run the whole test
# suite: a normal build, an ASan+UBSan build, and a TSan build of the
# concurrency tests.
#
# Each build dir is configured by scripts/configure-suite.sh, which sets every
# option the suite relies on, whatever the dir was configured with before
# (scripts/demo.sh, a developer's own choices). Every ctest run fails when it
# finds no test (--no-tests=error): a suite that runs nothing is an error,
# never a pass.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)

run_suite() {  # build dir, suite (plain, asan: see scripts/configure-suite.sh), [tests to leave out]
  local dir=$1 suite=$2 exclude=${3:-}
  echo "=== configure $dir ($suite)"
  scripts/configure-suite.sh "$dir" "$suite" >/dev/null
  echo "=== build $dir"
  cmake --build "$dir" -j "$jobs"
  echo "=== test $dir"
  ctest --test-dir "$dir" -j "$jobs" --output-on-failure --timeout 300 --no-tests=error \
    ${exclude:+-E "$exclude"}
}

run_suite build plain
# The quick benchmark: fails on lost lines; compared with the stored baseline
# as a report (a shared 2-core machine is too noisy to gate on timings).
build/bench/hydra-bench --quick --json build/bench.json
python3 scripts/bench-compare.py bench/baseline.json build/bench.json --report-only
# SyncForkTest forks while eight threads log. Debian 12's GCC 12 ASan does not
# take its allocator's locks around fork(), so a child can inherit one held
# by a thread it does not have and hang on its first allocation from a new
# thread (seen: the child's flusher thread blocked in
# SizeClassAllocator64::GetFromAllocator). glibc's malloc does, so the plain
# suite runs it.
# The compile-time checks (compile_fail), the installed-package build
# (install) and the configure checks (scripts) do the same in any build: the
# plain suite runs them. The Outage tests' memory bound means nothing under
# ASan's quarantine (they check only their counts there), so they run in the
# plain suite alone too. So do the longest runs of the same code paths as
# other tests, to keep the whole within its time: the many-thread floods
# (the plain and TSan suites run them) and the hydra command's help and
# option-table walks (the plain suite; under ASan each of the hundreds of
# processes they start takes a second). The Python client's suite runs in
# the plain and TSan suites; under ASan the bridge is tested by the C++
# bridge tests, bridge.transport and the hydra-bridge (JetStream) test.
asan_only_in_plain='SyncForkTest|ForkTest\.AChildForkedWhileThreadsLog|^compile_fail\.|^install\.|^scripts\.|^net\.Outage|^Async\.ManyThreads'
asan_only_in_plain+='|^BothModes/FilesTest\.ManyThreadsOneFileEveryLineWhole/'
asan_only_in_plain+='|^bridge\.python_client$'
asan_only_in_plain+='|^HydraCli\.(EveryCommandPrintsItsOwnUsageOnHelp|EveryListedOptionIsTakenByItsCommand'
asan_only_in_plain+='|TheOverviewListsEveryOptionOfEveryCommand|AnUnknownOptionIsAUsageErrorNamingIt)$'
run_suite build-asan asan "$asan_only_in_plain"


# ThreadSanitizer over the concurrent parts: the logger in both modes, the
# async engine (also with HYDRA_INLINE_CALLS: only this suite builds that
# second copy, and checks with nm that the option took effect), the sinks,
# the protect stage, hot reload (the watcher's thread reconfiguring a logger
# in use), the queue in front of network destinations, and the bridge (a
# process whose backend thread publishes records while the bridge's thread
# serves clients and logs what they submit: bridge.transport and the Python
# client's suite).
echo "=== configure build-tsan (tsan)"
scripts/configure-suite.sh build-tsan tsan >/dev/null
echo "=== build build-tsan"
cmake --build build-tsan -j "$jobs" --target hydra_core_tests hydra_async_tests hydra_sink_tests \
  hydra_inline_calls_tests hydra_protect_tests hydra_config_tests hydra_net_tests hydra_bridge_app
echo "=== test build-tsan"
# (TSan cannot follow a process that forks while it has threads: the fork
# and crash tests, which do, run in the other two suites.)
ctest --test-dir build-tsan -j "$jobs" --output-on-failure --timeout 300 --no-tests=error \
  -R '^(inline\.)?(BothModes|Async|FileSink|RotatingFileSink|ConsoleSink|Logger|Routing|Levels|Macros|FormatString|protect\.BothModes|config\.BothModes/WatchTest|net\.Delivery|NoOutOfLineEnqueue$|UsualBuildHasOutOfLineEnqueue$|bridge\.(transport|python_client)$)' \
  -E 'ForkTest|CrashTest'
echo "=== all test suites passed"
