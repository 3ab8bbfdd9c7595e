#!/bin/bash
# knee simulate --trace: writes a Chrome trace (valid JSON, one process per traced GPU), bad
# --trace-ranks exits 2 with one line naming the flag.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

"$knee" simulate "$src/examples/scenarios/gpt3-175b-1024.json" --trace "$tmp/t.json" --trace-ranks 0,8,1023 \
  > "$tmp/out" 2> "$tmp/err" || fail "simulate --trace exit $?"
[ -s "$tmp/t.json" ] || fail "no trace written"
grep -q "dropped" "$tmp/err" || fail "no event count on stderr: $(cat $tmp/err)"
python3 - "$tmp/t.json" <<'P' || fail "trace content"
import json, sys
j = json.load(open(sys.argv[1]))
procs = {e["pid"] for e in j["traceEvents"] if e["ph"] == "M" and e["name"] == "process_name"}
assert procs == {0, 8, 1023}, procs
names = {e["args"]["name"] for e in j["traceEvents"] if e["ph"] == "M" and e["name"] == "thread_name"}
assert {"compute", "tp", "dp", "optimizer", "idle (bubble, waits)"} <= names, names
assert "1023" in j["otherData"]["knee"]["folded_ranks"], j["otherData"]
assert any(e["ph"] == "X" and e["name"] == "bubble" for e in j["traceEvents"])
P

"$knee" simulate "$src/examples/scenarios/gpt3-175b-1024.json" --trace "$tmp/t2.json" --trace-ranks 0-2000 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "bad --trace-ranks exit $rc, expected 2"
grep -q -- "--trace-ranks" "$tmp/err" || fail "error does not name the flag: $(cat $tmp/err)"
[ $(wc -l < "$tmp/err") -eq 1 ] || fail "error is not one line"
"$knee" simulate "$src/examples/scenarios/gpt3-175b-1024.json" --trace-ranks 0 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "--trace-ranks without --trace exit $rc, expected 2"
echo OK
