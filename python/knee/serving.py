"""Serving workloads: a serving scenario (a scenario with a "serving" object, docs/scenarios.md)
simulated request by request, as `knee simulate --json` reports it, with the per-request table as
a pandas DataFrame. knee.simulate dispatches here; docs/serving.md says what is simulated."""
import dataclasses
import time

from . import _knee

# The result schema, defined once in C++ (workloads/serving/serving_result_schema.hpp).
SERVING_FIELDS = tuple(_knee.serving_fields())
SERVING_KEYS = tuple(f["key"] for f in SERVING_FIELDS)
REQUEST_COLUMN_SPECS = tuple(_knee.serving_request_columns())
REQUEST_COLUMNS = [c["key"] for c in REQUEST_COLUMN_SPECS]

_SCALARS = {"completed", "duration_s", "request_throughput_rps", "output_throughput_tokens_per_s",
            "throughput_tokens_per_s", "goodput_rps", "slo_attainment"}


class _ServingResultMethods:
    def to_dict(self):
        """The keys and values of `knee simulate --json`, in its order."""
        d = {k: getattr(self, k) for k in SERVING_KEYS}
        d["scenario"] = self.scenario
        d["simulated_wall_s"] = self.simulated_wall_s
        return d


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
    + "\n".join(f"  {f['key']}{' [' + f['unit'] + ']' if f['unit'] else ''}: {f['meaning']}" for f in SERVING_FIELDS)
    + "\n  requests: pandas.DataFrame, one row per request; columns:\n"
    + "\n".join(f"    {c['key']}{' [' + c['unit'] + ']' if c['unit'] else ''}: {c['meaning']}"
                for c in REQUEST_COLUMN_SPECS)
    + "\n  scenario: the path given, or \"<dict>\"\n  simulated_wall_s [s]: wall time (not simulated time)")


def simulate_serving(text, source, goodput=True):
    """The serving scenario `text` (JSON, named `source` in messages) simulated: a ServingResult."""
    import pandas as pd
    t0 = time.perf_counter()
    d = _knee.simulate_serving(text, source, goodput)
    wall = time.perf_counter() - t0
    df = pd.DataFrame(d["requests"], columns=REQUEST_COLUMNS)
    for c in ("replica", "prompt_tokens", "output_tokens", "preemptions"):
        df[c] = df[c].astype("int64")
    r = d["result"]
    return ServingResult(**{k: r[k] for k in SERVING_KEYS}, requests=df, scenario=source, simulated_wall_s=wall)
