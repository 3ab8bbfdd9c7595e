"""Training workloads: one step of a scenario (knee.simulate) and scaling studies over GPU counts
(knee.sweep), sequentially, across processes, or on a Dask cluster. Scenarios are dicts equal to
the JSON files of docs/scenarios.md, or paths of such files."""
import dataclasses
import json
import math
import os
import time

from . import _args
from . import _knee
from ._knee import InputError
from ._parallel import map_points

SIMULATE_KEYS = ("simulated", "step_time_s", "tokens_per_s", "samples_per_s", "model_flops_per_step",
                 "hardware_flops_per_step", "tflops_per_gpu", "mfu", "memory_per_gpu_bytes", "comm_to_compute",
                 "breakdown", "comm_busy_s", "memory", "batch", "stragglers", "energy", "cost", "failures",
                 "provenance", "events", "comm_timings")
GROUPS = ("tp", "pp", "dp", "cp", "ep")
SWEEP_COLUMNS = (["gpus", "tp", "pp", "dp", "cp", "global_batch", "feasible", "reason", "step_time_s", "tokens_per_s",
                  "speedup", "efficiency", "mfu", "comm_to_compute", "compute_s", "exposed_comm_s"]
                 + [f"exposed_{g}_s" for g in GROUPS]
                 + ["bubble_s", "optimizer_s", "launch_gap_s", "straggler_s", "memory_per_gpu_bytes",
                    "avg_power_per_gpu_W", "facility_J_per_token", "usd_per_million_tokens", "knee"])


class DoesNotFitError(Exception):
    """The layout needs more GPU memory than there is (knee simulate's exit 3). `.memory` is the
    memory report (dict, as in `knee simulate --json`); knee.simulate(..., force=True) simulates
    anyway."""

    def __init__(self, message, memory):
        super().__init__(message)
        self.memory = memory

    def __reduce__(self):
        return type(self), (self.args[0], self.memory)


DoesNotFitError.__module__ = "knee"


@dataclasses.dataclass(frozen=True)
class SimulationResult:
    """One simulated training step, as `knee simulate --json` reports it (docs/workloads.md)."""
    simulated: bool              # False only when memory does not fit and force was not given
    step_time_s: float
    tokens_per_s: float
    samples_per_s: float
    model_flops_per_step: float  # forward + backward, no recompute
    hardware_flops_per_step: float
    tflops_per_gpu: float        # hardware flops / (step x gpus)
    mfu: float                   # model flops / (step x gpus x datasheet peak)
    memory_per_gpu_bytes: float
    comm_to_compute: float       # all communication time (hidden or not) / compute time
    breakdown: dict = dataclasses.field(repr=False)    # compute_s, exposed_comm_s, ..._by_group_s, bubble_s, ...
    comm_busy_s: dict = dataclasses.field(repr=False)  # per group, hidden or not
    memory: dict = dataclasses.field(repr=False)       # fits, per_gpu_bytes, capacity_bytes, components
    batch: dict = dataclasses.field(repr=False)        # gpus, dp, global_batch, microbatches
    stragglers: dict = dataclasses.field(repr=False)   # nominal_step_time_s, slowdown, ...; None without them
    # gpu_J_per_step, avg_power_per_gpu_W, facility_J_per_step, facility_J_per_token, pue,
    # other_W_per_gpu, power_model; None when the profile has no power model
    energy: dict = dataclasses.field(repr=False)
    # usd_per_gpu_hour, usd_per_kWh, usd_per_step, usd_per_million_tokens (None where no price) and
    # run (with cost.train_tokens); None unless the scenario's cost gives a price or train_tokens
    cost: dict = dataclasses.field(repr=False)
    failures: dict = dataclasses.field(repr=False)     # system_mtbf_h, goodput, ...; None without them
    provenance: dict = dataclasses.field(repr=False)   # profile, system, network, layout
    events: int = dataclasses.field(repr=False)
    comm_timings: int = dataclasses.field(repr=False)
    scenario: str = ""               # the path given, or "<dict>"
    simulated_wall_s: float = dataclasses.field(default=0.0, repr=False)  # wall time (not simulated time)

    @property
    def fits(self):
        return self.memory["fits"]

    @property
    def exposed_comm_s(self):
        return self.breakdown["exposed_comm_s"]

    def to_dict(self):
        """The keys and values of `knee simulate --json`, in its order."""
        d = {k: getattr(self, k) for k in SIMULATE_KEYS}
        d["scenario"] = self.scenario
        d["simulated_wall_s"] = self.simulated_wall_s
        return d


