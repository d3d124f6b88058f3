#!/usr/bin/env bash
# Quick start, part 1: install what is needed, build, run the demo.
# It builds only the hydra command, in a build dir of its own (build-demo), so
# that its Release, tests-off configuration never becomes what build/ holds
# for scripts/test.sh or a developer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build-demo -G Ninja -DCMAKE_BUILD_TYPE=Release -DHYDRA_BUILD_TOOLS=ON \
  -DHYDRA_BUILD_TESTS=OFF -DHYDRA_BUILD_BENCH=OFF -DHYDRA_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build-demo --target hydra_cli
exec build-demo/tools/hydra demo "$@"
