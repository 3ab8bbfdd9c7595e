#!/bin/bash
# knee analyze: the shipped example (synthetic strong-scaling runs) prints its table and exits 0;
# --json agrees with the generating law and is bit-identical run to run; bad input exits 2 with
# one line naming the file, the row and the field.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ex="$src/examples/runs/synthetic-strong.csv"
"$knee" analyze "$ex" > "$tmp/out" 2> "$tmp/err" || fail "analyze exit $?: $(cat $tmp/err)"
head -1 "$tmp/out" | grep -q "^# knee analyze .*synthetic-strong.csv: step_time_s at 4 GPU counts; strong scaling (the same global batch (512) at every count); baseline 8 GPUs$" ||
  fail "no header: $(head -1 $tmp/out)"
grep -q "2000 resamples per count, seed 1; warm-up: MSER-5" "$tmp/out" || fail "methods not stated"
grep -q '^gpus  *runs  *iters  *warmup  *kept  *mean step_time_s' "$tmp/out" || fail "no table header"
grep -q '^# 16 GPUs: outliers at iteration a:73$' "$tmp/out" || fail "planted spike at 16 GPUs not flagged: $(cat $tmp/out)"
grep -q '^# 64 GPUs: outliers at iterations .*b:71' "$tmp/out" || fail "planted spike at 64 GPUs not flagged"
grep -q '^amdahl  *yes  *s 0\.0' "$tmp/out" || fail "no Amdahl row"
grep -q '^# note: the baseline is 8 GPUs, not 1' "$tmp/out" || fail "multi-GPU baseline not said"

"$knee" analyze "$ex" --json > "$tmp/j1" || fail "--json exit $?"
"$knee" analyze "$ex" --json > "$tmp/j2" || fail "--json exit $?"
cmp -s "$tmp/j1" "$tmp/j2" || fail "two runs differ"
/usr/bin/python3 - "$tmp/j1" <<'P' || fail "json does not match the generating law"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["mode"] == "strong" and j["baseline_gpus"] == 8 and j["baseline_is_one_gpu"] is False
c = {r["gpus"]: r for r in j["counts"]}
# The file was generated from T(N) = 0.35 + 12 / N with 8 slow warm-up iterations per run.
for n, r in c.items():
    t = 0.35 + 12 / n
    assert abs(r["mean"] - t) / t < 0.01, (n, r["mean"], t)
    assert r["mean_lo"] <= r["mean"] <= r["mean_hi"]
    assert all(w >= 5 for w in r["warmup_by_run"]), r["warmup_by_run"]
want = (0.35 + 12 / 8) / (0.35 + 12 / 64)
assert abs(c[64]["speedup"] - want) / want < 0.015, (c[64]["speedup"], want)
am = [f for f in j["fits"] if f["law"] == "amdahl"][0]
s = 0.35 / 12.35
assert abs(am["serial_fraction"] - s) < 0.005, am
assert [p["gpus"] for p in j["predictions"] if p["law"] == "usl"] == [128, 256, 512]
P

# --baseline 16: speedup 1 there.
"$knee" analyze "$ex" --baseline 16 --json > "$tmp/b" || fail "--baseline exit $?"
/usr/bin/python3 -c "import json,sys; j=json.load(open(sys.argv[1])); assert j['baseline_gpus']==16; assert [r['speedup'] for r in j['counts'] if r['gpus']==16]==[1.0]" "$tmp/b" ||
  fail "--baseline 16 not used"

# Bad input: exit 2, one line, naming what is wrong.
expect_bad() {  # FILE-CONTENT PATTERN [FLAGS...]
  printf '%b' "$1" > "$tmp/bad.csv"
  shift; pat=$1; shift
  "$knee" analyze "$tmp/bad.csv" "$@" > /dev/null 2> "$tmp/err"; rc=$?
  [ $rc -eq 2 ] || fail "exit $rc, expected 2 for $pat: $(cat $tmp/err)"
  [ $(wc -l < "$tmp/err") -eq 1 ] || fail "error is not one line: $(cat $tmp/err)"
  grep -q -- "$pat" "$tmp/err" || fail "error does not say '$pat': $(cat $tmp/err)"
}
expect_bad 'gpus,iteration\n8,1\n' 'bad.csv: header: expected a column step_time_s'
expect_bad 'gpus,step_time_s\n8,1.0\n8,fast\n' "bad.csv: row 2 (line 3), step_time_s: expected a positive number, got 'fast'"
expect_bad 'gpus,step_time_s\n8,1.0\n8,0\n' 'row 2 (line 3), step_time_s: expected a positive number'
expect_bad 'gpus,step_time_s\n8,1.0\n16,0.5\n16,0.6\n' 'gpus 8: expected at least 2 measurements'
expect_bad 'gpus,step_time_s,tflops\n8,1.0,3\n8,1.1,3\n' "column 'tflops'" --strict
expect_bad 'gpus,step_time_s\n8,1.0\n8,1.1\n' 'baseline: expected one of the measured GPU counts (8), got 4' --baseline 4
expect_bad 'gpus,step_time_s\n8,1.0\n8,1.1\n' 'precision: expected a share in (0, 1)' --precision 5
printf '{"runs": [{"gpus": 8, "step_time": [1.0, 1.1]}]}' > "$tmp/bad.json"
"$knee" analyze "$tmp/bad.json" > /dev/null 2> "$tmp/err"; [ $? -eq 2 ] || fail "bad JSON key: expected exit 2"
grep -q 'bad.json' "$tmp/err" || fail "JSON error does not name the file: $(cat $tmp/err)"
"$knee" analyze "$tmp/nope.csv" > /dev/null 2> "$tmp/err"; [ $? -eq 2 ] || fail "missing file: expected exit 2"
grep -q 'nope.csv' "$tmp/err" || fail "missing file not named"
echo PASS

# --scenario: the simulated curve beside the measured one; --samples needs it.
printf '%s\n' '{"system": "dgx-h100", "nodes": 2, "gpus": 16, "model": {"layers": 8, "hidden": 2048, "heads": 16, "seq_len": 2048, "vocab": 32000}, "parallelism": {"tp": 2, "pp": 4, "dp": 2, "micro_batch": 1, "global_batch": 16}}' >"$tmp/s.json"
"$knee" analyze "$ex" --scenario "$tmp/s.json" --samples 3 >"$tmp/sim.txt" || fail "--scenario exit $?"
grep -q '^# simulated by knee (.*s.json, strong scaling, baseline 8 GPUs; intervals over 3 profile draws' "$tmp/sim.txt" ||
  fail "no simulated section: $(tail -5 "$tmp/sim.txt")"
"$knee" analyze "$ex" --scenario "$tmp/s.json" --samples 3 --json | /usr/bin/python3 -c "import json,sys; j=json.load(sys.stdin); assert j['simulated']['points'][0]['gpus']==8" ||
  fail "no simulated points in --json"
"$knee" analyze "$ex" --json | /usr/bin/python3 -c "import json,sys; assert json.load(sys.stdin)['simulated'] is None" || fail "simulated without --scenario"
expect2 "--samples: expected --scenario S.json with it" "$knee" analyze "$ex" --samples 3
expect2 "nowhere.json" "$knee" analyze "$ex" --scenario "$tmp/nowhere.json"
