#!/usr/bin/env bash
# knee fit --derive BASE.json --datasheet GPU.json: the shipped datasheet files, the older
# --derive GPU form, a hypothetical datasheet, exit 2 with one line naming the file and the field
# on bad datasheets, and a hand-edited profile reported as edited by knee simulate.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
base=$src/profile/shipped/h200.json
sheets=$src/profile/datasheets

# The shipped h100 file gives what the built-in --derive h100 gives; $.derivation names each.
"$knee" fit --derive "$base" --datasheet "$sheets/h100.json" --out "$tmp/h100-file.json" || fail "--datasheet exited $?"
"$knee" fit --derive h100 "$base" --out "$tmp/h100-key.json" || fail "--derive h100 exited $?"
$py - "$tmp/h100-file.json" "$tmp/h100-key.json" "$sheets/h100.json" <<'P' || fail "file and built-in differ"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["derivation"]["datasheet"] == sys.argv[3], a["derivation"]
assert b["derivation"]["datasheet"] == "builtin:h100", b["derivation"]
for d in (a, b):
    for k in ("manifest", "description", "derivation"):
        d.pop(k)
assert a == b, "the profiles differ"
P

# Deterministic: the same command twice gives the same bytes (on standard output).
"$knee" fit --derive "$base" --datasheet "$sheets/h100.json" >"$tmp/once.json" || fail "stdout exited $?"
"$knee" fit --derive "$base" --datasheet "$sheets/h100.json" >"$tmp/again.json" || fail "again exited $?"
cmp -s "$tmp/once.json" "$tmp/again.json" || fail "two runs differ"

# The hypothetical H200 with twice the HBM bandwidth: copy bandwidth x 2, GEMM peaks the same.
"$knee" fit --derive "$base" --datasheet "$src/examples/datasheets/h200-2x-hbm.json" --out "$tmp/x.json" ||
  fail "hypothetical exited $?"
"$knee" fit --derive "$base" --datasheet "$sheets/h200.json" --out "$tmp/same.json" || fail "h200 exited $?"
$py - "$tmp/x.json" "$tmp/same.json" <<'P' || fail "hypothetical: wrong values"
import json, sys
x, s = (json.load(open(p)) for p in sys.argv[1:3])
assert x["name"] == "h200-2x-hbm"
assert x["memory"]["copy"]["bandwidth_Bps"]["value"] == 2 * s["memory"]["copy"]["bandwidth_Bps"]["value"]
for dt, e in s["compute"]["peak_tflops"].items():
    assert x["compute"]["peak_tflops"][dt]["achieved"]["value"] == e["achieved"]["value"], dt
P

# Every derived parameter's note names the base value and the ratio.
grep -q '"note": "derived from '"'"'h200'"'"' memory.copy.beta_s_per_byte [0-9.e+-]* s/B x 4.8e+12/3.35e+12 (hbm_bandwidth_Bps of datasheets h200 / h100)"' \
  "$tmp/h100-key.json" || fail "no specific provenance note for memory.copy.beta_s_per_byte"

edit() {  # edit OUT PYTHON-STATEMENT : the h100 datasheet with `d` changed by the statement
  $py -c "import json, sys; d = json.load(open('$sheets/h100.json')); $2; json.dump(d, open('$1', 'w'))"
}
edit "$tmp/missing.json" 'del d["hbm_bandwidth_Bps"]'
expect2 "$tmp/missing.json: \$.hbm_bandwidth_Bps: expected the HBM bandwidth in bytes/s (a required field), got no such field" \
  "$knee" fit --derive "$base" --datasheet "$tmp/missing.json"
edit "$tmp/nofp16.json" 'del d["dense_TFLOPs"]["fp16"]'
expect2 "$tmp/nofp16.json: \$.dense_TFLOPs.fp16: expected the dense fp16 TFLOP/s" \
  "$knee" fit --derive "$base" --datasheet "$tmp/nofp16.json"
