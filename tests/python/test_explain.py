"""knee.explain against `knee explain --json`: the DataFrame's rows equal the CLI's rows value by
value, its attrs hold the baseline, and bad input raises knee.InputError."""
import json
import subprocess

import pytest

import knee

SCENARIO = "gpt3-175b-1024.json"


@pytest.fixture(scope="module")
def path(src_dir):
    return str(src_dir / "examples" / "scenarios" / SCENARIO)


@pytest.fixture(scope="module")
def cli(knee_bin, path):
    out = subprocess.run([knee_bin, "explain", path, "--json"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def test_rows_equal_cli(path, cli):
    df = knee.explain(path)
    assert list(df.columns) == knee.workload.EXPLAIN_COLUMNS
    assert len(df) == len(cli["rows"]) >= 3
    for (_, row), want in zip(df.iterrows(), cli["rows"]):
        assert list(want) == list(df.columns)
        for k in df.columns:
            assert row[k] == want[k], k  # bit for bit, strings equal
    assert df.attrs["step_time_s"] == cli["step_time_s"]
    assert df.attrs["fits"] is True
    assert df.attrs["baseline"]["step_time_s"] == knee.simulate(path).step_time_s
    assert df.attrs["reading"] == cli["reading"]
    assert df.attrs["scenario"] == path


def test_dict_equals_path(path):
    with open(path) as f:
        d = json.load(f)
    a, b = knee.explain(d), knee.explain(path)
    assert a.attrs["scenario"] == "<dict>"
    assert a.equals(b)


def test_rows_that_do_not_apply_are_absent(path):
    with open(path) as f:
        d = json.load(f)
    d.update(nodes=1, gpus=8)
    d["parallelism"].update(pp=1, dp=1, global_batch=8)
    d["model"]["layers"] = 4
    ids = list(knee.explain(d)["id"])
    assert "dp_overlap" not in ids and "traffic_contention" not in ids
    assert "launch_gaps" in ids


def test_bad_input_raises():
    with pytest.raises(knee.InputError, match=r"\$\.model"):
        knee.explain({"system": "dgx-h100", "gpus": 1, "model": {"colour": 1}, "parallelism": {"global_batch": 1}})
    with pytest.raises(knee.InputError, match="no-such.json"):
        knee.explain("no-such.json")
