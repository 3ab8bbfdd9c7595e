"""Sweeps across processes and on a two-worker Dask cluster give exactly the sequential result."""
import os

import pandas.testing
import pytest

import knee

SWEEP = dict(op="allreduce", sizes="1KiB:256MiB", system="dgx-h100", nodes=2)


@pytest.fixture(scope="module")
def sequential():
    return knee.collective_sweep(**SWEEP)


def test_processes_equal_sequential(sequential):
    df = knee.collective_sweep(**SWEEP, processes=2, progress=False)
    pandas.testing.assert_frame_equal(df, sequential, check_exact=True)
    assert df.attrs == sequential.attrs


def test_processes_with_progress_bar(sequential, capsys):
    df = knee.collective_sweep(**SWEEP, processes=2)  # bar on by default when parallel
    pandas.testing.assert_frame_equal(df, sequential, check_exact=True)
    assert "knee.collective_sweep" in capsys.readouterr().err  # tqdm writes to stderr


def test_dask_two_workers_equal_sequential(sequential, monkeypatch):
    distributed = pytest.importorskip("distributed")
    # Workers must get knee from the client (site dir pushed by collective_sweep), not from the
    # environment this test inherited.
    monkeypatch.delenv("PYTHONPATH", raising=False)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        df = knee.collective_sweep(**SWEEP, client=client, progress=True)
        pids = client.run(os.getpid)
        assert len(pids) == 2 and os.getpid() not in pids.values()
    pandas.testing.assert_frame_equal(df, sequential, check_exact=True)
