"""knee.simulate on serving scenarios: the same numbers as `knee simulate --json`, a per-request
DataFrame whose columns come from the schema and whose rows add up to the aggregates, bad input."""
import json
import subprocess

import pytest

import knee
from knee import serving


@pytest.fixture(scope="module")
def example(src_dir):
    return src_dir / "examples" / "scenarios" / "llama3-8b-serving-dgx-h200.json"


def test_serving_equals_cli(example, knee_bin):
    r = knee.simulate(str(example))
    assert isinstance(r, knee.ServingResult)
    cli = json.loads(subprocess.run([knee_bin, "simulate", str(example), "--json"], check=True, capture_output=True,
                                    text=True).stdout)
    d = r.to_dict()
    for k in serving.SERVING_KEYS:
        assert d.get(k) == cli.get(k), k
    for k in ("ttft_s", "tpot_s", "itl_s", "e2e_s"):
        assert set(("mean", "p50", "p90", "p99", "p999")) <= set(d[k])


def test_serving_energy_fields(example):
    j = json.loads(example.read_text())
    j["cost"] = {"usd_per_gpu_hour": 2.5}
    j["serving"]["goodput"] = {"runs": 0}
    r = knee.simulate(j)
    fields = {f["key"]: f for f in serving.SERVING_FIELDS}
    assert fields["J_per_output_token"]["unit"] == "J/token"
    assert r.J_per_output_token * r.total_output_tokens == pytest.approx(r.facility_energy_J, rel=1e-12)
    assert r.usd_per_million_output_tokens == pytest.approx(2.5 * r.gpus * r.duration_s / 3600 / r.total_output_tokens
                                                            * 1e6, rel=1e-12)
    assert r.provenance["power_model"].startswith("profile h200 (measured)")


def test_requests_frame(example):
    r = knee.simulate(str(example))
    df = r.requests
    assert list(df.columns) == serving.REQUEST_COLUMNS
    assert len(df) == r.completed
    assert int(df["output_tokens"].sum()) == r.total_output_tokens
    assert int(df["prompt_tokens"].sum()) == r.total_input_tokens
    assert df["ttft_s"].mean() == pytest.approx(r.ttft_s["mean"], rel=1e-12)
    assert (df["e2e_s"] >= df["ttft_s"]).all() and (df["ttft_s"] >= df["queue_s"]).all()


def test_serving_bad_input(example):
    j = json.loads(example.read_text())
    j["serving"]["lengths"]["output_tokens"] = {"kind": "lognormal", "mean": 5, "cv": -1}
    with pytest.raises(knee.InputError, match=r"<dict>: \$\.serving\.lengths\.output_tokens\.cv"):
        knee.simulate(j)
    j = json.loads(example.read_text())
    with pytest.raises(knee.InputError, match="expected none with a serving scenario"):
        knee.simulate(j, force=True)


def test_on_off_arrivals_and_fitted_lengths_as_a_dict(example, tmp_path):
    # On-off arrivals and lengths fitted to a trace, in a scenario dict: the offered rate is the
    # long-run mean R A / (A + B); the empirical lengths are the file's; the result says so.
    trace = tmp_path / "lengths.csv"
    trace.write_text("arrival_s,prompt_tokens,output_tokens\n0,100,7\n1,300,9\n2,700,11\n")
    j = json.loads(example.read_text())
    j["serving"]["arrivals"] = {"kind": "on_off", "rate_per_s": 60, "on_s": 1, "off_s": 2}
    j["serving"]["lengths"] = {"prompt_tokens": {"kind": "fitted", "file": str(trace), "family": "empirical"},
                               "output_tokens": {"kind": "fitted", "file": str(trace), "family": "lognormal"}}
    j["serving"]["requests"] = 300
    j["serving"]["goodput"] = {"runs": 0}
    r = knee.simulate(j)
    assert r.offered_rate_per_s == pytest.approx(20, rel=1e-12)
    assert r.provenance["arrivals"] == "on_off"
    assert set(r.requests["prompt_tokens"]) <= {100, 300, 700}
    assert "output_tokens lognormal fitted by maximum likelihood" in r.provenance["lengths"]
    again = knee.simulate(j)  # seeded
    assert list(again.requests["arrival_s"]) == list(r.requests["arrival_s"])
    j["serving"]["arrivals"]["off_s"] = -1
    with pytest.raises(knee.InputError, match=r"<dict>: \$\.serving\.arrivals\.off_s: expected a finite number > 0"):
        knee.simulate(j)


