"""A PyTorch profiler (Kineto) trace against a profile (knee.analyze_trace), as `knee analyze
--trace --json` (docs/analyze.md, "Kineto traces"): per op class and per shape, the measured
kernel times beside what the profile predicts for the same ops, GPU busy time per device and
stream, the ProfilerStep windows, and how much of the GPU time is compared at all; given several
traces (one per rank), the same pooled over every rank, with a row per rank and the rank skew."""
import dataclasses
import os

from . import _args
from . import _knee
from ._knee import InputError

# The schema, defined once in C++ (metrics/kernel_comparison_schema.hpp).
TRACE_FIELDS = tuple(_knee.trace_fields("top"))
ROW_FIELDS = tuple(_knee.trace_fields("rows"))
STREAM_FIELDS = tuple(_knee.trace_fields("streams"))
STEP_FIELDS = tuple(_knee.trace_fields("steps"))
RANK_FIELDS = tuple(_knee.trace_fields("ranks"))
RANK_SKEW_FIELDS = tuple(_knee.trace_fields("rank_skew"))
_TABLES = {"classes": [f["key"] for f in ROW_FIELDS], "shapes": [f["key"] for f in ROW_FIELDS],
           "streams": [f["key"] for f in STREAM_FIELDS], "steps": [f["key"] for f in STEP_FIELDS],
           "ranks": [f["key"] for f in RANK_FIELDS]}


class _TraceMethods:
    def to_dict(self):
        """The dict of `knee analyze --trace --json`."""
        return self.trace_json


TraceAnalysis = dataclasses.make_dataclass(
    "TraceAnalysis",
    [(f["key"], object, dataclasses.field(repr=f["key"] not in _TABLES)) for f in TRACE_FIELDS]
    + [("trace_json", dict, dataclasses.field(default=None, repr=False))],
    bases=(_TraceMethods,), frozen=True)
TraceAnalysis.__module__ = "knee"
TraceAnalysis.__doc__ = (
    "A Kineto trace's kernels against a profile, as `knee analyze --trace --json` (docs/analyze.md); "
    "classes, shapes, streams, steps and ranks are pandas DataFrames with the JSON rows' keys as columns "
    "(ranks empty for one trace); rank_skew a dict (None for one trace). Fields:\n"
    + _args.field_docs(TRACE_FIELDS))


def frames(trace_json):
    """TraceAnalysis from the dict of `knee analyze --trace --json` (its tables as DataFrames)."""
    import pandas as pd
    d = {}
    for f in TRACE_FIELDS:
        k = f["key"]
        v = trace_json.get(k, []) if k == "ranks" else trace_json.get(k) if k == "rank_skew" else trace_json[k]
        d[k] = pd.DataFrame([{c: row[c] for c in _TABLES[k]} for row in v], columns=_TABLES[k]) if k in _TABLES else v
    return TraceAnalysis(**d, trace_json=trace_json)


def analyze_trace(path, *, profile=None, top=20):
    """A PyTorch profiler trace (torch.profiler's export_chrome_trace JSON, .json or .json.gz, best
    recorded with record_shapes=True) against a profile: the measured time of each op class and
    shape beside the profile's prediction, as `knee analyze --trace --json`.

    path: a trace file, a directory of traces (*.json, *.json.gz, sorted by name), or a list of
    them: several traces are one per rank (rank from distributedInfo, else position); the top level
    then pools every rank's calls, .ranks has a row per rank and .rank_skew names the slowest rank,
    its straggler factor and the NCCL waits.

    profile: a built-in profile name ("h200", "h100", ...) or a profile file (None: by the
    trace's GPU, else h200); top: distinct shapes kept, by measured time. Returns a TraceAnalysis:
    .classes, .shapes, .streams, .steps (DataFrames), .ratio, .predicted_share, .unlinked, ...
    Bad input raises knee.InputError.
    """
    what = "knee.analyze_trace"
    paths = [path] if isinstance(path, (str, os.PathLike)) else path
    if not isinstance(paths, (list, tuple)) or not paths or \
            not all(isinstance(p, (str, os.PathLike)) for p in paths):
        raise InputError(f"{what}: path: expected the path of a trace JSON file, a directory or a list of "
                         f"them, got {path!r}")
    if profile is None:
        profile = ""
    elif isinstance(profile, os.PathLike):
        profile = os.fspath(profile)
    else:
        profile = _args.string(what, "profile", profile)
        if not profile:
            raise InputError(f"{what}: profile: expected a built-in profile name or a profile file, got ''")
    top = _args.integer(what, "top", top)
    if top < 0:
        raise InputError(f"{what}: top: expected an integer >= 0, got {top}")
    return frames(_knee.analyze_trace([os.fspath(p) for p in paths], profile, top))
