#!/usr/bin/env bash
# The CUDA calibration in one go, for a session that has a GPU machine (see docs/calibration.md).
#
# Here (no GPU needed), after building knee and knee-calibrate-cuda:
#     scripts/device-calibrate.sh --bundle build-device [BUILD_DIR]
# copies the two binaries and the non-CUDA shared libraries they need that a CUDA image may lack
# (Open MPI, hwloc, libevent) into build-device/ (a few MB; ignored by git, so name it in `carry`).
# On the GPU machine (builds nothing):
#     scripts/device-calibrate.sh build-device [OUT_DIR]          (OUT_DIR defaults to $OUT)
# runs `knee calibrate --backend cuda` (full, under a timeout; QUICK=1 for --quick), refits the raw
# file with `knee fit`, and compares the result with the shipped reference profile
# (scripts/compare-profiles.py). Writes profile-<gpu>.json, raw-<gpu>.json, calibrate-<gpu>.log,
# refit-<gpu>.json, compare-<gpu>.txt and interference-<gpu>.txt (the fitted costs of communication
# beside compute, $.interference, per side-CTA count) into OUT_DIR. Exit status: that of the first
# failing step.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)

if [ "${1:-}" = "--bundle" ]; then
  dest=${2:?usage: device-calibrate.sh --bundle DEST [BUILD_DIR]}
  build=${3:-$here/build}
  for b in knee knee-calibrate-cuda; do
    [ -x "$build/$b" ] || { echo "device-calibrate: $build/$b: expected a built binary, got none" >&2; exit 2; }
  done
  mkdir -p "$dest/lib"
  cp "$build/knee" "$build/knee-calibrate-cuda" "$dest/"
  # Libraries outside CUDA, libc and libstdc++: the ones a CUDA image is not known to have.
  ldd "$build/knee-calibrate-cuda" | awk '/=> \// {print $3}' |
    grep -E 'libmpi|libopen-(rte|pal)|libhwloc|libevent|libudev|libz\.' | while read -r lib; do
      cp -L "$lib" "$dest/lib/"
    done
  du -sh "$dest" | awk '{print "device-calibrate: bundle " $2 " (" $1 "), carry it with the run"}'
  exit 0
fi

bundle=$(cd "${1:?usage: device-calibrate.sh BUNDLE_DIR [OUT_DIR] | --bundle DEST [BUILD_DIR]}" && pwd)
out=${2:-${OUT:?device-calibrate: expected OUT_DIR or \$OUT, got neither}}
mkdir -p "$out"

# CUDA libraries: the toolkit's, else the pip wheels of the image's Python (nvidia-nccl-cu13, ...).
libs="$bundle/lib"
for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib; do
  [ -d "$d" ] && libs="$libs:$d"
done
py=$(command -v python3 || true)
if [ -n "$py" ]; then
  for m in nccl cublas cuda_runtime; do
    d=$("$py" -c "import os, nvidia.$m as x; print(os.path.join(list(x.__path__)[0], 'lib'))" 2>/dev/null) && libs="$libs:$d"
  done
fi
export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
missing=$(ldd "$bundle/knee-calibrate-cuda" "$bundle/knee" | grep "not found")
if [ -n "$missing" ]; then
  echo "device-calibrate: missing shared libraries:" >&2
  echo "$missing" >&2
  exit 3
fi

name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
case "$name" in
  *H200*) gpu=h200 ;; *H100*) gpu=h100 ;; *A100*) gpu=a100 ;; *B200*) gpu=b200 ;; *) gpu=gpu ;;
esac
echo "device-calibrate: GPU '$name' -> $gpu; outputs in $out"
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.max.memory,power.limit --format=csv 2>&1 | tail -1

quick=""
limit=170  # the full run is designed for <= 2 minutes; the timeout leaves a margin
if [ "${QUICK:-0}" = 1 ]; then quick="--quick"; limit=60; fi
start=$(date +%s)
timeout "$limit" "$bundle/knee" calibrate --backend cuda $quick --name "$gpu" \
  --out "$out/profile-$gpu.json" --raw "$out/raw-$gpu.json" 2> >(tee "$out/calibrate-$gpu.log" >&2)
rc=$?
echo "device-calibrate: knee calibrate exited $rc after $(( $(date +%s) - start )) s"
[ $rc -eq 0 ] || exit $rc

"$bundle/knee" fit "$out/raw-$gpu.json" --name "$gpu" --out "$out/refit-$gpu.json" || exit $?
cmp -s "$out/profile-$gpu.json" "$out/refit-$gpu.json" ||
  echo "device-calibrate: note: the refit differs from the calibrate output (command line and date differ)"

ref=$here/profile/shipped/$gpu.json
[ -f "$ref" ] || ref=$here/profile/shipped/h200.json
pyc=/usr/bin/python3
[ -x "$pyc" ] || pyc=python3
"$pyc" "$here/scripts/compare-profiles.py" "$out/profile-$gpu.json" "$ref" | tee "$out/compare-$gpu.txt"
if [ "$ref" != "$here/profile/shipped/h200.json" ]; then  # a derived reference: also the measured H200
  "$pyc" "$here/scripts/compare-profiles.py" "$out/profile-$gpu.json" "$here/profile/shipped/h200.json" |
    tail -1 | sed 's/^/vs h200: /' | tee -a "$out/compare-$gpu.txt"
fi

# Communication beside compute (knee-calibrate-cuda's "interference" section, part of the run
# above): the fitted held_sm_cost and hbm_share_cost, each case, or why the section is missing.
"$pyc" - "$out/profile-$gpu.json" "$out/raw-$gpu.json" <<'EOF' | tee "$out/interference-$gpu.txt"
import json, sys
prof, raw = (json.load(open(f)) for f in sys.argv[1:3])
inf = prof.get("interference")
if not inf:
    why = [e for e in raw.get("manifest", {}).get("errors", []) if e.startswith("interference")]
    print("interference: not measured (" + ("; ".join(why) or "no interference section in the raw file") + ")")
    sys.exit(0)
print("interference: %d SMs" % inf["sm_count"])
print("  k  SMs  gemm x  copy x  side alone GB/s  beside gemm  beside copy      a      b")
for s in inf["samples"]:
    print("%3d  %3d  %6.3f  %6.3f  %15.0f  %11.0f  %11.0f  %5.3f  %5.3f" % (
        s["side_ctas"], s["distinct_sms"], s["gemm_beside_s"] / s["gemm_alone_s"],
        s["copy_beside_s"] / s["copy_alone_s"], s["side_alone_Bps"] / 1e9, s["side_beside_gemm_Bps"] / 1e9,
        s["side_beside_copy_Bps"] / 1e9, s["held_sm_cost"], s["hbm_share_cost"]))
for k in ("held_sm_cost", "hbm_share_cost"):
    q = inf[k]
    print("%s = %.3f (95%%: %.3f to %.3f, %s)" % (k, q["value"], q["ci95"][0], q["ci95"][1], q["provenance"]))
EOF
