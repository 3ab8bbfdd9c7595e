#!/bin/bash
# knee fit --kineto: the synthetic trace (kernels planted at 1.25x, 1.10x and 1.40x the h200
# profile) refits h200 so that knee analyze --trace against the new profile finds ratio 1 per
# class, and r per table is the planted factor; bad input exits 2 with one line.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ex="$src/examples/traces/synthetic-kineto-step.json"
"$knee" fit --kineto "$ex" --out "$tmp/p.json" 2> "$tmp/err" || fail "fit --kineto exit $?: $(cat $tmp/err)"
"$knee" analyze --trace "$ex" --profile "$tmp/p.json" --json > "$tmp/j" || fail "analyze with the refit profile exit $?"
$py - "$tmp/p.json" "$tmp/j" <<'P' || fail "refit profile does not give the trace back"
import json, sys
p = json.load(open(sys.argv[1]))
j = json.load(open(sys.argv[2]))
assert p["name"] == "h200-kineto", p["name"]
t = p["manifest"]["extra"]["kineto_refit"]["tables"]
assert abs(t["gemm.bf16"]["r"] - 1.25) < 1e-6 and abs(t["memory.add"]["r"] - 1.10) < 1e-6, t
assert abs(t["attention.fwd"]["r"] - 1.40) < 1e-6, t
c = {r["class"]: r for r in j["classes"]}
for k in ("gemm", "attention"):
    assert abs(c[k]["ratio"] - 1) < 1e-6, (k, c[k])
assert abs(c["memory"]["ratio"] - 1) < 0.01, c["memory"]  # a fitted curve, not a table lookup
P
"$knee" fit --kineto "$ex" --profile h100 --name mine > "$tmp/p2.json" || fail "--profile h100 exit $?"
grep -q '"name": "mine"' "$tmp/p2.json" || fail "--name not used"
expect2 "knee fit --kineto TRACE.json: expected no raw measurement files" "$knee" fit --kineto "$ex" "$tmp/p.json"
expect2 "knee fit: --derive: expected it without --kineto" "$knee" fit --kineto "$ex" --derive h100
expect2 "knee fit: --profile: expected --kineto" "$knee" fit "$tmp/p.json" --profile h200
expect2 "$tmp/missing.json" "$knee" fit --kineto "$tmp/missing.json"
printf '{"traceEvents": []}' > "$tmp/empty.json"
expect2 "$tmp/empty.json: expected GEMM, memory-bound or fused-attention calls" "$knee" fit --kineto "$tmp/empty.json"
echo ok
