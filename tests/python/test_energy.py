"""Energy and cost of a step (the scenario key "cost", the profile's power model) through knee:
SimulationResult.energy / .cost against `knee simulate --json`, the sweep DataFrame's energy and
cost columns against `knee sweep --json`, knee.plot.cost_energy, and the report's J/token column
and chart (present with energy, the report as before without)."""
import json
import math
import re
import subprocess

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import knee  # noqa: E402

COST = {"usd_per_gpu_hour": 2.5, "usd_per_kWh": 0.12, "pue": 1.3, "other_W_per_gpu": 150, "train_tokens": 3e11}
GPUS = [256, 512, 1024]


def study(src_dir, **edits):
    d = json.loads((src_dir / "examples" / "scenarios" / "gpt-h200-study.json").read_text())
    d.update(edits)
    return d


@pytest.fixture(scope="module")
def no_power_profile(src_dir, tmp_path_factory):
    """The h200 profile without a power model (as `knee fit` writes one without power samples)."""
    prof = json.loads((src_dir / "profile" / "shipped" / "h200.json").read_text())
    prof["power"] = {"note": "not measured"}
    p = tmp_path_factory.mktemp("profile") / "h200-no-power.json"
    p.write_text(json.dumps(prof))
    return str(p)


def cli(knee_bin, tmp_path, scenario, *args):
    p = tmp_path / "scenario.json"
    p.write_text(json.dumps(scenario))
    out = subprocess.run([knee_bin, *args[:1], str(p), *args[1:], "--json"], capture_output=True, text=True, check=True)
    return p, json.loads(out.stdout)


def test_simulate_energy_and_cost_equal_cli(src_dir, knee_bin, tmp_path):
    path, c = cli(knee_bin, tmp_path, study(src_dir, cost=COST), "simulate")
    r = knee.simulate(path)
    assert list(r.to_dict()) == list(c)
    assert r.energy == c["energy"] and r.cost == c["cost"]
    e = r.energy
    assert e["power_model"] == "measured" and e["pue"] == 1.3 and e["other_W_per_gpu"] == 150
    assert 130 < e["avg_power_per_gpu_W"] < 700  # between the h200's idle and TDP
    assert e["facility_J_per_step"] == pytest.approx((e["gpu_J_per_step"] + 150 * 1024 * r.step_time_s) * 1.3)
    assert r.cost["usd_per_million_tokens"] > 0 and r.cost["run"]["steps"] == math.ceil(3e11 / (1536 * 2048))
    assert "gpu_J_per_step" not in repr(r) and "usd_per" not in repr(r)  # repr=False
    plain = knee.simulate(study(src_dir))  # no cost key: energy at PUE 1, no cost
    assert plain.cost is None and plain.energy["pue"] == 1 and plain.energy["other_W_per_gpu"] == 0


GPU_HOURS = {"usd_per_gpu_hour": 2.5, "train_tokens": 3e11}  # priced without a power model


def test_simulate_without_power_model(src_dir, knee_bin, tmp_path, no_power_profile):
    path, c = cli(knee_bin, tmp_path, study(src_dir, profile=no_power_profile, cost=GPU_HOURS), "simulate")
    r = knee.simulate(path)
    assert r.energy is None and c["energy"] is None
    assert r.cost == c["cost"] and r.cost["usd_per_million_tokens"] > 0 and r.cost["run"]["facility_MWh"] is None
    assert list(r.to_dict()) == list(c) and r.step_time_s == c["step_time_s"]
    assert knee.simulate(study(src_dir, profile=no_power_profile)).cost is None
    with pytest.raises(knee.InputError, match=r"\$\.cost\.usd_per_kWh"):  # electricity needs a power model
        knee.simulate(study(src_dir, profile=no_power_profile, cost=COST))


def test_sweep_energy_and_cost_columns_equal_cli(src_dir, knee_bin, tmp_path):
    path, c = cli(knee_bin, tmp_path, study(src_dir, cost=COST), "sweep", "--gpus", ",".join(map(str, GPUS)))
    df = knee.sweep(path, gpus=GPUS)
    assert {"avg_power_per_gpu_W", "facility_J_per_token", "usd_per_million_tokens"} <= set(df.columns)
    for row, p in zip(df.itertuples(), c["points"]):
        assert row.avg_power_per_gpu_W == p["energy"]["avg_power_per_gpu_W"]
        assert row.facility_J_per_token == p["energy"]["facility_J_per_token"]
        assert row.usd_per_million_tokens == p["cost"]["usd_per_million_tokens"] > 0
    par = knee.sweep(path, gpus=GPUS, processes=2, progress=False)  # assembled from independent points
    assert par.attrs["sweep_json"]["points"] == df.attrs["sweep_json"]["points"]


