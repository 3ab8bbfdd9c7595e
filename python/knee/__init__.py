"""knee: a calibrated discrete-event simulator of GPU clusters for distributed AI.

    import knee
    knee.topology(system="dgx-h100", nodes=2)                    # dict, as `knee topology --json`
    r = knee.collective("allreduce", "1GiB", system="dgx-h100", nodes=2)
    r.busbw_GBps, r.algorithm, r.to_dict()
    df = knee.collective_sweep("allreduce", sizes="8B:1GiB", system="dgx-h100", nodes=2, processes=4)
    knee.Profile.builtin("h200").gemm_time_s(8192, 8192, 8192)
    r = knee.simulate("examples/scenarios/gpt3-175b-1024.json")   # r.step_time_s, r.mfu, r.breakdown
    df = knee.sweep("examples/scenarios/gpt-h200-study.json", gpus=[1024, 2048, 4096], processes=2)
    knee.plot.efficiency(df); knee.report(df, out="report.html")
    knee.explain("examples/scenarios/gpt3-175b-1024.json")       # DataFrame: each mechanism off, alone
    a = knee.analyze("examples/runs/synthetic-strong.csv")         # measured runs: a.counts, a.fits DataFrames
    knee.audit("examples/claims/linear-to-1024.json").checks      # a scaling claim, item by item
    knee.capacity("examples/scenarios/llama3-8b-serving-dgx-h200.json", rate=40).best  # fewest GPUs

Bad input raises knee.InputError (a ValueError) naming the argument or the JSON path.
Reference: docs/python.md.
"""
from ._knee import InputError, __version__, git_revision, builtin_systems
from .cluster import Cluster, topology
from .collectives import CollectiveResult, collective, collective_sweep
from .calibrate import Profile, fit, fit_kineto, derive
from .workload import DoesNotFitError, SimulationResult, explain, simulate, sweep
from .serving import CapacityResult, ServingResult, capacity
from .cluster_jobs import ClusterResult, sweep_placements
from .report import report
from .analyze import RunAnalysis, analyze
from .kineto import TraceAnalysis, analyze_trace
from .audit import ClaimAudit, audit
from . import plot

__all__ = [
    "InputError", "__version__", "git_revision", "builtin_systems",
    "Cluster", "topology",
    "CollectiveResult", "collective", "collective_sweep",
    "Profile", "fit", "fit_kineto", "derive",
    "DoesNotFitError", "SimulationResult", "ServingResult", "ClusterResult", "CapacityResult", "capacity", "explain", "simulate", "sweep", "sweep_placements", "report", "plot",
    "RunAnalysis", "analyze", "TraceAnalysis", "analyze_trace", "ClaimAudit", "audit",
]
