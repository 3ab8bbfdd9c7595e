"""Serving workloads: a serving scenario (a scenario with a "serving" object, docs/scenarios.md)
simulated request by request, as `knee simulate --json` reports it, with the per-request table as
a pandas DataFrame. knee.simulate dispatches here; docs/serving.md says what is simulated."""
import dataclasses
import time

from . import _args
from . import _knee

# The result schema, defined once in C++ (workloads/serving/serving_result_schema.hpp).
SERVING_FIELDS = tuple(_knee.serving_fields())
SERVING_KEYS = tuple(f["key"] for f in SERVING_FIELDS)
REQUEST_COLUMN_SPECS = tuple(_knee.serving_request_columns())
REQUEST_COLUMNS = [c["key"] for c in REQUEST_COLUMN_SPECS]

_SCALARS = {"completed", "duration_s", "request_throughput_rps", "output_throughput_tokens_per_s",
            "throughput_tokens_per_s", "goodput_rps", "slo_attainment", "J_per_output_token",
            "usd_per_million_output_tokens"}


# The figures that get intervals (workloads/serving/serving_intervals.hpp), as JSON pointers.
INTERVAL_FIGURES = tuple(_knee.serving_interval_figures())


def _at(d, pointer):
    for key in pointer.strip("/").split("/"):
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


class _ServingResultMethods:
    def to_dict(self):
        """The keys and values of `knee simulate --json`, in its order (no "intervals" without them, no
        "prefix_cache" without prefix caching, no "groups" without fan-out, no "swap" without swap preemption)."""
        d = {k: getattr(self, k) for k in SERVING_KEYS
             if k not in ("intervals", "prefix_cache", "groups", "swap") or getattr(self, k) is not None}
        d["scenario"] = self.scenario
        d["simulated_wall_s"] = self.simulated_wall_s
        return d

    def headline(self):
        """The headline figures as a one-row pandas.DataFrame: a column per figure ("ttft_s_p99" for
        ttft_s.p99), and with intervals (seeds or samples) its "_lo" and "_hi" columns (NaN without)."""
        import pandas as pd
        row, d = {}, self.to_dict()
        for p in INTERVAL_FIGURES:
            v = _at(d, p)
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                continue
            name = p.strip("/").replace("/", "_")
            iv = _at(self.intervals, p) if self.intervals is not None else None
            row[name] = float(v)
            row[name + "_lo"] = float(iv[0]) if iv else float("nan")
            row[name + "_hi"] = float(iv[1]) if iv else float("nan")
        return pd.DataFrame([row])


ServingResult = dataclasses.make_dataclass(
    "ServingResult",
    [(f["key"], object, dataclasses.field(repr=f["key"] in _SCALARS)) for f in SERVING_FIELDS]
    + [("requests", object, dataclasses.field(default=None, repr=False)),
       ("scenario", str, dataclasses.field(default="")),
       ("simulated_wall_s", float, dataclasses.field(default=0.0, repr=False))],
    bases=(_ServingResultMethods,), frozen=True)
ServingResult.__module__ = "knee"
ServingResult.__doc__ = (
    "A simulated serving run, as `knee simulate --json` reports it on a serving scenario (docs/serving.md). "
    "Fields:\n"
    + _args.field_docs(SERVING_FIELDS)
    + "\n  requests: pandas.DataFrame, one row per request; columns:\n"
    + _args.field_docs(REQUEST_COLUMN_SPECS, "    ")
    + "\n  scenario: the path given, or \"<dict>\"\n  simulated_wall_s [s]: wall time (not simulated time)")


def simulate_serving(text, source, goodput=True, seeds=None, samples=None, what="knee.simulate"):
    """The serving scenario `text` (JSON, named `source` in messages) simulated: a ServingResult.
    seeds / samples: N >= 2 repetitions over request seeds / profile draws for .intervals (None: none;
    samples=0 too)."""
    import pandas as pd
    if seeds is not None and samples is not None:
        raise _knee.InputError(f"{what}: seeds: expected it without samples (one source of draws), got both")
    n_seeds = 0 if seeds is None else _args.integer(what, "seeds", seeds)
    if seeds is not None and n_seeds < 2:
        raise _knee.InputError(f"{what}: seeds: expected an integer >= 2, got {n_seeds}")
    n_samples = 0 if samples is None else _args.integer(what, "samples", samples)
    if n_samples == 1 or n_samples < 0:
        raise _knee.InputError(f"{what}: samples: expected 0 (no intervals) or an integer >= 2, got {n_samples}")
    t0 = time.perf_counter()
    d = _knee.simulate_serving(text, source, goodput, n_seeds, n_samples)
    wall = time.perf_counter() - t0
    df = pd.DataFrame(d["requests"], columns=REQUEST_COLUMNS)
    for c in ("replica", "prompt_tokens", "output_tokens", "preemptions", "cached_tokens", "group"):
        df[c] = df[c].astype("int64")
    r = d["result"]
    return ServingResult(**{k: r.get(k) for k in SERVING_KEYS}, requests=df, scenario=source, simulated_wall_s=wall)


