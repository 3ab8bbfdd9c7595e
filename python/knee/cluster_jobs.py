"""Jobs sharing a cluster: a cluster file (a scenario file with "jobs", docs/scenarios.md "Cluster
files") simulated every rank, each job alone and all together on one network, as `knee simulate
--json` reports it. knee.simulate dispatches here; docs/workloads.md says what is simulated."""
import dataclasses
import os
import time

from . import _args
from . import _knee

# The result schema, defined once in C++ (workloads/cluster/cluster_result_schema.hpp).
CLUSTER_FIELDS = tuple(_knee.cluster_fields())
CLUSTER_KEYS = tuple(f["key"] for f in CLUSTER_FIELDS)
JOB_COLUMN_SPECS = tuple(_knee.cluster_job_columns())
JOB_COLUMNS = [c["key"] for c in JOB_COLUMN_SPECS]
LINK_COLUMN_SPECS = tuple(_knee.cluster_link_columns())


class _ClusterResultMethods:
    def to_dict(self):
        """The keys and values of `knee simulate --json`, in its order."""
        d = {k: getattr(self, k) for k in CLUSTER_KEYS}
        d["scenario"] = self.scenario
        d["simulated_wall_s"] = self.simulated_wall_s
        return d

    def jobs_frame(self):
        """The jobs as a pandas DataFrame, one row per job, columns in the schema's order."""
        import pandas as pd
        return pd.DataFrame(self.jobs, columns=JOB_COLUMNS)

    def slowdown(self, job):
        """Together / alone of the job named `job`."""
        for j in self.jobs:
            if j["name"] == job:
                return j["slowdown"]
        raise KeyError(job)


ClusterResult = dataclasses.make_dataclass(
    "ClusterResult",
    [(f["key"], object, dataclasses.field(repr=f["key"] in ("cluster", "jobs"))) for f in CLUSTER_FIELDS]
    + [("scenario", str, dataclasses.field(default="")),
       ("simulated_wall_s", float, dataclasses.field(default=0.0, repr=False))],
    bases=(_ClusterResultMethods,), frozen=True)
ClusterResult.__module__ = "knee"
ClusterResult.__doc__ = (
    "Jobs sharing a cluster, as `knee simulate --json` reports a cluster file (docs/workloads.md). Fields:\n"
    + _args.field_docs(CLUSTER_FIELDS)
    + "\n  each of jobs (a list of dicts; .jobs_frame() as a DataFrame):\n"
    + _args.field_docs(JOB_COLUMN_SPECS, "    ")
    + "\n  each of hot_links:\n"
    + _args.field_docs(LINK_COLUMN_SPECS, "    ")
    + "\n  scenario: the path given, or \"<dict>\"\n  simulated_wall_s [s]: wall time (not simulated time)")


def simulate_cluster(text, source, scenario):
    """The cluster file `text` (JSON, named `source` in messages) simulated: a ClusterResult. Job
    scenarios given as paths are relative to the file's folder (the working directory for a dict)."""
    base = os.path.dirname(os.fspath(scenario)) if isinstance(scenario, (str, os.PathLike)) else ""
    t0 = time.perf_counter()
    d = _knee.simulate_cluster(text, source, base)
    wall = time.perf_counter() - t0
    return ClusterResult(**{k: d[k] for k in CLUSTER_KEYS}, scenario=source, simulated_wall_s=wall)
