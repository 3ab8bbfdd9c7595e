"""knee.analyze_trace: a synthetic Kineto trace (examples/traces/make_synthetic_kineto.py, its
durations planted at 1.25x, 1.10x and 1.40x the h200 profile's predictions) gives those ratios per
class, the planted counts, DataFrames whose columns are the schema's, the same numbers as `knee
analyze --trace --json`; bad input raises knee.InputError naming the file or argument."""
import importlib.util
import json
import subprocess

import pytest

import knee


@pytest.fixture(scope="module")
def gen(src_dir):
    spec = importlib.util.spec_from_file_location("make_synthetic_kineto",
                                                  src_dir / "examples" / "traces" / "make_synthetic_kineto.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def trace_path(gen, tmp_path_factory):
    path = tmp_path_factory.mktemp("kineto") / "trace.json"
    path.write_text(json.dumps(gen.synthetic_trace(knee.Profile.builtin("h200"))))
    return path


def test_planted_ratios_and_counts(trace_path):
    a = knee.analyze_trace(trace_path, profile="h200")
    assert isinstance(a, knee.TraceAnalysis)
    c = a.classes.set_index("class")
    assert c.loc["gemm", "calls"] == 32 and c.loc["memory", "calls"] == 24 and c.loc["attention", "calls"] == 8
    assert c.loc["nccl", "calls"] == 2 and c.loc["unlinked", "calls"] == 2 and c.loc["not_predicted", "calls"] == 4
    assert c.loc["gemm", "ratio"] == pytest.approx(1.25, abs=1e-9)
    assert c.loc["memory", "ratio"] == pytest.approx(1.10, abs=1e-7)
    assert c.loc["attention", "ratio"] == pytest.approx(1.40, abs=1e-7)
    assert c.loc["nccl", "predicted_total_s"] is None or c.loc["nccl", "predicted_total_s"] != c.loc["nccl", "predicted_total_s"]
    assert a.unlinked == 2 and a.profile == "h200" and len(a.steps) == 2
    assert list(a.steps["name"]) == ["ProfilerStep#10", "ProfilerStep#11"]
    assert 0 < a.predicted_share < 1
    assert 1.10 - 1e-6 <= a.ratio <= 1.40 and a.ratio_p10 <= a.ratio_p50 <= a.ratio_p90
    assert a.ratio_p50 == pytest.approx(1.25, abs=1e-9)  # most of the measured time is GEMMs
    # Columns are the schema's.
    assert list(a.shapes.columns) == [f["key"] for f in knee.kineto.ROW_FIELDS]
    assert list(a.streams.columns) == [f["key"] for f in knee.kineto.STREAM_FIELDS]
    # The default profile follows the trace's device (NVIDIA H200).
    assert knee.analyze_trace(trace_path).profile_basis.startswith("the trace's device")


def test_same_as_cli(knee_bin, trace_path):
    out = subprocess.run([knee_bin, "analyze", "--trace", str(trace_path), "--profile", "h200", "--json"], check=True,
                         capture_output=True, text=True)
    py, cli = knee.analyze_trace(trace_path, profile="h200").to_dict(), json.loads(out.stdout)
    assert (py.pop("profile_basis"), cli.pop("profile_basis")) == ("profile=", "--profile")
    assert py == cli


def test_bad_input(tmp_path, trace_path):
    with pytest.raises(knee.InputError, match="no-such.json"):
        knee.analyze_trace(tmp_path / "no-such.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"traceEvents": [')
    with pytest.raises(knee.InputError, match="bad.json"):
        knee.analyze_trace(bad)
    bad.write_text('{"traceEvents": [{"ph": "X", "cat": "kernel", "name": "k", "ts": 1, "dur": -2}]}')
    with pytest.raises(knee.InputError, match=r"traceEvents\[0\]\.dur"):
        knee.analyze_trace(bad)
    with pytest.raises(knee.InputError, match="profile 'nope'"):
        knee.analyze_trace(trace_path, profile="nope")
    with pytest.raises(knee.InputError, match="top"):
        knee.analyze_trace(trace_path, top=-1)
    with pytest.raises(knee.InputError, match="path"):
        knee.analyze_trace(42)
