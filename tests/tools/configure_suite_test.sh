#!/usr/bin/env bash
# scripts/test.sh over a build dir that was configured otherwise before: each
# suite's configure (scripts/configure-suite.sh) must give back every option
# the suite relies on, so that no cached value (scripts/demo.sh used to leave
# HYDRA_BUILD_TESTS=OFF in build/) can leave a suite with fewer tests or none;
# and a ctest run that finds no test must fail.
#
#   configure_suite_test.sh SOURCE_DIR WORK_DIR [CONFIGURE]
#
# CONFIGURE (default SOURCE_DIR/scripts/configure-suite.sh) is called as
# `CONFIGURE DIR SUITE`. Only configures: nothing is built.
set -euo pipefail
root=$1
work=$2
configure=${3:-$root/scripts/configure-suite.sh}
dir=$work/build
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# A build dir configured with every option the suites rely on turned the
# other way, as a developer or an older scripts/demo.sh could leave it.
configure_the_other_way() {
  cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHYDRA_BUILD_TESTS=OFF \
    -DHYDRA_BUILD_TOOLS=OFF -DHYDRA_BUILD_BENCH=OFF -DHYDRA_BUILD_EXAMPLES=OFF \
    -DHYDRA_WITH_ZSTD=OFF -DHYDRA_WITH_PROTECT=OFF -DHYDRA_WITH_CONFIG=OFF \
    -DHYDRA_WITH_PLUGINS=OFF -DHYDRA_WITH_NET=OFF \
    -DHYDRA_INLINE_CALLS=ON -DHYDRA_SANITIZE=thread -DHYDRA_TEST_INLINE_CALLS=OFF \
    -DHYDRA_TEST_PCH=OFF -DHYDRA_TEST_SOURCES=nothing -DHYDRA_TEST_COMPILE_OPTIONS=-O3 \
    -DHYDRA_TEST_OUTER_OPTIONS=-fno-sanitize=thread -DHYDRA_BUILD_PYTHON=OFF >/dev/null
}

# cached NAME: the value CMakeCache.txt holds for NAME.
cached() { sed -n "s/^$1:[A-Z]*=//p" "$dir/CMakeCache.txt"; }

expect() {  # suite, option, value
  local got
  got=$(cached "$2")
  [[ $got == "$3" ]] || fail "$1: $2 is '$got' after $configure, not '$3'"
}

rm -rf "$work"
mkdir -p "$work"

# So configured, the dir has no test, and ctest --no-tests=error says so.
configure_the_other_way
if ctest --test-dir "$dir" --no-tests=error >"$work/ctest.log" 2>&1; then
  fail "ctest --no-tests=error passed in a build dir without tests"
fi
grep -q "No tests were found" "$work/ctest.log" || fail "ctest did not say it found no test"

for suite in plain asan tsan; do
  configure_the_other_way
  "$configure" "$dir" "$suite" >/dev/null
  for option in HYDRA_BUILD_TESTS HYDRA_WITH_ZSTD HYDRA_WITH_PROTECT HYDRA_WITH_CONFIG \
    HYDRA_WITH_PLUGINS HYDRA_WITH_NET; do
    expect "$suite" "$option" ON
  done
  expect "$suite" HYDRA_INLINE_CALLS OFF
  expect "$suite" HYDRA_TEST_PCH ON
  case $suite in
    plain)
      expect plain CMAKE_BUILD_TYPE RelWithDebInfo
      expect plain HYDRA_SANITIZE ""
      expect plain HYDRA_BUILD_TOOLS ON
      expect plain HYDRA_BUILD_BENCH ON
      expect plain HYDRA_BUILD_EXAMPLES ON
      expect plain HYDRA_TEST_INLINE_CALLS OFF
      expect plain CMAKE_CXX_FLAGS_RELWITHDEBINFO "-O2 -g1 -DNDEBUG"
      expect plain HYDRA_TEST_SOURCES ""
      expect plain HYDRA_TEST_COMPILE_OPTIONS -Og
      expect plain HYDRA_TEST_OUTER_OPTIONS ""
      expect plain HYDRA_BUILD_PYTHON ON
      ;;
    asan)
      expect asan CMAKE_BUILD_TYPE Debug
      expect asan HYDRA_SANITIZE address,undefined
      expect asan HYDRA_BUILD_TOOLS ON
      expect asan HYDRA_BUILD_EXAMPLES OFF
      expect asan HYDRA_BUILD_PYTHON OFF
      expect asan HYDRA_TEST_INLINE_CALLS OFF
      expect asan CMAKE_CXX_FLAGS_DEBUG "-g1"
      expect asan HYDRA_TEST_SOURCES ""
      expect asan HYDRA_TEST_COMPILE_OPTIONS ""
      expect asan HYDRA_TEST_OUTER_OPTIONS -fno-sanitize=undefined
      ;;
    tsan)
      expect tsan CMAKE_BUILD_TYPE RelWithDebInfo
      expect tsan HYDRA_SANITIZE thread
      expect tsan HYDRA_TEST_INLINE_CALLS ON
      expect tsan HYDRA_BUILD_PYTHON OFF
      expect tsan CMAKE_CXX_FLAGS_RELWITHDEBINFO "-O2 -g1 -DNDEBUG"
      expect tsan HYDRA_TEST_COMPILE_OPTIONS ""
      expect tsan HYDRA_TEST_OUTER_OPTIONS ""
      # Only the test files whose tests the TSan run runs.
      [[ $(cached HYDRA_TEST_SOURCES) == *net/delivery* ]] ||
        fail "tsan: HYDRA_TEST_SOURCES leaves out the delivery tests"
      ;;
  esac
  # Tests are registered (those gtest_discover_tests adds appear only once
  # built; the add_test ones are there already).
  count=$(ctest --test-dir "$dir" -N | sed -n 's/^Total Tests: //p')
  ((${count:-0} > 0)) || fail "$suite: ctest finds no test after $configure"
done

# scripts/test.sh configures only through configure-suite.sh, and each of
# its ctest runs fails when it finds no test.
test_sh=$root/scripts/test.sh
if grep -nE '^[^#]*cmake +-S' "$test_sh"; then
  fail "scripts/test.sh configures a build dir without scripts/configure-suite.sh"
fi
grep -q 'scripts/configure-suite.sh' "$test_sh" ||
  fail "scripts/test.sh does not use scripts/configure-suite.sh"
# One logical line per command: continuation lines joined.
while IFS= read -r command; do
  [[ $command == *--no-tests=error* ]] || fail "scripts/test.sh: ctest without --no-tests=error: $command"
done < <(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$test_sh" | grep -E '^[^#]*\bctest ')

if ((failures > 0)); then
  echo "$failures failure(s)" >&2
  exit 1
fi
rm -rf "$work"
echo "every suite's configure sets every option it relies on"
