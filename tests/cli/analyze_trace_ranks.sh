#!/bin/bash
# knee analyze --trace on .json.gz and on several ranks' traces: a gzipped copy gives the plain
# file's JSON; the shipped 4-rank set (rank 2 planted 1.3x slower at compute) names rank 2 with
# its factor, as a directory or a comma-separated list; bad sets exit 2 with one line.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ex="$src/examples/traces/synthetic-kineto-step.json"
set="$src/examples/traces/synthetic-4-ranks"
gzip -c "$ex" > "$tmp/step.json.gz"
"$knee" analyze --trace "$ex" --profile h200 --json > "$tmp/plain" || fail "plain exit $?"
"$knee" analyze --trace "$tmp/step.json.gz" --profile h200 --json > "$tmp/gz" || fail "gz exit $?"
$py - "$tmp/plain" "$tmp/gz" <<'P' || fail "the gzipped trace's JSON differs from the plain one's"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a.pop("source") != b.pop("source")
assert a == b and a["ranks"] == [] and a["rank_skew"] is None, a["ranks"]
P
"$knee" analyze --trace "$set" --json > "$tmp/j" || fail "--trace DIR exit $?: $(cat $tmp/err)"
list="$set/rank-0.json,$set/rank-1.json,$set/rank-2.json.gz,$set/rank-3.json"
"$knee" analyze --trace "$list" --json > "$tmp/j2" || fail "--trace A,B,... exit $?"
$py - "$tmp/j" "$tmp/j2" <<'P' || fail "the 4-rank set does not name the planted rank"
import json, sys
j, j2 = (json.load(open(p)) for p in sys.argv[1:])
k = j["rank_skew"]
assert [r["rank"] for r in j["ranks"]] == [0, 1, 2, 3], j["ranks"]
assert k["slowest_rank"] == 2 and abs(k["straggler_factor"] - 1.3) < 1e-6, k
assert k["least_nccl_rank"] == 2 and k["most_nccl_rank"] != 2, k
assert j["activities"] == sum(1 for _ in j["ranks"]) * 72 and len(j["steps"]) == 8
c = {r["class"]: r for r in j["classes"]}
assert c["gemm"]["calls"] == 4 * 32, c["gemm"]
j.pop("source"), j2.pop("source")
assert j == j2
P
"$knee" analyze --trace "$set" > "$tmp/t" || fail "table exit $?"
grep -q "^# per rank (4 traces" "$tmp/t" || fail "no per-rank block: $(cat $tmp/t)"
grep -q "^# slowest rank 2: .* 1.3x the median rank's" "$tmp/t" || fail "no skew line: $(grep slowest $tmp/t)"
cp "$set/rank-0.json" "$tmp/a.json"; cp "$set/rank-0.json" "$tmp/b.json"
expect2 "$tmp/b.json: distributedInfo.rank: expected a rank no other trace has, got 0, the rank of $tmp/a.json" \
  "$knee" analyze --trace "$tmp/a.json,$tmp/b.json"
head -c 3000 "$set/rank-2.json.gz" > "$tmp/cut.json.gz"
expect2 "$tmp/cut.json.gz: expected a gzip-compressed JSON trace, got a stream cut off" "$knee" analyze --trace "$tmp/cut.json.gz"
mkdir "$tmp/none"
expect2 "knee analyze: --trace: $tmp/none: expected a directory of Kineto traces" "$knee" analyze --trace "$tmp/none"
expect2 "knee analyze: --trace: expected trace files or directories separated by commas" "$knee" analyze --trace "$ex,"
expect2 "knee analyze: --trace: expected once, got it twice" "$knee" analyze --trace "$ex" --trace "$ex"
echo ok
