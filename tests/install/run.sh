#!/usr/bin/env bash
# Installs the build tree into a fresh prefix, then configures, builds and runs
# an outside project that uses find_package(hydra CONFIG REQUIRED). With
# plugin_check=ON it also builds the example plugin (examples/plugins) against
# the prefix, as a plugin's author would, and requires the installed
# `hydra plugin check` to pass it.
set -euo pipefail
build_dir=$1 work=$2 consumer=$3 sanitize=${4:-} plugin_check=${5:-OFF}
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
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

if [ "$plugin_check" = ON ]; then
  test -f "$work/prefix/include/hydra/plugin/sdk.hpp"
  cmake -S "$source_dir/examples/plugins" -B "$work/plugin" -G Ninja \
    -DCMAKE_PREFIX_PATH="$work/prefix" "${flags[@]}"
  cmake --build "$work/plugin"
  # The plugin needs nothing of Hydra's libraries: it links only the C and C++ runtimes.
  if ldd "$work/plugin/hydra-example.so" | grep -q libhydra; then
    echo "hydra-example.so links a Hydra library" >&2
    exit 1
  fi
  "$work/prefix/bin/hydra" plugin check "$work/plugin/hydra-example.so"
fi

if [ "$plugin_check" = ON ]; then
  # The project's own plugin index, as a publisher and a user work with it:
  # built over the plugins the project ships (the example, as built above),
  # signed with a throw-away key, then searched, installed, listed and
  # verified with the installed hydra.
  hydra="$work/prefix/bin/hydra"
  index_dir="$work/index"
  mkdir -p "$index_dir"
  cp "$work/plugin/hydra-example.so" "$index_dir/"
  openssl genpkey -algorithm ed25519 -out "$work/publisher.pem"
  openssl pkey -in "$work/publisher.pem" -pubout -out "$work/publisher.pub.pem"
  "$hydra" plugin index build --publisher hydra-logger "$index_dir"
  "$hydra" plugin index sign --key "$work/publisher.pem" "$index_dir/index.json"
  export XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config"
  "$hydra" plugin search --index "$index_dir/index.json" --key "$work/publisher.pub.pem" example |
    grep -q hydra-example
  # Without the publisher's key the index is not trusted.
  if "$hydra" plugin install --index "$index_dir/index.json" hydra-example 2>/dev/null; then
    echo "an index signed by an untrusted key was installed from" >&2
    exit 1
  fi
  "$hydra" plugin install --index "$index_dir/index.json" --key "$work/publisher.pub.pem" \
    hydra-example
  "$hydra" plugin list | grep -q hydra-example
  "$hydra" plugin verify hydra-example
  test -f "$XDG_DATA_HOME/hydra/plugins/hydra-example.so"
fi
