#!/usr/bin/env bash
# knee audit: the shipped example claim (linear to 1,024 GPUs against synthetic runs) is not
# supported, with every check printed; --json has the checks and the verdict; bad claims exit 2
# with one line naming the file and the field.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ex=$src/examples/claims/linear-to-1024.json
"$knee" audit "$ex" >"$tmp/out" 2>"$tmp/err" || fail "audit exited $?: $(cat "$tmp/err")"
grep -q '^verdict: not supported (contradicted by: measured efficiency, scaling laws)' "$tmp/out" ||
  fail "verdict: $(cat "$tmp/out")"
for item in baseline "batch size" "measurement window" warm-up repetitions variance extrapolation \
            "measured efficiency" "scaling laws" simulation; do
  grep -q "^$item " "$tmp/out" || fail "no row for $item"
done
"$knee" audit "$ex" --json >"$tmp/a.json" || fail "--json exited $?"
"$knee" audit "$ex" --json >"$tmp/b.json" || fail "--json again exited $?"
cmp -s "$tmp/a.json" "$tmp/b.json" || fail "two runs differ"
$py - "$tmp/a.json" <<'P' || fail "json content"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["verdict"] == "not supported", j["verdict"]
assert [c["item"] for c in j["checks"]][:2] == ["baseline", "batch size"], j["checks"]
assert j["simulated_efficiency"] is None
assert j["analysis"]["baseline_gpus"] == 8
P

echo '{"claim": "x", "extrapolation": {"gpus": 64}, "runs": "nowhere.csv"}' >"$tmp/c1.json"
expect2 "$tmp/c1.json: \$.runs: expected a runs file that exists" "$knee" audit "$tmp/c1.json"
echo '{"claim": "x", "extrapolation": {"gpus": 64, "efficiency": -1}, "runs": []}' >"$tmp/c2.json"
expect2 "$tmp/c2.json: \$.extrapolation.efficiency" "$knee" audit "$tmp/c2.json"
echo '{"claim": "x", "extrapolation": {"gpus": 64}, "runs": "'"$src"'/examples/runs/synthetic-strong.csv", "samples": 1}' >"$tmp/c3.json"
expect2 "$tmp/c3.json: \$.samples" "$knee" audit "$tmp/c3.json"
expect2 "--samples: expected" "$knee" audit "$ex" --samples 1
echo '{"claim": ' >"$tmp/c4.json"
expect2 "$tmp/c4.json: expected valid JSON" "$knee" audit "$tmp/c4.json"
exit 0