edit "$tmp/neg.json" 'd["tdp_W"] = -700'
expect2 "$tmp/neg.json: \$.tdp_W: expected a number > 0" "$knee" fit --derive "$base" --datasheet "$tmp/neg.json"
edit "$tmp/text.json" 'd["hbm_capacity_bytes"]["value"] = "80 GB"'
expect2 "$tmp/text.json: \$.hbm_capacity_bytes.value: expected a number > 0" \
  "$knee" fit --derive "$base" --datasheet "$tmp/text.json"
edit "$tmp/unknown.json" 'd["hbm_bandwith_Bps"] = 3e12'
expect2 "$tmp/unknown.json: \$.hbm_bandwith_Bps: expected one of the known keys" \
  "$knee" fit --derive "$base" --datasheet "$tmp/unknown.json"
edit "$tmp/fp4.json" 'd["dense_TFLOPs"]["fp4"] = 3958'
expect2 "$tmp/fp4.json: \$.dense_TFLOPs.fp4: expected a dtype" "$knee" fit --derive "$base" --datasheet "$tmp/fp4.json"
# A dtype the base profile never measured: the a100 profile has no fp8 table.
expect2 "$sheets/h100.json: \$.dense_TFLOPs.fp8: expected a dtype base profile 'a100' measured" \
  "$knee" fit --derive "$src/profile/shipped/a100.json" --datasheet "$sheets/h100.json"
expect2 "/nonexistent.json" "$knee" fit --derive "$base" --datasheet /nonexistent.json
expect2 "knee fit: --datasheet: expected a datasheet file (*.json) or a built-in datasheet" \
  "$knee" fit --derive "$base" --datasheet v100
expect2 "knee fit: --derive: expected a built-in datasheet" "$knee" fit --derive v100 "$base"
expect2 "knee fit: --datasheet: expected it with --derive BASE.json" "$knee" fit --datasheet "$sheets/h100.json"

# A hand-edited profile: knee simulate reports it as edited; the unedited one as unedited.
scen() {  # scen OUT PROFILE
  $py -c "import json; j = json.load(open('$src/examples/scenarios/gpt3-175b-1024.json')); j['profile'] = '$2'; json.dump(j, open('$1', 'w'))"
}
scen "$tmp/s-ok.json" "$tmp/h100-key.json"
"$knee" simulate "$tmp/s-ok.json" --json >"$tmp/ok.out" || fail "simulate (unedited) exited $?"
grep -q '"profile_parameters": "unedited"' "$tmp/ok.out" || fail "unedited profile not reported as unedited"
grep -q '"profile_datasheet": "builtin:h100"' "$tmp/ok.out" || fail "no profile_datasheet in the provenance"
grep -q '"profile_origin": "derived from profile .h200. (NVIDIA H200, unedited) by mechanisms' "$tmp/ok.out" || fail "no profile_origin in the provenance"
$py -c "import json; p = json.load(open('$tmp/h100-key.json')); p['launch']['host_launch_s']['value'] *= 2; json.dump(p, open('$tmp/edited.json', 'w'), indent=1)"
scen "$tmp/s-ed.json" "$tmp/edited.json"
"$knee" simulate "$tmp/s-ed.json" --json >"$tmp/ed.out" || fail "simulate (edited) exited $?"
grep -q '"profile_parameters": "edited"' "$tmp/ed.out" || fail "edited profile not reported as edited"
grep -q '"profile_origin": "derived from .*, then edited by hand' "$tmp/ed.out" || fail "profile_origin does not say edited"
"$knee" simulate "$tmp/s-ed.json" >"$tmp/ed.txt" || fail "simulate (edited, text) exited $?"
grep -q '^# profile EDITED' "$tmp/ed.txt" || fail "no EDITED line in the text output"
"$knee" simulate "$tmp/s-ok.json" >"$tmp/ok.txt" || fail "simulate (unedited, text) exited $?"
grep -q 'EDITED' "$tmp/ok.txt" && fail "an unedited profile printed EDITED"
echo "ok"
