#!/usr/bin/env bash
# Quick start, part 2: install what is needed, build, and run the whole test
# suite twice: a normal build, then an ASan+UBSan build of the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)

run_suite() {  # build dir, extra cmake args...
  local dir=$1
  shift
  echo "=== configure $dir $*"
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  echo "=== build $dir"
  cmake --build "$dir" -j "$jobs"
  echo "=== test $dir"
  ctest --test-dir "$dir" -j "$jobs" --output-on-failure --timeout 300
}

run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo
bench=build/bench/hydra_sync_bench
[ -x "$bench" ] && "$bench" --records 200000 --runs 3
run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DHYDRA_SANITIZE=address,undefined \
  -DHYDRA_BUILD_BENCH=OFF
echo "=== all test suites passed"
