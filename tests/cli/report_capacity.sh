#!/bin/bash
# knee report on knee capacity --json: the answer (fewest GPUs, its layout and figures as the JSON
# has them), the serving knee with its cause, every layout tried with the answer's row marked, two
# charts; bad input exits 2 with one line naming the file and the JSON path.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

sc="$src/examples/scenarios/llama3-8b-serving-dgx-h200.json"
"$knee" capacity "$sc" --rate 40 --max-rate --json > "$tmp/c.json" || fail "capacity exit $?"
"$knee" report "$tmp/c.json" --out "$tmp/c.html" 2> "$tmp/err" || fail "report exit $?: $(cat $tmp/err)"
$py - "$tmp/c.json" "$tmp/c.html" <<'P' || fail "the capacity report does not show the result"
import json, re, sys
c = json.load(open(sys.argv[1]))
h = open(sys.argv[2]).read()
b, m = c["best"], c["max_rate"]
assert h.count("<svg") == 2, h.count("<svg")
assert f"<b>{b['gpus']} GPU" in h, b
assert f"p99 TTFT {1e3 * b['ttft_p99_s']:.3g} ms" in h
assert f"<b>{m['max_rate_rps']:.4g} requests/s</b>" in h and f"<b>{m['cause']}</b>" in h
rows = re.findall(r"<tr( class=\"(knee|bad)\")?><td>(\d+)</td>", h)
assert len(rows) == len(c["candidates"]["gpus"]), rows
marked = [i for i, r in enumerate(rows) if r[1] == "knee"]
assert len(marked) == 1, rows
i = marked[0]
cand = c["candidates"]
assert cand["gpus"][i] == b["gpus"] and cand["tp"][i] == b["tp"] and cand["replicas"][i] == b["replicas"]
assert [r[1] == "bad" for j, r in enumerate(rows) if j != i] == [not cand["meets_slo"][j] for j in range(len(rows)) if j != i]
P
$py -c "
import json, sys
c = json.load(open(sys.argv[1])); c['candidates']['tp'] = c['candidates']['tp'][:-1]
json.dump(c, open(sys.argv[2], 'w'))" "$tmp/c.json" "$tmp/bad.json"
expect2 "bad.json: \$.candidates.tp: expected a list of" "$knee" report "$tmp/bad.json" --out "$tmp/x.html"
expect2 "knee report: --runs: expected a sweep with it, got a capacity result" "$knee" report "$tmp/c.json" --runs "$src/examples/runs/synthetic-strong.csv" --out "$tmp/x.html"
echo ok
