#!/usr/bin/env bash
# Intervals on predictions (docs/uncertainty.md): knee simulate prints and writes them by default
# (8 draws), --samples 0 leaves them out, --samples 1 exits 2; knee sweep --samples N gives each
# point's intervals, the _lo/_hi CSV columns and the knee's distribution; the same run twice gives
# the same bytes.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ex=$src/examples/scenarios/gpt-h200-study.json
"$knee" simulate "$ex" >"$tmp/out" || fail "simulate exited $?"
grep -Eq '^step time        [0-9.]+ s \([0-9.]+-[0-9.]+\)$' "$tmp/out" || fail "no step-time interval: $(cat "$tmp/out")"
grep -q '^# (lo-hi): 95% intervals over 8 profile draws' "$tmp/out" || fail "no intervals line"
grep -q "not included: the model's own error against real runs" "$tmp/out" || fail "exclusions not stated"
"$knee" simulate "$ex" --samples 0 >"$tmp/none" || fail "--samples 0 exited $?"
! grep -q '95% intervals' "$tmp/none" || fail "--samples 0 still prints intervals"
"$knee" simulate "$ex" --json --samples 4 >"$tmp/a.json" || fail "--json exited $?"
"$knee" simulate "$ex" --json --samples 4 >"$tmp/b.json" || fail "--json again exited $?"
$py - "$tmp/a.json" "$tmp/b.json" <<'P' || fail "simulate json"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for j in (a, b):
    j.pop("simulated_wall_s")
assert a == b, "two runs differ"
iv = a["intervals"]
assert iv["samples"] == 4 and iv["level"] == 0.95, iv
lo, hi = iv["step_time_s"]
assert lo < a["step_time_s"] < hi, (lo, a["step_time_s"], hi)
assert iv["breakdown"]["compute_s"][0] < iv["breakdown"]["compute_s"][1]
assert any("ci95" in s for s in iv["sources"]), iv["sources"]
P
expect2 "--samples: expected 0 (no intervals) or an integer >= 2, got 1" "$knee" simulate "$ex" --samples 1

# --seeds N: straggler seeds only, the profile at its medians; needs stragglers; not with --samples.
$py -c "import json; j = json.load(open('$ex')); j['stragglers'] = {'gpu_cv': 0.05}; json.dump(j, open('$tmp/st.json', 'w'))"
"$knee" simulate "$tmp/st.json" --seeds 3 >"$tmp/seeds" || fail "--seeds exited $?"
grep -q '^# (lo-hi): 95% intervals over 3 straggler seeds (straggler seeds (seed + 1 + draw)); not included: the profile' \
  "$tmp/seeds" || fail "seeds line: $(grep '^# (lo-hi)' "$tmp/seeds")"
expect2 "\$.stragglers: expected a straggler model when only seeds vary" "$knee" simulate "$ex" --seeds 3
expect2 "--seeds: expected it without --samples" "$knee" simulate "$tmp/st.json" --seeds 3 --samples 4
expect2 "--seeds: expected" "$knee" simulate "$tmp/st.json" --seeds 1

"$knee" sweep "$ex" --gpus 512,1024 --samples 3 --csv >"$tmp/s.csv" || fail "sweep --csv exited $?"
"$knee" sweep "$ex" --gpus 512,1024 --samples 3 --json >"$tmp/s.json" || fail "sweep --json exited $?"
$py - "$tmp/s.csv" "$tmp/s.json" <<'P' || fail "sweep intervals"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
j = json.load(open(sys.argv[2]))
assert j["intervals"]["samples"] == 3
assert abs(sum(k["share"] for k in j["knee_distribution"]) - 1) < 1e-12
for r, p in zip(rows, j["points"]):
    lo, hi = p["intervals"]["step_time_s"]
    assert float(r["step_time_s_lo"]) == float(f"{lo:.6g}") and float(r["step_time_s_hi"]) == float(f"{hi:.6g}"), (r, lo, hi)
    assert lo < p["step_time_s"] < hi
assert rows[0]["efficiency_lo"] == "1" and rows[0]["efficiency_hi"] == "1", rows[0]
P
"$knee" sweep "$ex" --gpus 512,1024 --csv | head -1 | grep -q 'step_time_s_lo' || fail "no _lo column without samples"
"$knee" sweep "$ex" --gpus 512 --samples 3 | grep -q '^# the knee over the draws:' || fail "no knee distribution in text"
expect2 "--samples: expected 0 (no intervals) or an integer >= 2, got 1" "$knee" sweep "$ex" --gpus 512 --samples 1
exit 0
