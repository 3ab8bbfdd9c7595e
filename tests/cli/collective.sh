#!/usr/bin/env bash
# knee collective: nccl-tests-style JSON and table, and exit 2 with a named field on bad input.
set -u
knee=$1
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; fi; }
expect_exit2() {  # description, expected text in stderr, command...
  local desc=$1 text=$2; shift 2
  err=$("$@" 2>&1 >/dev/null); rc=$?
  if [ $rc -ne 2 ]; then echo "FAIL: $desc: exit $rc, expected 2"; fail=1; return; fi
  if ! grep -q -- "$text" <<<"$err"; then echo "FAIL: $desc: stderr '$err' lacks '$text'"; fail=1; fi
  if [ "$(wc -l <<<"$err")" -ne 1 ]; then echo "FAIL: $desc: more than one line: $err"; fail=1; fi
}

out=$("$knee" collective --system dgx-h100 --nodes 2 --op allreduce --bytes 64MiB --json) || { echo "FAIL: run"; exit 1; }
for k in time_s algbw_GBps busbw_GBps algorithm protocol channels; do
  check "json has $k" "grep -q '\"$k\"' <<<\"\$out\""
done
# busbw = algbw * 2(n-1)/n for all-reduce on 16 GPUs
/usr/bin/python3 - "$out" <<'PY' || fail=1
import json, sys
j = json.loads(sys.argv[1])
assert j["ranks"] == 16, j["ranks"]
assert abs(j["busbw_GBps"] - j["algbw_GBps"] * 2 * 15 / 16) < 1e-9 * j["busbw_GBps"], j
assert abs(j["algbw_GBps"] - 64 * 2**20 / j["time_s"] / 1e9) < 1e-6 * j["algbw_GBps"], j
# The alpha-beta lower bound never exceeds the simulated time; a note only above the 5% tolerance.
assert 0 < j["lower_bound_s"] <= j["time_s"], j
assert (j["bound_note"] == "") == (j["time_s"] <= j["lower_bound_s"] * 1.05), j
PY
table=$("$knee" collective --system dgx-h100 --nodes 1 --op allgather --sweep 1KiB:1MiB) || { echo "FAIL: sweep"; exit 1; }
check "sweep has 11 rows" "[ \$(grep -cE '^ +[0-9]+ ' <<<\"\$table\") -eq 11 ]"
check "sweep names columns" "grep -q 'busbw' <<<\"\$table\""
check "sweep has the bound column" "grep -q 'bound(us)' <<<\"\$table\""
sweep=$("$knee" collective --system dgx-h100 --nodes 1 --op reducescatter --sweep 8B:64B --json)
check "sweep json has 4 results" "/usr/bin/python3 -c 'import json,sys; assert len(json.load(sys.stdin)[\"results\"])==4' <<<\"\$sweep\""

expect_exit2 "bad size" "--bytes" "$knee" collective --system dgx-h100 --nodes 1 --bytes 12XB
expect_exit2 "negative size" "--bytes" "$knee" collective --system dgx-h100 --nodes 1 --bytes -5
expect_exit2 "unknown op" "--op" "$knee" collective --system dgx-h100 --nodes 1 --op allreduse
expect_exit2 "unknown algorithm" "--algo" "$knee" collective --system dgx-h100 --nodes 1 --algo magic
expect_exit2 "nvls across servers" "NVLink domain" "$knee" collective --system dgx-h100 --nodes 2 --algo nvls
expect_exit2 "tree all-gather" "allgather" "$knee" collective --system dgx-h100 --nodes 2 --op allgather --algo tree
expect_exit2 "bad sweep" "--sweep" "$knee" collective --system dgx-h100 --nodes 1 --sweep 8B
expect_exit2 "too many gpus" "--gpus" "$knee" collective --system dgx-h100 --nodes 1 --gpus 9
expect_exit2 "unknown system" "system" "$knee" collective --system dgx-z900 --nodes 1
# The heterogeneous example cluster: a ring all-reduce is bounded by the older server's 200 Gb/s NIC.
mixed=$("$knee" collective --file "$2/examples/topologies/mixed-generation.json" --op allreduce --bytes 256MiB --algo ring --json) ||
  { echo "FAIL: mixed-generation example"; fail=1; }
/usr/bin/python3 - "$mixed" <<'PY' || fail=1
import json, sys
j = json.loads(sys.argv[1])
assert j["ranks"] == 8, j
assert 0.9 * 25 * 0.94 < j["busbw_GBps"] <= 25 * 0.94 * (1 + 1e-9), j["busbw_GBps"]
PY
tmp=$(mktemp -d)
"$knee" collective --system dgx-h100 --nodes 2 --op allreduce --bytes 16MiB --algo ring --trace "$tmp/t.json" --trace-ranks 0,8 >/dev/null || { echo "FAIL: trace run"; fail=1; }
/usr/bin/python3 - "$tmp/t.json" <<'PY' || fail=1
import json, sys
j = json.load(open(sys.argv[1]))
sends = [e for e in j["traceEvents"] if e["ph"] == "X"]
assert sends and {e["pid"] for e in sends} == {0, 8}, {e["pid"] for e in sends}
assert all(e["dur"] >= 0 for e in sends)
PY
expect_exit2 "trace with a sweep" "--trace" "$knee" collective --system dgx-h100 --nodes 1 --sweep 8B:64B --trace "$tmp/x.json"
expect_exit2 "bad trace ranks" "--trace-ranks" "$knee" collective --system dgx-h100 --nodes 1 --trace "$tmp/x.json" --trace-ranks 0-99
rm -rf "$tmp"
exit $fail
