#!/bin/bash
# knee report with measured runs: a runs CSV or knee analyze --json output as a report of its own
# (every count a row, the laws' parameters as the analysis computed them, two charts), and a sweep's
# report with --runs; bad input exits 2 with one line naming the file and the JSON path.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

runs="$src/examples/runs/synthetic-strong.csv"
sweep="$src/tests/data/sweep-sample.json"
"$knee" analyze "$runs" --json > "$tmp/a.json" || fail "analyze exit $?"
"$knee" report "$tmp/a.json" --out "$tmp/a.html" 2> "$tmp/err" || fail "report ANALYSIS exit $?: $(cat $tmp/err)"
"$knee" report "$runs" --out "$tmp/csv.html" 2> /dev/null || fail "report RUNS.csv exit $?"
$py - "$tmp/a.json" "$tmp/a.html" "$tmp/csv.html" <<'P' || fail "the runs report does not show the analysis"
import json, re, sys
a = json.load(open(sys.argv[1]))
h = open(sys.argv[2]).read()
assert h.count("<svg") == 2, h.count("<svg")
assert "<h2>Measured runs: " in h and "strong scaling" in h
# One row per measured count, shaded exactly where efficiency < 0.5.
rows = re.findall(r"<tr( class=\"knee\")?><td>([0-9,]+)</td>", h)
assert [int(g.replace(",", "")) for _, g in rows] == [c["gpus"] for c in a["counts"]], rows
assert [bool(k) for k, _ in rows] == [c["efficiency"] < 0.5 for c in a["counts"]], rows
# The laws as fitted: Amdahl's serial fraction to 3 significant figures, its knee.
am = next(f for f in a["fits"] if f["law"] == "amdahl")
assert f"{am['serial_fraction']:.3g}" in h, am["serial_fraction"]
assert f"{am['knee_gpus']:.3g}" in h
for note in a["notes"]:
    assert note.split(":")[0] in h
# A runs CSV given directly: the same analysis (knee analyze's defaults), so the same tables.
c = open(sys.argv[3]).read()
strip = lambda s: re.sub(r"<h2>Reproducibility</h2>.*", "", re.sub(r"<h2>Measured runs: [^<]*</h2>", "", s, count=1), flags=re.S)
assert strip(c) == strip(h)
P
"$knee" report "$sweep" --runs "$tmp/a.json" --out "$tmp/s.html" 2> /dev/null || fail "report SWEEP --runs exit $?"
grep -q "Capacity-planning report" "$tmp/s.html" || fail "--runs lost the sweep report"
grep -q "<h2>Measured runs: " "$tmp/s.html" || fail "--runs added no runs section"
"$knee" report "$sweep" --runs "$runs" --out "$tmp/s2.html" 2> /dev/null || fail "report SWEEP --runs CSV exit $?"
cmp -s <(grep -o "<h3>Scaling laws</h3>.*" "$tmp/s.html") <(grep -o "<h3>Scaling laws</h3>.*" "$tmp/s2.html") ||
  fail "--runs CSV and --runs ANALYSIS.json differ"
expect2 "knee report: --runs: expected a sweep result to add the runs to" "$knee" report "$tmp/a.json" --runs "$runs" --out "$tmp/x.html"
$py -c "
import json, sys
a = json.load(open(sys.argv[1])); a['counts'][1]['median'] = 'fast'
json.dump(a, open(sys.argv[2], 'w'))" "$tmp/a.json" "$tmp/bad.json"
expect2 "bad.json: \$.counts[1].median" "$knee" report "$tmp/bad.json" --out "$tmp/x.html"
expect2 "bad.json: \$.counts[1].median" "$knee" report "$sweep" --runs "$tmp/bad.json" --out "$tmp/x.html"
echo ok
