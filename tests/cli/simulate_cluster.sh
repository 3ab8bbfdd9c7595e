#!/bin/bash
# knee simulate on a cluster file (docs/workloads.md, "Jobs sharing a cluster"): the shipped example
# in text and --json (per job alone, together, slowdown; hot links), the same JSON twice, a job
# scenario given as a path relative to the cluster file, and bad input in one line naming the
# file, the key and what was expected, exit 2.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ex="$src/examples/scenarios/two-jobs-rail-fat-tree.json"
"$knee" simulate "$ex" > "$tmp/text" || fail "text exit $?"
grep -q "^# cluster .*: dgx-h100, 4 nodes (32 GPUs), rail-fat-tree, oversubscription 2" "$tmp/text" ||
  fail "text header: $(head -3 "$tmp/text")"
grep -q "^gpt-1.3b  *spread  *0,2 " "$tmp/text" || fail "text job line: $(cat "$tmp/text")"
grep -q "^hot links of the shared run" "$tmp/text" || fail "text hot links: $(cat "$tmp/text")"
"$knee" simulate "$ex" --json > "$tmp/a.json" || fail "--json exit $?"
"$knee" simulate "$ex" --json > "$tmp/b.json" || fail "--json exit $?"
$py - "$tmp/a.json" "$tmp/b.json" <<'P' || fail "cluster result"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a["cluster"]["nodes"] == 4 and a["cluster"]["fabric"] == "rail-fat-tree", a["cluster"]
jobs = {j["name"]: j for j in a["jobs"]}
assert jobs["gpt-1.3b"]["nodes"] == [0, 2] and jobs["gpt-760m"]["nodes"] == [1, 3], jobs
for j in jobs.values():
    assert j["together_step_time_s"] >= j["alone_step_time_s"] > 0, j
    assert abs(j["slowdown"] - j["together_step_time_s"] / j["alone_step_time_s"]) < 1e-12, j
    assert j["alone_switch_link_bytes"] > 0, j  # spread: the rings cross the leaves
assert min(j["slowdown"] for j in jobs.values()) > 1.02, jobs  # their rings meet on the uplinks
h = a["hot_links"]
assert 0 < len(h) <= 8 and h[0]["busy_s"] >= h[-1]["busy_s"] and h[0]["bytes"] > 0, h
assert a["switch_link_bytes"] > 0 and a["flows"] > 0 and a["events"] > 0, a
for r in (a, b):
    del r["simulated_wall_s"]
assert a == b, "two runs differ"
P

# A placement study: packed keeps each job under one leaf (no uplink bytes, no slowdown), spread
# sends both jobs' rings over the shared uplinks.
"$knee" sweep "$ex" --placements packed,spread,random --json > "$tmp/sw.json" || fail "sweep --placements exit $?"
$py - "$tmp/sw.json" <<'P' || fail "placement study"
import json, sys
p = {x["placement"]: x for x in json.load(open(sys.argv[1]))["placements"]}
assert list(p) == ["packed", "spread", "random"], list(p)
assert [j["nodes"] for j in p["packed"]["jobs"]] == [[0, 1], [2, 3]], p["packed"]["jobs"]
assert [j["nodes"] for j in p["spread"]["jobs"]] == [[0, 2], [1, 3]], p["spread"]["jobs"]
for j in p["packed"]["jobs"]:
    assert j["slowdown"] == 1 and j["alone_switch_link_bytes"] == 0, j
assert p["packed"]["switch_link_bytes"] == 0, p["packed"]["switch_link_bytes"]
for a, b in zip(p["packed"]["jobs"], p["spread"]["jobs"]):
    assert b["together_step_time_s"] > a["together_step_time_s"], (a, b)
P
"$knee" sweep "$ex" --placements packed,spread > "$tmp/swt" || fail "sweep text exit $?"
grep -q "^spread  *gpt-760m  *1,3 " "$tmp/swt" || fail "sweep text: $(cat "$tmp/swt")"
expect2 "--placements: expected a comma-separated list of packed, spread, random, got 'packed,tight'" \
  "$knee" sweep "$ex" --placements packed,tight
expect2 "--placements: expected a cluster file" "$knee" sweep "$src/examples/scenarios/gpt3-175b-1024.json" \
  --placements packed

# A job scenario as a path, relative to the cluster file.
mkdir -p "$tmp/d/jobs"
cat > "$tmp/d/jobs/small.json" <<'J'
{"model": {"layers": 2, "hidden": 1024, "heads": 16, "seq_len": 1024, "vocab": 32000},
 "parallelism": {"tp": 8, "dp": 2, "micro_batch": 1, "global_batch": 2}}
J
cat > "$tmp/d/c.json" <<'J'
{"system": "dgx-h100", "nodes": 4, "fabric": {"type": "rail-fat-tree", "radix": 4, "oversubscription": 4},
 "jobs": [{"name": "a", "scenario": "jobs/small.json", "placement": {"nodes": [0, 1]}},
          {"name": "b", "scenario": "jobs/small.json", "placement": {"nodes": [[2, 2], [3, 3]]}}]}
J
"$knee" simulate "$tmp/d/c.json" --json > "$tmp/p.json" || fail "path scenario exit $?"
$py -c "import json,sys; j=json.load(open(sys.argv[1])); assert [x['nodes'] for x in j['jobs']]==[[0,1],[2,3]], j" \
  "$tmp/p.json" || fail "explicit placements"

