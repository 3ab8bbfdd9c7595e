"""What knee.collective and knee.collective_sweep run, below the classes that call it: the
result type, the option checks, one run on a built cluster and a size sweep mapped over workers.
knee.Cluster's methods and the functions of knee.collectives both use it, so neither imports
the other."""
import dataclasses

from . import _args
from . import _knee
from ._parallel import cached_cluster, map_points

_RESULT_KEYS = ("op", "bytes", "ranks", "time_s", "algbw_GBps", "busbw_GBps", "algorithm", "protocol",
                "channels", "predicted_time_s", "selection", "candidates", "flows",
                "lower_bound_s", "bound_note")
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
    selection: str            # how auto selection decided: simulated or nccl
    candidates: list          # what auto weighed: dicts of algorithm, protocol, channels, predicted,
                              # scored and simulated time (None: not run)
    flows: int
    wire_bytes: float
    lower_bound_s: float      # alpha-beta lower bound of the links and latencies used: <= time_s
    bound_note: str           # why time_s is over 5% above the bound, in one line ("" when not)
    system: str
    nccl_params: str          # provenance of the NCCL model parameters
    intervals: object = None  # with samples: 95% intervals, {"time_s": [lo, hi], "algbw_GBps", "busbw_GBps",
                              # level, samples, method, profile, sources, excluded}; None without

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
        if self.intervals is not None:
            d["intervals"] = self.intervals
        return d


def _options(what, algo="auto", proto="auto", channels=0, root=0, gpus=None, sharp=False, slices=0,
             selection="simulated", samples=0, profile=None):
    """Collective options checked for type (values are checked by the simulator)."""
    if gpus is not None and not (isinstance(gpus, int) and not isinstance(gpus, bool)):
        gpus = _args.integer_list(what, "gpus", gpus)
    elif gpus is not None:
        gpus = _args.integer(what, "gpus", gpus)
    return {"algo": _args.string(what, "algo", algo), "proto": _args.string(what, "proto", proto),
            "channels": _args.integer(what, "channels", channels), "root": _args.integer(what, "root", root),
            "gpus": gpus, "sharp": _args.boolean(what, "sharp", sharp),
            "slices": _args.integer(what, "slices", slices),
            "selection": _args.string(what, "selection", selection),
            "samples": _args.integer(what, "samples", samples),
            "profile": "" if profile is None else _args.string(what, "profile", profile)}


_OPTION_NAMES = ("algo", "proto", "channels", "root", "gpus", "sharp", "slices", "selection", "samples", "profile")


def _check_options(what, options):
    unknown = sorted(set(options) - set(_OPTION_NAMES))
    if unknown:
        raise _knee.InputError(f"{what}: {unknown[0]}: expected one of the options {', '.join(_OPTION_NAMES)}, "
                               f"got an unknown one")
    return _options(what, **options)


def _run(built, what, op, sizes, options):
    """The collectives on `built`, a _knee.Cluster (a knee.Cluster holds one as ._c)."""
    opts = _check_options(what, options)
    rows = _knee.collectives(built, op=_args.string(what, "op", op), sizes=sizes, what=what, **opts)
    prov = _knee.nccl_provenance(built)
    return [CollectiveResult(**r, system=built.system, nccl_params=prov) for r in rows]


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
    r = _run(cached_cluster(spec_key), "knee.collective_sweep", op, [size], options)[0]
    return dataclasses.asdict(r)


def _sweep(cluster, op, sizes, processes=None, client=None, progress=None, **options):
    """A size sweep on `cluster`, a knee.Cluster (its ._c, .system, .spec_key() and .summary())."""
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
    columns = list(SWEEP_COLUMNS)
    if opts["samples"]:  # 95% intervals over link-parameter draws (docs/uncertainty.md, "Collectives")
        columns += ["time_us_lo", "time_us_hi", "busbw_GBps_lo", "busbw_GBps_hi"]
        for row, r in zip(rows, results):
            iv = r["intervals"]
            row.update(time_us_lo=iv["time_s"][0] * 1e6, time_us_hi=iv["time_s"][1] * 1e6,
                       busbw_GBps_lo=iv["busbw_GBps"][0], busbw_GBps_hi=iv["busbw_GBps"][1])
    df = pd.DataFrame(rows, columns=columns)
    df.attrs.update(op=op, system=cluster.system, ranks=results[0]["ranks"] if results else 0,
                    nccl_params=_knee.nccl_provenance(cluster._c), topology=cluster.summary())
    return df
