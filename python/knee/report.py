"""knee.report: the self-contained HTML capacity-planning report of `knee report`."""
import os
import pathlib

from . import _args
from . import _knee
from ._knee import InputError


def _no_nan(v):
    """JSON's null for the NaN a DataFrame column holds where the CLI's JSON has null."""
    if isinstance(v, float) and v != v:
        return None
    if isinstance(v, dict):
        return {k: _no_nan(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_no_nan(x) for x in v]
    return v


def _sweep_source(what, sweep):
    """(sweep JSON text, source) of a knee.sweep DataFrame, a sweep dict or a sweep JSON file."""
    if isinstance(sweep, dict):
        return _args.json_text(what, "sweep", sweep), "<dict>"
    if isinstance(sweep, (str, os.PathLike)):
        path = os.fspath(sweep)
        try:
            with open(path, "rb") as f:
                return f.read().decode("utf-8", errors="replace"), path
        except OSError:
            raise InputError(f"{path}: expected a readable JSON file, got no such file or no permission") from None
    if hasattr(sweep, "analysis_json"):  # a knee.RunAnalysis: the measured-runs report
        return _args.json_text(what, "sweep", sweep.to_dict()), "<RunAnalysis>"
    if hasattr(sweep, "to_dict") and hasattr(sweep, "best") and hasattr(sweep, "candidates"):  # a knee.CapacityResult
        return _args.json_text(what, "sweep", _no_nan(sweep.to_dict())), "<CapacityResult>"
    if hasattr(sweep, "to_dict") and hasattr(sweep, "jobs"):  # a knee.ClusterResult: the cluster report
        return _args.json_text(what, "sweep", sweep.to_dict()), "<ClusterResult>"
    attrs = getattr(sweep, "attrs", None)
    if isinstance(attrs, dict) and isinstance(attrs.get("sweep_json"), dict):
        return _args.json_text(what, "sweep", attrs["sweep_json"]), "<DataFrame>"
    raise InputError(f"{what}: sweep: expected a knee.sweep DataFrame, a knee.ClusterResult, a sweep dict or a sweep JSON path, "
                     f"got {type(sweep).__name__}")


def _runs_source(what, runs):
    """(knee analyze JSON text, source) of a knee.RunAnalysis, an analysis dict, or runs to analyse
    with knee.analyze's defaults (a runs file, DataFrame or records)."""
    if hasattr(runs, "analysis_json"):
        return _args.json_text(what, "runs", runs.to_dict()), "<RunAnalysis>"
    if isinstance(runs, dict) and "counts" in runs and "fits" in runs and "measure" in runs:
        return _args.json_text(what, "runs", runs), "<dict>"
    from .analyze import analyze  # here: analyze imports nothing of the report
    source = os.fspath(runs) if isinstance(runs, (str, os.PathLike)) else "<runs>"
    return _args.json_text(what, "runs", analyze(runs).to_dict()), source


def report(sweep, out="report.html", question=None, runs=None):
    """Writes the HTML report of `knee report SWEEP.json --out OUT [--question TEXT] [--runs RUNS]`.

    sweep: a DataFrame from knee.sweep (its attrs["sweep_json"]), a dict or the path of
    `knee sweep --json` output; or a knee.ClusterResult (or its dict, or a cluster result or placement
    study file) for the cluster report (docs/workloads.md, "Jobs sharing a cluster"). out: the file to write (None: return the HTML as a string instead).
    question: the question the study answers (default: derived from the sweep).
    A knee.CapacityResult (or its dict, or `knee capacity --json` output) gives the serving capacity
    report. A knee.RunAnalysis (or its dict) as `sweep` gives the measured-runs report; `runs` (a
    knee.RunAnalysis, its dict, or runs knee.analyze takes) adds that section to a sweep's report
    (docs/analyze.md, "In a report").
    Returns the path written (pathlib.Path) or, with out=None, the HTML.
    """
    what = "knee.report"
    text, source = _sweep_source(what, sweep)
    question = "" if question is None else _args.string(what, "question", question)
    if out is not None and not isinstance(out, (str, os.PathLike)):
        raise InputError(f"{what}: out: expected a file path or None, got {out!r}")
    command = f"knee.report({source!r}, out={None if out is None else os.fspath(out)!r}"
    command += f", question={question!r})" if question else ")"
    runs_text, runs_source = ("", "") if runs is None else _runs_source(what, runs)
    html = _knee.render_report(text, source, command, question, runs_text, runs_source)
    if out is None:
        return html.decode("utf-8")
    path = pathlib.Path(out)
    try:
        path.write_bytes(html)
    except OSError as e:
        raise InputError(f"{what}: out: expected a writable file, got '{path}' ({e.strerror})") from None
    return path
