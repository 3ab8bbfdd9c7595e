"""knee.analyze_trace on several ranks' traces and on .json.gz: the shipped 4-rank set
(examples/traces/synthetic-4-ranks, rank 2's compute planted at 1.3x) names rank 2 with that factor
given as a directory or a list; .ranks and .rank_skew come from the C++ schema; a single trace has
an empty .ranks and no skew; the same numbers as the CLI; bad sets raise knee.InputError."""
import gzip
import json
import shutil
import subprocess

import pytest

import knee


@pytest.fixture(scope="module")
def rank_dir(src_dir):
    return src_dir / "examples" / "traces" / "synthetic-4-ranks"


def test_planted_slow_rank(rank_dir):
    a = knee.analyze_trace(rank_dir)
    assert list(a.ranks.columns) == [f["key"] for f in knee.kineto.RANK_FIELDS]
    assert list(a.ranks["rank"]) == [0, 1, 2, 3]
    assert a.ranks.loc[2, "source"].endswith("rank-2.json.gz")
    k = a.rank_skew
    assert set(k) == {f["key"] for f in knee.kineto.RANK_SKEW_FIELDS}
    assert k["slowest_rank"] == 2 and k["straggler_factor"] == pytest.approx(1.3, abs=1e-6)
    assert k["least_nccl_rank"] == 2 and k["most_nccl_rank"] != 2
    r = a.ranks.set_index("rank")
    assert r.loc[2, "compute_s"] / r.loc[0, "compute_s"] == pytest.approx(1.3, abs=1e-6)
    assert (r["compute_s"] + r["nccl_s"] - r["gpu_time_s"]).abs().max() < 1e-12
    # Synchronous all-reduce: every rank's step takes the same time (the wait is in NCCL).
    assert r["step_median_s"].max() - r["step_median_s"].min() < 1e-6 * r["step_median_s"].max()
    # The pooled top level: every rank's calls.
    c = a.classes.set_index("class")
    assert c.loc["gemm", "calls"] == 4 * 32 and a.unlinked == 4 * 2 and len(a.steps) == 8
    assert sorted(set(a.steps["rank"])) == [0, 1, 2, 3]
    files = sorted(rank_dir.iterdir())
    assert knee.analyze_trace(files).rank_skew == k


def test_single_trace_has_no_ranks(tmp_path, src_dir):
    ex = src_dir / "examples" / "traces" / "synthetic-kineto-step.json"
    gz = tmp_path / "step.json.gz"
    gz.write_bytes(gzip.compress(ex.read_bytes()))
    a, b = knee.analyze_trace(ex, profile="h200"), knee.analyze_trace(gz, profile="h200")
    assert a.ranks.empty and list(a.ranks.columns) == [f["key"] for f in knee.kineto.RANK_FIELDS]
    assert a.rank_skew is None
    da, db = dict(a.to_dict()), dict(b.to_dict())
    assert da.pop("source") != db.pop("source") and da == db
    # Older JSON without the rank keys still makes a TraceAnalysis.
    old = dict(a.to_dict())
    old.pop("ranks"), old.pop("rank_skew")
    assert knee.kineto.frames(old).ranks.empty


def test_same_as_cli(knee_bin, rank_dir):
    out = subprocess.run([knee_bin, "analyze", "--trace", str(rank_dir), "--profile", "h200", "--json"], check=True,
                         capture_output=True, text=True)
    py, cli = knee.analyze_trace(str(rank_dir), profile="h200").to_dict(), json.loads(out.stdout)
    assert (py.pop("profile_basis"), cli.pop("profile_basis")) == ("profile=", "--profile")
    assert py == cli


def test_bad_sets(tmp_path, rank_dir):
    shutil.copy(rank_dir / "rank-0.json", tmp_path / "a.json")
    shutil.copy(rank_dir / "rank-0.json", tmp_path / "b.json")
    with pytest.raises(knee.InputError, match=r"b\.json: distributedInfo\.rank: expected a rank no other trace has"):
        knee.analyze_trace([tmp_path / "a.json", tmp_path / "b.json"])
    (tmp_path / "cut.json.gz").write_bytes((rank_dir / "rank-2.json.gz").read_bytes()[:2000])
    with pytest.raises(knee.InputError, match="expected a gzip-compressed JSON trace"):
        knee.analyze_trace(tmp_path / "cut.json.gz")
    (tmp_path / "none").mkdir()
    with pytest.raises(knee.InputError, match="expected a directory of Kineto traces"):
        knee.analyze_trace(tmp_path / "none")
    for bad in ([], [42], ("x.json", None)):
        with pytest.raises(knee.InputError, match="path"):
            knee.analyze_trace(bad)
