#!/bin/bash
# knee report on a cluster result and on a placement study (docs/workloads.md, "Jobs sharing a
# cluster"): per-job slowdown and hot links in the HTML; a cluster file itself is refused with
# the command that makes its result, exit 2.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ex="$src/examples/scenarios/two-jobs-rail-fat-tree.json"
"$knee" simulate "$ex" --json > "$tmp/c.json" || fail "simulate --json exit $?"
"$knee" report "$tmp/c.json" --out "$tmp/c.html" 2> /dev/null || fail "report exit $?"
grep -q "<h1>Cluster report</h1>" "$tmp/c.html" || fail "no cluster report heading"
grep -q "Sharing the cluster slows <b>gpt-760m</b> most: <b>1.09" "$tmp/c.html" || fail "answer: $(grep -o 'Sharing[^<]*<b>[^<]*' "$tmp/c.html")"
grep -q "<td>gpt-1.3b</td><td>spread</td><td>0,2</td><td>16</td>" "$tmp/c.html" || fail "job row"
grep -q "h100: derived from profile 'h200'" "$tmp/c.html" || grep -q "h100: derived from profile &#39;h200&#39;" "$tmp/c.html" ||
  fail "profile origin"
"$knee" sweep "$ex" --placements packed,spread --json > "$tmp/s.json" || fail "sweep --json exit $?"
"$knee" report "$tmp/s.json" --out "$tmp/s.html" 2> /dev/null || fail "report (study) exit $?"
grep -q "<b>packed</b> slows the jobs least (the worst job, .*, 1.000x)" "$tmp/s.html" || fail "study answer"
expect2 "knee report: $ex: expected a cluster result (knee simulate CLUSTER.json --json)" \
  "$knee" report "$ex" --out "$tmp/x.html"
echo OK
