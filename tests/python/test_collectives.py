"""knee.collective / knee.collective_sweep against `knee collective --json` (bit-equal times),
bad input as knee.InputError, and the GIL released while simulating."""
import threading
import time

import pytest

import knee

CASES = [
    dict(op="allreduce", bytes="1GiB", system="dgx-h100", nodes=2),
    dict(op="allgather", bytes="1MiB", system="dgx-a100", nodes=2, algo="ring", proto="LL128"),
    dict(op="reducescatter", bytes=65536, system="dgx-h100", nodes=4, channels=4),
    dict(op="broadcast", bytes="4MiB", system="dgx-h100", nodes=2, root=3, gpus=12),
    dict(op="alltoall", bytes="16MiB", system="hgx-b200", nodes=2),
    dict(op="allreduce", bytes="256MiB", system="dgx-h100", algo="nvls"),
]


def cli_args(kw):
    args = []
    for k, v in kw.items():
        args += [f"--{k}", str(v)]
    return args


@pytest.mark.parametrize("kw", CASES, ids=lambda kw: "-".join(str(v) for v in kw.values()))
def test_collective_equals_cli(cli_json, kw):
    expected = cli_json("collective", *cli_args(kw))
    r = knee.collective(**kw)
    assert r.time_s == expected["time_s"]  # bit-equal: same model, same double
    d = r.to_dict()
    for key in ("op", "bytes", "ranks", "time_s", "algbw_GBps", "busbw_GBps", "algorithm", "protocol", "channels",
                "predicted_time_s", "flows", "lower_bound_s", "bound_note", "system", "nccl_params"):
        assert d[key] == expected[key], key
    assert 0 < r.lower_bound_s <= r.time_s and isinstance(r.bound_note, str)
    assert r.time_us == r.time_s * 1e6 and r.count == r.bytes // 4


def test_file_topology_equals_cli(cli_json, topo_file, topo_dict):
    expected = cli_json("collective", "--file", topo_file, "--bytes", "8MiB")
    r = knee.collective(bytes="8MiB", file=topo_dict)
    assert r.time_s == expected["time_s"] and r.algorithm == expected["algorithm"]
    assert r.system == "file" and r.ranks == 4


def test_sweep_equals_cli(cli_json):
    expected = cli_json("collective", "--system", "dgx-h100", "--nodes", "2", "--sweep", "8B:64MiB")
    df = knee.collective_sweep("allreduce", sizes="8B:64MiB", system="dgx-h100", nodes=2)
    assert list(df.columns) == ["size", "count", "time_us", "algbw_GBps", "busbw_GBps", "algorithm", "protocol",
                                "channels"]
    assert len(df) == len(expected["results"]) == 24
    for (_, row), e in zip(df.iterrows(), expected["results"]):
        assert row["size"] == e["bytes"] and row["count"] == e["bytes"] // 4
        assert row["time_us"] == e["time_s"] * 1e6
        assert (row["busbw_GBps"], row["algorithm"], row["protocol"], row["channels"]) == \
            (e["busbw_GBps"], e["algorithm"], e["protocol"], e["channels"])
    assert df.attrs["system"] == "dgx-h100" and df.attrs["ranks"] == 16
    assert df.attrs["topology"]["gpus"] == 16


def test_cluster_reuse_and_explicit_sizes():
    c = knee.Cluster("dgx-h100", nodes=2)
    a = c.collective("allgather", "1MiB")
    b = knee.collective("allgather", 1 << 20, cluster=c)
    assert a == b
    df = c.collective_sweep("allgather", sizes=[1 << 20, "2MiB"])
    assert list(df["size"]) == [1 << 20, 2 << 20]
    assert df["time_us"].iloc[0] == a.time_us


def test_gpus_as_rank_list():
    first4 = knee.collective("allreduce", "1MiB", system="dgx-h100", gpus=4)
    listed = knee.collective("allreduce", "1MiB", system="dgx-h100", gpus=[0, 1, 2, 3])
    assert first4 == listed and first4.ranks == 4


