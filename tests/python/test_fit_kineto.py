"""knee.fit_kineto: a synthetic Kineto trace (durations planted at 1.25x, 1.10x and 1.40x the h200
profile's predictions) refits h200 so that the same trace analysed against the new profile gives
ratio 1 per class, and GEMM shapes the trace never ran come out 1.25x slower; the same profile as
`knee fit --kineto`; bad input raises knee.InputError."""
import json
import subprocess

import pytest

import knee

TRACE = "examples/traces/synthetic-kineto-step.json"


def test_refit_gives_the_trace_back(src_dir, tmp_path):
    trace = src_dir / TRACE
    p = knee.fit_kineto(trace, profile="h200")
    assert p["name"] == "h200-kineto"
    prof = knee.Profile(p)
    assert prof.parameters_state == "unedited"
    path = tmp_path / "refit.json"
    path.write_text(json.dumps(p))
    c = knee.analyze_trace(trace, profile=str(path)).classes.set_index("class")
    assert c.loc["gemm", "ratio"] == pytest.approx(1, abs=1e-6)
    assert c.loc["attention", "ratio"] == pytest.approx(1, abs=1e-6)
    assert c.loc["memory", "ratio"] == pytest.approx(1, abs=0.01)
    base = knee.Profile.builtin("h200")
    # A square base sample the trace never ran: scaled by the table's r.
    assert prof.gemm_time_s(4096, 4096, 4096) == pytest.approx(1.25 * base.gemm_time_s(4096, 4096, 4096), rel=1e-6)


def test_same_as_the_cli(src_dir, knee_bin, tmp_path):
    out = tmp_path / "p.json"
    subprocess.run([str(knee_bin), "fit", "--kineto", str(src_dir / TRACE), "--profile", "h100", "--name", "x",
                    "--out", str(out)], check=True)
    cli = json.loads(out.read_text())
    py = knee.fit_kineto(src_dir / TRACE, profile=knee.Profile.builtin("h100"), name="x")
    for k in ("compute", "memory", "attention"):
        assert py[k] == cli[k], k


def test_bad_input(tmp_path):
    with pytest.raises(knee.InputError, match="missing.json"):
        knee.fit_kineto(tmp_path / "missing.json")
    empty = tmp_path / "empty.json"
    empty.write_text('{"traceEvents": []}')
    with pytest.raises(knee.InputError, match="expected GEMM, memory-bound or fused-attention calls"):
        knee.fit_kineto(empty)
    with pytest.raises(knee.InputError, match="knee.fit_kineto: name"):
        knee.fit_kineto(empty, name=3)
