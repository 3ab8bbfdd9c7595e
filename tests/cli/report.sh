#!/usr/bin/env bash
# knee report: renders in headless Chromium with no console errors and every plot present; bad
# input exits 2 naming the field.
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

# Bad input: one line, exit 2, naming the field.
printf '{"mode": "sideways", "points": []}' >"$tmp/bad.json"
err=$("$knee" report "$tmp/bad.json" --out "$tmp/x.html" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q '\$.mode' <<<"$err" || { echo "FAIL: bad mode: rc=$rc $err"; fail=1; }
printf '{"mode": "strong", "points": [' >"$tmp/trunc.json"
err=$("$knee" report "$tmp/trunc.json" --out "$tmp/x.html" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q 'trunc.json' <<<"$err" || { echo "FAIL: truncated: rc=$rc $err"; fail=1; }
err=$("$knee" report "$sweep" 2>&1); rc=$?
[ $rc -eq 2 ] && grep -q -- '--out' <<<"$err" || { echo "FAIL: missing --out: rc=$rc $err"; fail=1; }
exit $fail
