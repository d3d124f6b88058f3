#!/usr/bin/env bash
# Quick start, part 1: install what is needed, build, run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DHYDRA_BUILD_TESTS=OFF >/dev/null
cmake --build build --target hydra_cli
exec build/tools/hydra demo "$@"
