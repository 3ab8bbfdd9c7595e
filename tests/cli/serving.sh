#!/bin/bash
# knee simulate on serving scenarios: every shipped serving example runs, the summary has vllm bench
# serve's layout, --json the promised keys, the same seed the same output; bad input exits 2 naming
# the field.
. "$(dirname "$0")/lib.sh"

n=0
for f in "$src"/examples/scenarios/*serving*.json; do
  "$knee" simulate "$f" > "$tmp/out" || fail "simulate $f exit $?"
  for l in "============ Serving Benchmark Result ============" "Successful requests:" "Benchmark duration (s):" \
           "Total input tokens:" "Total generated tokens:" "Request throughput (req/s):" \
           "Output token throughput (tok/s):" "Total Token throughput (tok/s):" \
           "---------------Time to First Token----------------" "Mean TTFT (ms):" "Median TTFT (ms):" "P99 TTFT (ms):" \
           "-----Time per Output Token (excl. 1st token)------" "Mean TPOT (ms):" "Median TPOT (ms):" "P99 TPOT (ms):" \
           "---------------Inter-token Latency----------------" "Mean ITL (ms):" "Median ITL (ms):" "P99 ITL (ms):" \
           "# knee: simulated, not measured; profile h200" "# measurement window:"; do
    grep -qF -- "$l" "$tmp/out" || fail "$f: no '$l' in: $(cat "$tmp/out")"
  done
  n=$((n + 1))
done
[ $n -ge 3 ] || fail "expected three serving examples (two co-located, one disaggregated), found $n"
"$knee" simulate "$src/examples/scenarios/llama3-8b-disaggregated-serving.json" > "$tmp/out" || fail "disaggregated exit"
grep -q '^# disaggregated: 8 prefill and 8 decode replicas; KV cache transfer mean [0-9.]* ms' "$tmp/out" ||
  fail "no KV transfer line: $(cat "$tmp/out")"
# On-off arrivals at their long-run rate (80 x 4 / (4 + 4)) and the lengths fitted to the shipped trace.
"$knee" simulate "$src/examples/scenarios/llama3-8b-bursty-serving-dgx-h200.json" > "$tmp/out" || fail "bursty exit"
grep -q '^# dgx-h200, 8 replicas x tp 1, router least_outstanding_tokens, on_off arrivals at 40 req/s' "$tmp/out" ||
  fail "no on_off arrivals line: $(cat "$tmp/out")"
grep -q '^# lengths: prompt_tokens lognormal fitted by maximum likelihood to the log lengths of the 300 rows of .*serving-chat-lengths.csv: mean [0-9.]*, cv [0-9.]*' "$tmp/out" ||
  fail "no fitted lengths line: $(cat "$tmp/out")"

ex=$src/examples/scenarios/llama3-8b-serving-dgx-h200.json
"$knee" simulate "$ex" --json > "$tmp/a.json" || fail "--json exit $?"
$py - "$tmp/a.json" <<'P' || fail "JSON keys"
import json, sys
j = json.load(open(sys.argv[1]))
for k in ("ttft_s", "tpot_s", "itl_s", "e2e_s"):
    assert set(("mean", "p50", "p90", "p99", "p999")) <= set(j[k]), k
    assert j[k]["p50"] <= j[k]["p99"] <= j[k]["p999"], k
assert j["completed"] == 4000 and j["throughput_tokens_per_s"] > 0
assert j["goodput_rps"] > 0 and j["goodput"]["upper_rps"] > j["goodput"]["lower_rps"]
assert 0 < j["kv_cache"]["peak_fraction"] <= 1
P
"$knee" simulate "$ex" --json > "$tmp/b.json" || fail "second run exit $?"
diff <(grep -v simulated_wall_s "$tmp/a.json") <(grep -v simulated_wall_s "$tmp/b.json") > /dev/null ||
  fail "the same scenario and seed gave different JSON"

# Prefix caching with the prefix-aware router on the multi-turn example: the summary's hit-rate line.
"$knee" simulate "$src/examples/scenarios/llama3-8b-multiturn-serving-dgx-h200.json" > "$tmp/out" || fail "multiturn exit"
grep -q '^# prefix cache: hit rate [0-9.]* % ([0-9]* of [0-9]* prompt tokens cached' "$tmp/out" ||
  fail "no prefix cache line: $(cat "$tmp/out")"
grep -q 'router prefix_aware, trace arrivals' "$tmp/out" || fail "no prefix_aware router: $(cat "$tmp/out")"
"$knee" simulate "$ex" > "$tmp/out" || fail "simulate $ex"
! grep -q '^# prefix cache' "$tmp/out" || fail "a prefix cache line without prefix_caching"

# Fan-out behind the shared queue: the group latency block, the fan-out line and max_ongoing
# (only when present: the plain example has none of them).
! grep -qE 'Group E2EL|^# fan-out|max_ongoing' "$tmp/out" || fail "fan-out or max_ongoing lines without them"
$py - "$ex" "$tmp/fan.json" <<'P'
import json, sys
j = json.load(open(sys.argv[1]))
j["serving"]["arrivals"]["fanout"] = 4
j["serving"]["router"] = "shared_queue"
j["serving"]["max_ongoing"] = 32
j["serving"]["requests"] = 400
j["serving"]["goodput"] = {"runs": 0}
json.dump(j, open(sys.argv[2], "w"))
P
"$knee" simulate "$tmp/fan.json" > "$tmp/out" || fail "fan-out exit $?"
for l in "-------------Group End-to-end Latency-------------" "Mean Group E2EL (ms):" "Median Group E2EL (ms):" \
         "P99 Group E2EL (ms):" "router shared_queue (max_ongoing 32), poisson arrivals"; do
  grep -qF -- "$l" "$tmp/out" || fail "fan-out: no '$l' in: $(cat "$tmp/out")"
done
grep -q '^# fan-out: 100 groups of 4 calls at one instant, a group ending with its last call; group E2EL p90 [0-9.]* ms, p99.9 [0-9.]* ms$' "$tmp/out" ||
  fail "no fan-out line: $(cat "$tmp/out")"
"$knee" simulate "$tmp/fan.json" --json > "$tmp/fan-out.json" || fail "fan-out --json exit $?"
$py - "$tmp/fan-out.json" "$tmp/out" <<'P' || fail "fan-out summary against JSON"
import json, re, sys
j = json.load(open(sys.argv[1]))
out = open(sys.argv[2]).read()
mean = float(re.search(r"Mean Group E2EL \(ms\):\s+([0-9.]+)", out).group(1))
assert j["groups"]["count"] == 100 and abs(mean - 1e3 * j["groups"]["e2e_s"]["mean"]) <= 0.006, mean
assert j["groups"]["e2e_s"]["mean"] >= j["e2e_s"]["mean"]
P

# Swap preemption on a small cache: the summary's swap line; none without swap.
! grep -q '^# swap preemption' "$tmp/out" || fail "a swap line without serving.preemption swap"
$py - "$ex" "$tmp/swap.json" <<'P'
import json, sys
j = json.load(open(sys.argv[1]))
j["serving"].update({"replicas": 1, "preemption": "swap", "swap_space_GiB": 4, "requests": 200, "goodput": {"runs": 0}})
j["serving"]["kv_cache"]["num_blocks"] = 1000
j["serving"]["arrivals"]["rate_per_s"] = 10
json.dump(j, open(sys.argv[2], "w"))
P
"$knee" simulate "$tmp/swap.json" > "$tmp/out" || fail "swap exit $?"
grep -q '^# swap preemption: [1-9][0-9]* swap-outs ([0-9]* requests), [0-9]* swap-ins, [0-9.]* GiB out and [0-9.]* GiB in over the host links, [0-9.]* ms out and [0-9.]* ms in copying; 0 preemptions recomputed with the host swap space (2048 blocks) full$' "$tmp/out" ||
  fail "no swap line: $(cat "$tmp/out")"

# Bad input: one line naming file and field, exit 2.
edit() {  # edit OUT PYTHON-STATEMENTS-ON-j
  $py - "$ex" "$1" "$2" <<'P'
import json, sys
j = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(j, open(sys.argv[2], "w"))
P
}
edit "$tmp/rate.json" 'j["serving"]["arrivals"]["rate_per_s"] = -3'
expect2 "$tmp/rate.json: \$.serving.arrivals.rate_per_s: expected a finite number > 0" "$knee" simulate "$tmp/rate.json"
edit "$tmp/kv.json" 'j["serving"]["kv_cache"]["num_blocks"] = 100'
expect2 "$tmp/kv.json: \$.serving.kv_cache.num_blocks: expected a KV cache that holds the longest request" \
  "$knee" simulate "$tmp/kv.json"
edit "$tmp/pc.json" 'j["serving"]["prefix_caching"] = "yes"'
expect2 "$tmp/pc.json: \$.serving.prefix_caching: expected" "$knee" simulate "$tmp/pc.json"
edit "$tmp/router.json" 'j["serving"]["router"] = "cache_aware"'
expect2 "$tmp/router.json: \$.serving.router: expected" "$knee" simulate "$tmp/router.json"
edit "$tmp/swapp.json" 'j["serving"]["preemption"] = "swapp"'
expect2 "$tmp/swapp.json: \$.serving.preemption: expected" "$knee" simulate "$tmp/swapp.json"
edit "$tmp/pp.json" 'j["serving"]["pp"] = 2'
expect2 "\$.serving.pp: expected 1 (pipeline-parallel serving is not simulated yet)" "$knee" simulate "$tmp/pp.json"
edit "$tmp/key.json" 'j["serving"]["batching"]["max_num_seqs"] = 8'
expect2 "\$.serving.batching.max_num_seqs" "$knee" simulate "$tmp/key.json"
# Cost: the training scenario's keys; a bad one names its field (docs/serving.md, "Energy and cost").
edit "$tmp/cost.json" 'j["cost"] = {"usd_per_gpu_hour": -1}'
expect2 "$tmp/cost.json: \$.cost.usd_per_gpu_hour: expected" "$knee" simulate "$tmp/cost.json"
edit "$tmp/cost.json" 'j["cost"] = {"pue": 0.5}'
expect2 "$tmp/cost.json: \$.cost.pue: expected a power usage effectiveness between 1 and 10" \
  "$knee" simulate "$tmp/cost.json"
edit "$tmp/cost.json" 'j["cost"] = {"usd_per_kwh": 0.1}'
expect2 "$tmp/cost.json: \$.cost.usd_per_kwh" "$knee" simulate "$tmp/cost.json"
edit "$tmp/cost.json" 'j["cost"] = {"train_tokens": 1e9}'
expect2 "$tmp/cost.json: \$.cost.train_tokens: expected no train_tokens in a serving scenario" \
  "$knee" simulate "$tmp/cost.json"
edit "$tmp/cost.json" 'j["cost"] = {"usd_per_kWh": 0.1}; j["profile"] = "'"$tmp"'/nopower.json"'
$py -c "
import json, sys
p = json.load(open('$src/profile/shipped/h100.json')); p['power'] = {'note': 'not measured'}
json.dump(p, open('$tmp/nopower.json', 'w'))"
expect2 "$tmp/cost.json: \$.cost.usd_per_kWh: expected a profile with a power model" "$knee" simulate "$tmp/cost.json"
# Priced: energy and dollars per token in the summary and the JSON.
edit "$tmp/cost.json" 'j["cost"] = {"usd_per_gpu_hour": 2.5, "usd_per_kWh": 0.1, "pue": 1.2}; j["serving"]["goodput"] = {"runs": 0}'
"$knee" simulate "$tmp/cost.json" > "$tmp/out" || fail "priced run exit $?"
for l in "-----------------Energy and Cost-----------------" "Energy per output token (J):" \
         "Cost per million output tokens (\$):" "# power model: profile h200 (measured)"; do
  grep -qF -- "$l" "$tmp/out" || fail "priced run: no '$l' in: $(cat "$tmp/out")"
done
"$knee" simulate "$tmp/cost.json" --json > "$tmp/c.json" || fail "priced --json exit $?"
$py - "$tmp/c.json" <<'P' || fail "energy JSON"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["gpu_energy_J"] > 0 and 0 < j["gpu_active_share"] <= 1
assert abs(j["facility_energy_J"] - 1.2 * j["gpu_energy_J"]) <= 1e-9 * j["facility_energy_J"]
assert abs(j["J_per_output_token"] * j["total_output_tokens"] - j["facility_energy_J"]) <= 1e-9 * j["facility_energy_J"]
usd = 2.5 * j["gpus"] * j["duration_s"] / 3600 + 0.1 * j["facility_energy_J"] / 3.6e6
assert abs(j["usd"] - usd) <= 1e-9 * usd, (j["usd"], usd)
assert abs(j["usd_per_million_output_tokens"] - usd / j["total_output_tokens"] * 1e6) <= 1e-9 * j["usd"] * 1e6
P
printf 'arrival_s,prompt_tokens,output_tokens\n0,100,10\n2.5,100,10\n1.0,100,10\n' > "$tmp/trace.csv"
edit "$tmp/trace.json" 'j["serving"]["arrivals"] = {"kind": "trace", "file": "trace.csv"}; del j["serving"]["lengths"]; del j["serving"]["requests"]'
expect2 "$tmp/trace.csv: line 4.arrival_s: expected arrival times in order" "$knee" simulate "$tmp/trace.json"
expect2 "knee simulate: --trace: expected a training scenario, got a serving scenario" \
  "$knee" simulate "$ex" --trace "$tmp/t.json"

# A trace in order runs, relative to the scenario's folder.
printf 'arrival_s,prompt_tokens,output_tokens\n0,100,10\n1.0,100,10\n2.5,300,1\n' > "$tmp/trace.csv"
"$knee" simulate "$tmp/trace.json" --json > "$tmp/out" || fail "trace run exit $?"
grep -q '"completed": 3' "$tmp/out" || fail "trace run: $(head -5 "$tmp/out")"
echo "ok: $n serving examples"