# The capacity plan's schema, defined once in C++ (workloads/serving/capacity_schema.hpp).
CAPACITY_FIELDS = tuple(_knee.capacity_fields())
CAPACITY_KEYS = tuple(f["key"] for f in CAPACITY_FIELDS)
CANDIDATE_COLUMN_SPECS = tuple(_knee.capacity_candidate_columns())
CANDIDATE_COLUMNS = [c["key"] for c in CANDIDATE_COLUMN_SPECS]


class _CapacityResultMethods:
    def to_dict(self):
        """The keys and values of `knee capacity --json`, in its order (candidates as columns)."""
        d = {k: getattr(self, k) for k in CAPACITY_KEYS}
        d["candidates"] = {c: self.candidates[c].tolist() for c in CANDIDATE_COLUMNS}
        d["scenario"] = self.scenario
        return d


CapacityResult = dataclasses.make_dataclass(
    "CapacityResult",
    [(f["key"], object, dataclasses.field(repr=f["key"] != "candidates")) for f in CAPACITY_FIELDS]
    + [("scenario", str, dataclasses.field(default=""))],
    bases=(_CapacityResultMethods,), frozen=True)
CapacityResult.__module__ = "knee"
CapacityResult.__doc__ = (
    "A serving capacity plan, as `knee capacity --json` reports it (docs/serving.md, \"Capacity planning\"). "
    "Fields:\n"
    + _args.field_docs(CAPACITY_FIELDS)
    + "\n  candidates is a pandas.DataFrame, one row per layout simulated; columns:\n"
    + _args.field_docs(CANDIDATE_COLUMN_SPECS, "    ")
    + "\n  scenario: the path given, or \"<dict>\"")


def capacity(scenario, *, rate, max_rate=False, usd_per_gpu_hour=None, max_gpus=None, disaggregated=True):
    """The fewest GPUs serving `rate` requests/s within the serving scenario's SLOs, as `knee capacity
    --json`: a knee.CapacityResult whose .candidates is a DataFrame of every layout simulated.

    scenario: a dict equal to a serving scenario file, or the path of one.
    max_rate: also find the serving knee of the scenario's own layout and its cause (.max_rate).
    usd_per_gpu_hour: price of a GPU-hour, for cost per million output tokens (None: no cost).
    max_gpus: largest layout tried (None: 8 x the scenario's GPUs).
    disaggregated: also search prefill:decode pools.
    Bad input (rate not > 0, no SLO) raises knee.InputError.
    """
    import pandas as pd
    what = "knee.capacity"
    text, source = _args.scenario_text(what, scenario)
    rate = _args.number(what, "rate", rate)
    if not rate > 0:
        raise _knee.InputError(f"{what}: rate: expected a request rate > 0 (requests/s), got {rate!r}")
    price = -1.0 if usd_per_gpu_hour is None else _args.number(what, "usd_per_gpu_hour", usd_per_gpu_hour)
    if usd_per_gpu_hour is not None and not price >= 0:
        raise _knee.InputError(f"{what}: usd_per_gpu_hour: expected a price >= 0, got {price!r}")
    gpus = 0 if max_gpus is None else _args.integer(what, "max_gpus", max_gpus)
    if max_gpus is not None and gpus < 1:
        raise _knee.InputError(f"{what}: max_gpus: expected an integer >= 1, got {gpus}")
    d = _knee.plan_capacity(text, source, rate, _args.boolean(what, "max_rate", max_rate), price, gpus,
                            _args.boolean(what, "disaggregated", disaggregated))
    d["candidates"] = pd.DataFrame(d["candidates"], columns=CANDIDATE_COLUMNS)
    return CapacityResult(**{k: d[k] for k in CAPACITY_KEYS}, scenario=source)