def test_prefix_caching_as_a_dict(src_dir, knee_bin):
    # The multi-turn example as a dict (its trace's path made absolute): the hit rate is the
    # per-request cached tokens over the prompt tokens, the same as the CLI's; caching off has no
    # prefix_cache and no cached tokens.
    path = src_dir / "examples" / "scenarios" / "llama3-8b-multiturn-serving-dgx-h200.json"
    j = json.loads(path.read_text())
    j["serving"]["arrivals"]["file"] = str(src_dir / "examples" / "traces" / "serving-multiturn-chat.csv")
    j["serving"]["goodput"] = {"runs": 0}
    r = knee.simulate(j)
    df = r.requests
    assert "cached_tokens" in serving.REQUEST_COLUMNS and df["cached_tokens"].dtype == "int64"
    pc = r.prefix_cache
    assert int(df["cached_tokens"].sum()) == pc["cached_prompt_tokens"]
    assert pc["hit_rate"] == pytest.approx(pc["cached_prompt_tokens"] / r.total_input_tokens, rel=1e-12)
    assert pc["prompt_tokens_computed"] == r.total_input_tokens - pc["cached_prompt_tokens"]
    assert 0.5 < pc["hit_rate"] < 1 and (df["cached_tokens"] % 16 == 0).all()
    assert (df["cached_tokens"] < df["prompt_tokens"]).all()
    assert "prefix_cache" in r.to_dict() and r.provenance["router"] == "prefix_aware"
    cli = json.loads(subprocess.run([knee_bin, "simulate", str(path), "--json"], check=True, capture_output=True,
                                    text=True).stdout)
    assert cli["prefix_cache"]["hit_rate"] == pc["hit_rate"]
    j["serving"]["prefix_caching"] = False
    off = knee.simulate(j)
    assert off.prefix_cache is None and "prefix_cache" not in off.to_dict()
    assert int(off.requests["cached_tokens"].sum()) == 0
    assert off.ttft_s["mean"] > r.ttft_s["mean"]
    j["serving"]["prefix_caching"] = "yes"
    with pytest.raises(knee.InputError, match=r"<dict>: \$\.serving\.prefix_caching: expected"):
        knee.simulate(j)


def test_fanout_shared_queue_and_swap_as_a_dict(example, knee_bin, tmp_path):
    # Fan-out groups behind the shared queue, and swap preemption on a small cache: the groups'
    # end-to-end mean is the per-request table's group maxima; swap's counters reach Python as the
    # CLI writes them; without the keys neither block exists.
    j = json.loads(example.read_text())
    j["serving"].update({"replicas": 2, "router": "shared_queue", "max_ongoing": 8, "requests": 400,
                         "goodput": {"runs": 0}, "kv_cache": {"block_tokens": 16, "num_blocks": 600},
                         "preemption": "swap"})
    j["serving"]["arrivals"] = {"kind": "poisson", "rate_per_s": 2, "fanout": 4}
    r = knee.simulate(j)
    df = r.requests
    assert df["group"].dtype == "int64" and df["group"].nunique() == 100
    assert (df.groupby("group").size() == 4).all()
    ends = (df["arrival_s"] + df["e2e_s"]).groupby(df["group"]).max() - df.groupby("group")["arrival_s"].min()
    assert r.groups["fanout"] == 4 and r.groups["count"] == 100
    assert r.groups["e2e_s"]["mean"] == pytest.approx(ends.mean(), rel=1e-9)
    assert r.preemptions > 0 and r.swap["swap_outs"] + r.swap["fallbacks"] == r.preemptions
    path = tmp_path / "s.json"
    path.write_text(json.dumps(j))
    cli = json.loads(subprocess.run([knee_bin, "simulate", str(path), "--json"], check=True, capture_output=True,
                                    text=True).stdout)
    assert cli["swap"] == r.swap and cli["groups"]["count"] == 100
    plain = knee.simulate(str(example))
    assert plain.groups is None and plain.swap is None
    assert "groups" not in plain.to_dict() and "swap" not in plain.to_dict()
