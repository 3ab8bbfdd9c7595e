"""knee.simulate and knee.sweep against `knee simulate --json` and `knee sweep --json` (bit-equal
step times), DoesNotFitError, bad scenarios, and parallel sweeps equal to sequential ones."""
import json
import math
import os
import subprocess

import pandas.testing
import pytest

import knee

SCENARIOS = ["gpt3-175b-1024.json", "llama3-70b-swiglu-gqa.json", "h200-eager-layer-stack.json"]
# Four feasible points (tp 8 pp 8), one infeasible (100 is not a multiple of 64); the threshold
# puts the knee inside the range.
SWEEP_GPUS = [256, 100, 512, 1024, 2048]
SWEEP_THRESHOLD = 0.9


@pytest.fixture(scope="module")
def scenarios(src_dir):
    return src_dir / "examples" / "scenarios"


@pytest.fixture(scope="module")
def study(scenarios):
    return str(scenarios / "gpt-h200-study.json")


def without_wall(d):
    return {k: v for k, v in d.items() if k != "simulated_wall_s"}


@pytest.mark.parametrize("name", SCENARIOS)
def test_simulate_equals_cli(scenarios, knee_bin, name):
    path = str(scenarios / name)
    cli = json.loads(subprocess.run([knee_bin, "simulate", path, "--json"], check=True, capture_output=True,
                                    text=True).stdout)
    r = knee.simulate(path)
    assert r.step_time_s == cli["step_time_s"]  # bit-equal
    assert r.step_time_s > 0 and r.simulated and r.fits
    assert list(r.to_dict()) == list(cli)      # same keys, same order
    assert without_wall(r.to_dict()) == without_wall(cli)
    assert r.breakdown["compute_s"] == cli["breakdown"]["compute_s"]
    assert r.exposed_comm_s == cli["breakdown"]["exposed_comm_s"]
    assert r.memory["per_gpu_bytes"] == cli["memory"]["per_gpu_bytes"]
    assert 0 < r.mfu < 1


def test_simulate_dict_equals_path(scenarios):
    path = scenarios / "llama3-70b-swiglu-gqa.json"
    d = json.loads(path.read_text())
    a, b = knee.simulate(d), knee.simulate(path)
    assert a.scenario == "<dict>" and b.scenario == str(path)
    assert without_wall({**a.to_dict(), "scenario": ""}) == without_wall({**b.to_dict(), "scenario": ""})


def test_simulate_every_rank_equals_cli(tmp_path, knee_bin):
    """every_rank=True is `knee simulate --every-rank`: folded false, flows counted, bit-equal step."""
    d = {"system": "dgx-h100", "nodes": 4, "gpus": 32,
         "model": {"layers": 8, "hidden": 4096, "heads": 32, "seq_len": 2048, "vocab": 51200},
         "parallelism": {"tp": 8, "pp": 2, "dp": 2, "global_batch": 16, "sequence_parallel": True}}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(d))
    cli = json.loads(subprocess.run([knee_bin, "simulate", str(path), "--json", "--every-rank"], check=True,
                                    capture_output=True, text=True).stdout)
    r = knee.simulate(d, every_rank=True)
    assert r.folded is False and r.flows > 0 and r.every_rank["units"] == 4
    assert r.step_time_s == cli["step_time_s"] and r.flows == cli["flows"]
    folded = knee.simulate(d)
    assert folded.folded is True and folded.flows == 0 and folded.every_rank is None
    assert abs(r.step_time_s / folded.step_time_s - 1) < 0.01
    assert r.every_rank["folded_step_time_s"] == folded.step_time_s
    with pytest.raises(knee.InputError, match="every_rank: expected True or False"):
        knee.simulate(d, every_rank="yes")


