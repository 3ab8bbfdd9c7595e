#!/bin/bash
# knee analyze --trace: the shipped synthetic Kineto trace prints its table and JSON (planted
# ratios per class); bad input exits 2 with one line naming the file, event and field.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ex="$src/examples/traces/synthetic-kineto-step.json"
"$knee" analyze --trace "$ex" > "$tmp/out" 2> "$tmp/err" || fail "analyze --trace exit $?: $(cat $tmp/err)"
grep -q "^# knee analyze --trace .*synthetic-kineto-step.json: measured kernels" "$tmp/out" || fail "no header"
grep -q "^gemm  *32 " "$tmp/out" || fail "no gemm row: $(cat $tmp/out)"
"$knee" analyze --trace "$ex" --profile h200 --top 3 --json > "$tmp/j" || fail "--json exit $?"
$py - "$tmp/j" <<'P' || fail "json does not show the planted ratios"
import json, sys
j = json.load(open(sys.argv[1]))
c = {r["class"]: r for r in j["classes"]}
assert abs(c["gemm"]["ratio"] - 1.25) < 1e-9 and abs(c["memory"]["ratio"] - 1.10) < 1e-7, c
assert c["nccl"]["ratio"] is None and j["unlinked"] == 2 and len(j["shapes"]) == 3 and len(j["steps"]) == 2
P
expect2 "knee analyze: --profile: profile 'nope'" "$knee" analyze --trace "$ex" --profile nope
expect2 "expected either a runs file or --trace" "$knee" analyze "$src/examples/runs/synthetic-strong.csv" --trace "$ex"
expect2 "knee analyze: --baseline: expected a runs file with it" "$knee" analyze --trace "$ex" --baseline 8
expect2 "knee analyze: --profile: expected --trace" "$knee" analyze "$src/examples/runs/synthetic-strong.csv" --profile h200
printf '{"traceEvents": [' > "$tmp/bad.json"
expect2 "$tmp/bad.json" "$knee" analyze --trace "$tmp/bad.json"
printf '{"traceEvents": [{"ph": "X", "cat": "cpu_op", "name": "aten::mm", "ts": 1, "dur": 1, "args": {"Input Dims": [[4, "a"]]}}]}' > "$tmp/bad.json"
expect2 "traceEvents[0].args.Input Dims[0]: expected a list of int lists" "$knee" analyze --trace "$tmp/bad.json"
printf '{"other": []}' > "$tmp/bad.json"
expect2 "traceEvents: expected a list of trace events" "$knee" analyze --trace "$tmp/bad.json"
echo ok
