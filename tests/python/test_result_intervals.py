"""Intervals on serving and collective results (docs/uncertainty.md, "Serving" and "Collectives"):
knee.simulate(seeds=/samples=) on a serving scenario and knee.collective(samples=) as the CLI gives
them, the interval around the point, bit-identical repeats, _lo/_hi columns, bad input."""
import json
import subprocess

import pytest

import knee


@pytest.fixture(scope="module")
def small(src_dir):
    """The 8B example cut to 300 requests without the goodput search (quick)."""
    j = json.loads((src_dir / "examples" / "scenarios" / "llama3-8b-serving-dgx-h200.json").read_text())
    j["serving"]["requests"] = 300
    j["serving"]["goodput"] = {"runs": 0}
    return j


def test_serving_no_intervals_by_default(small):
    r = knee.simulate(small)
    assert r.intervals is None
    assert "intervals" not in r.to_dict()
    h = r.headline()
    assert h["throughput_tokens_per_s"][0] == r.throughput_tokens_per_s
    assert h["throughput_tokens_per_s_lo"].isna().all()


def test_serving_seeds_match_cli_and_repeat(small, tmp_path, knee_bin):
    r = knee.simulate(small, seeds=4)
    iv = r.intervals
    assert iv["samples"] == 4 and iv["varied"] == "request seeds"
    lo, hi = iv["throughput_tokens_per_s"]
    assert lo <= r.throughput_tokens_per_s <= hi and lo < hi
    lo, hi = iv["ttft_s"]["p99"]
    assert lo <= r.ttft_s["p99"] <= hi
    assert knee.simulate(small, seeds=4).intervals == iv  # bit-identical
    path = tmp_path / "s.json"
    path.write_text(json.dumps(small))
    cli = json.loads(subprocess.run([knee_bin, "simulate", str(path), "--seeds", "4", "--json"], check=True,
                                    capture_output=True, text=True).stdout)
    assert cli["intervals"] == iv
    h = r.headline()
    for c, p in [("throughput_tokens_per_s", "/throughput_tokens_per_s"), ("ttft_s_p99", "/ttft_s/p99"),
                 ("tpot_s_mean", "/tpot_s/mean"), ("e2e_s_p50", "/e2e_s/p50")]:
        assert [h[c + "_lo"][0], h[c + "_hi"][0]] == knee.serving._at(iv, p)
        assert h[c + "_lo"][0] <= h[c][0] <= h[c + "_hi"][0]
    text = subprocess.run([knee_bin, "simulate", str(path), "--seeds", "4"], check=True, capture_output=True,
                          text=True).stdout
    assert "over 4 request seeds" in text
    line = next(x for x in text.splitlines() if x.startswith("Total Token throughput"))
    assert f"({iv['throughput_tokens_per_s'][0]:.2f}-{iv['throughput_tokens_per_s'][1]:.2f})" in line


def test_serving_samples(small):
    r = knee.simulate(small, samples=3)
    assert r.intervals["varied"] == "profile draws"
    lo, hi = r.intervals["tpot_s"]["mean"]
    assert lo <= r.tpot_s["mean"] <= hi and lo < hi


def test_serving_bad_input(small):
    for kw, msg in [(dict(seeds=1), "knee.simulate: seeds: expected an integer >= 2, got 1"),
                    (dict(seeds=0), "knee.simulate: seeds: expected an integer >= 2, got 0"),
                    (dict(samples=1), r"knee.simulate: samples: expected 0 \(no intervals\) or an integer >= 2, got 1"),
                    (dict(seeds=2.5), "knee.simulate: seeds: expected an integer, got 2.5"),
                    (dict(seeds=2, samples=2), "knee.simulate: seeds: expected it without samples")]:
        with pytest.raises(knee.InputError, match=msg):
            knee.simulate(small, **kw)


@pytest.mark.parametrize("args, msg", [
    (["--seeds", "0"], "knee simulate: --seeds: expected an integer >= 2 and <= 10000, got '0'"),
    (["--samples", "1"], "knee simulate: --samples: expected 0 (no intervals) or an integer >= 2, got 1"),
    (["--seeds", "x"], "knee simulate: --seeds: expected an integer >= 2 and <= 10000, got 'x'"),
])
def test_serving_cli_bad_input(small, tmp_path, knee_bin, args, msg):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(small))
    p = subprocess.run([knee_bin, "simulate", str(path), *args], capture_output=True, text=True)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [msg]


def test_collective_samples_on_datasheet_links_collapse(knee_bin):
    r = knee.collective("allreduce", "64MiB", system="dgx-h100", nodes=2, samples=4)
    assert r.intervals["time_s"] == [r.time_s, r.time_s]
    assert r.intervals["busbw_GBps"] == [r.busbw_GBps, r.busbw_GBps]
    assert knee.collective("allreduce", "64MiB", system="dgx-h100", nodes=2).intervals is None
    cli = json.loads(subprocess.run([knee_bin, "collective", "--system", "dgx-h100", "--nodes", "2", "--bytes",
                                     "64MiB", "--samples", "4", "--json"], check=True, capture_output=True,
                                    text=True).stdout)
    assert cli["intervals"] == r.intervals


def test_collective_samples_with_a_measured_link(tmp_path):
    j = knee.Profile.builtin("h200").to_dict()
    beta = j["links"]["network"]["beta_s_per_byte"]
    beta["provenance"] = "measured"
    beta["ci95"] = [0.9 * beta["value"], 1.1 * beta["value"]]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(j))
    r = knee.collective("allreduce", "256MiB", system="dgx-h200", nodes=2, samples=4, profile=str(path))
    lo, hi = r.intervals["time_s"]
    assert lo <= r.time_s <= hi and lo < hi
    df = knee.collective_sweep("allreduce", ["1MiB", "256MiB"], system="dgx-h200", nodes=2, samples=4,
                               profile=str(path))
    assert {"time_us_lo", "time_us_hi", "busbw_GBps_lo", "busbw_GBps_hi"} <= set(df.columns)
    assert (df["time_us_lo"] <= df["time_us"]).all() and (df["time_us"] <= df["time_us_hi"]).all()


def test_collective_bad_samples():
    with pytest.raises(knee.InputError, match=r"knee.collective: samples: expected 0 \(no intervals\)"):
        knee.collective("allreduce", "1MiB", system="dgx-h100", nodes=1, samples=1)
