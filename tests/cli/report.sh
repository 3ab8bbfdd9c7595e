#!/usr/bin/env bash
# knee report: renders in headless Chromium with no console errors and every plot present (with
# and without energy); bad input exits 2 naming the field.
set -u
knee=$1 src=$2
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sweep=$src/tests/data/sweep-sample.json
"$knee" report "$sweep" --out "$tmp/r.html" 2>/dev/null || { echo "FAIL: report run"; exit 1; }
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then echo "FAIL: chromium not installed (scripts/install-deps.sh --test installs it)"; exit 1; fi
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --user-data-dir="$tmp/profile" --enable-logging=stderr --v=0)
timeout 60 "$chromium" "${flags[@]}" --dump-dom "file://$tmp/r.html" >"$tmp/dom.html" 2>"$tmp/log.txt"
timeout 60 "$chromium" "${flags[@]}" --window-size=1100,4000 --screenshot="$tmp/r.png" "file://$tmp/r.html" >/dev/null 2>>"$tmp/log.txt"
svgs=$(grep -o "<svg" "$tmp/dom.html" | wc -l)
[ "$svgs" -eq 4 ] || { echo "FAIL: rendered DOM has $svgs plots, expected 4"; fail=1; }
grep -q "Capacity-planning report" "$tmp/dom.html" || { echo "FAIL: title missing from rendered DOM"; fail=1; }
if grep -E "CONSOLE|Uncaught|Failed to load|ERR_FILE_NOT_FOUND|net::ERR" "$tmp/log.txt"; then
  echo "FAIL: console errors or failed loads while rendering"; fail=1
fi
[ -s "$tmp/r.png" ] || { echo "FAIL: no screenshot"; fail=1; }
# Images: every <img> (there should be none: plots are inline SVG) must have loaded.
! grep -q "<img" "$tmp/dom.html" || { echo "FAIL: external images in the report"; fail=1; }
[ -n "${KNEE_KEEP_REPORT:-}" ] && cp "$tmp/r.png" "$tmp/r.html" "$KNEE_KEEP_REPORT"/

# The sample with energy and a price on its feasible points (as knee sweep writes them with a
# power model and the scenario's cost): a fifth plot (J per token) and the energy columns.
/usr/bin/python3 - "$sweep" "$tmp/energy.json" <<'P'
import json, sys
j = json.load(open(sys.argv[1]))
for i, p in enumerate(q for q in j["points"] if q.get("feasible", True)):
    p["energy"] = {"gpu_J_per_step": 1e6, "avg_power_per_gpu_W": 500 + 10 * i, "facility_J_per_step": 2e6,
                   "facility_J_per_token": 1.5 + 0.2 * i, "pue": 1.2, "other_W_per_gpu": 100, "power_model": "measured"}
    p["cost"] = {"usd_per_gpu_hour": 2.5, "usd_per_kWh": 0.1, "usd_per_step": 1, "usd_per_million_tokens": 0.5 + 0.1 * i}
json.dump(j, open(sys.argv[2], "w"))
P
"$knee" report "$tmp/energy.json" --out "$tmp/e.html" 2>/dev/null || { echo "FAIL: energy report run"; exit 1; }
timeout 60 "$chromium" "${flags[@]}" --dump-dom "file://$tmp/e.html" >"$tmp/edom.html" 2>"$tmp/elog.txt"
svgs=$(grep -o "<svg" "$tmp/edom.html" | wc -l)
[ "$svgs" -eq 5 ] || { echo "FAIL: energy report has $svgs plots, expected 5"; fail=1; }
grep -q "<th>J/token</th>" "$tmp/edom.html" || { echo "FAIL: no J/token column in the energy report"; fail=1; }
if grep -E "CONSOLE|Uncaught|Failed to load|ERR_FILE_NOT_FOUND|net::ERR" "$tmp/elog.txt"; then
  echo "FAIL: console errors while rendering the energy report"; fail=1
fi

# A sweep straight from knee sweep --json: the report shows the scenario and the provenance.
"$knee" sweep "$src/examples/scenarios/gpt-h200-study.json" --gpus 512,1024 --json >"$tmp/sw.json" ||
  { echo "FAIL: sweep"; fail=1; }
"$knee" report "$tmp/sw.json" --out "$tmp/sw.html" 2>/dev/null || { echo "FAIL: report of a sweep"; fail=1; }
grep -q "no provenance block" "$tmp/sw.html" && { echo "FAIL: knee sweep --json carries no provenance"; fail=1; }
grep -q "profile_description" "$tmp/sw.html" || { echo "FAIL: no profile provenance in the report"; fail=1; }
grep -q "GPT-3 175B-class on DGX H200" "$tmp/sw.html" || { echo "FAIL: no scenario table in the report"; fail=1; }

# Bad input: one line, exit 2, naming the field.
printf '{"mode": "sideways", "points": []}' >"$tmp/bad.json"
err=$("$knee" report "$tmp/bad.json" --out "$tmp/x.html" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q '\$.mode' <<<"$err" || { echo "FAIL: bad mode: rc=$rc $err"; fail=1; }
printf '{"mode": "strong", "points": [' >"$tmp/trunc.json"
err=$("$knee" report "$tmp/trunc.json" --out "$tmp/x.html" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q 'trunc.json' <<<"$err" || { echo "FAIL: truncated: rc=$rc $err"; fail=1; }
err=$("$knee" report "$sweep" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q -- '--out' <<<"$err" || { echo "FAIL: missing --out: rc=$rc $err"; fail=1; }
# A scenario instead of a sweep result: one line saying so and how to make a sweep, no HTML written.
scen=$src/examples/scenarios/gpt-h200-study.json
err=$("$knee" report "$scen" --out "$tmp/scen.html" 2>&1); rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <<<"$err")" -eq 1 ] &&
  grep -qF "knee report: $scen: expected a sweep result (knee sweep --json), got a scenario: run \`knee sweep $scen --gpus " <<<"$err" &&
  grep -qF -- "--json > sweep.json\` first" <<<"$err" ||
  { echo "FAIL: scenario given to report: rc=$rc $err"; fail=1; }
[ ! -e "$tmp/scen.html" ] || { echo "FAIL: report wrote HTML for a scenario"; fail=1; }
# ...and the command it suggests makes a sweep that knee report takes.
hint=$(sed -n 's/^[^`]*`knee sweep \([^`]*\) > sweep.json`.*$/\1/p' <<<"$err")
read -r -a hint_args <<<"$hint"
{ "$knee" sweep "${hint_args[@]}" >"$tmp/hint.json" && "$knee" report "$tmp/hint.json" --out "$tmp/hint.html" 2>/dev/null; } ||
  { echo "FAIL: the suggested sweep ($hint) does not make a report"; fail=1; }
exit $fail
