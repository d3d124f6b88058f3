#!/usr/bin/env bash
# Runs clang-tidy with the repository's .clang-tidy over every .cpp under src/
# and tools/ (and the headers they include, per HeaderFilterRegex). Prints each
# finding once and exits 1 if there is any, so CI can use it as a gate.
#
#   scripts/tidy.sh [build-dir]      default build-dir: build-tidy
#   JOBS=N           parallel clang-tidy processes (default 2)
#   CLANG_TIDY=path  clang-tidy binary (default clang-tidy-14, else clang-tidy)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -m "${1:-$root/build-tidy}")
jobs=${JOBS:-2}
tidy=${CLANG_TIDY:-$(command -v clang-tidy-14 || command -v clang-tidy || true)}
[[ -n $tidy ]] || { echo "tidy.sh: clang-tidy not found" >&2; exit 2; }

# The compile database comes from CMake; refresh it so new sources are listed.
if [[ -f $build/CMakeCache.txt ]]; then
  cmake "$build" >/dev/null
else
  cmake -S "$root" -B "$build" -G Ninja -DHYDRA_BUILD_TESTS=OFF -DHYDRA_BUILD_BENCH=OFF \
    -DHYDRA_BUILD_EXAMPLES=OFF >/dev/null
fi
db=$build/compile_commands.json

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# clang < 15 lacks __builtin_source_location, so libstdc++'s <source_location>
# declares nothing and every file using hydra's logging API fails to parse.
# Give such a clang-tidy an equivalent header built on the older builtins.
shim_arg=""
version=$("$tidy" --version | sed -n 's/.*LLVM version \([0-9]*\).*/\1/p')
if [[ -n $version && $version -lt 15 ]]; then
  mkdir "$out/shim"
  cat >"$out/shim/source_location" <<'EOF'
#pragma once
#include <cstdint>
namespace std {
struct source_location {
  static constexpr source_location current(const char* file = __builtin_FILE(),
                                           const char* func = __builtin_FUNCTION(),
                                           uint_least32_t line = __builtin_LINE(),
                                           uint_least32_t col = __builtin_COLUMN()) noexcept {
    source_location loc;
    loc.file_ = file;
    loc.func_ = func;
    loc.line_ = line;
    loc.col_ = col;
    return loc;
  }
  constexpr source_location() noexcept = default;
  constexpr uint_least32_t line() const noexcept { return line_; }
  constexpr uint_least32_t column() const noexcept { return col_; }
  constexpr const char* file_name() const noexcept { return file_; }
  constexpr const char* function_name() const noexcept { return func_; }

 private:
  const char* file_ = "";
  const char* func_ = "";
  uint_least32_t line_ = 0;
  uint_least32_t col_ = 0;
};
}  // namespace std
EOF
  shim_arg="--extra-arg-before=-isystem$out/shim"
fi

mapfile -t files < <(cd "$root" && find src tools -name '*.cpp' | sort)
missing=0
for f in "${files[@]}"; do
  if ! grep -qF "\"file\": \"$root/$f\"" "$db"; then
    echo "tidy.sh: $f is not in $db (not built by CMake?)" >&2
    missing=1
  fi
done

# One log per source; a non-zero clang-tidy exit (e.g. a parse error) is a finding too.
tidy_one() {
  local log
  log=$out/$(printf '%s' "$1" | tr / _).log
  "$tidy" -p "$build" --quiet ${shim_arg:+"$shim_arg"} "$root/$1" >"$log" 2>&1 ||
    echo "$root/$1: error: clang-tidy exited with status $? [tidy.sh]" >>"$log"
}
export -f tidy_one
export tidy build out root shim_arg
# shellcheck disable=SC2016  # $1 is expanded by the inner bash
printf '%s\n' "${files[@]}" | xargs -P "$jobs" -I{} bash -c 'tidy_one "$1"' _ {}

findings=$(cat "$out"/*.log | sed 's/\x1b\[[0-9;]*m//g' | grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error): |: error: clang-tidy exited' | sort -u || true)
if [[ -n $findings || $missing -ne 0 ]]; then
  [[ -n $findings ]] && printf '%s\n' "$findings"
  echo "tidy.sh: $(printf '%s' "$findings" | grep -c . || true) finding(s) in ${#files[@]} files" >&2
  exit 1
fi
echo "tidy.sh: clean (${#files[@]} files)"
