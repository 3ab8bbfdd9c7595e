#!/bin/bash
# knee simulate / sweep: JSON keys, exit 3 when memory does not fit, exit 2 naming the key on bad input.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

out=$("$knee" simulate "$src/examples/scenarios/gpt3-175b-1024.json" --json) || fail "simulate exit $?"
for k in step_time_s tokens_per_s model_flops_per_step tflops_per_gpu mfu memory_per_gpu_bytes comm_to_compute \
         compute_s exposed_comm_s bubble_s optimizer_s exposed_comm_by_group_s fits per_gpu_bytes capacity_bytes worst_stage; do
  grep -q "\"$k\"" <<<"$out" || fail "missing key $k"
done

# 175B on one GPU does not fit: report, exit 3.
cat > "$tmp/big.json" <<'J'
{"system": "dgx-h100", "gpus": 1,
 "model": {"layers": 96, "hidden": 12288, "heads": 96, "seq_len": 2048, "vocab": 51200},
 "parallelism": {"global_batch": 8}}
J
"$knee" simulate "$tmp/big.json" > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 3 ] || fail "does-not-fit exit $rc, expected 3"
grep -q "DOES NOT FIT" "$tmp/out" || fail "no memory report"

# Inconsistent layout: exit 2 with the key named.
cat > "$tmp/bad.json" <<'J'
{"system": "dgx-h100", "nodes": 2,
 "model": {"layers": 8, "hidden": 1024, "heads": 16, "seq_len": 1024, "vocab": 0},
 "parallelism": {"tp": 8, "pp": 2, "dp": 2, "global_batch": 8}}
J
"$knee" simulate "$tmp/bad.json" 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "bad layout exit $rc, expected 2"
grep -q '\$.parallelism' "$tmp/err" || fail "error does not name the key: $(cat $tmp/err)"
[ $(wc -l < "$tmp/err") -eq 1 ] || fail "error is not one line"

# Energy always (the profile has a power model); cost and a whole run when the scenario prices them.
grep -q '"facility_J_per_token"' <<<"$out" || fail "no energy in the JSON"
/usr/bin/python3 - "$src/examples/scenarios/gpt3-175b-1024.json" "$tmp/priced.json" <<'P'
import json, sys
j = json.load(open(sys.argv[1]))
j["cost"] = {"usd_per_gpu_hour": 2.5, "train_tokens": 3e11}
json.dump(j, open(sys.argv[2], "w"))
P
"$knee" simulate "$tmp/priced.json" > "$tmp/out" || fail "priced simulate exit $?"
grep -q '^energy .*W per GPU on average (power model: derived)' "$tmp/out" || fail "no energy line: $(cat $tmp/out)"
grep -q '^cost .*per million tokens (at the scenario.s \$2.5 per GPU-hour)' "$tmp/out" || fail "no cost line: $(cat $tmp/out)"
grep -q '^run  *300B tokens: [0-9,]* steps, .*, \$[0-9,]*' "$tmp/out" || fail "no run line: $(cat $tmp/out)"
sed 's/"usd_per_gpu_hour": 2.5/"usd_per_gpu_hour": -1/' "$tmp/priced.json" > "$tmp/badcost.json"
"$knee" simulate "$tmp/badcost.json" 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "negative price exit $rc, expected 2"
grep -q '\$.cost.usd_per_gpu_hour' "$tmp/err" || fail "error does not name the price: $(cat $tmp/err)"

# Stragglers: the line names the slowest GPU and the seed; JSON has the nominal step beside.
sed 's/"cost": {[^}]*}/"stragglers": {"gpu_cv": 0.02}, "seed": 3/' "$tmp/priced.json" > "$tmp/strag.json"
"$knee" simulate "$tmp/strag.json" > "$tmp/out" || fail "straggler simulate exit $?"
grep -q '^stragglers .*with every GPU as the profile: slowest GPU [0-9]* (x1\.[0-9]*).*seed 3; 16 replicas simulated' "$tmp/out" ||
  fail "no straggler line: $(cat $tmp/out)"
"$knee" simulate --json "$tmp/strag.json" | grep -q '"nominal_step_time_s"' || fail "no stragglers in the JSON"

# Sweep: table with the baseline, CSV header, an infeasible point kept.
"$knee" sweep "$src/examples/scenarios/gpt3-175b-1024.json" --gpus 512,1000,1024 --mode weak --csv > "$tmp/csv" || fail "sweep exit $?"
head -1 "$tmp/csv" | grep -q '^gpus,tp,pp,dp' || fail "csv header"
grep -q '^1000,.*divisible' "$tmp/csv" || fail "infeasible point not marked"
"$knee" sweep "$src/examples/scenarios/gpt3-175b-1024.json" --gpus 512,1024 --mode sideways 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "bad mode exit $rc"
echo OK
