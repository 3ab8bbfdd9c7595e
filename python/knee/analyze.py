"""Measured runs analysed (knee.analyze), as `knee analyze --json` (docs/analyze.md): warm-up
dropped by MSER-5, outliers flagged, bootstrap intervals, speedup and efficiency against a stated
baseline, strong, weak or unfair scaling, and Amdahl, Gustafson and USL fits."""
import dataclasses
import json
import math
import numbers
import os

from . import _args
from . import _knee
from ._knee import InputError

# The analysis schema, defined once in C++ (metrics/run_analysis_schema.hpp): the top-level keys of
# `knee analyze --json` and the columns of its three tables, with units and meanings.
ANALYSIS_FIELDS = tuple(_knee.analysis_fields("top"))
COUNT_FIELDS = tuple(_knee.analysis_fields("counts"))
FIT_FIELDS = tuple(_knee.analysis_fields("fits"))
PREDICTION_FIELDS = tuple(_knee.analysis_fields("predictions"))
COUNT_COLUMNS = [f["key"] for f in COUNT_FIELDS]
FIT_COLUMNS = [f["key"] for f in FIT_FIELDS]
PREDICTION_COLUMNS = [f["key"] for f in PREDICTION_FIELDS]
_TABLES = {"counts": COUNT_COLUMNS, "fits": FIT_COLUMNS, "predictions": PREDICTION_COLUMNS}


class _AnalysisMethods:
    def to_dict(self):
        """The dict of `knee analyze --json`."""
        return self.analysis_json


RunAnalysis = dataclasses.make_dataclass(
    "RunAnalysis",
    [(f["key"], object, dataclasses.field(repr=f["key"] not in _TABLES and not f["key"].endswith("method")))
     for f in ANALYSIS_FIELDS] + [("analysis_json", dict, dataclasses.field(default=None, repr=False))],
    bases=(_AnalysisMethods,), frozen=True)
RunAnalysis.__module__ = "knee"
RunAnalysis.__doc__ = (
    "Measured runs analysed, as `knee analyze --json` (docs/analyze.md); counts, fits and predictions are "
    "pandas DataFrames with the JSON rows' keys as columns (None/NaN where a value is null). Fields:\n"
    + _args.field_docs(ANALYSIS_FIELDS))


def _plain(v):
    """A JSON-ready scalar from numpy or pandas values; None for missing ones."""
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        return None if math.isnan(float(v)) else float(v)
    if hasattr(v, "item"):  # numpy scalars of other kinds
        return _plain(v.item())
    return v


def _records_text(what, records):
    rows = []
    for i, r in enumerate(records):
        if not isinstance(r, dict):
            raise InputError(f"{what}: runs[{i}]: expected a dict (a row), got {r!r}")
        rows.append({str(k): _plain(v) for k, v in r.items() if _plain(v) is not None})
    return json.dumps(rows)


def _source(what, runs):
    """(text, source) of a path, a DataFrame, a list of row dicts or a dict of the JSON format."""
    if isinstance(runs, (str, os.PathLike)):
        path = os.fspath(runs)
        try:
            with open(path, "rb") as f:
                return f.read().decode("utf-8", errors="replace"), path
        except OSError:
            raise InputError(f"{path}: expected a readable CSV or JSON file of runs, "
                             f"got no such file or no permission") from None
    if hasattr(runs, "to_dict") and hasattr(runs, "columns"):  # a pandas DataFrame
        return _records_text(what, runs.to_dict("records")), "<dataframe>"
    if isinstance(runs, dict):
        return json.dumps(runs, default=_plain), "<dict>"
    if isinstance(runs, (list, tuple)):
        return _records_text(what, runs), "<records>"
    raise InputError(f"{what}: runs: expected a path, a pandas DataFrame, a list of row dicts or a dict, got {runs!r}")


def frames(analysis_json):
    """RunAnalysis from the dict of `knee analyze --json` (its tables as DataFrames)."""
    import pandas as pd
    d = {}
    for f in ANALYSIS_FIELDS:
        k = f["key"]
        v = analysis_json[k]
        d[k] = pd.DataFrame([{c: row[c] for c in _TABLES[k]} for row in v], columns=_TABLES[k]) if k in _TABLES else v
    return RunAnalysis(**d, analysis_json=analysis_json)


def analyze(runs, *, baseline=None, precision=0.01, resamples=2000, seed=1, strict=False, scenario=None, samples=8):
    """Measured step times (or throughputs) analysed, as `knee analyze --json`.

    runs: the path of a CSV or JSON file (docs/analyze.md), a pandas DataFrame or a list of row
    dicts with the CSV's columns (gpus and one of step_time_s, tokens_per_s, samples_per_s;
    optional iteration, run, global_batch, micro_batch, seq_len, note), or a dict {"runs": [...]}.
    baseline: the GPU count speedup is relative to (None: the smallest); precision: the wanted
    half-width of the mean's 95% interval as a share of the mean; resamples, seed: of the
    bootstrap; strict: refuse unknown CSV columns. Returns a RunAnalysis: .counts (one row per GPU
    count), .fits (one per law), .predictions (each law at 2x, 4x, 8x the largest count) as
    DataFrames, and .mode, .baseline_gpus, .notes, ... Bad input raises knee.InputError.
    scenario: a training scenario (path or dict), swept over the measured counts and the laws'
    extrapolation counts with `samples` profile draws: .simulated, a dict as `knee analyze
    --scenario --json` (its "points" beside the measured efficiency); None without.
    """
    what = "knee.analyze"
    text, source = _source(what, runs)
    baseline = 0 if baseline is None else _args.integer(what, "baseline", baseline)
    if baseline < 0:
        raise InputError(f"{what}: baseline: expected an integer >= 1, got {baseline}")
    precision = _args.number(what, "precision", precision)
    if not 0 < precision < 1:
        raise InputError(f"{what}: precision: expected a share in (0, 1), e.g. 0.01 for 1%, got {precision}")
    resamples = _args.integer(what, "resamples", resamples)
    seed = _args.integer(what, "seed", seed)
    strict = _args.boolean(what, "strict", strict)
    scenario_text, scenario_source = "", ""
    if scenario is not None:
        scenario_text, scenario_source = _args.scenario_text(what, scenario)
    samples = _args.integer(what, "samples", samples)
    if samples == 1 or samples < 0:
        raise InputError(f"{what}: samples: expected 0 (no intervals) or an integer >= 2, got {samples}")
    return frames(_knee.analyze(text, source, strict, baseline, precision, resamples, seed, scenario_text,
                                scenario_source, samples))
