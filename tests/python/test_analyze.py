"""knee.analyze against `knee analyze --json`: the DataFrames' rows equal the CLI's rows value by
value, columns come from the schema, a DataFrame or records give what the file gives, and bad input
raises knee.InputError naming the row and field."""
import importlib
import json
import math
import subprocess

import pandas as pd
import pytest

import knee

EXAMPLE = "synthetic-strong.csv"


@pytest.fixture(scope="module")
def path(src_dir):
    return str(src_dir / "examples" / "runs" / EXAMPLE)


@pytest.fixture(scope="module")
def cli(knee_bin, path):
    out = subprocess.run([knee_bin, "analyze", path, "--json"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def same(a, b):
    if isinstance(a, float) and math.isnan(a):
        return b is None
    return a == b


def test_frames_equal_cli(path, cli):
    a = knee.analyze(path)
    assert list(a.counts.columns) == importlib.import_module("knee.analyze").COUNT_COLUMNS
    for table in ("counts", "fits", "predictions"):
        df = getattr(a, table)
        assert len(df) == len(cli[table]) > 0
        for (_, row), want in zip(df.iterrows(), cli[table]):
            assert list(want) == list(df.columns)
            for k in df.columns:
                assert same(row[k], want[k]), (table, k, row[k], want[k])
    assert a.mode == "strong" and a.baseline_gpus == 8 and a.notes == cli["notes"]
    assert a.to_dict() == cli


def test_columns_from_schema():
    mod = importlib.import_module("knee.analyze")
    assert [f["key"] for f in mod.COUNT_FIELDS][:3] == ["gpus", "runs", "iterations"]
    assert {"speedup_lo", "efficiency_hi", "warmup_dropped", "outlier_iterations"} <= set(mod.COUNT_COLUMNS)
    assert {"serial_fraction", "sigma", "kappa", "knee_gpus"} <= set(mod.FIT_COLUMNS)


def test_dataframe_and_records_equal_the_file(path):
    a = knee.analyze(path)
    df = pd.read_csv(path, comment="#")
    b = knee.analyze(df)
    c = knee.analyze(df.to_dict("records"))
    for other in (b, c):
        pd.testing.assert_frame_equal(a.counts, other.counts)
        pd.testing.assert_frame_equal(a.fits, other.fits)
    assert b.source == "<dataframe>" and c.source == "<records>"


def test_bad_input_raises():
    with pytest.raises(knee.InputError, match=r"row 2, step_time_s|\$\[1\]\.step_time_s"):
        knee.analyze([{"gpus": 8, "step_time_s": 1.0}, {"gpus": 8, "step_time_s": -1.0}])
    with pytest.raises(knee.InputError, match="expected a key step_time_s"):
        knee.analyze([{"gpus": 8, "time": 1.0}])
    with pytest.raises(knee.InputError, match="precision"):
        knee.analyze([{"gpus": 8, "step_time_s": 1.0}, {"gpus": 8, "step_time_s": 1.1}], precision=2)
    with pytest.raises(knee.InputError, match="baseline"):
        knee.analyze([{"gpus": 8, "step_time_s": 1.0}, {"gpus": 8, "step_time_s": 1.1}], baseline=4)
    with pytest.raises(knee.InputError, match="nope.csv"):
        knee.analyze("nope.csv")


def test_scenario_overlay_equals_cli(knee_bin, path, tmp_path):
    s = {"system": "dgx-h100", "nodes": 2, "gpus": 16,
         "model": {"layers": 8, "hidden": 2048, "heads": 16, "seq_len": 2048, "vocab": 32000},
         "parallelism": {"tp": 2, "pp": 4, "dp": 2, "micro_batch": 1, "global_batch": 16}}
    f = tmp_path / "s.json"
    f.write_text(json.dumps(s))
    cli = json.loads(subprocess.run([knee_bin, "analyze", path, "--scenario", str(f), "--samples", "3", "--json"],
                                    check=True, capture_output=True, text=True).stdout)
    a = knee.analyze(path, scenario=str(f), samples=3)
    assert a.simulated == cli["simulated"]
    assert [p["gpus"] for p in a.simulated["points"]][:4] == [8, 16, 32, 64]
    assert knee.analyze(path).simulated is None
    with pytest.raises(knee.InputError, match="samples: expected 0"):
        knee.analyze(path, scenario=s, samples=1)