def _scenario(what, scenario):
    """(JSON text, source) of a scenario dict or file, the source naming it in messages."""
    kind, value = _args.path_or_json(what, "scenario", scenario)
    if kind == "json":
        return value, "<dict>"
    try:
        with open(value, "rb") as f:
            return f.read().decode("utf-8", errors="replace"), value
    except OSError:
        # The wording of the CLI (common/json_reader.cpp).
        raise InputError(f"{value}: expected a readable JSON file, got no such file or no permission") from None


def simulate(scenario, *, force=False, trace=None, trace_ranks=None):
    """One training step of a scenario, as `knee simulate --json`.

    scenario: a dict equal to a scenario file (docs/scenarios.md) or the path of one.
    force: simulate even when the layout does not fit in GPU memory; otherwise that raises
    knee.DoesNotFitError (with .memory). Bad input raises knee.InputError naming the key.
    trace: a path: write the step's Chrome trace-event timeline there (as `knee simulate --trace`);
    trace_ranks: which GPUs, e.g. "0-7,64" (default: one pipeline).
    """
    what = "knee.simulate"
    text, source = _scenario(what, scenario)
    force = _args.boolean(what, "force", force)
    trace = "" if trace is None else os.fspath(trace)
    if trace_ranks is not None and not trace:
        raise InputError(f"{what}: trace_ranks: expected trace=PATH with it, got no trace")
    trace_ranks = "" if trace_ranks is None else _args.string(what, "trace_ranks", trace_ranks)
    t0 = time.perf_counter()
    d = _knee.simulate(text, source, force, trace, trace_ranks)
    wall = time.perf_counter() - t0
    if not d["memory"]["fits"] and not force:
        m = d["memory"]
        raise DoesNotFitError(f"{what}: {source}: the layout does not fit in GPU memory "
                              f"({m['per_gpu_bytes'] / 2**30:.1f} GiB > {m['capacity_bytes'] / 2**30:.1f} GiB); "
                              f"not simulated (force=True simulates anyway)", m)
    return SimulationResult(**{k: d[k] for k in SIMULATE_KEYS}, scenario=source, simulated_wall_s=wall)


def _sweep_point(_spec_key, scenario, gpus, options):
    """One point in a worker (process or Dask): the scenario travels as its text and source."""
    text, source = scenario
    return _knee.sweep_point(text, source, gpus, options["mode"])


def _row(p, knee_gpus):
    row = {c: math.nan for c in SWEEP_COLUMNS}
    row.update({k: p[k] for k in ("gpus", "tp", "pp", "dp", "cp", "global_batch", "feasible")})
    row["reason"] = p.get("reason", "")
    row["knee"] = p["gpus"] == knee_gpus
    if p["feasible"]:
        for k in ("step_time_s", "tokens_per_s", "speedup", "efficiency", "mfu", "comm_to_compute",
                  "memory_per_gpu_bytes"):
            row[k] = p[k]
        b = p["breakdown"]
        for k in ("compute_s", "exposed_comm_s", "bubble_s", "optimizer_s", "launch_gap_s"):
            row[k] = b[k]
        row["straggler_s"] = b.get("straggler_s", 0.0)  # absent in sweeps written before stragglers
        for g in GROUPS:
            row[f"exposed_{g}_s"] = b["exposed_comm_by_group_s"][g]
        # Energy and cost: absent in sweeps of older versions, None without a power model or a price.
        e, c = p.get("energy") or {}, p.get("cost") or {}
        for k in ("avg_power_per_gpu_W", "facility_J_per_token"):
            if e.get(k) is not None:
                row[k] = e[k]
        if c.get("usd_per_million_tokens") is not None:
            row["usd_per_million_tokens"] = c["usd_per_million_tokens"]
    return row