@pytest.fixture(scope="module")
def priced(src_dir):
    return knee.sweep(study(src_dir, cost=COST), gpus=GPUS, threshold=0.99)


@pytest.fixture(scope="module")
def no_power(src_dir, no_power_profile):
    return knee.sweep(study(src_dir, profile=no_power_profile), gpus=GPUS)


def test_sweep_without_power_model_has_nan_columns(no_power, src_dir, no_power_profile):
    assert no_power["feasible"].all()
    for col in ("avg_power_per_gpu_W", "facility_J_per_token", "usd_per_million_tokens"):
        assert no_power[col].isna().all()
    assert all(p["energy"] is None and p["cost"] is None for p in no_power.attrs["sweep_json"]["points"])
    hours = knee.sweep(study(src_dir, profile=no_power_profile, cost=GPU_HOURS), gpus=GPUS[:2])
    assert hours["facility_J_per_token"].isna().all() and (hours["usd_per_million_tokens"] > 0).all()
    html = knee.report(hours, out=None)  # the price column without the energy ones
    assert "<th>comm/compute</th><th>$/M tokens</th><th>note</th>" in html and html.count("<svg") == 5  # + the whole run chart


def test_cost_energy_plot(priced, src_dir):
    ax = knee.plot.cost_energy(priced)
    assert "baseline 256 GPUs" in ax.get_title() and "PUE 1.3" in ax.get_title()
    line = next(l for l in ax.get_lines() if l.get_label() == "facility J per token")
    assert list(line.get_xdata()) == GPUS and list(line.get_ydata()) == list(priced["facility_J_per_token"])
    names = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "$ per million tokens" in names and any(n.startswith("knee") for n in names)
    twin = [a for a in ax.figure.axes if a is not ax][0]
    assert list(twin.get_lines()[0].get_ydata()) == list(priced["usd_per_million_tokens"])
    unpriced = knee.sweep(study(src_dir), gpus=GPUS[:2])
    ax = knee.plot.cost_energy(unpriced)  # no price: no twin axis
    assert len(ax.figure.axes) == 1 and "PUE 1," in ax.get_title()
    plt.close("all")


def test_cost_energy_plot_needs_energy(no_power):
    with pytest.raises(knee.InputError, match="power model"):
        knee.plot.cost_energy(no_power)
    import pandas as pd
    with pytest.raises(knee.InputError):
        knee.plot.cost_energy(pd.DataFrame({"x": [1]}))


def without_rows(html, *keys):
    for k in keys:
        html = re.sub(rf"<tr><th>{k}</th><td><code>[^<]*</code></td></tr>", "", html)
    return html


def test_report_with_energy_and_cost(priced, knee_bin, tmp_path):
    html = knee.report(priced, out=None)
    assert "<th>W/GPU</th><th>J/token</th><th>$/M tokens</th><th>note</th>" in html
    assert html.count("<svg") == 6 and 'aria-label="Facility energy per token (PUE 1.3)"' in html
    assert "<p>Facility energy per token: <b>" in html and "Cost per million tokens: <b>$" in html
    assert "<li>Prices: $2.5 per GPU-hour, $0.12 per kWh of facility energy.</li>" in html
    assert "150 W per GPU of other IT power) &times; PUE 1.3" in html
    assert "Power model of the calibration profile: <code>measured</code>" in html
    # The CLI's report of the same sweep file is the same HTML.
    f = tmp_path / "sweep.json"
    f.write_text(json.dumps(priced.attrs["sweep_json"]))
    subprocess.run([knee_bin, "report", str(f), "--out", str(tmp_path / "cli.html")], check=True, capture_output=True)
    keys = ("report_command", "sweep_file")
    assert without_rows(html, *keys) == without_rows((tmp_path / "cli.html").read_text(), *keys)


def test_report_without_energy_as_before(priced, no_power):
    html = knee.report(no_power, out=None)
    assert "J/token" not in html and "energy" not in html and html.count("<svg") == 4
    # A sweep file of an older version (no energy or cost keys) renders as one with them null.
    old = json.loads(json.dumps(priced.attrs["sweep_json"]))
    nulls = json.loads(json.dumps(old))
    for p, q in zip(old["points"], nulls["points"]):
        p.pop("energy"), p.pop("cost")
        q["energy"] = q["cost"] = None
    a, b = knee.report(old, out=None), knee.report(nulls, out=None)
    assert a == b and "J/token" not in a and a.count("<svg") == 4
