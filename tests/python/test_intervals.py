"""Intervals on predictions from Python equal the CLI's: knee.simulate's .intervals (8 draws by
default, as `knee simulate`), knee.sweep(samples=N)'s _lo/_hi columns and knee distribution (as
`knee sweep --samples N --json`), and bad samples raise knee.InputError."""
import json
import subprocess

import pytest

import knee


@pytest.fixture(scope="module")
def path(src_dir):
    return str(src_dir / "examples" / "scenarios" / "gpt-h200-study.json")


def test_simulate_intervals_equal_cli(knee_bin, path):
    cli = json.loads(subprocess.run([knee_bin, "simulate", path, "--json"], check=True, capture_output=True,
                                    text=True).stdout)
    r = knee.simulate(path)
    assert r.intervals == cli["intervals"]
    assert r.intervals["samples"] == 8
    lo, hi = r.intervals["step_time_s"]
    assert lo < r.step_time_s < hi
    assert knee.simulate(path, samples=0).intervals is None
    assert knee.simulate(path, samples=3).intervals["samples"] == 3


def test_sweep_interval_columns_equal_cli(knee_bin, path):
    cli = json.loads(subprocess.run([knee_bin, "sweep", path, "--gpus", "512,1024", "--samples", "3", "--json"],
                                    check=True, capture_output=True, text=True).stdout)
    df = knee.sweep(path, gpus=[512, 1024], samples=3)
    for (_, row), p in zip(df.iterrows(), cli["points"]):
        assert [row["step_time_s_lo"], row["step_time_s_hi"]] == p["intervals"]["step_time_s"]
        assert [row["efficiency_lo"], row["efficiency_hi"]] == p["intervals"]["efficiency"]
    assert df.attrs["knee_distribution"] == cli["knee_distribution"]
    assert knee.sweep(path, gpus=[512, 1024])["step_time_s_lo"].isna().all()


def test_bad_samples_raise(path):
    with pytest.raises(knee.InputError, match="samples: expected 0"):
        knee.simulate(path, samples=1)
    with pytest.raises(knee.InputError, match="samples: expected 0"):
        knee.sweep(path, gpus=[512], samples=1)


def test_simulate_seeds_equal_cli(knee_bin, path, tmp_path):
    """seeds=N is `knee simulate --seeds N`: straggler seeds only; it needs stragglers."""
    with open(path) as f:
        j = json.load(f)
    j["stragglers"] = {"gpu_cv": 0.05}
    p = tmp_path / "st.json"
    p.write_text(json.dumps(j))
    cli = json.loads(subprocess.run([knee_bin, "simulate", str(p), "--seeds", "3", "--json"], check=True,
                                    capture_output=True, text=True).stdout)
    r = knee.simulate(str(p), seeds=3)
    assert r.intervals == cli["intervals"] and r.intervals["samples"] == 3
    assert r.intervals["sources"] == ["straggler seeds (seed + 1 + draw)"]
    with pytest.raises(knee.InputError, match=r"\$\.stragglers: expected a straggler model"):
        knee.simulate(path, seeds=3)
    with pytest.raises(knee.InputError, match="seeds: expected it without samples"):
        knee.simulate(str(p), seeds=3, samples=4)
    with pytest.raises(knee.InputError, match="seeds: expected an integer >= 2"):
        knee.simulate(str(p), seeds=1)