def sweep_frame(sweep_json):
    """The DataFrame of knee.sweep from a sweep dict (the output of `knee sweep --json`)."""
    import pandas as pd
    knee_gpus = sweep_json.get("knee_gpus")
    df = pd.DataFrame([_row(p, knee_gpus) for p in sweep_json["points"]], columns=SWEEP_COLUMNS)
    df.attrs.update(mode=sweep_json["mode"], baseline_gpus=sweep_json["baseline_gpus"],
                    threshold=sweep_json["threshold"], knee=knee_gpus, knee_cause=sweep_json["knee_cause"],
                    scenario=sweep_json.get("scenario"), sweep_json=sweep_json)
    return df


def sweep(scenario, gpus, mode="strong", baseline=None, threshold=0.8, *, processes=None, client=None,
          progress=None):
    """A scaling study, as `knee sweep --json`: a pandas.DataFrame with one row per GPU count.

    Columns: gpus, tp, pp, dp, cp, global_batch, feasible, reason (why not feasible), step_time_s,
    tokens_per_s, speedup, efficiency (speedup / (gpus / baseline)), mfu, comm_to_compute, the
    step's breakdown (compute_s, exposed_comm_s, exposed_{tp,pp,dp,cp,ep}_s, bubble_s,
    optimizer_s, launch_gap_s, straggler_s), memory_per_gpu_bytes, avg_power_per_gpu_W and facility_J_per_token
    (NaN without a power model), usd_per_million_tokens (NaN without a price in the scenario's
    cost) and knee (True on the knee's row); NaN where a point is infeasible. df.attrs: mode,
    baseline_gpus, threshold, knee (GPUs or None), knee_cause, scenario and sweep_json (the CLI's
    JSON, for knee.report).

    scenario: dict or path; gpus: GPU counts; mode: "strong" (global batch fixed) or "weak" (it
    grows with dp); baseline: the GPU count speedup is relative to (None: smallest feasible);
    threshold: the efficiency below which the knee is marked.
    processes / client / progress: as knee.collective_sweep; the points then run independently
    and speedup, efficiency and the knee are derived afterwards, with results identical to the
    sequential sweep.
    """
    what = "knee.sweep"
    text, source = _scenario(what, scenario)
    gpus = _args.integer_list(what, "gpus", [gpus] if isinstance(gpus, int) and not isinstance(gpus, bool) else gpus)
    for n in gpus:
        if n < 1:
            raise InputError(f"{what}: gpus: expected integers >= 1, got {n}")
    mode = _args.string(what, "mode", mode)
    baseline = 0 if baseline is None else _args.integer(what, "baseline", baseline)
    if baseline < 0:
        raise InputError(f"{what}: baseline: expected an integer >= 1, got {baseline}")
    threshold = _args.number(what, "threshold", threshold)
    points = _knee.check_sweep_args(gpus, mode, baseline, threshold)
    if progress is not None:
        progress = _args.boolean(what, "progress", progress)
    # Sequentially without a progress bar: the C++ sweep itself, exactly what the CLI runs.
    parallel = client is not None or (processes is not None and processes != 1) or progress is True
    t0 = time.perf_counter()
    if not parallel:
        j = _knee.sweep(text, source, points, mode, baseline, threshold)
    else:
        # Parse once here, so a bad scenario fails before any worker starts.
        _knee.check_scenario(text, source)
        results = map_points(what, _sweep_point, None, (text, source), points,
                             {"mode": mode, "threshold": threshold},
                             processes=processes, client=client, progress=progress)
        j = _knee.assemble_sweep(json.dumps(results), mode, baseline, threshold)
    j["scenario"] = source
    j["scenario_json"] = json.loads(text)  # for the report's scenario table, as knee sweep --json
    j["simulated_wall_s"] = time.perf_counter() - t0
    return sweep_frame(j)
