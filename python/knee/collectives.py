"""Collectives: one operation at one size (knee.collective) or a size sweep as a DataFrame
(knee.collective_sweep), sequentially, across processes, or on a Dask cluster."""
from . import _args
from . import _knee
from ._collective_runs import CollectiveResult, SWEEP_COLUMNS, _run, _sweep  # noqa: F401 (re-exported)
from .cluster import Cluster

def _cluster_of(what, cluster, system, nodes, fabric, oversubscription, radix, dims, file, pod_gpus=None,
                pod_oversubscription=None):
    if cluster is None:
        return Cluster(system, nodes, fabric, oversubscription, radix, dims, file, pod_gpus=pod_gpus,
                       pod_oversubscription=pod_oversubscription, _what=what)
    if not isinstance(cluster, Cluster):
        raise _knee.InputError(f"{what}: cluster: expected a knee.Cluster, got {cluster!r}")
    given = [k for k, v in dict(system=system, nodes=nodes, fabric=fabric, oversubscription=oversubscription,
                                radix=radix, dims=dims, file=file, pod_gpus=pod_gpus,
                                pod_oversubscription=pod_oversubscription).items() if v is not None]
    if given:
        raise _knee.InputError(f"{what}: {given[0]}: expected no cluster options with cluster, got one")
    return cluster


def collective(op="allreduce", bytes="1GiB", *, system=None, nodes=None, fabric=None, oversubscription=None,
               radix=None, dims=None, file=None, cluster=None, algo="auto", proto="auto", channels=0, root=0,
               gpus=None, sharp=False, slices=0, selection="simulated", pod_gpus=None, pod_oversubscription=None,
               samples=0, profile=None):
    """Simulates one collective, as `knee collective --json` does.

    op: allreduce, reducescatter, allgather, broadcast, reduce, alltoall, sendrecv, barrier
    bytes: size as nccl-tests counts it: an int or "8B", "4KiB", "1GB", ...
    system/nodes/fabric/oversubscription/radix/dims/file/pod_gpus/pod_oversubscription: the cluster
    (see knee.Cluster), or
    cluster: a knee.Cluster already built
    algo: auto, ring, tree, rhd, hierarchical, nvls, collnet, pat, pairwise, a2a-hierarchical, direct
    proto: auto, LL, LL128, Simple; channels: 0 = auto; root: for broadcast and reduce
    gpus: the first N GPUs (int) or a list of ranks (default: all); sharp: let auto choose collnet
    slices: pipeline slices per channel (0 = automatic)
    selection: how auto decides: "simulated" (the shortlist runs on the flow network, the fastest
    wins) or "nccl" (NCCL's tuner model: what NCCL would pick); see docs/collectives.md
    samples: N >= 2 draws of the profile's nvlink and network alpha/beta: .intervals holds 95% intervals
    of time_s, algbw_GBps, busbw_GBps (as `knee collective --samples N`; 0: none); profile: the profile
    drawn (a shipped name or a file; default the system's GPU). See docs/uncertainty.md.
    """
    what = "knee.collective"
    c = _cluster_of(what, cluster, system, nodes, fabric, oversubscription, radix, dims, file, pod_gpus,
                    pod_oversubscription)
    options = dict(algo=algo, proto=proto, channels=channels, root=root, gpus=gpus, sharp=sharp, slices=slices,
                   selection=selection, samples=samples, profile=profile)
    return _run(c._c, what, op, [_args.size(what, "bytes", bytes)], options)[0]


def collective_sweep(op="allreduce", sizes="8B:8GiB", *, system=None, nodes=None, fabric=None,
                     oversubscription=None, radix=None, dims=None, file=None, cluster=None, algo="auto",
                     proto="auto", channels=0, root=0, gpus=None, sharp=False, slices=0, selection="simulated",
                     processes=None,
                     client=None, progress=None, pod_gpus=None, pod_oversubscription=None, samples=0, profile=None):
    """A size sweep as nccl-tests prints it: a pandas.DataFrame with one row per size and columns
    size, count, time_us, algbw_GBps, busbw_GBps, algorithm, protocol, channels (df.attrs holds
    op, system, ranks, nccl_params and the topology summary).

    sizes: "MIN:MAX" (every power of two, like nccl-tests -b MIN -e MAX -f 2) or a list of sizes.
    processes: run the points in N local processes (concurrent.futures); client: a
    dask.distributed.Client to map them on a cluster; progress: a tqdm bar (default: on when
    parallel). Results are identical however they are run. samples=N adds the columns time_us_lo/_hi and
    busbw_GBps_lo/_hi (95% intervals over N link-parameter draws). Other arguments: see knee.collective.
    """
    what = "knee.collective_sweep"
    c = _cluster_of(what, cluster, system, nodes, fabric, oversubscription, radix, dims, file, pod_gpus,
                    pod_oversubscription)
    return _sweep(c, op, sizes, processes=processes, client=client, progress=progress, algo=algo, proto=proto,
                  channels=channels, root=root, gpus=gpus, sharp=sharp, slices=slices,
                  selection=selection, samples=samples, profile=profile)
