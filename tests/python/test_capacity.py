"""knee.capacity: the same plan as `knee capacity --json`, a candidates DataFrame whose columns come
from the schema and whose best row is the fewest GPUs meeting the SLOs, bad input."""
import json
import subprocess

import pytest

import knee
from knee import serving


@pytest.fixture(scope="module")
def example(src_dir):
    return src_dir / "examples" / "scenarios" / "llama3-8b-serving-dgx-h200.json"


def test_capacity_equals_cli(example, knee_bin):
    r = knee.capacity(str(example), rate=40, max_rate=True, usd_per_gpu_hour=2.0)
    assert isinstance(r, knee.CapacityResult)
    cli = json.loads(subprocess.run([knee_bin, "capacity", str(example), "--rate", "40", "--max-rate",
                                     "--usd-per-gpu-hour", "2", "--json"],
                                    check=True, capture_output=True, text=True).stdout)
    d = r.to_dict()
    for k in serving.CAPACITY_KEYS:
        assert d[k] == cli[k], k


def test_candidates_frame(example):
    r = knee.capacity(str(example), rate=40, disaggregated=False)
    df = r.candidates
    assert list(df.columns) == serving.CANDIDATE_COLUMNS
    assert not df["disaggregated"].any()
    assert (df["gpus"] == df["tp"] * df["replicas"]).all()
    met = df[df["meets_slo"]]
    assert r.best["gpus"] == met["gpus"].min()
    assert (met["slo_attainment"] >= r.share).all() and (df[~df["meets_slo"]]["slo_attainment"] < r.share).all()
    assert r.max_rate is None and r.best["usd_per_million_output_tokens"] is None


def test_capacity_bad_input(example):
    for rate in (0, -3):
        with pytest.raises(knee.InputError, match="knee.capacity: rate: expected a request rate > 0"):
            knee.capacity(str(example), rate=rate)
    j = json.loads(example.read_text())
    del j["serving"]["slo"]
    with pytest.raises(knee.InputError, match=r"<dict>: \$\.serving\.slo"):
        knee.capacity(j, rate=10)


def test_capacity_report_matches_the_cli(src_dir, knee_bin, tmp_path):
    import re
    sc = src_dir / "examples" / "scenarios" / "llama3-8b-serving-dgx-h200.json"
    r = knee.capacity(sc, rate=40, max_rate=True)
    html = knee.report(r, out=None)
    assert "<h2>The answer</h2>" in html and "<h2>The serving knee</h2>" in html
    cli_json, cli_html = tmp_path / "c.json", tmp_path / "c.html"
    with open(cli_json, "w") as f:
        subprocess.run([str(knee_bin), "capacity", str(sc), "--rate", "40", "--max-rate", "--json"], check=True, stdout=f)
    subprocess.run([str(knee_bin), "report", str(cli_json), "--out", str(cli_html)], check=True, stderr=subprocess.DEVNULL)
    body = lambda s: re.sub(r"<h2>Reproducibility</h2>.*", "", s, flags=re.S)
    assert body(cli_html.read_text()) == body(html)