@pytest.mark.parametrize("kw, needle", [
    (dict(bytes="1GB!"), "knee.collective: bytes: expected a size such as 8B"),
    (dict(bytes=-1), "knee.collective: bytes: expected a non-negative size, got -1"),
    (dict(op="allsum"), "knee.collective: op: expected one of allreduce"),
    (dict(algo="nvls", nodes=2), "knee.collective: expected a communicator inside one NVLink domain for nvls"),
    (dict(algo="bogus"), "knee.collective: algo: expected one of"),
    (dict(proto="LL64"), "knee.collective: proto: expected one of"),
    (dict(channels=99), "knee.collective: channels: expected an integer >= 1 and <= 32, got '99'"),
    (dict(gpus=9), "knee.collective: gpus: expected an integer >= 1 and <= 8, got '9'"),
    (dict(gpus=[0, 0]), "knee.collective: expected each GPU at most once"),
    (dict(gpus=[]), "knee.collective: gpus: expected at least one GPU rank"),
    (dict(sharp="yes"), "knee.collective: sharp: expected True or False"),
    (dict(system="dgx-h900"), "knee.collective: system: expected one of"),
    (dict(cluster="dgx-h100"), "knee.collective: cluster: expected a knee.Cluster"),
])
def test_bad_input_raises_input_error(kw, needle):
    with pytest.raises(knee.InputError) as e:
        knee.collective(**kw)
    assert needle in str(e.value)


def test_sweep_bad_input():
    with pytest.raises(knee.InputError, match="knee.collective_sweep: sizes: expected"):
        knee.collective_sweep(sizes="8B:1XB")
    with pytest.raises(knee.InputError, match="knee.collective_sweep: sizes: expected at least one size"):
        knee.collective_sweep(sizes=[])
    with pytest.raises(knee.InputError, match="knee.collective_sweep: processes: expected an integer >= 1"):
        knee.collective_sweep(sizes="8B:64B", processes=0)
    with pytest.raises(knee.InputError, match="knee.collective_sweep: algo: expected one of"):
        knee.collective_sweep(sizes="8B:64B", algo="nope", processes=2)  # fails before any worker starts
    c = knee.Cluster()
    with pytest.raises(knee.InputError, match="knee.collective: algorithm: expected one of the options"):
        c.collective("allreduce", "1MiB", algorithm="ring")


def test_other_cpp_errors_are_not_input_errors():
    # The translator turns InputError into knee.InputError and leaves ValueError for bad input only.
    assert issubclass(knee.InputError, ValueError)
    assert knee._knee._python_message("knee collective: --algo: expected x, got 'a--b'") == \
        "knee collective: algo: expected x, got 'a--b'"


def test_gil_released_while_simulating():
    c = knee.Cluster("dgx-h100", nodes=4)
    t0 = time.perf_counter()
    expected = c.collective("allreduce", "1GiB")
    solo_s = time.perf_counter() - t0
    assert solo_s > 0.05, "the simulation must take long enough to observe"

    # While one thread is inside the simulation, this thread must keep running Python: with the
    # GIL held it would stall for the whole simulation.
    result, started = {}, threading.Event()

    def work():
        started.set()
        result["r"] = c.collective("allreduce", "1GiB")

    th = threading.Thread(target=work)
    th.start()
    started.wait()
    last, max_gap, t_start = time.perf_counter(), 0.0, time.perf_counter()
    while th.is_alive():
        now = time.perf_counter()
        max_gap, last = max(max_gap, now - last), now
    elapsed = time.perf_counter() - t_start
    th.join()
    assert result["r"] == expected
    assert max_gap < 0.5 * elapsed, f"main thread stalled {max_gap:.3f} s of {elapsed:.3f} s"

    # Two simulations in threads both complete with the sequential results.
    out = [None, None]
    threads = [threading.Thread(target=lambda i=i: out.__setitem__(i, c.collective("allreduce", "1GiB")))
               for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == [expected, expected]
