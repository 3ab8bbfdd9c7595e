#!/usr/bin/env bash
# A profile measured on a CPU (knee calibrate --backend cpu) named by a GPU scenario: knee simulate
# and knee sweep exit 2 with one line saying it was measured on a CPU and what to use instead; GPU
# profiles, built in or as files, still run.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
expect2_silent() {  # expect2_silent CMD... : exit status 2, nothing on stdout, one line on stderr (in $tmp/err)
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  [ $rc -eq 2 ] || fail "expected exit 2, got $rc: $* ($(head -2 "$tmp/err"))"
  [ ! -s "$tmp/out" ] || fail "expected no output on stdout: $*"
  [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "expected one error line: $(cat "$tmp/err")"
}
has() { grep -qF -- "$1" "$tmp/err" || fail "expected '$1' in: $(cat "$tmp/err")"; }

"$knee" calibrate --backend cpu --quick --out "$tmp/cpu.json" 2>"$tmp/cal" || fail "calibrate exited $?: $(tail -2 "$tmp/cal")"
grep -q '"gpu": "cpu: ' "$tmp/cpu.json" || fail "the cpu profile does not name a cpu in \$.gpu"

scenario() {  # scenario PROFILE OUT: the GPT-3 example (system dgx-h100) with "profile": PROFILE
  /usr/bin/python3 - "$src/examples/scenarios/gpt3-175b-1024.json" "$1" "$2" <<'P'
import json, sys
j = json.load(open(sys.argv[1]))
j["profile"] = sys.argv[2]
json.dump(j, open(sys.argv[3], "w"))
P
}
scenario "$tmp/cpu.json" "$tmp/on-cpu.json"

expect2_silent "$knee" simulate "$tmp/on-cpu.json"
has "$tmp/on-cpu.json: \$.profile: expected a profile measured on a GPU, got '$tmp/cpu.json', measured on a CPU, not a GPU"
has "knee calibrate --backend cpu"
has 'use a shipped GPU profile ("profile": "h100"'   # dgx-h100's own GPU, a built-in profile
has "calibrate on the GPU with knee calibrate --backend cuda"
expect2_silent "$knee" simulate "$tmp/on-cpu.json" --json
has "measured on a CPU, not a GPU"
expect2_silent "$knee" sweep "$tmp/on-cpu.json" --gpus 512,1024 --json
has "$tmp/on-cpu.json: \$.profile: expected a profile measured on a GPU"

# The name does not matter: a CPU profile renamed h200 is still a CPU's.
/usr/bin/python3 - "$tmp/cpu.json" "$tmp/renamed.json" <<'P'
import json, sys
j = json.load(open(sys.argv[1]))
j["name"] = "h200"
json.dump(j, open(sys.argv[2], "w"))
P
scenario "$tmp/renamed.json" "$tmp/on-renamed.json"
expect2_silent "$knee" simulate "$tmp/on-renamed.json"
has "measured on a CPU, not a GPU"

# GPU profiles run: built in, and the shipped H200 profile as a file.
scenario h200 "$tmp/on-h200.json"
"$knee" simulate "$tmp/on-h200.json" --json >"$tmp/out" 2>"$tmp/err" || fail "built-in h200: exit $?: $(cat "$tmp/err")"
grep -q '"step_time_s"' "$tmp/out" || fail "built-in h200: no step time"
scenario "$src/profile/shipped/h200.json" "$tmp/on-file.json"
"$knee" simulate "$tmp/on-file.json" --json >"$tmp/out" 2>"$tmp/err" || fail "h200 file: exit $?: $(cat "$tmp/err")"
grep -q '"step_time_s"' "$tmp/out" || fail "h200 file: no step time"
"$knee" sweep "$tmp/on-file.json" --gpus 512,1024 --csv >"$tmp/out" 2>"$tmp/err" || fail "h200 file sweep: exit $?: $(cat "$tmp/err")"
echo OK
