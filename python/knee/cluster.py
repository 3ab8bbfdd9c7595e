"""Clusters: a system design plus a fabric, or a topology file, built once and reused."""
import json
import os

from . import _args
from . import _knee
from ._collective_runs import _run, _sweep

DEFAULT_SYSTEM = "dgx-h100"


class Cluster:
    """A built cluster topology. Arguments mirror the CLI's cluster flags:

    system: built-in name (knee.builtin_systems()), a system JSON file, or a dict of one
            (default "dgx-h100" unless `file` is given)
    nodes: servers (GB200 NVL72: racks); default 1, or the product of `dims`
    fabric: "single-node", "rail-fat-tree", "fat-tree" or "torus" (default: the system's)
    oversubscription: leaf/edge oversubscription >= 1 (default 1: non-blocking)
    radix: switch ports (default 64); dims: torus sizes, e.g. [4, 4, 4]
    pod_gpus: GPUs per pod (rail-fat-tree, fat-tree): pods joined by a core tier; 0/None = none
    pod_oversubscription: a pod's core uplinks = its spine downlinks / this, >= 1 (default 1)
    file: a topology JSON file or a dict of one (docs/topologies.md), instead of system + fabric

    Building is done once; collectives on the same Cluster reuse it. Picklable: a copy rebuilds
    from the arguments (in worker processes, for instance).
    """

    def __init__(self, system=None, nodes=None, fabric=None, oversubscription=None, radix=None,
                 dims=None, file=None, *, pod_gpus=None, pod_oversubscription=None, _what="knee.Cluster"):
        self._spec = _normalize(_what, system, nodes, fabric, oversubscription, radix, dims, file, pod_gpus,
                                pod_oversubscription)
        self._c = _knee.Cluster(**self._spec, what=_what)

    @property
    def system(self):
        """"dgx-h100", ... or "file"."""
        return self._c.system

    @property
    def gpu_model(self):
        return self._c.gpu_model

    @property
    def num_gpus(self):
        return self._c.num_gpus

    @property
    def build_time_s(self):
        """Wall time the build took (not simulated time)."""
        return self._c.build_time_s

    def summary(self):
        """Counts, system and fabric, bisection: the keys of `knee topology --json`."""
        return self._c.summary()

    def collective(self, op="allreduce", bytes="1GiB", **options):
        """One collective on this cluster: see knee.collective."""
        return _run(self._c, "knee.collective", op, [_args.size("knee.collective", "bytes", bytes)], options)[0]

    def collective_sweep(self, op="allreduce", sizes="8B:8GiB", **options):
        """A size sweep on this cluster: see knee.collective_sweep."""
        return _sweep(self, op, sizes, **options)

    def __getstate__(self):
        return {"spec": self._spec}

    def __setstate__(self, state):
        self._spec = state["spec"]
        self._c = _knee.Cluster(**self._spec, what="knee.Cluster")

    def spec_key(self):
        """A string that identifies the build (equal keys build equal clusters)."""
        return json.dumps(self._spec, sort_keys=True)

    def __repr__(self):
        s = self.summary()
        return (f"<knee.Cluster {s.get('system')} {s.get('fabric')}: {s.get('gpus')} GPUs, "
                f"{s.get('switches')} switches, {s.get('links')} links>")


def _normalize(what, system, nodes, fabric, oversubscription, radix, dims, file, pod_gpus=None,
               pod_oversubscription=None):
    spec = {"system": None, "system_json": None, "file": None, "file_json": None,
            "nodes": _args.optional_integer(what, "nodes", nodes),
            "fabric": None if fabric is None else _args.string(what, "fabric", fabric),
            "oversubscription": None if oversubscription is None
            else _args.number(what, "oversubscription", oversubscription),
            "radix": _args.optional_integer(what, "radix", radix),
            "dims": None if dims is None else _args.integer_list(what, "dims", dims)}
    # Only when given, so that the spec_key of clusters without a pod tier is unchanged.
    if pod_gpus is not None:
        spec["pod_gpus"] = _args.integer(what, "pod_gpus", pod_gpus)
    if pod_oversubscription is not None:
        spec["pod_oversubscription"] = _args.number(what, "pod_oversubscription", pod_oversubscription)
    if system is None and file is None:
        system = DEFAULT_SYSTEM
    if system is not None:
        kind, value = _args.path_or_json(what, "system", system)
        # A path-like object is a file; a plain string is a built-in name or a path (as --system).
        spec["system" if kind == "path" else "system_json"] = value
        if isinstance(system, os.PathLike) and os.sep not in value and not value.endswith(".json"):
            spec["system"] = os.path.join(".", value)
    if file is not None:
        kind, value = _args.path_or_json(what, "file", file)
        spec["file" if kind == "path" else "file_json"] = value
    return spec


def topology(system=None, nodes=None, fabric=None, oversubscription=None, radix=None, dims=None,
             file=None, *, pod_gpus=None, pod_oversubscription=None):
    """The summary of a cluster, as `knee topology --json` prints it (without build_time_s):
    system, gpu_model, fabric, nodes, gpus_per_node, gpus, switches, nics, hosts, links,
    bisection_GBps and the fabric's parameters. Arguments: see knee.Cluster."""
    return Cluster(system, nodes, fabric, oversubscription, radix, dims, file, pod_gpus=pod_gpus,
                   pod_oversubscription=pod_oversubscription, _what="knee.topology").summary()
