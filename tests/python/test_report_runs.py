"""knee.report with measured runs: a knee.RunAnalysis alone gives the measured-runs report (the same
tables as `knee report ANALYSIS.json`), and runs= adds that section to a sweep's report; bad input
raises knee.InputError."""
import json
import re
import subprocess

import pytest

import knee

RUNS = "examples/runs/synthetic-strong.csv"


def _tables(html):
    """The runs section without its heading's source and the reproducibility footer."""
    body = re.sub(r"<h2>Measured runs: [^<]*</h2>", "", html, count=1)
    return re.sub(r"<h2>Reproducibility</h2>.*", "", body, flags=re.S)


def test_runs_report_alone_matches_the_cli(src_dir, knee_bin, tmp_path):
    a = knee.analyze(src_dir / RUNS)
    html = knee.report(a, out=None)
    assert html.count("<svg") == 2 and "strong scaling" in html
    out = tmp_path / "r.html"
    subprocess.run([str(knee_bin), "report", str(src_dir / RUNS), "--out", str(out)], check=True,
                   stderr=subprocess.DEVNULL)
    assert _tables(out.read_text()) == _tables(html)


def test_runs_section_in_a_sweep_report(src_dir):
    sweep = json.loads((src_dir / "tests" / "data" / "sweep-sample.json").read_text())
    plain = knee.report(sweep, out=None)
    with_runs = knee.report(sweep, out=None, runs=src_dir / RUNS)
    assert "<h2>Measured runs: " not in plain and "<h2>Measured runs: " in with_runs
    assert with_runs.count("<svg") == plain.count("<svg") + 2
    assert knee.report(sweep, out=None, runs=knee.analyze(src_dir / RUNS)).count("<h3>Scaling laws</h3>") == 1


def test_bad_runs(src_dir):
    a = knee.analyze(src_dir / RUNS)
    with pytest.raises(knee.InputError, match="expected a sweep to add the runs to"):
        knee.report(a, out=None, runs=a)
    bad = a.to_dict()
    bad = json.loads(json.dumps(bad))
    bad["counts"][0]["median"] = "fast"
    with pytest.raises(knee.InputError, match=r"\$\.counts\[0\]\.median"):
        knee.report(bad, out=None)
