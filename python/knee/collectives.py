"""Collectives: one operation at one size (knee.collective) or a size sweep as a DataFrame
(knee.collective_sweep), sequentially, across processes, or on a Dask cluster."""
import dataclasses

from . import _args
from . import _knee
from ._parallel import map_points
from .cluster import Cluster

_RESULT_KEYS = ("op", "bytes", "ranks", "time_s", "algbw_GBps", "busbw_GBps", "algorithm", "protocol",
                "channels", "predicted_time_s", "flows")
SWEEP_COLUMNS = ["size", "count", "time_us", "algbw_GBps", "busbw_GBps", "algorithm", "protocol", "channels"]


@dataclasses.dataclass(frozen=True)
class CollectiveResult:
    """One simulated collective, as `knee collective --json` reports it."""
    op: str
    bytes: int
    ranks: int
    time_s: float             # simulated time of the collective
    algbw_GBps: float         # bytes / time
    busbw_GBps: float         # algbw x nccl-tests' bus factor
    algorithm: str
    protocol: str
    channels: int
    predicted_time_s: float   # the tuner's closed-form estimate (no contention)
    flows: int
    wire_bytes: float
    system: str
    nccl_params: str          # provenance of the NCCL model parameters

    @property
    def time_us(self):
        return self.time_s * 1e6

    @property
    def count(self):
        """Elements of fp32, as nccl-tests' count column."""
        return self.bytes // 4

    def to_dict(self):
        """The keys and values of `knee collective --json` (without topology and wall time)."""
        d = {k: getattr(self, k) for k in _RESULT_KEYS}
        d["wire_bytes"] = self.wire_bytes
        d["system"] = self.system
        d["nccl_params"] = self.nccl_params
        return d


def _options(what, algo="auto", proto="auto", channels=0, root=0, gpus=None, sharp=False, slices=0):
    """Collective options checked for type (values are checked by the simulator)."""
    if gpus is not None and not (isinstance(gpus, int) and not isinstance(gpus, bool)):
        gpus = _args.integer_list(what, "gpus", gpus)
    elif gpus is not None:
        gpus = _args.integer(what, "gpus", gpus)
    return {"algo": _args.string(what, "algo", algo), "proto": _args.string(what, "proto", proto),
            "channels": _args.integer(what, "channels", channels), "root": _args.integer(what, "root", root),
            "gpus": gpus, "sharp": _args.boolean(what, "sharp", sharp),
            "slices": _args.integer(what, "slices", slices)}


_OPTION_NAMES = ("algo", "proto", "channels", "root", "gpus", "sharp", "slices")


def _check_options(what, options):
    unknown = sorted(set(options) - set(_OPTION_NAMES))
    if unknown:
        raise _knee.InputError(f"{what}: {unknown[0]}: expected one of the options {', '.join(_OPTION_NAMES)}, "
                               f"got an unknown one")
    return _options(what, **options)


def _run(cluster, what, op, sizes, options):
    opts = _check_options(what, options)
    rows = _knee.collectives(cluster._c, op=_args.string(what, "op", op), sizes=sizes, what=what, **opts)
    prov = _knee.nccl_provenance(cluster._c)
    return [CollectiveResult(**r, system=cluster.system, nccl_params=prov) for r in rows]


def _cluster_of(what, cluster, system, nodes, fabric, oversubscription, radix, dims, file):
    if cluster is None:
        return Cluster(system, nodes, fabric, oversubscription, radix, dims, file, _what=what)
    if not isinstance(cluster, Cluster):
        raise _knee.InputError(f"{what}: cluster: expected a knee.Cluster, got {cluster!r}")
    given = [k for k, v in dict(system=system, nodes=nodes, fabric=fabric, oversubscription=oversubscription,
                                radix=radix, dims=dims, file=file).items() if v is not None]
    if given:
        raise _knee.InputError(f"{what}: {given[0]}: expected no cluster options with cluster, got one")
    return cluster


