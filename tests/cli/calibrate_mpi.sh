#!/usr/bin/env bash
# knee calibrate --mpi: an MPI ping-pong between two ranks (knee-calibrate-mpi) fitted into the
# link class host_mpi with confidence intervals; rank 0 alone writes. Skips (exit 0, with a
# message) when mpirun or the MPI helper is missing.
set -u
knee=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
if ! command -v mpirun >/dev/null; then echo "SKIP: mpirun not found (install openmpi-bin)"; exit 0; fi
if [ ! -x "$(dirname "$knee")/knee-calibrate-mpi" ]; then echo "SKIP: knee was built without MPI"; exit 0; fi

# Outside mpirun: one line, exit 2.
"$knee" calibrate --backend cpu --mpi --quick >"$tmp/out" 2>"$tmp/err"
[ $? -eq 2 ] || fail "--mpi without mpirun: expected exit 2"
grep -q "expected to run under mpirun with at least 2 ranks" "$tmp/err" || fail "no error line: $(cat "$tmp/err")"

# We run as root in CI: Open MPI needs --allow-run-as-root; --oversubscribe for 2 ranks on 1-2 cores.
timeout 60 mpirun --allow-run-as-root --oversubscribe -np 2 \
  "$knee" calibrate --backend cpu --mpi --quick --out "$tmp/p.json" --raw "$tmp/raw.json" 2>"$tmp/log" ||
  fail "mpirun knee calibrate --mpi exited $?: $(tail -5 "$tmp/log")"
grep -q "knee-calibrate-mpi .* ping-pong 64MiB" "$tmp/log" || fail "no ping-pong progress up to 64 MiB"
/usr/bin/python3 - "$tmp/p.json" "$tmp/raw.json" <<'PY' || fail "profile check"
import json, sys
p = json.load(open(sys.argv[1])); raw = json.load(open(sys.argv[2]))
l = p["links"]["host_mpi"]
sizes = [c["bytes"] for c in raw["links"]["host_mpi"]]
assert sizes[0] == 8 and sizes[-1] == 64 << 20, sizes
assert all(len(c["times_s"]) >= 5 for c in raw["links"]["host_mpi"])
a, b = l["alpha_s"], l["bandwidth_Bps"]
assert 0 <= a["value"] < 1e-3, a                      # shared-memory MPI: well under a millisecond
assert 1e8 < b["value"] < 1e12, b                     # 0.1 GB/s .. 1 TB/s
assert b["ci95"][0] <= b["value"] <= b["ci95"][1], b  # the interval brackets the estimate
assert len(a["ci95"]) == 2
assert "same host" in l["note"] and p["manifest"]["extra"]["mpi"]["ranks"] == 2
assert "host_pipe" in p["links"] and p["compute"]["gemm"]["fp32"]  # the CPU backend ran too
PY
# Only rank 0 wrote, and the raw file fits again.
"$knee" fit "$tmp/raw.json" --out "$tmp/p2.json" || fail "refit exited $?"
grep -q '"host_mpi"' "$tmp/p2.json" || fail "refit lost host_mpi"
echo ok
