#!/bin/bash
# knee explain: the error budget prints its rows and exits 0; --json rows match the text; bad input
# exits 2 with one line; a layout that does not fit is explained anyway (exit 3, as simulate --force).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ex="$src/examples/scenarios/gpt3-175b-1024.json"
"$knee" explain "$ex" > "$tmp/out" 2> "$tmp/err" || fail "explain exit $?: $(cat $tmp/err)"
head -1 "$tmp/out" | grep -q "^# knee explain .*gpt3-175b-1024.json: step time [0-9.]* s (dgx-h100, 1,024 GPUs, tp 8 pp 8 dp 16" ||
  fail "no header: $(head -1 $tmp/out)"
grep -q '^id  *mechanism  *step_time_s  *delta_s  *delta_pct  *provenance$' "$tmp/out" || fail "no table header: $(cat $tmp/out)"
for id in dp_overlap group_contention traffic_contention launch_gaps; do
  grep -q "^$id  .* [+-][0-9.]* %  " "$tmp/out" || fail "no row $id: $(cat $tmp/out)"
done
grep -q '^    off: ' "$tmp/out" || fail "no 'off' lines"
grep -q '^    basis: ' "$tmp/out" || fail "no 'basis' lines"
awk '/^[a-z]/ {print $1}' "$tmp/out" | grep -qx 'stragglers\|oversubscription\|tp_comm_overlap' && fail "rows that do not apply"
tail -1 "$tmp/out" | grep -q '^# each row turns one mechanism off and keeps every other on' || fail "no reading line"

# --json: the same rows in the same order.
"$knee" explain "$ex" --json > "$tmp/j" || fail "explain --json exit $?"
/usr/bin/python3 - "$tmp/j" "$tmp/out" <<'P' || fail "json and text disagree"
import json, sys
j = json.load(open(sys.argv[1]))
text_ids = [l.split()[0] for l in open(sys.argv[2]) if l[:1].isalpha() and not l.startswith("id ")]
assert [r["id"] for r in j["rows"]] == text_ids, (text_ids, j["rows"])
assert j["fits"] is True and j["step_time_s"] == j["baseline"]["step_time_s"] > 0
for r in j["rows"]:
    assert r["delta_s"] == r["step_time_s"] - j["step_time_s"]
P

# Bad path: exit 2, one line naming the file.
"$knee" explain "$tmp/nope.json" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "bad path exit $rc, expected 2"
[ $(wc -l < "$tmp/err") -eq 1 ] || fail "error is not one line: $(cat $tmp/err)"
grep -q "nope.json" "$tmp/err" || fail "error does not name the file: $(cat $tmp/err)"
"$knee" explain > /dev/null 2> "$tmp/err"; [ $? -eq 2 ] || fail "no argument: expected exit 2"

# Does not fit: explained anyway, said so, exit 3.
cat > "$tmp/big.json" <<'J'
{"system": "dgx-h100", "gpus": 8,
 "model": {"layers": 4, "hidden": 12288, "heads": 96, "seq_len": 2048, "vocab": 51200},
 "parallelism": {"tp": 1, "dp": 8, "global_batch": 64, "zero": 0}}
J
"$knee" explain "$tmp/big.json" > "$tmp/out" 2> "$tmp/err"; rc=$?
[ $rc -eq 3 ] || fail "does-not-fit exit $rc, expected 3: $(cat $tmp/err)"
grep -q '^# the layout does not fit in GPU memory .*explained anyway' "$tmp/out" || fail "does not say so: $(cat $tmp/out)"
grep -q '^dp_overlap ' "$tmp/out" || fail "no rows when it does not fit: $(cat $tmp/out)"
echo PASS
