#!/usr/bin/env bash
# Installs the Debian packages knee needs, or says exactly what to run.
# Idempotent and quiet when everything is present. `--test` adds what only the tests use.
set -euo pipefail
pkgs=(cmake g++ make ccache libeigen3-dev libboost-graph-dev nlohmann-json3-dev zlib1g-dev libgtest-dev
      libbenchmark-dev pybind11-dev libopenmpi-dev openmpi-bin python3 python3-dev python3-numpy
      python3-pandas python3-matplotlib python3-nbclient python3-tqdm python3-distributed)
if [ "${1:-}" = "--test" ]; then
  # pytest and a Jupyter kernel for the Python tests and notebooks; Chromium renders the report;
  # pip, setuptools and wheel for the `pip install .` test (tests/python/install_test.sh).
  pkgs+=(clang-format python3-pytest python3-ipykernel python3-nbformat python3-jupyter-client chromium
         python3-pip python3-setuptools python3-wheel)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "knee: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "knee: missing packages; run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
