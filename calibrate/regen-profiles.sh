#!/usr/bin/env bash
# Regenerates the shipped profiles: h200 fitted from the measured data in calibrate/data, the
# others derived from it by the ratios of the built-in datasheets (profile/datasheets/*.json).
# Usage: calibrate/regen-profiles.sh [path/to/knee] (default build/knee). Rebuild knee afterwards:
# the profiles are embedded in the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
knee=${1:-build/knee}
d=calibrate/data/h200-2026-11-27
"$knee" fit $d/micro.json $d/run2/micro.json --name h200 --out profile/shipped/h200.json
for g in h100 a100 b200; do
  "$knee" fit --derive $g profile/shipped/h200.json --name $g --out profile/shipped/$g.json
done
echo "regenerated profile/shipped/{h200,h100,a100,b200}.json"
