#!/bin/bash
# knee capacity: the text and --json forms agree with a re-simulation of the chosen layout, the
# same inputs give the same JSON, and bad input (no --rate, rate 0 or negative, no SLO) exits 2.
. "$(dirname "$0")/lib.sh"

ex=$src/examples/scenarios/llama3-8b-serving-dgx-h200.json
"$knee" capacity "$ex" --rate 40 --usd-per-gpu-hour 2.5 > "$tmp/out" || fail "text exit $?"
grep -q '^fewest GPUs:' "$tmp/out" || fail "no answer: $(cat "$tmp/out")"
grep -q '^# [0-9]* simulations' "$tmp/out" || fail "no simulation count: $(cat "$tmp/out")"
"$knee" capacity "$ex" --rate 40 --usd-per-gpu-hour 2.5 --max-rate --json > "$tmp/a.json" || fail "--json exit $?"
"$knee" capacity "$ex" --rate 40 --usd-per-gpu-hour 2.5 --max-rate --json > "$tmp/b.json" || fail "second run exit $?"
cmp -s "$tmp/a.json" "$tmp/b.json" || fail "the same scenario and rate gave different JSON"

# The chosen layout written back into the scenario and simulated by knee simulate: the SLOs hold
# there as capacity says, and the cost is price x GPUs / output tokens per second.
$py - "$tmp/a.json" "$ex" "$tmp/best.json" <<'P' || fail "JSON checks"
import json, sys
j = json.load(open(sys.argv[1]))
b = j["best"]
assert b and b["meets_slo"] and b["gpus"] == b["tp"] * b["replicas"], b
n = len(j["candidates"]["gpus"])
assert j["simulations"] == n + j["max_rate"]["runs"], (j["simulations"], n)
assert all(g >= b["gpus"] for g, ok in zip(j["candidates"]["gpus"], j["candidates"]["meets_slo"]) if ok)
usd = 2.5 * b["gpus"] / 3600 / b["output_tokens_per_s"] * 1e6
assert abs(b["usd_per_million_output_tokens"] - usd) < 1e-9 * usd, (b, usd)
assert b["joules_per_output_token"] > 0  # h200's measured power model
m = j["max_rate"]
assert m["lower_rps"] < m["upper_rps"] and m["cause"] in (
    "queueing", "kv_cache_preemption", "decode_batch_limit", "network", "iteration_time"), m
s = json.load(open(sys.argv[2]))
sv = s["serving"]
sv["tp"], sv["replicas"] = b["tp"], b["replicas"]
sv["arrivals"]["rate_per_s"] = 40
sv["goodput"]["runs"] = 0
s["nodes"] = (b["gpus"] + 7) // 8
json.dump(s, open(sys.argv[3], "w"))
print(b["slo_attainment"])
P
att=$($py -c 'import json,sys; print(json.load(open(sys.argv[1]))["best"]["slo_attainment"])' "$tmp/a.json")
"$knee" simulate "$tmp/best.json" --json > "$tmp/sim.json" || fail "simulate best exit $?"
$py - "$tmp/sim.json" "$att" <<'P' || fail "re-simulated attainment differs"
import json, sys
assert json.load(open(sys.argv[1]))["slo_attainment"] == float(sys.argv[2])
P

expect2 "knee capacity: --rate: expected a request rate > 0" "$knee" capacity "$ex"
expect2 "knee capacity: --rate: expected a request rate > 0 (requests/s), got 0" "$knee" capacity "$ex" --rate 0
expect2 "knee capacity: --rate: expected a request rate > 0 (requests/s), got -5" "$knee" capacity "$ex" --rate -5
expect2 "knee capacity: --rate" "$knee" capacity "$ex" --rate fast
$py - "$ex" "$tmp/noslo.json" <<'P'
import json, sys
j = json.load(open(sys.argv[1])); del j["serving"]["slo"]; json.dump(j, open(sys.argv[2], "w"))
P
expect2 "$tmp/noslo.json: \$.serving.slo: expected ttft_s and/or tpot_s" "$knee" capacity "$tmp/noslo.json" --rate 10
echo "ok: capacity"