# Bad input: one line, file, key, expectation, exit 2.
bad() {  # bad NAME PATTERN PYTHON-EDIT: the cluster file edited, then expect2 PATTERN
  $py - "$tmp/d/c.json" "$tmp/d/$1.json" "$3" <<'P'
import json, sys
c = json.load(open(sys.argv[1])); exec(sys.argv[3]); json.dump(c, open(sys.argv[2], "w"))
P
  expect2 "$2" "$knee" simulate "$tmp/d/$1.json"
}
bad nonode "$tmp/d/nonode.json: \$.jobs[1].placement.nodes: expected node ranges [first, last] within 0-3" \
  'c["jobs"][1]["placement"] = {"nodes": [3, 4]}'
bad overlap "$tmp/d/overlap.json: \$.jobs[1].placement.nodes: expected nodes no other placement holds, got node 1" \
  'c["jobs"][1]["placement"] = {"nodes": [1, 2]}'
bad toomany "$tmp/d/toomany.json: \$.jobs: expected jobs needing at most the cluster's 4 nodes, got 6 nodes" \
  'c["jobs"].append({"name": "c", "scenario": "jobs/small.json"})'
bad unknown "$tmp/d/unknown.json: \$.jobs[0].placment" 'c["jobs"][0]["placment"] = "packed"'
bad unknown2 "$tmp/d/unknown2.json: \$.job" 'c["job"] = []'
bad system "$tmp/d/system.json: \$.jobs[0].scenario.system: expected the cluster's system (\"dgx-h100\") or none" \
  'c["jobs"][0]["scenario"] = {"system": "dgx-h200", **json.load(open(sys.argv[1].replace("c.json", "jobs/small.json")))}'
bad fabric "$tmp/d/fabric.json: \$.jobs[0].scenario.fabric: expected the cluster's fabric or none" \
  'c["jobs"][0]["scenario"] = {"fabric": {"type": "fat-tree"}, **json.load(open(sys.argv[1].replace("c.json", "jobs/small.json")))}'
expect2 "--every-rank: expected none with a cluster file" "$knee" simulate "$tmp/d/c.json" --every-rank

# The cluster's faults (for every job): a degraded uplink and a failed NIC, printed and in the
# JSON; the degraded uplink slows the job alone; bad faults in one line naming $.faults.
$py - "$tmp/d/c.json" "$tmp/d/faulty.json" <<'P'
import json, sys
c = json.load(open(sys.argv[1]))
c["faults"] = {"degraded_links": [{"between": ["rail0.leaf0", "spine0"], "factor": 0.5}],
               "failed_links": [{"between": ["rail1.leaf0", "spine1"]}], "failed_nics": [{"node": 0, "gpu": 3}]}
json.dump(c, open(sys.argv[2], "w"))
P
"$knee" simulate "$tmp/d/faulty.json" > "$tmp/ft" || fail "faults text exit $?"
grep -qF "# faults, for every job alone and together: rail0.leaf0 - spine0 at 0.5 of its bandwidth, link rail1.leaf0 - spine1 failed, NIC s0.nic3 failed" \
  "$tmp/ft" || fail "faults line: $(cat "$tmp/ft")"
"$knee" simulate "$tmp/d/faulty.json" --json > "$tmp/f.json" || fail "faults --json exit $?"
$py - "$tmp/f.json" "$tmp/p.json" <<'P' || fail "faults result"
import json, sys
f, p = (json.load(open(x)) for x in sys.argv[1:])
assert f["faults"] == {"degraded_links": [{"between": ["rail0.leaf0", "spine0"], "factor": 0.5}],
                       "failed_links": [{"between": ["rail1.leaf0", "spine1"]}],
                       "failed_nics": [{"node": 0, "gpu": 3, "nic": "s0.nic3"}]}, f["faults"]
down = ({"rail1.leaf0", "spine1"}, {"s0.nic3", "rail3.leaf0"}, {"s0.gpu3", "s0.nic3"})
assert not any({l["from"], l["to"]} in down for l in f["hot_links"]), f["hot_links"]
assert p["faults"] == {"degraded_links": [], "failed_links": [], "failed_nics": []}, p["faults"]
P
bad faultkey "$tmp/d/faultkey.json: \$.faults.broken" 'c["faults"] = {"broken": []}'
bad faultfactor "$tmp/d/faultfactor.json: \$.faults.degraded_links[0].factor: expected a fraction of the link's bandwidth in (0, 1], got 0" \
  'c["faults"] = {"degraded_links": [{"between": ["rail0.leaf0", "spine0"], "factor": 0}]}'
bad faultname "$tmp/d/faultname.json: \$.faults.failed_links[0].between: expected two nodes of the topology joined by a link" \
  'c["faults"] = {"failed_links": [{"between": ["rail0.leaf0", "spine9"]}]}'
bad jobfault "\$.simulation.degraded_links: expected none in a job of a cluster file (put them in the cluster file's \"faults\")" \
  'c["jobs"][0]["scenario"] = {"simulation": {"degraded_links": [{"between": ["rail0.leaf0", "spine0"], "factor": 0.5}]}, **json.load(open(sys.argv[1].replace("c.json", "jobs/small.json")))}'
echo OK
