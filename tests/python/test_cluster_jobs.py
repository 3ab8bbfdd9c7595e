"""knee.simulate on a cluster file (docs/workloads.md, "Jobs sharing a cluster"): the same result as
`knee simulate --json`, fields from the schema, a dict with a relative scenario path, bad input."""
import json
import os
import subprocess

import pytest

import knee
from knee import cluster_jobs


@pytest.fixture(scope="module")
def example(src_dir):
    return src_dir / "examples" / "scenarios" / "two-jobs-rail-fat-tree.json"


def test_cluster_equals_cli(example, knee_bin):
    r = knee.simulate(str(example))
    assert isinstance(r, knee.ClusterResult)
    cli = json.loads(subprocess.run([knee_bin, "simulate", str(example), "--json"], check=True, capture_output=True,
                                    text=True).stdout)
    d = r.to_dict()
    assert list(cli)[:len(cluster_jobs.CLUSTER_KEYS)] == list(cluster_jobs.CLUSTER_KEYS)
    for k in cluster_jobs.CLUSTER_KEYS:
        assert d[k] == cli[k], k
    assert r.slowdown("gpt-1.3b") == cli["jobs"][0]["slowdown"] > 1
    df = r.jobs_frame()
    assert list(df.columns) == cluster_jobs.JOB_COLUMNS and len(df) == 2


def test_cluster_dict_and_bad_input(example, tmp_path):
    c = json.loads(example.read_text())
    r = knee.simulate(c)
    assert r.scenario == "<dict>" and [j["nodes"] for j in r.jobs] == [[0, 2], [1, 3]]
    c["jobs"][0]["placement"] = {"nodes": [1, 2]}
    c["jobs"][1]["placement"] = {"nodes": [2, 3]}
    with pytest.raises(knee.InputError, match=r"\$\.jobs\[1\]\.placement\.nodes: expected nodes no other placement"):
        knee.simulate(c)
    with pytest.raises(knee.InputError, match="every_rank"):
        knee.simulate(str(example), every_rank=True)
    # A job scenario path is relative to the cluster file.
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "j.json").write_text(json.dumps(json.loads(example.read_text())["jobs"][0]["scenario"]))
    f = tmp_path / "c.json"
    f.write_text(json.dumps({"system": "dgx-h100", "nodes": 2, "jobs": [{"name": "j", "scenario": "jobs/j.json"}]}))
    cwd = os.getcwd()
    try:
        os.chdir("/")
        assert knee.simulate(str(f)).jobs[0]["nodes"] == [0, 1]
    finally:
        os.chdir(cwd)


def test_cluster_dict_with_faults(example):
    """A cluster file's faults apply to every job (docs/workloads.md, "Jobs sharing a cluster")."""
    c = json.loads(example.read_text())
    healthy = knee.simulate(c)
    c["faults"] = {"degraded_links": [{"between": ["rail0.leaf0", "spine0"], "factor": 0.25}]}
    r = knee.simulate(c)
    assert r.faults == {"degraded_links": [{"between": ["rail0.leaf0", "spine0"], "factor": 0.25}],
                        "failed_links": [], "failed_nics": []}
    assert healthy.faults["degraded_links"] == []
    # Both jobs' rings cross that uplink: each is slower alone on the broken cluster, and the
    # uplink is the hot link, at a quarter of a healthy uplink's capacity.
    for j, h in zip(r.jobs, healthy.jobs):
        assert j["alone_step_time_s"] > h["alone_step_time_s"], (j, h)
    assert {r.hot_links[0]["from"], r.hot_links[0]["to"]} == {"rail0.leaf0", "spine0"}, r.hot_links[0]
    assert r.hot_links[0]["capacity_GBps"] == pytest.approx(0.25 * healthy.hot_links[0]["capacity_GBps"])
    c["faults"] = {"failed_links": [{"between": ["rail0.leaf0", "nowhere"]}]}
    with pytest.raises(knee.InputError, match=r"\$\.faults\.failed_links\[0\]\.between: expected two nodes"):
        knee.simulate(c)


def test_cluster_report_from_a_result(example):
    """knee.report on a ClusterResult is the cluster report of `knee report` (docs/workloads.md)."""
    r = knee.simulate(str(example))
    html = knee.report(r, out=None)
    worst = max(r.jobs, key=lambda j: j["slowdown"])
    assert "<h1>Cluster report</h1>" in html
    assert f"Sharing the cluster slows <b>{worst['name']}</b> most: <b>{worst['slowdown']:.3f}x</b>" in html


def test_sweep_placements_equals_cli(example, knee_bin, tmp_path):
    df = knee.sweep_placements(example, ["packed", "spread"])
    cli = json.loads(subprocess.run([knee_bin, "sweep", str(example), "--placements", "packed,spread", "--json"],
                                    check=True, capture_output=True, text=True).stdout)
    assert list(df.columns) == ["placement"] + [c for c in cluster_jobs.JOB_COLUMNS if c != "placement"]
    assert list(df["placement"]) == ["packed", "packed", "spread", "spread"]
    rows = [(p["placement"], j["name"], j["slowdown"], j["together_step_time_s"]) for p in cli["placements"]
            for j in p["jobs"]]
    assert list(zip(df["placement"], df["name"], df["slowdown"], df["together_step_time_s"])) == rows
    # knee.report on the frame writes the placement study's report, as the CLI's knee report does.
    html = knee.report(df, out=None)
    assert "packed" in html and "spread" in html
    with pytest.raises(knee.InputError, match="knee.sweep_placements: placements"):
        knee.sweep_placements(example, ["diagonal"])
    with pytest.raises(knee.InputError, match="expected a cluster file"):
        knee.sweep_placements(example.parent / "gpt3-175b-1024.json")
