"""knee.report against `knee report` (byte-equal but for the command that made it) and the
matplotlib plots of knee.plot (Agg backend)."""
import json
import re
import subprocess

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import knee  # noqa: E402

GPUS = "256,100,512,1024,2048"


def drop_rows(html, *keys):
    for k in keys:
        html, n = re.subn(rf"<tr><th>{k}</th><td><code>[^<]*</code></td></tr>", "", html)
        assert n == 1, k
    return html


@pytest.fixture(scope="module")
def sweep_file(knee_bin, src_dir, tmp_path_factory):
    study = src_dir / "examples" / "scenarios" / "gpt-h200-study.json"
    out = subprocess.run([knee_bin, "sweep", str(study), "--gpus", GPUS, "--threshold", "0.9", "--json"],
                         check=True, capture_output=True, text=True).stdout
    p = tmp_path_factory.mktemp("sweep") / "sweep.json"
    p.write_text(out)
    return p


@pytest.fixture(scope="module")
def df(src_dir):
    return knee.sweep(src_dir / "examples" / "scenarios" / "gpt-h200-study.json",
                      gpus=[int(g) for g in GPUS.split(",")], threshold=0.9)


@pytest.fixture(scope="module")
def cli_html(knee_bin, sweep_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "cli.html"
    subprocess.run([knee_bin, "report", str(sweep_file), "--out", str(out), "--question", "Where does it bend?"],
                   check=True, capture_output=True)
    return out.read_bytes().decode()


def test_report_equals_cli(cli_html, sweep_file, tmp_path):
    out = knee.report(str(sweep_file), out=tmp_path / "py.html", question="Where does it bend?")
    assert out == tmp_path / "py.html"
    py = out.read_bytes().decode()
    assert "knee.report(" in py
    assert drop_rows(py, "report_command") == drop_rows(cli_html, "report_command")
    # The knee of `knee sweep --json` (knee_gpus) is marked in the answer.
    assert "Scaling efficiency first falls below 0.90 at <b>" in py
    assert "Where does it bend?" in py


def test_report_of_dataframe_and_dict(cli_html, sweep_file, df, tmp_path):
    from_df = knee.report(df, out=None, question="Where does it bend?")
    assert drop_rows(from_df, "report_command", "sweep_file") == drop_rows(cli_html, "report_command", "sweep_file")
    from_dict = knee.report(json.loads(sweep_file.read_text()), out=tmp_path / "d.html", question="Where does it bend?")
    assert drop_rows(from_dict.read_text(), "report_command", "sweep_file") == \
        drop_rows(cli_html, "report_command", "sweep_file")


@pytest.mark.parametrize("sweep, text", [
    ({"mode": "strong"}, "<dict>: $.points: expected"),
    ({"mode": "up", "points": []}, "<dict>: $.mode: expected one of"),
    (42, "knee.report: sweep: expected a knee.sweep DataFrame"),
    ("/no/such/sweep.json", "/no/such/sweep.json: expected a readable JSON file"),
])
def test_report_bad_input(sweep, text):
    with pytest.raises(knee.InputError) as e:
        knee.report(sweep, out=None)
    assert str(e.value).startswith(text), str(e.value)


def labels(ax):
    return [l.get_label() for l in ax.get_lines()]


def test_speedup_and_efficiency_plots(df):
    ax = knee.plot.speedup(df)
    assert "baseline 256 GPUs" in ax.get_title() and "strong" in ax.get_title()
    assert {"simulated", "ideal (linear)", f"knee: {df.attrs['knee']:,} GPUs"} <= set(labels(ax))
    sim = next(l for l in ax.get_lines() if l.get_label() == "simulated")
    assert list(sim.get_xdata()) == [256, 512, 1024, 2048]  # feasible points only
    ideal = next(l for l in ax.get_lines() if l.get_label() == "ideal (linear)")
    assert list(ideal.get_ydata()) == [1, 2, 4, 8]
    ax = knee.plot.efficiency(df)
    assert "baseline 256 GPUs" in ax.get_title()
    assert {"simulated", "ideal", "threshold 0.90"} <= set(labels(ax))
    assert any(l.get_label().startswith("knee") for l in ax.get_lines())
    assert not ax.collections  # no band without samples
    plt.close("all")


def test_plots_shade_the_interval_of_a_sweep_with_samples(src_dir):
    d = knee.sweep(src_dir / "examples" / "scenarios" / "gpt-h200-study.json", gpus=[512, 1024], samples=3)
    for plot, col in ((knee.plot.efficiency, "efficiency"), (knee.plot.speedup, "speedup")):
        ax = plot(d)
        assert ax.collections[0].get_label() == "95% interval (profile draws)"
        band = ax.collections[0].get_paths()[0].vertices
        assert band[:, 1].min() == pytest.approx(d[f"{col}_lo"].min())
        assert band[:, 1].max() == pytest.approx(d[f"{col}_hi"].max())
    plt.close("all")


def test_breakdown_and_comm_plots(df):
    ax = knee.plot.breakdown(df)
    parts = [c.get_label() for c in ax.containers]
    assert parts[0] == "compute" and "pipeline bubble" in parts and "exposed dp comm" in parts
    assert all(len(c) == 4 for c in ax.containers)  # one bar per feasible point
    tops = [max(r.get_y() + r.get_height() for r in bars) for bars in zip(*ax.containers)]
    ok = df[df["feasible"]]
    assert tops == pytest.approx(list(ok["step_time_s"]), rel=1e-9)  # the stack is the step time
    assert "step time" in ax.get_title().lower() or "step" in ax.get_title()
    ax = knee.plot.comm_to_compute(df)
    assert "Communication-to-computation" in ax.get_title() and "simulated" in labels(ax)
    _, given = plt.subplots()
    assert knee.plot.efficiency(df, ax=given) is given
    plt.close("all")


def test_busbw_plot():
    c = knee.collective_sweep("allreduce", sizes="1KiB:1MiB", system="dgx-h100", nodes=1)
    ax = knee.plot.busbw(c)
    line = ax.get_lines()[0]
    assert list(line.get_xdata()) == list(c["size"]) and list(line.get_ydata()) == list(c["busbw_GBps"])
    assert "allreduce" in ax.get_title() and "8 GPUs" in ax.get_title()
    plt.close("all")


def test_plot_rejects_other_frames():
    import pandas as pd
    with pytest.raises(knee.InputError):
        knee.plot.speedup(pd.DataFrame({"x": [1]}))
    with pytest.raises(knee.InputError):
        knee.plot.busbw(pd.DataFrame({"x": [1]}))
