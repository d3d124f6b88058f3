#!/usr/bin/env bash
# Installs the build tree into a fresh prefix, then configures, builds and runs
# an outside project that uses find_package(hydra CONFIG REQUIRED).
set -euo pipefail
build_dir=$1 work=$2 consumer=$3 sanitize=${4:-}
rm -rf "$work"
cmake --install "$build_dir" --prefix "$work/prefix"
test -f "$work/prefix/include/hydra/hydra.hpp"
test -x "$work/prefix/bin/hydra"
flags=()
# A sanitizer build's library needs the same runtime in the program it links into.
[ -n "$sanitize" ] && flags=(-DCMAKE_CXX_FLAGS="-fsanitize=$sanitize")
cmake -S "$consumer" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" "${flags[@]}"
cmake --build "$work/build"
out=$("$work/build/consumer")
echo "$out"
grep -q 'consumer says hello name=installed' <<<"$out"
"$work/prefix/bin/hydra" version
