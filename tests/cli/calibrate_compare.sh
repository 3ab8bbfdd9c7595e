#!/usr/bin/env bash
# scripts/compare-profiles.py on the shared H200 data: the second run against the shipped h200
# profile (whose run_to_run came from that same run) flags nothing, by construction; perturbed
# copies of it are flagged exactly where they go beyond the recorded variation; bad input exits 2.
# Also checks that scripts/device-calibrate.sh parses and refuses a missing bundle binary.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cmp=$src/scripts/compare-profiles.py
ref=$src/profile/shipped/h200.json
"$knee" fit "$src/calibrate/data/h200-2026-11-27/run2/micro.json" --name h200 --out "$tmp/r2.json" || fail "fit run2 exited $?"

"$py" "$cmp" "$tmp/r2.json" "$ref" --strict >"$tmp/same.txt" || fail "run2 vs h200 flagged: $(grep FLAG "$tmp/same.txt")"
grep -q "summary: 1[0-9][0-9] quantities compared, 0 flagged" "$tmp/same.txt" || fail "unexpected summary: $(tail -1 "$tmp/same.txt")"
for q in "gemm bf16 8192x8192x8192" "device copy bandwidth" "host_pinned_h2d bandwidth" \
         "host_pinned_h2d latency alpha" "launch host_launch_s" "gemm bf16 2048x6144x2048"; do
  grep -q "^$q " "$tmp/same.txt" || fail "quantity '$q' not compared"
done

# Perturb run 2: copy bandwidth -10% (run-to-run 0.7%), bf16 8192^3 +10% (0.1%) are flagged;
# pinned h2d latency x0.75 (8.3 us vs 5.6) stays inside its 98% run-to-run difference.
"$py" - "$tmp/r2.json" "$tmp/bad.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["memory"]["copy"]["bandwidth_Bps"]["value"] *= 0.9
for s in p["compute"]["gemm"]["bf16"]["samples"]:
    if (s["m"], s["n"], s["k"]) == (8192, 8192, 8192):
        s["median_s"] *= 1.1
p["links"]["host_pinned_h2d"]["alpha_s"]["value"] *= 0.75
json.dump(p, open(sys.argv[2], "w"))
PY
"$py" "$cmp" "$tmp/bad.json" "$ref" --strict >"$tmp/bad.txt"
[ $? -eq 1 ] || fail "--strict with flags: expected exit 1"
grep -q "summary: .* 2 flagged beyond the run-to-run variation: gemm bf16 8192x8192x8192, device copy bandwidth" "$tmp/bad.txt" ||
  fail "expected exactly the GEMM and copy flags: $(tail -1 "$tmp/bad.txt")"
grep "^host_pinned_h2d latency alpha" "$tmp/bad.txt" | grep -q FLAG && fail "latency within run-to-run was flagged"
"$py" "$cmp" "$tmp/bad.json" "$ref" >/dev/null || fail "without --strict: expected exit 0"

# Memory-bound ops: the same kernels are flagged like any quantity (dropout_add +60%); a profile
# whose ops are knee's own CUDA kernels is compared with PyTorch's but not flagged, with a note on
# the fused dropout_add.
"$py" - "$tmp/r2.json" "$tmp/ops.json" "$tmp/knee-ops.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["memory"]["ops"]["dropout_add"]["bandwidth_Bps"]["value"] *= 1.6
json.dump(p, open(sys.argv[2], "w"))
p["manifest"]["measurement"] = "knee-calibrate-cuda: CUDA events around each repetition"
json.dump(p, open(sys.argv[3], "w"))
PY
"$py" "$cmp" "$tmp/ops.json" "$ref" --strict >"$tmp/ops.txt" && fail "dropout_add +60% with the same kernels not flagged"
grep -q "summary: .* 1 flagged beyond the run-to-run variation: memory op dropout_add bandwidth$" "$tmp/ops.txt" ||
  fail "expected the dropout_add flag alone: $(tail -1 "$tmp/ops.txt")"
"$py" "$cmp" "$tmp/knee-ops.json" "$ref" --strict >"$tmp/knee-ops.txt" || fail "knee's kernels flagged: $(tail -1 "$tmp/knee-ops.txt")"
grep -q "0 flagged beyond the run-to-run variation; 5 memory ops ran other kernels, not flagged" "$tmp/knee-ops.txt" ||
  fail "unexpected summary: $(tail -1 "$tmp/knee-ops.txt")"
grep -q "^note: dropout_add: knee's is one fused kernel" "$tmp/knee-ops.txt" || fail "no dropout_add note"
grep "^memory op dropout_add bandwidth" "$tmp/knee-ops.txt" | grep -q "(other kernels)" || fail "dropout_add row not marked"

echo '{' >"$tmp/trunc.json"
"$py" "$cmp" "$tmp/trunc.json" "$ref" 2>"$tmp/err" && fail "truncated JSON accepted"
grep -q "trunc.json: expected a readable profile JSON" "$tmp/err" || fail "no error line: $(cat "$tmp/err")"

bash -n "$src/scripts/device-calibrate.sh" || fail "device-calibrate.sh does not parse"
"$src/scripts/device-calibrate.sh" --bundle "$tmp/bundle" "$tmp/nobuild" 2>"$tmp/err" && fail "bundle without binaries succeeded"
grep -q "expected a built binary" "$tmp/err" || fail "bundle error: $(cat "$tmp/err")"
echo ok
