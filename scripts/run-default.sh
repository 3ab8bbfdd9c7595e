#!/usr/bin/env bash
# `make run`: the default study on shipped data. A GPT-class model (examples/scenarios/
# gpt-h200-study.json) on DGX H200 servers from 8 to 16,384 GPUs, strong and weak scaling, with
# the shipped h200 profile (fitted from real H200 measurements): where does the curve bend, and why?
set -euo pipefail
build=${1:-build}
knee=$build/knee
scenario=examples/scenarios/gpt-h200-study.json
gpus=8,16,32,64,128,256,512,1024,2048,4096,8192,16384
for mode in strong weak; do
  echo
  "$knee" sweep "$scenario" --gpus "$gpus" --mode "$mode"
done
"$knee" sweep "$scenario" --gpus "$gpus" --mode strong --json >"$build/default-study-strong.json"
"$knee" report "$build/default-study-strong.json" --out "$build/default-study-strong.html" \
  --question "Where does strong scaling of a GPT-class model on DGX H200 bend between 8 and 16,384 GPUs, and which cost grows?"
echo
echo "The strong-scaling report: $build/default-study-strong.html (self-contained HTML)."
echo "One step of GPT-3 175B on 1,024 H100s, broken down: $knee simulate examples/scenarios/gpt3-175b-1024.json"
