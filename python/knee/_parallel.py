"""Running independent simulation points sequentially, in local processes, or on a Dask
cluster, with a tqdm progress bar. Results come back in the order of the points, so the three
ways give identical output."""
import concurrent.futures
import functools
import json
import os
import site

from . import _args
from . import _knee
from ._knee import InputError


@functools.lru_cache(maxsize=4)
def cached_cluster(spec_key):
    """The built cluster (a _knee.Cluster) of a knee.Cluster.spec_key(), built once per process:
    workers reuse it across points."""
    return _knee.Cluster(**json.loads(spec_key), what="knee.Cluster")


def _bar(enabled, total, what):
    if not enabled:
        return None
    from tqdm import tqdm
    return tqdm(total=total, desc=what, unit="pt")


def package_parent():
    """The folder that holds the package knee (what PYTHONPATH must contain)."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def map_points(what, fn, spec_key, op, points, options, processes=None, client=None, progress=None):
    """[fn(spec_key, op, p, options) for p in points], computed where asked."""
    if processes is not None:
        processes = _args.integer(what, "processes", processes)
        if processes < 1:
            raise InputError(f"{what}: processes: expected an integer >= 1, got {processes}")
    if processes is not None and processes > 1 and client is not None:
        raise InputError(f"{what}: processes/client: expected one of them, got both")
    parallel = client is not None or (processes or 1) > 1
    bar = _bar(parallel if progress is None else _args.boolean(what, "progress", progress), len(points), what)
    try:
        if client is not None:
            return _on_dask(client, fn, spec_key, op, points, options, bar)
        if parallel:
            return _on_processes(processes, fn, spec_key, op, points, options, bar)
        if spec_key is not None:  # None: the points need no cluster (workload sweeps)
            cached_cluster(spec_key)  # built in this process, reused by every point
        out = []
        for p in points:
            out.append(fn(spec_key, op, p, options))
            if bar is not None:
                bar.update(1)
        return out
    finally:
        if bar is not None:
            bar.close()


def _order(points):
    # Largest points first: they take longest, so the pool stays busy to the end.
    return sorted(range(len(points)), key=lambda i: points[i], reverse=True)


def _on_processes(processes, fn, spec_key, op, points, options, bar):
    out = [None] * len(points)
    with concurrent.futures.ProcessPoolExecutor(max_workers=processes) as pool:
        futures = {pool.submit(fn, spec_key, op, points[i], options): i for i in _order(points)}
        for f in concurrent.futures.as_completed(futures):
            out[futures[f]] = f.result()
            if bar is not None:
                bar.update(1)
    return out


def _on_dask(client, fn, spec_key, op, points, options, bar):
    import distributed
    if not isinstance(client, distributed.Client):
        raise InputError(f"knee: client: expected a dask.distributed.Client, got {client!r}")
    # Workers started elsewhere (dask-worker, a job scheduler) may lack PYTHONPATH: give them the
    # folder this knee was imported from. site.addsitedir is importable everywhere, unlike knee.
    client.run(site.addsitedir, package_parent())
    order = _order(points)
    futures = client.map(fn, [spec_key] * len(order), [op] * len(order), [points[i] for i in order],
                         [options] * len(order), pure=False)
    if bar is not None:
        for _ in distributed.as_completed(futures):
            bar.update(1)
    results = client.gather(futures)
    out = [None] * len(points)
    for i, r in zip(order, results):
        out[i] = r
    return out
