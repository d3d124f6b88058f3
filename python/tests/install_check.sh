#!/usr/bin/env bash
# The package's two installs, from a build tree configured with
# HYDRA_BUILD_PYTHON=ON (docs/python.md, "Building and installing"):
#   1. cmake --install of the `python` component into a fresh prefix;
#   2. pip install --no-build-isolation of python/ (a copy of it, so the
#      source tree gets no build files), reusing the build tree through
#      HYDRA_CMAKE_BUILD_DIR.
# Each install is imported from a clean directory by the given Python, and
# logs a record through the native module to a file.
set -euo pipefail
build_dir=$1 work=$2 python=$3
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$work"
mkdir -p "$work"

check() {  # site directory, label
  local site=$1 label=$2
  (cd "$work" && PYTHONPATH="$site" "$python" - "$site" "$work/$label.log" <<'PY'
import sys, os
site, path = sys.argv[1], sys.argv[2]
import hydra_logger
assert hydra_logger.__file__.startswith(site), (hydra_logger.__file__, site)
from hydra_logger import _native
assert _native.__file__.startswith(site), _native.__file__
import hydra_logger.logging, hydra_logger.integrations
log = hydra_logger.HydraLogger({"layers": {"APP": {"level": "INFO", "destinations": [
    {"type": "file", "path": path, "format": "json-lines"}]}}})
log.info("installed", how=os.path.basename(path))
log.close()
text = open(path).read()
assert '"message":"installed"' in text, text
print("imported and logged from", site)
PY
  )
}

cmake --install "$build_dir" --prefix "$work/prefix" --component python
site=$(find "$work/prefix" -type d -name hydra_logger -path '*-packages/*' -printf '%h\n' | head -1)
test -n "$site" || { echo "cmake --install put no hydra_logger in a *-packages directory" >&2; exit 1; }
check "$site" cmake-install

cp -r "$source_dir/python" "$work/python-src"
rm -rf "$work/python-src/build" "$work/python-src"/*.egg-info
HYDRA_CMAKE_BUILD_DIR="$build_dir" "$python" -m pip install --quiet --no-build-isolation \
  --no-deps --no-index --disable-pip-version-check --target "$work/pip-site" "$work/python-src"
check "$work/pip-site" pip-install