def oversized():
    """GPT-3 175B on one DGX H100 (8-way tensor parallel only): ~ 350 GB of weights alone."""
    return {"system": "dgx-h100", "gpus": 8,
            "model": {"layers": 96, "hidden": 12288, "heads": 96, "seq_len": 2048, "vocab": 51200},
            "parallelism": {"tp": 8, "pp": 1, "dp": 1, "global_batch": 2}}


def test_does_not_fit_raises_and_force_simulates(tmp_path, knee_bin):
    with pytest.raises(knee.DoesNotFitError) as e:
        knee.simulate(oversized())
    assert not isinstance(e.value, knee.InputError)
    m = e.value.memory
    assert m["fits"] is False and m["per_gpu_bytes"] > m["capacity_bytes"] > 0
    assert "does not fit" in str(e.value) and "force=True" in str(e.value)
    r = knee.simulate(oversized(), force=True)
    assert r.simulated and not r.fits and r.step_time_s > 0
    # The CLI agrees: exit 3 (does not fit), and --force gives the same step.
    p = tmp_path / "big.json"
    p.write_text(json.dumps(oversized()))
    assert subprocess.run([knee_bin, "simulate", str(p)], capture_output=True).returncode == 3
    cli = subprocess.run([knee_bin, "simulate", str(p), "--json", "--force"], capture_output=True, text=True)
    assert cli.returncode == 3  # simulated, but it still does not fit
    assert json.loads(cli.stdout)["step_time_s"] == r.step_time_s


def test_does_not_fit_pickles():
    import pickle
    e = pickle.loads(pickle.dumps(knee.DoesNotFitError("msg", {"fits": False})))
    assert isinstance(e, knee.DoesNotFitError) and e.memory == {"fits": False} and str(e) == "msg"


@pytest.mark.parametrize("edit, key", [
    (lambda d: d["parallelism"].update(tp=3), "$.parallelism"),
    (lambda d: d["model"].update(colour="red"), "$.model.colour"),
    (lambda d: d["model"].pop("layers"), "$.model.layers"),
    (lambda d: d.update(system="no-such-system"), "$.system"),
    (lambda d: d["training"].update(recompute="sometimes"), "$.training.recompute"),
])
def test_bad_scenario_dict_names_the_key(scenarios, edit, key):
    d = json.loads((scenarios / "gpt3-175b-1024.json").read_text())
    edit(d)
    with pytest.raises(knee.InputError) as e:
        knee.simulate(d)
    assert str(e.value).startswith("<dict>: ") and key in str(e.value), str(e.value)
    with pytest.raises(knee.InputError):  # the sweep reads it the same way
        knee.sweep(d, gpus=[1024], processes=2, progress=False)


@pytest.mark.parametrize("call, text", [
    (lambda: knee.simulate(42), "knee.simulate: scenario: expected a file path or a dict"),
    (lambda: knee.simulate("/no/such/scenario.json"), "/no/such/scenario.json: expected a readable JSON file"),
    (lambda: knee.simulate({"system": float("nan")}), "knee.simulate: scenario: expected a JSON-serializable dict"),
    (lambda: knee.simulate({}, force="yes"), "knee.simulate: force: expected True or False"),
])
def test_bad_arguments(call, text):
    with pytest.raises(knee.InputError) as e:
        call()
    assert str(e.value).startswith(text), str(e.value)


# ----------------------------------------------------------------------------------- sweeps

