"""Training workloads: one step of a scenario (knee.simulate) and scaling studies over GPU counts
(knee.sweep), sequentially, across processes, or on a Dask cluster. Scenarios are dicts equal to
the JSON files of docs/scenarios.md, or paths of such files."""
import dataclasses
import json
import math
import os
import time

from . import _args
from . import cluster_jobs
from . import serving
from . import _knee
from ._knee import InputError
from ._parallel import map_points

# The result schema, defined once in C++ (workloads/training/result_schema.hpp): the keys of
# `knee simulate --json` and the columns of a sweep, with their units and meanings.
SIMULATE_FIELDS = tuple(_knee.simulate_fields())
SIMULATE_KEYS = tuple(f["key"] for f in SIMULATE_FIELDS)
SWEEP_COLUMN_SPECS = tuple(_knee.sweep_columns())
SWEEP_COLUMNS = [c["name"] for c in SWEEP_COLUMN_SPECS]
# knee explain's definition (workloads/training/explain.hpp): the columns of a row and the
# top-level fields (attrs of knee.explain's DataFrame, but for "rows").
EXPLAIN_ROW_FIELDS = tuple(_knee.explain_row_fields())
EXPLAIN_COLUMNS = [f["key"] for f in EXPLAIN_ROW_FIELDS]
EXPLAIN_FIELDS = tuple(_knee.explain_fields())
GROUPS = ("tp", "pp", "dp", "cp", "ep")


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


class _SimulationResultMethods:
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


# Scalars are shown in the repr; objects (breakdown, memory, ...) are not. Every field's unit and
# meaning come from the schema, as the CLI's --json documents them.
_OBJECT_UNITS = {"breakdown", "comm_busy_s", "memory", "batch", "stragglers", "energy", "cost", "failures",
                 "provenance", "events", "comm_timings", "flows", "every_rank", "intervals"}
SimulationResult = dataclasses.make_dataclass(
    "SimulationResult",
    [(f["key"], object, dataclasses.field(repr=f["key"] not in _OBJECT_UNITS)) for f in SIMULATE_FIELDS]
    + [("scenario", str, dataclasses.field(default="")),
       ("simulated_wall_s", float, dataclasses.field(default=0.0, repr=False))],
    bases=(_SimulationResultMethods,), frozen=True)
SimulationResult.__module__ = "knee"  # as DoesNotFitError: pickles by the public name
SimulationResult.__doc__ = (
    "One simulated training step, as `knee simulate --json` reports it (docs/workloads.md). Fields:\n"
    + _args.field_docs(SIMULATE_FIELDS)
    + "\n  scenario: the path given, or \"<dict>\"\n  simulated_wall_s [s]: wall time (not simulated time)")


_scenario = _args.scenario_text  # (JSON text, source) of a scenario dict or file


