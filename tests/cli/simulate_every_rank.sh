#!/bin/bash
# knee simulate --every-rank (and "simulation": {"every_rank": true}): every rank on one network;
# folded false, flows counted, within 1% of the folded step on a symmetric scenario, the same JSON
# twice, stragglers simulated there too, and what it does not simulate refused in one line naming the
# key, exit 2.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cat > "$tmp/s.json" <<'J'
{"system": "dgx-h100", "nodes": 4, "gpus": 32,
 "model": {"layers": 8, "hidden": 4096, "heads": 32, "seq_len": 2048, "vocab": 51200},
 "parallelism": {"tp": 8, "pp": 2, "dp": 2, "micro_batch": 1, "global_batch": 16, "sequence_parallel": true,
                 "zero": 1}}
J
"$knee" simulate "$tmp/s.json" --json > "$tmp/f.json" || fail "folded exit $?"
"$knee" simulate "$tmp/s.json" --json --every-rank > "$tmp/e1.json" || fail "--every-rank exit $?"
python3 - "$tmp/s.json" "$tmp/s2.json" <<'P'
import json, sys
j = json.load(open(sys.argv[1])); j["simulation"] = {"every_rank": True}; json.dump(j, open(sys.argv[2], "w"))
P
"$knee" simulate "$tmp/s2.json" --json > "$tmp/e2.json" || fail "simulation.every_rank exit $?"
python3 - "$tmp/f.json" "$tmp/e1.json" "$tmp/e2.json" <<'P' || fail "every-rank result"
import json, sys
f, a, b = (json.load(open(p)) for p in sys.argv[1:])
assert f["folded"] is True and f["flows"] == 0 and f["every_rank"] is None, f["folded"]
assert a["folded"] is False and a["flows"] > 0 and a["events"] > 0, a["flows"]
assert a["every_rank"]["units"] == 4, a["every_rank"]
assert a["provenance"]["simulation"] == "every_rank", a["provenance"]
assert abs(a["step_time_s"] / f["step_time_s"] - 1) < 0.01, (a["step_time_s"], f["step_time_s"])
assert a["every_rank"]["folded_step_time_s"] == f["step_time_s"], a["every_rank"]
assert a["every_rank"]["busiest_link"]["busy_s"] > 0, a["every_rank"]
for r in (a, b):
    del r["simulated_wall_s"], r["scenario"]
assert a == b, "--every-rank and simulation.every_rank differ"
P
"$knee" simulate "$tmp/s.json" --every-rank > "$tmp/text" || fail "text exit $?"
grep -q "^# every rank (asked): 4 units" "$tmp/text" || fail "text does not say every rank: $(head -5 $tmp/text)"

python3 - "$tmp/s.json" "$tmp/bad.json" <<'P'
import json, sys
j = json.load(open(sys.argv[1])); j["stragglers"] = {"gpu_cv": 0.01}; json.dump(j, open(sys.argv[2], "w"))
P
"$knee" simulate "$tmp/bad.json" --every-rank --json > "$tmp/st.json" || fail "every-rank with stragglers exit $?"
python3 - "$tmp/st.json" <<'P' || fail "every-rank stragglers result"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["folded"] is False and r["stragglers"]["replicas_simulated"] == 2, r["stragglers"]
assert abs(r["step_time_s"] - r["breakdown"]["straggler_s"] - r["stragglers"]["nominal_step_time_s"]) < 1e-12
P
python3 - "$tmp/s.json" "$tmp/bad2.json" <<'P'
import json, sys
j = json.load(open(sys.argv[1])); j["simulation"] = {"every_rank": "yes"}; json.dump(j, open(sys.argv[2], "w"))
P
"$knee" simulate "$tmp/bad2.json" 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "every_rank \"yes\" exit $rc, expected 2"
grep -q '\$.simulation.every_rank' "$tmp/err" || fail "error: $(cat $tmp/err)"

# A failed NIC runs every rank by itself and says so; a GPU cut off from its tp group (its NVLink
# and its NIC down) is one line naming the entry, exit 2.
python3 - "$tmp/s.json" "$tmp/nic.json" "$tmp/cut.json" <<'P'
import json, sys
j = json.load(open(sys.argv[1])); j["simulation"] = {"failed_nics": [{"node": 1, "gpu": 2}]}
json.dump(j, open(sys.argv[2], "w"))
j["simulation"] = {"failed_links": [{"between": ["s0.gpu3", "s0.nvswitch"]}], "failed_nics": [{"node": 0, "gpu": 3}]}
json.dump(j, open(sys.argv[3], "w"))
P
"$knee" simulate "$tmp/nic.json" --json > "$tmp/n.json" || fail "failed NIC exit $?"
python3 - "$tmp/n.json" <<'P' || fail "failed NIC result"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["folded"] is False and r["every_rank"]["why"].startswith("failed NICs"), r["every_rank"]["why"]
P
"$knee" simulate "$tmp/cut.json" 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "cut-off tp group exit $rc, expected 2"
grep -q 'cut.json: \$.simulation.failed_nics\[0\]: expected failed links and NICs that leave every parallel group connected, got the tp group of ranks \[0, 1, 2, 3, 4, 5, 6, 7\] cut off' "$tmp/err" || fail "error: $(cat $tmp/err)"
[ $(wc -l < "$tmp/err") -eq 1 ] || fail "cut-off error is not one line"

