#!/usr/bin/env bash
# `pip install .` (pyproject.toml, setup.py) from the checkout, with Debian's packages only: builds
# the module from a clean CMake tree in a temporary folder (it compiles the C++ libraries: minutes
# on 2 cores, or seconds where ccache holds the main build's objects: CMakeLists.txt, KNEE_CCACHE),
# installs it with --target, then again with --prefix (reusing that CMake tree), and
# checks that the installed knee is the one imported and computes what the build tree's does.
# usage: install_test.sh PYTHON SOURCE_DIR BUILD_TREE_PYTHONPATH
# Skipped (exit 77) only when PYTHON has no pip: apt-get install python3-pip (install-deps.sh --test).
set -euo pipefail
py=$1 src=$2 built=$3
if ! "$py" -m pip --version >/dev/null 2>&1; then
  echo "SKIPPED: $py has no pip; apt-get install python3-pip python3-setuptools python3-wheel" >&2
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export KNEE_PY_BUILD_DIR=$tmp/build   # setup.py: CMake and setuptools build here, not in the checkout
export PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INDEX=1 PIP_ROOT_USER_ACTION=ignore

pip_install() {  # pip_install WHERE-FLAGS...: quiet unless it fails
  if ! (cd "$src" && "$py" -m pip install --no-build-isolation "$@" .) >"$tmp/pip.log" 2>&1; then
    tail -n 60 "$tmp/pip.log" >&2
    echo "FAIL: pip install $* . (the end of its log above)" >&2
    exit 1
  fi
}

# What the build tree's module gives (PYTHONPATH=build/python), as JSON.
probe='
import json, sys, knee
c = knee.collective(op="allreduce", bytes="256MiB", system="dgx-h100", nodes=2)
r = knee.simulate(sys.argv[1])
print(json.dumps({"file": knee.__file__, "ext": knee._knee.__file__, "version": knee.__version__,
                  "collective": c.to_dict(), "step_time_s": r.step_time_s, "mfu": r.mfu}))
'
scenario=$src/examples/scenarios/gpt3-175b-1024.json
(cd "$tmp" && env PYTHONPATH="$built" "$py" -c "$probe" "$scenario") >"$tmp/ref.json"

check() {  # check SITE-DIR: knee imported from SITE-DIR gives the build tree's numbers
  local site=$1
  (cd "$tmp" && env PYTHONPATH="$site" "$py" -c "$probe" "$scenario") >"$tmp/got.json"
  "$py" - "$tmp/ref.json" "$tmp/got.json" "$site" <<'EOF'
import json, os, sys
ref, got, site = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), os.path.realpath(sys.argv[3])
for key in ("file", "ext"):
    path = os.path.realpath(got[key])
    assert path.startswith(site + os.sep), f"knee imported from {path}, not from the install in {site}"
assert os.path.basename(got["ext"]).startswith("_knee"), got["ext"]
for key in ("version", "collective", "step_time_s", "mfu"):
    assert got[key] == ref[key], f"{key}: installed module gives {got[key]!r}, the build tree's {ref[key]!r}"
assert ref["collective"]["time_s"] > 0 and ref["step_time_s"] > 0, ref
print(f"ok: {got['file']} (knee {got['version']}): allreduce {got['collective']['time_s']:.6g} s, "
      f"step {got['step_time_s']:.6g} s, as the build tree's module")
EOF
}

start=$SECONDS
pip_install --target "$tmp/target"
echo "pip install --target: $((SECONDS - start)) s (clean CMake tree)"
check "$tmp/target"

# --prefix: where the module lands depends on the interpreter's install scheme (Debian's adds
# local/, dist-packages); ask the installed files, then check as above.
start=$SECONDS
pip_install --prefix "$tmp/prefix"
echo "pip install --prefix: $((SECONDS - start)) s (CMake tree reused)"
init=$(find "$tmp/prefix" -path '*/knee/__init__.py' | head -n 1)
[ -n "$init" ] || { echo "FAIL: no knee/__init__.py under $tmp/prefix" >&2; exit 1; }
check "$(dirname "$(dirname "$init")")"
