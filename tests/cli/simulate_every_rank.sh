#!/bin/bash
# knee simulate --every-rank (and "simulation": {"every_rank": true}): every rank on one network;
# folded false, flows counted, within 1% of the folded step on a symmetric scenario, the same JSON
# twice, and what it does not simulate refused in one line naming the key, exit 2.
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
"$knee" simulate "$tmp/bad.json" --every-rank 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "every-rank with stragglers exit $rc, expected 2"
grep -q '\$.simulation.every_rank: expected no stragglers' "$tmp/err" || fail "error: $(cat $tmp/err)"
[ $(wc -l < "$tmp/err") -eq 1 ] || fail "error is not one line"
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
echo OK