# A slow GPU runs every rank by itself, says so and names the GPU that paced the critical unit;
# a factor below 1 and a GPU that holds no rank are one line naming the field, exit 2.
python3 - "$tmp/s.json" "$tmp/slow.json" "$tmp/slow_f.json" "$tmp/slow_n.json" <<'P'
import json, sys
j = json.load(open(sys.argv[1])); j["simulation"] = {"slow_gpus": [{"node": 3, "gpu": 6, "factor": 1.5}]}
json.dump(j, open(sys.argv[2], "w"))
j["simulation"] = {"slow_gpus": [{"node": 0, "gpu": 1, "factor": 0.9}]}; json.dump(j, open(sys.argv[3], "w"))
j["simulation"] = {"slow_gpus": [{"node": 4, "gpu": 0, "factor": 2}]}; json.dump(j, open(sys.argv[4], "w"))
P
"$knee" simulate "$tmp/slow.json" --json > "$tmp/sl.json" || fail "slow GPU exit $?"
python3 - "$tmp/sl.json" "$tmp/e1.json" <<'P' || fail "slow GPU result"
import json, sys
r, n = (json.load(open(p)) for p in sys.argv[1:])
e = r["every_rank"]
assert r["folded"] is False and e["why"].startswith("slow GPUs"), e["why"]
c = e["critical_unit"]
assert c["stage"] == 1 and c["dp"] == 1, c  # rank 30 = tp 6 of (dp 1, pp 1)
assert c["slow_gpu"] == {"node": 3, "gpu": 6, "rank": 30, "factor": 1.5, "via": "tp"}, c
assert r["step_time_s"] > n["step_time_s"] * 1.05, (r["step_time_s"], n["step_time_s"])
assert n["every_rank"]["critical_unit"]["slow_gpu"] is None, n["every_rank"]
P
"$knee" simulate "$tmp/slow.json" > "$tmp/text" || fail "slow GPU text exit $?"
grep -q "^# every rank (slow GPUs break" "$tmp/text" || fail "text does not say slow GPUs: $(head -5 $tmp/text)"
grep -q "^# critical unit: stage 1, dp 1, cp 0, paced by slow GPU s3.gpu6 (rank 30, x1.5, via tp)" "$tmp/text" ||
  fail "text does not name the slow GPU: $(head -8 $tmp/text)"
"$knee" simulate "$tmp/slow_f.json" 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "slow GPU factor 0.9 exit $rc, expected 2"
grep -q 'slow_f.json: \$.simulation.slow_gpus\[0\].factor: expected a kernel-time multiplier between 1 and 100' "$tmp/err" ||
  fail "error: $(cat $tmp/err)"
[ $(wc -l < "$tmp/err") -eq 1 ] || fail "slow GPU factor error is not one line"
"$knee" simulate "$tmp/slow_n.json" 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "slow GPU on node 4 exit $rc, expected 2"
grep -q 'slow_n.json: \$.simulation.slow_gpus\[0\].node: expected a server holding ranks, in \[0, 4)' "$tmp/err" ||
  fail "error: $(cat $tmp/err)"
[ $(wc -l < "$tmp/err") -eq 1 ] || fail "slow GPU node error is not one line"
# A timeline of an every-rank step: one process per traced GPU, each drawn from its own unit.
"$knee" simulate "$tmp/s.json" --every-rank --trace "$tmp/trace.json" --trace-ranks 0,16 2> "$tmp/err" ||
  fail "--every-rank --trace exit $?: $(cat $tmp/err)"
python3 - "$tmp/trace.json" <<'P' || fail "every-rank trace"
import json, sys
t = json.load(open(sys.argv[1]))
meta = t["otherData"]["knee"]
assert meta["traced_ranks"] == 2 and meta["folding"].startswith("every rank"), meta
pids = {e["pid"] for e in t["traceEvents"] if e["ph"] == "X"}
assert pids == {0, 16}, pids
P
echo OK