def simulate(scenario, *, force=False, trace=None, trace_ranks=None, every_rank=False, samples=None, seeds=None):
    """One training step of a scenario, as `knee simulate --json`; on a serving scenario (one with a
    "serving" object, docs/serving.md) a knee.ServingResult instead, its .requests a DataFrame; on a
    cluster file (one with "jobs", docs/workloads.md "Jobs sharing a cluster") a knee.ClusterResult:
    every job alone and all together on one network, per job its slowdown, and the hot links.

    scenario: a dict equal to a scenario file (docs/scenarios.md) or the path of one.
    force: simulate even when the layout does not fit in GPU memory; otherwise that raises
    knee.DoesNotFitError (with .memory). Bad input raises knee.InputError naming the key.
    trace: a path: write the step's Chrome trace-event timeline there (as `knee simulate --trace`);
    trace_ranks: which GPUs, e.g. "0-7,64" (default: one pipeline).
    every_rank: simulate every rank on one network, no folding and no cached timings (as
    `knee simulate --every-rank` or the scenario's "simulation": {"every_rank": true}); slower.
    samples: profile draws for the 95% intervals in .intervals (docs/uncertainty.md); None: as
    `knee simulate` (8, or 0 in every-rank mode); 0: none.
    seeds: N >= 2 straggler seeds for the intervals instead of profile draws, the profile at its
    medians (as `knee simulate --seeds N`; the scenario needs stragglers).
    On a serving scenario samples and seeds default to none (no repetition); seeds=N repeats the run
    with request seeds seed .. seed + N - 1, samples=N on N profile draws (docs/uncertainty.md).
    """
    what = "knee.simulate"
    text, source = _scenario(what, scenario)
    # A scenario with a "serving" object is a serving scenario (docs/serving.md): a ServingResult.
    if _knee.is_serving_scenario(text, source):
        if force or trace is not None or trace_ranks is not None or every_rank:
            raise InputError(f"{what}: force, trace, trace_ranks, every_rank: expected none with a "
                             f"serving scenario, got one ({source} has a \"serving\" object)")
        return serving.simulate_serving(text, source, seeds=seeds, samples=samples, what=what)
    # A file with "jobs" is a cluster file (docs/workloads.md, "Jobs sharing a cluster"): a ClusterResult.
    if _knee.is_cluster_file(text, source):
        if (force or trace is not None or trace_ranks is not None or every_rank or samples is not None
                or seeds is not None):
            raise InputError(f"{what}: force, trace, trace_ranks, every_rank, samples, seeds: expected none with a "
                             f"cluster file, got one ({source} has \"jobs\"; every job runs every rank)")
        return cluster_jobs.simulate_cluster(text, source, scenario)
    force = _args.boolean(what, "force", force)
    every_rank = _args.boolean(what, "every_rank", every_rank)
    trace = "" if trace is None else os.fspath(trace)
    if trace_ranks is not None and not trace:
        raise InputError(f"{what}: trace_ranks: expected trace=PATH with it, got no trace")
    trace_ranks = "" if trace_ranks is None else _args.string(what, "trace_ranks", trace_ranks)
    samples = -1 if samples is None else _args.integer(what, "samples", samples)
    if samples == 1 or samples < -1:
        raise InputError(f"{what}: samples: expected 0 (no intervals) or an integer >= 2, got {samples}")
    if seeds is not None:
        if samples != -1:
            raise InputError(f"{what}: seeds: expected it without samples (one source of draws), got both")
        seeds = _args.integer(what, "seeds", seeds)
        if seeds < 2:
            raise InputError(f"{what}: seeds: expected an integer >= 2, got {seeds}")
    t0 = time.perf_counter()
    d = _knee.simulate(text, source, force, trace, trace_ranks, every_rank, samples, 0 if seeds is None else seeds)
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


def _at(point, pointer):
    """The value at a JSON pointer of a sweep point, or None where it has none."""
    v = point
    for key in pointer.split("/")[1:]:
        if isinstance(v, list) and key.isdigit():  # an interval's [lo, hi]
            if int(key) >= len(v):
                return None
            v = v[int(key)]
            continue
        if not isinstance(v, dict) or key not in v:
            return None
        v = v[key]
    return v


def _row(p, knee_gpus):
    """One DataFrame row: every column of the schema read from the point (NaN where absent)."""
    row = {}
    for c in SWEEP_COLUMN_SPECS:
        v = p["gpus"] == knee_gpus if c["name"] == "knee" else _at(p, c["pointer"])
        if v is None:
            v = "" if c["name"] == "reason" else math.nan  # feasible points have no reason
        row[c["name"]] = v
    return row


def sweep_frame(sweep_json):
    """The DataFrame of knee.sweep from a sweep dict (the output of `knee sweep --json`)."""
    import pandas as pd
    knee_gpus = sweep_json.get("knee_gpus")
    df = pd.DataFrame([_row(p, knee_gpus) for p in sweep_json["points"]], columns=SWEEP_COLUMNS)
    df.attrs.update(mode=sweep_json["mode"], baseline_gpus=sweep_json["baseline_gpus"],
                    threshold=sweep_json["threshold"], knee=knee_gpus, knee_cause=sweep_json["knee_cause"],
                    scenario=sweep_json.get("scenario"), sweep_json=sweep_json,
                    knee_distribution=sweep_json.get("knee_distribution"))
    return df


