#!/usr/bin/env bash
# `make run`: the default study on shipped data. A GPT-class model (examples/scenarios/
# gpt-h200-study.json) on DGX H200 servers from 8 to 16,384 GPUs, strong and weak scaling, with
# the shipped h200 profile (fitted from real H200 measurements): where does the curve bend, and why?
# Prints the answer first (from the strong sweep's JSON), then the strong and weak tables, then
# where the report is: about 40 lines.
set -euo pipefail
build=${1:-build}
knee=$build/knee
python=${PYTHON:-/usr/bin/python3}
scenario=examples/scenarios/gpt-h200-study.json
gpus=8,16,32,64,128,256,512,1024,2048,4096,8192,16384
json=$build/default-study-strong.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The three sweeps are independent and single-threaded: run them side by side.
"$knee" sweep "$scenario" --gpus "$gpus" --mode strong --json >"$json" 2>"$tmp/json.err" & p_json=$!
"$knee" sweep "$scenario" --gpus "$gpus" --mode strong >"$tmp/strong" 2>&1 & p_strong=$!
"$knee" sweep "$scenario" --gpus "$gpus" --mode weak >"$tmp/weak" 2>&1 & p_weak=$!
status=0
wait $p_json || { cat "$tmp/json.err" >&2; status=1; }
wait $p_strong || { cat "$tmp/strong" >&2; status=1; }
wait $p_weak || { cat "$tmp/weak" >&2; status=1; }
[ $status -eq 0 ] || { echo "knee: the default study failed (above)" >&2; exit 1; }

# The answer: where strong scaling bends, the efficiency there, and the cost that grew.
"$python" - "$json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
pts = [p for p in d["points"] if p.get("feasible")]
base, thr, k = d["baseline_gpus"], d["threshold"], d.get("knee_gpus")
if not pts:
    print("No GPU count of the sweep fits in memory: no scaling curve (see the table).")
elif k is None:
    last = pts[-1]
    print(f"Strong scaling does not bend: efficiency stays >= {thr:.2f} up to {last['gpus']} GPUs "
          f"({last['efficiency']:.3f} there, against {base} GPUs).")
else:
    p = next(p for p in pts if p["gpus"] == k)
    print(f"Strong scaling bends at {k} GPUs (TP{p['tp']} PP{p['pp']} DP{p['dp']}): efficiency "
          f"{p['efficiency']:.3f} against {base} GPUs, below {thr:.2f}; why: {d['knee_cause']}.")
    last = pts[-1]
    if last["gpus"] > k:
        print(f"Past it, {last['gpus'] // k}x the GPUs ({k} to {last['gpus']}) buy "
              f"{last['tokens_per_s'] / p['tokens_per_s']:.1f}x the tokens/s; efficiency at {last['gpus']}: "
              f"{last['efficiency']:.3f}. Simulated with the {d['provenance']['profile']} profile, not measured.")
EOF

# The tables as knee prints them, less the wall-time line of each (and the weak one's title and
# column notes, the same as the strong one's).
echo
grep -v '^# [0-9]* points simulated in ' "$tmp/strong"
echo
grep -v -e '^# [0-9]* points simulated in ' -e '^# knee sweep ' -e '^# batch: ' -e '^#   ' "$tmp/weak"

"$knee" report "$json" --out "$build/default-study-strong.html" \
  --question "Where does strong scaling of a GPT-class model on DGX H200 bend between 8 and 16,384 GPUs, and which cost grows?" \
  >"$tmp/report" 2>&1 || { cat "$tmp/report" >&2; exit 1; }
echo
echo "The strong-scaling report: $build/default-study-strong.html (self-contained HTML; data: $json)."
echo "One step of GPT-3 175B on 1,024 H100s, broken down: $knee simulate examples/scenarios/gpt3-175b-1024.json"