@pytest.fixture(scope="module")
def cli_sweep(knee_bin, study):
    out = subprocess.run([knee_bin, "sweep", study, "--gpus", ",".join(map(str, SWEEP_GPUS)), "--threshold",
                          str(SWEEP_THRESHOLD), "--json"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def sequential(study):
    return knee.sweep(study, gpus=SWEEP_GPUS, threshold=SWEEP_THRESHOLD)


def test_sweep_equals_cli(sequential, cli_sweep):
    df = sequential
    assert without_wall(df.attrs["sweep_json"]) == without_wall(cli_sweep)
    assert list(df["gpus"]) == sorted(SWEEP_GPUS)
    assert len(df) == len(cli_sweep["points"])
    for row, p in zip(df.itertuples(), cli_sweep["points"]):
        assert (row.gpus, row.tp, row.pp, row.dp, row.feasible) == (p["gpus"], p["tp"], p["pp"], p["dp"], p["feasible"])
        if p["feasible"]:
            assert row.step_time_s == p["step_time_s"]  # bit-equal
            assert (row.speedup, row.efficiency, row.mfu) == (p["speedup"], p["efficiency"], p["mfu"])
            assert row.exposed_dp_s == p["breakdown"]["exposed_comm_by_group_s"]["dp"]
            assert row.reason == ""
            # The h200 profile has a power model; the study gives no price.
            assert row.avg_power_per_gpu_W == p["energy"]["avg_power_per_gpu_W"] > 0
            assert row.facility_J_per_token == p["energy"]["facility_J_per_token"] > 0
            assert p["cost"] is None and math.isnan(row.usd_per_million_tokens)
        else:
            assert math.isnan(row.step_time_s) and row.reason == p["reason"] and "divisible" in row.reason
            assert math.isnan(row.facility_J_per_token) and "energy" not in p
    assert df.attrs["knee"] == cli_sweep["knee_gpus"] is not None
    assert df.attrs["knee_cause"] == cli_sweep["knee_cause"] != ""
    assert df.attrs["baseline_gpus"] == 256 and df.attrs["mode"] == "strong"
    assert df.attrs["threshold"] == SWEEP_THRESHOLD
    assert list(df.loc[df["knee"], "gpus"]) == [cli_sweep["knee_gpus"]]
    ok = df[df["feasible"]]
    parts = ok["compute_s"] + ok["exposed_comm_s"] + ok["bubble_s"] + ok["optimizer_s"]
    assert ((parts - ok["step_time_s"]).abs() <= 1e-9 * ok["step_time_s"]).all()  # the breakdown sums to the step


def test_weak_sweep_with_baseline_equals_cli(knee_bin, study):
    args = ["--gpus", "512,1024,2048", "--mode", "weak", "--baseline", "1024"]
    cli = json.loads(subprocess.run([knee_bin, "sweep", study, *args, "--json"], check=True, capture_output=True,
                                    text=True).stdout)
    df = knee.sweep(study, gpus=[2048, 1024, 512], mode="weak", baseline=1024)
    assert without_wall(df.attrs["sweep_json"]) == without_wall(cli)
    assert list(df["global_batch"]) == [768, 1536, 3072]  # grows with dp
    assert df.loc[df["gpus"] == 1024, "efficiency"].item() == 1.0
    par = knee.sweep(study, gpus=[2048, 1024, 512], mode="weak", baseline=1024, processes=2, progress=False)
    assert without_wall(par.attrs["sweep_json"]) == without_wall(cli)


def test_sweep_processes_equal_sequential(sequential, study):
    df = knee.sweep(study, gpus=SWEEP_GPUS, threshold=SWEEP_THRESHOLD, processes=2, progress=False)
    pandas.testing.assert_frame_equal(df, sequential, check_exact=True)
    assert without_wall(df.attrs["sweep_json"]) == without_wall(sequential.attrs["sweep_json"])


def test_sweep_progress_bar_in_process(sequential, study, capsys):
    df = knee.sweep(study, gpus=SWEEP_GPUS, threshold=SWEEP_THRESHOLD, progress=True)
    pandas.testing.assert_frame_equal(df, sequential, check_exact=True)
    assert "knee.sweep" in capsys.readouterr().err


def test_sweep_dask_two_workers_equal_sequential(sequential, study, monkeypatch):
    distributed = pytest.importorskip("distributed")
    monkeypatch.delenv("PYTHONPATH", raising=False)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as c, \
            distributed.Client(c) as client:
        df = knee.sweep(study, gpus=SWEEP_GPUS, threshold=SWEEP_THRESHOLD, client=client, progress=False)
        assert len(client.run(os.getpid)) == 2
    pandas.testing.assert_frame_equal(df, sequential, check_exact=True)
    assert without_wall(df.attrs["sweep_json"]) == without_wall(sequential.attrs["sweep_json"])


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("kwargs, text", [
    (dict(gpus=[512, 1024], mode="sideways"), "sweep: mode: expected one of strong, weak, got 'sideways'"),
    (dict(gpus=[512, 1024], threshold=1.5), "sweep: threshold: expected a number in (0, 1], got 1.5"),
    (dict(gpus=[]), "sweep: gpus: expected at least one GPU count, got none"),
    (dict(gpus=[512, 1024], baseline=256), "sweep: baseline: expected one of the gpus values, got 256"),
    (dict(gpus=[100, 512], baseline=100), "sweep: baseline: expected a feasible point, got 100 GPUs (gpus not "
                                          "divisible by tp x pp x cp (64))"),
    (dict(gpus="many"), "knee.sweep: gpus: expected a list of integers"),
])
def test_sweep_bad_arguments(study, parallel, kwargs, text):
    with pytest.raises(knee.InputError) as e:
        knee.sweep(study, **kwargs, **(dict(processes=2, progress=False) if parallel else {}))
    assert str(e.value) == text or str(e.value).startswith(text), str(e.value)


def test_sweep_without_feasible_points(study):
    df = knee.sweep(study, gpus=[100, 200])
    assert not df["feasible"].any() and df.attrs["baseline_gpus"] == 0 and df.attrs["knee"] is None
    par = knee.sweep(study, gpus=[100, 200], processes=2, progress=False)
    assert without_wall(par.attrs["sweep_json"]) == without_wall(df.attrs["sweep_json"])


def test_gil_released_while_simulating(scenarios):
    import threading
    import time
    big = json.loads((scenarios / "gpt-h200-study.json").read_text())
    big.update(nodes=512)  # 4,096 GPUs: long enough to observe
    big["parallelism"]["dp"] = 64
    t0 = time.perf_counter()
    expected = knee.simulate(big).step_time_s
    assert time.perf_counter() - t0 > 0.1, "the simulation must take long enough to observe"
    # While one thread simulates, this one must keep running Python (with the GIL held it would
    # stall for the whole simulation).
    result, started = {}, threading.Event()

    def work():
        started.set()
        result["r"] = knee.simulate(big)

    th = threading.Thread(target=work)
    th.start()
    started.wait()
    last = t_start = time.perf_counter()
    max_gap = 0.0
    while th.is_alive():
        now = time.perf_counter()
        max_gap, last = max(max_gap, now - last), now
    elapsed = time.perf_counter() - t_start
    th.join()
    assert result["r"].step_time_s == expected
    assert max_gap < 0.5 * elapsed, f"main thread stalled {max_gap:.3f} s of {elapsed:.3f} s"


def test_simulate_writes_the_cli_trace(tmp_path, knee_bin, scenarios):
    scenario = str(scenarios / "gpt3-175b-1024.json")
    knee.simulate(scenario, trace=tmp_path / "py.json", trace_ranks="0,8")
    subprocess.run([knee_bin, "simulate", scenario, "--trace", str(tmp_path / "cli.json"), "--trace-ranks", "0,8"],
                   check=True, capture_output=True)
    py, cli = json.loads((tmp_path / "py.json").read_text()), json.loads((tmp_path / "cli.json").read_text())
    assert py["traceEvents"] == cli["traceEvents"] and len(py["traceEvents"]) > 100
    with pytest.raises(knee.InputError, match="trace_ranks"):
        knee.simulate(scenario, trace=tmp_path / "x.json", trace_ranks="0-999999")
    with pytest.raises(knee.InputError, match="trace_ranks"):
        knee.simulate(scenario, trace_ranks="0")


def test_sweep_with_stragglers_has_their_column_and_bars(study, tmp_path):
    # Per-GPU variation from the profile: straggler_s in the DataFrame equals the simulate result's,
    # the breakdown still sums to the step, and the breakdown plot draws it.
    d = json.loads(open(study).read())
    d["stragglers"] = {"from_profile": True}
    d["seed"] = 1
    df = knee.sweep(d, gpus=[256, 512], mode="weak")
    assert (df["straggler_s"] > 0).all()
    r = knee.simulate({**d, "gpus": 512, "nodes": 64,
                       "parallelism": {**d["parallelism"], "dp": int(df.loc[df.gpus == 512, "dp"].iloc[0]),
                                       "global_batch": int(df.loc[df.gpus == 512, "global_batch"].iloc[0])}})
    assert r.stragglers["gpu_cv_from"] == "profile"
    assert r.breakdown["straggler_s"] == df.loc[df.gpus == 512, "straggler_s"].iloc[0]
    parts = df[["compute_s", "exposed_comm_s", "bubble_s", "optimizer_s", "straggler_s"]].sum(axis=1)
    assert ((parts - df["step_time_s"]).abs() < 1e-9 * df["step_time_s"]).all()
    import matplotlib
    matplotlib.use("Agg")
    ax = knee.plot.breakdown(df)
    assert "stragglers" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_one_schema_for_json_dataclass_csv_and_dataframe(sequential, knee_bin, study):
    """The sweep's DataFrame and `knee sweep --csv` have the same columns in the same order, with
    the same values; the SimulationResult's fields are `knee simulate --json`'s keys (the schema of
    workloads/training/result_schema.hpp, read by both)."""
    import csv
    import dataclasses
    import io
    out = subprocess.run([knee_bin, "sweep", study, "--gpus", ",".join(map(str, SWEEP_GPUS)), "--threshold",
                          str(SWEEP_THRESHOLD), "--csv"], check=True, capture_output=True, text=True).stdout
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == list(sequential.columns)
    assert {"run_days", "run_usd", "goodput"} <= set(rows[0])
    for line, (_, r) in zip(rows[1:], sequential.iterrows()):
        for name, text in zip(rows[0], line):
            v = r[name]
            if isinstance(v, (bool,)) or name in ("feasible", "knee"):
                assert text == ("1" if v else "0"), name
            elif isinstance(v, str):
                assert text == v.replace(",", ";"), name
            elif isinstance(v, float) and math.isnan(v):
                assert text == "", name
            else:  # the CSV prints 6 significant digits
                assert float(text) == pytest.approx(v, rel=5e-6, abs=1e-300), name
    cli = json.loads(subprocess.run([knee_bin, "simulate", study, "--json", "--force"], check=True,
                                    capture_output=True, text=True).stdout)
    fields = [f.name for f in dataclasses.fields(knee.SimulationResult)]
    assert fields == list(cli)  # the CLI adds scenario and simulated_wall_s, as the dataclass does
    assert "step_time_s [s]: simulated time of one training step" in knee.SimulationResult.__doc__


def test_cpu_profile_in_a_gpu_scenario_raises(tmp_path, knee_bin, scenarios):
    """A profile measured on a CPU (knee calibrate --backend cpu) is refused by the scenario reader,
    so knee.simulate raises as the CLI exits 2."""
    subprocess.run([knee_bin, "calibrate", "--backend", "cpu", "--quick", "--out", str(tmp_path / "cpu.json")],
                   check=True, capture_output=True)
    s = json.loads((scenarios / "gpt3-175b-1024.json").read_text())
    s["profile"] = str(tmp_path / "cpu.json")
    with pytest.raises(knee.InputError, match=r"\$\.profile: expected a profile measured on a GPU.*not a GPU"):
        knee.simulate(s)
    s["profile"] = "h100"
    assert knee.simulate(s).step_time_s > 0