def sweep(scenario, gpus, mode="strong", baseline=None, threshold=0.8, *, processes=None, client=None,
          progress=None, samples=0):
    """A scaling study, as `knee sweep --json`: a pandas.DataFrame with one row per GPU count.

    Columns: those of `knee sweep --csv`, from one schema (knee.workload.SWEEP_COLUMN_SPECS gives
    each column's unit and meaning): gpus, tp, pp, dp, cp, global_batch, feasible, reason (why
    not feasible), step_time_s, tokens_per_s, speedup, efficiency (speedup / (gpus / baseline)),
    mfu, comm_to_compute, the step's breakdown (compute_s, forward_s, backward_s, exposed_comm_s,
    exposed_{tp,pp,dp,cp,ep}_s, bubble_s, optimizer_s, launch_gap_s, straggler_s),
    memory_per_gpu_bytes, avg_power_per_gpu_W and facility_J_per_token (NaN without a power
    model), usd_per_million_tokens (NaN without a price in the scenario's cost), run_days and
    run_usd (NaN without cost.train_tokens), goodput (NaN without a failure model) and knee (True
    on the knee's row); NaN where a point is infeasible. df.attrs: mode,
    baseline_gpus, threshold, knee (GPUs or None), knee_cause, scenario and sweep_json (the CLI's
    JSON, for knee.report).

    scenario: dict or path; gpus: GPU counts; mode: "strong" (global batch fixed) or "weak" (it
    grows with dp); baseline: the GPU count speedup is relative to (None: smallest feasible);
    threshold: the efficiency below which the knee is marked.
    processes / client / progress: as knee.collective_sweep; the points then run independently
    and speedup, efficiency and the knee are derived afterwards, with results identical to the
    sequential sweep.
    samples: profile draws for 95% intervals (as `knee sweep --samples`; default 0: none): the
    columns step_time_s_lo/_hi, tokens_per_s_lo/_hi, speedup_lo/_hi, efficiency_lo/_hi, mfu_lo/_hi,
    and df.attrs["knee_distribution"]. Each draw is a whole sweep, run sequentially.
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
    samples = _args.integer(what, "samples", samples)
    if samples == 1 or samples < 0:
        raise InputError(f"{what}: samples: expected 0 (no intervals) or an integer >= 2, got {samples}")
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
    if samples:
        j = _knee.sweep_intervals(json.dumps(j), text, source, points, mode, baseline, threshold, samples)
    j["scenario"] = source
    j["scenario_json"] = json.loads(text)  # for the report's scenario table, as knee sweep --json
    j["simulated_wall_s"] = time.perf_counter() - t0
    return sweep_frame(j)


def explain(scenario):
    """The error budget of one prediction, as `knee explain --json`: a pandas.DataFrame with one
    row per modelled mechanism that applies to the scenario, each turned off alone (every other
    mechanism on; rows are not additive), sorted by |delta_s|, largest first.

    Columns (knee.workload.EXPLAIN_ROW_FIELDS gives each one's unit and meaning): id, mechanism,
    step_time_s (the step with it off), delta_s and delta_pct (against the baseline), provenance
    (measured, fitted, derived, datasheet or assumed), off (what off means) and basis (the
    parameters and their source). df.attrs: step_time_s (the baseline), fits (a layout that does
    not fit is explained anyway), reading (how to read the budget), baseline (the dict of
    `knee simulate --json`), scenario (the path or "<dict>") and explain_json (the CLI's JSON).

    scenario: a dict equal to a scenario file (docs/scenarios.md) or the path of one. Bad input
    raises knee.InputError naming the key.
    """
    import pandas as pd
    text, source = _scenario("knee.explain", scenario)
    j = _knee.explain(text, source)
    df = pd.DataFrame([{k: row[k] for k in EXPLAIN_COLUMNS} for row in j["rows"]], columns=EXPLAIN_COLUMNS)
    df.attrs.update({f["key"]: j[f["key"]] for f in EXPLAIN_FIELDS if f["key"] != "rows"})
    df.attrs["explain_json"] = j
    return df