def collective(op="allreduce", bytes="1GiB", *, system=None, nodes=None, fabric=None, oversubscription=None,
               radix=None, dims=None, file=None, cluster=None, algo="auto", proto="auto", channels=0, root=0,
               gpus=None, sharp=False, slices=0):
    """Simulates one collective, as `knee collective --json` does.

    op: allreduce, reducescatter, allgather, broadcast, reduce, alltoall, sendrecv, barrier
    bytes: size as nccl-tests counts it: an int or "8B", "4KiB", "1GB", ...
    system/nodes/fabric/oversubscription/radix/dims/file: the cluster (see knee.Cluster), or
    cluster: a knee.Cluster already built
    algo: auto, ring, tree, rhd, hierarchical, nvls, collnet, pat, pairwise, a2a-hierarchical, direct
    proto: auto, LL, LL128, Simple; channels: 0 = auto; root: for broadcast and reduce
    gpus: the first N GPUs (int) or a list of ranks (default: all); sharp: let auto choose collnet
    slices: pipeline slices per channel (0 = automatic)
    """
    what = "knee.collective"
    c = _cluster_of(what, cluster, system, nodes, fabric, oversubscription, radix, dims, file)
    options = dict(algo=algo, proto=proto, channels=channels, root=root, gpus=gpus, sharp=sharp, slices=slices)
    return _run(c, what, op, [_args.size(what, "bytes", bytes)], options)[0]


def _sizes(what, sizes):
    if isinstance(sizes, str):
        return _knee.parse_size_sweep(sizes, f"{what}: sizes") if ":" in sizes else [_args.size(what, "sizes", sizes)]
    if isinstance(sizes, (int, float)) or not hasattr(sizes, "__iter__"):
        raise _knee.InputError(f"{what}: sizes: expected 'MIN:MAX' or a list of sizes, got {sizes!r}")
    out = [_args.size(what, "sizes", s) for s in sizes]
    if not out:
        raise _knee.InputError(f"{what}: sizes: expected at least one size, got an empty list")
    return out


def _point(spec_key, op, size, options):
    """One sweep point in a worker: the cluster is built once per worker process and spec."""
    from ._parallel import cached_cluster
    r = _run(cached_cluster(spec_key), "knee.collective_sweep", op, [size], options)[0]
    return dataclasses.asdict(r)


def _sweep(cluster, op, sizes, processes=None, client=None, progress=None, **options):
    what = "knee.collective_sweep"
    import pandas as pd  # only sweeps need pandas: keeps `import knee` light
    sizes = _sizes(what, sizes)
    opts = _check_options(what, options)
    _args.string(what, "op", op)
    _knee.collectives(cluster._c, op=op, sizes=[], what=what, **opts)  # bad options fail here, not in workers
    results = map_points(what, _point, cluster.spec_key(), op, sizes, opts,
                         processes=processes, client=client, progress=progress)
    rows = [{"size": r["bytes"], "count": r["bytes"] // 4, "time_us": r["time_s"] * 1e6,
             "algbw_GBps": r["algbw_GBps"], "busbw_GBps": r["busbw_GBps"], "algorithm": r["algorithm"],
             "protocol": r["protocol"], "channels": r["channels"]} for r in results]
    df = pd.DataFrame(rows, columns=SWEEP_COLUMNS)
    df.attrs.update(op=op, system=cluster.system, ranks=results[0]["ranks"] if results else 0,
                    nccl_params=_knee.nccl_provenance(cluster._c), topology=cluster.summary())
    return df


def collective_sweep(op="allreduce", sizes="8B:8GiB", *, system=None, nodes=None, fabric=None,
                     oversubscription=None, radix=None, dims=None, file=None, cluster=None, algo="auto",
                     proto="auto", channels=0, root=0, gpus=None, sharp=False, slices=0, processes=None,
                     client=None, progress=None):
    """A size sweep as nccl-tests prints it: a pandas.DataFrame with one row per size and columns
    size, count, time_us, algbw_GBps, busbw_GBps, algorithm, protocol, channels (df.attrs holds
    op, system, ranks, nccl_params and the topology summary).

    sizes: "MIN:MAX" (every power of two, like nccl-tests -b MIN -e MAX -f 2) or a list of sizes.
    processes: run the points in N local processes (concurrent.futures); client: a
    dask.distributed.Client to map them on a cluster; progress: a tqdm bar (default: on when
    parallel). Results are identical however they are run. Other arguments: see knee.collective.
    """
    what = "knee.collective_sweep"
    c = _cluster_of(what, cluster, system, nodes, fabric, oversubscription, radix, dims, file)
    return _sweep(c, op, sizes, processes=processes, client=client, progress=progress, algo=algo, proto=proto,
                  channels=channels, root=root, gpus=gpus, sharp=sharp, slices=slices)
