#!/usr/bin/env bash
# Configures a build dir for one of the suites scripts/test.sh runs, giving
# every option the suite relies on explicitly. CMake keeps the values a build
# dir was configured with before (scripts/demo.sh's HYDRA_BUILD_TESTS=OFF, a
# developer's HYDRA_SANITIZE=thread or HYDRA_WITH_PROTECT=OFF), so a suite
# that left any of them to the cache could build fewer tests, or none, and
# still pass.
#
#   scripts/configure-suite.sh DIR plain|asan|tsan [more cmake arguments]
#
#   plain  RelWithDebInfo, no sanitizer; tests, the hydra command, the
#          benchmarks (the quick run), the examples, and the dashboard and
#          TypeScript SDK (npm) with their tests, and the Python package
#          (python/) with its suites. The test files compile
#          with -Og (the library and the benchmarks keep -O2): about a
#          quarter less time to compile them
#   asan   Debug with ASan+UBSan; tests, the hydra command (without the
#          examples, which plain compiles, and the npm-built parts). The
#          test files of the modules around the core compile with ASan
#          alone (HYDRA_TEST_OUTER_OPTIONS, tests/CMakeLists.txt)
#   tsan   RelWithDebInfo with TSan; only the test files whose tests the
#          suite runs (HYDRA_TEST_SOURCES: the core, async, sink and format
#          tests, and of the other modules the ones that log from threads,
#          and the bridge's test app), and the second, inline-call build of the async and logger tests
#          (HYDRA_TEST_INLINE_CALLS), which only this suite builds: a third
#          compile of the two largest test files would add minutes to the
#          whole run and test the same code
#
# Every suite compiles with -g1 (line tables: stack traces from sanitizers,
# gdb and crash handlers keep file and line) instead of -g, which makes
# compiling the tests about a quarter faster; and through ccache when it is
# installed, so that a second run on the same machine rebuilds little.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if (($# < 2)); then
  echo "usage: scripts/configure-suite.sh DIR plain|asan|tsan [cmake arguments]" >&2
  exit 64
fi
dir=$1
suite=$2
shift 2

# Every suite: the tests, with every optional module, and each log call
# compiled the usual way (the HYDRA_INLINE_CALLS tests build their own copy;
# with the option on they are left out).
common=(-DHYDRA_BUILD_TESTS=ON -DHYDRA_TEST_PCH=ON -DHYDRA_WITH_ZSTD=ON -DHYDRA_WITH_PROTECT=ON
  -DHYDRA_WITH_CONFIG=ON -DHYDRA_WITH_PLUGINS=ON -DHYDRA_WITH_NET=ON -DHYDRA_WITH_BRIDGE=ON
  -DHYDRA_INLINE_CALLS=OFF)
# -g1 instead of -g; the build types' other flags as CMake has them.
debug_info=(
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"
  "-DCMAKE_CXX_FLAGS_DEBUG=-g1" "-DCMAKE_C_FLAGS_DEBUG=-g1")
launcher=()
if command -v ccache >/dev/null; then
  # The test programs' precompiled header is cached only with these
  # sloppinesses (ccache's manual, "Precompiled headers").
  launcher=("-DCMAKE_CXX_COMPILER_LAUNCHER=env;CCACHE_SLOPPINESS=pch_defines,time_macros;ccache"
    -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
# The TSan suite's test files: keep in step with the tests scripts/test.sh
# runs under TSan.
tsan_test_sources='^(core|async|sink|format)/|^protect/(audit_chain|compliance|pipeline)_test|^config/watch_test|^net/delivery|^bridge/app'
case $suite in
  plain)
    own=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DHYDRA_SANITIZE= -DHYDRA_BUILD_TOOLS=ON
      -DHYDRA_BUILD_BENCH=ON -DHYDRA_BUILD_EXAMPLES=ON -DHYDRA_TEST_INLINE_CALLS=OFF
      -DHYDRA_TEST_SOURCES= -DHYDRA_BUILD_WEB=ON -DHYDRA_TEST_COMPILE_OPTIONS=-Og
      -DHYDRA_TEST_OUTER_OPTIONS= -DHYDRA_BUILD_PYTHON=ON)
    ;;
  asan)
    own=(-DCMAKE_BUILD_TYPE=Debug "-DHYDRA_SANITIZE=address,undefined" -DHYDRA_BUILD_TOOLS=ON
      -DHYDRA_BUILD_BENCH=OFF -DHYDRA_BUILD_EXAMPLES=OFF -DHYDRA_TEST_INLINE_CALLS=OFF
      -DHYDRA_TEST_SOURCES= -DHYDRA_BUILD_WEB=OFF -DHYDRA_TEST_COMPILE_OPTIONS=
      -DHYDRA_TEST_OUTER_OPTIONS=-fno-sanitize=undefined -DHYDRA_BUILD_PYTHON=OFF)
    ;;
  tsan)
    own=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DHYDRA_SANITIZE=thread -DHYDRA_BUILD_TOOLS=OFF
      -DHYDRA_BUILD_BENCH=OFF -DHYDRA_BUILD_EXAMPLES=OFF -DHYDRA_TEST_INLINE_CALLS=ON
      "-DHYDRA_TEST_SOURCES=${tsan_test_sources}" -DHYDRA_BUILD_WEB=OFF -DHYDRA_TEST_COMPILE_OPTIONS=
      -DHYDRA_TEST_OUTER_OPTIONS= -DHYDRA_BUILD_PYTHON=OFF)
    ;;
  *)
    echo "configure-suite.sh: unknown suite '$suite' (valid: plain, asan, tsan)" >&2
    exit 64
    ;;
esac
exec cmake -S "$root" -B "$dir" -G Ninja "${common[@]}" "${debug_info[@]}" "${launcher[@]}" \
  "${own[@]}" "$@"
