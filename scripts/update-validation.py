#!/usr/bin/env python3
"""Re-simulates every validation row (tests/validation/*.json tables) and rewrites the values
recorded beside them: simulated_tflops_per_gpu and simulated_with_variability_tflops_per_gpu.
Run after a change that moves the model on purpose, then update docs/validation.md from the
printed table; the validation tests fail until the recorded values equal what the model gives.

usage: PYTHONPATH=build/python /usr/bin/python3 scripts/update-validation.py [--check] [--budget]
  --check: print the table and exit 1 if a recorded value differs by more than 0.05, writing nothing
  --budget: also print each row's error budget (knee.explain: the step's change, in % of the step,
            with one mechanism off) as a markdown table for docs/validation.md
"""
import json
import os
import sys

import knee

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLES = ["narayanan-sc21.json", "llama3-405b.json"]


def tflops(path, variability):
    with open(path) as f:
        scenario = json.load(f)
    if variability:
        scenario["stragglers"] = {"from_profile": True}
    return knee.simulate(scenario, force=True).tflops_per_gpu


def budget_table(rows):
    """Markdown: one line per row, the mechanisms that apply and their delta_pct, largest first."""
    lines = ["| row | step (s) | mechanism off: change of the step |", "|---|---|---|"]
    for name, path in rows:
        with open(path) as f:
            scenario = json.load(f)
        df = knee.explain(scenario)
        parts = [f"{r.id} {r.delta_pct:+.2f}%" for r in df.itertuples() if abs(r.delta_pct) >= 0.005]
        lines.append(f"| {name} | {df.attrs['step_time_s']:.3f} | {', '.join(parts) or 'none above 0.005%'} |")
    return "\n".join(lines)


def main():
    check = "--check" in sys.argv[1:]
    budget_rows = []
    stale = False
    for table in TABLES:
        path = os.path.join(ROOT, "tests", "validation", table)
        with open(path) as f:
            doc = json.load(f)
        errors = []
        print(f"# {table}")
        for row in doc["rows"]:
            scen = os.path.join(ROOT, "tests", "validation", row["file"])
            budget_rows.append((row["name"], scen))
            now = round(tflops(scen, False), 2)
            var = round(tflops(scen, True), 2)
            pub = row["published_tflops_per_gpu"]
            err = (now - pub) / pub
            errors.append(abs(err))
            for key, value in (("simulated_tflops_per_gpu", now), ("simulated_with_variability_tflops_per_gpu", var)):
                if abs(row.get(key, float("nan")) - value) > 0.05 or key not in row:
                    stale = True
                row[key] = value
            print(f"{row['name']:32s} published {pub:6.1f} knee {now:7.2f} ({100 * err:+5.1f}%) "
                  f"with variability {var:7.2f} ({100 * (var - pub) / pub:+5.1f}%)")
        print(f"  mean |error| {100 * sum(errors) / len(errors):.1f}%, largest {100 * max(errors):.1f}%")
        if not check:
            with open(path, "w") as f:
                json.dump(doc, f, indent=1, ensure_ascii=False)
                f.write("\n")
    if "--budget" in sys.argv[1:]:
        print(budget_table(budget_rows))
    if check and stale:
        print("recorded values differ from the model", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
