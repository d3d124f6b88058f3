#!/usr/bin/env bash
# Installs the Debian 12 packages Hydra-Logger builds and tests with.
# Safe to run again: apt-get skips what is already there.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config
  libfmt-dev libzstd-dev zstd
  libgtest-dev libgmock-dev nlohmann-json3-dev
  libspdlog-dev python3 gnuplot-nox
  rsyslog rsyslog-gnutls
  libre2-dev libssl-dev openssl libcurl4-openssl-dev
  libtomlplusplus-dev libyaml-cpp-dev
  zlib1g-dev protobuf-compiler python3-zstandard
  libnats-dev nats-server
  libboost-dev python3-websockets python3-pytest
  chromium
  pybind11-dev python3-dev python3-django python3-flask python3-fastapi python3-starlette
  python3-httpx python3-uvicorn python3-celery python3-redis redis-server python3-structlog
  python3-loguru
)
# Node.js and npm build the dashboard and the TypeScript SDK; the machine's
# own (a newer Node.js with its npm) is used where there is one.
if ! command -v npm > /dev/null; then packages+=(nodejs npm); fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  echo "installing: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
