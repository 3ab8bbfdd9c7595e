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


def sweep_placements(cluster, placements=("packed", "spread", "random")):
    """A placement study, as `knee sweep CLUSTER.json --placements packed,spread,random --json`: the
    cluster file simulated once per placement with every job placed by it (explicit node ranges
    replaced; random with each job's seed; docs/workloads.md, "Jobs sharing a cluster").

    cluster: a cluster file's path or dict. placements: names among packed, spread, random.
    Returns a pandas.DataFrame with one row per (placement, job): `placement` (the study's) and the
    other columns of ClusterResult.jobs_frame(); df.attrs["sweep_json"] is the CLI's JSON (knee.report(df) writes the
    placement study's report), df.attrs["hot_links"] each placement's hot links.
    """
    import pandas as pd
    what = "knee.sweep_placements"
    text, source = _args.scenario_text(what, cluster)
    if not _knee.is_cluster_file(text, source):
        raise _knee.InputError(f"{what}: cluster: expected a cluster file (a scenario with \"jobs\"), got {source}")
    if isinstance(placements, str):
        placements = [placements]
    names = [_args.string(what, "placements", p) for p in placements]
    if not names:
        raise _knee.InputError(f"{what}: placements: expected at least one of packed, spread, random, got none")
    base = os.path.dirname(os.fspath(cluster)) if isinstance(cluster, (str, os.PathLike)) else ""
    t0 = time.perf_counter()
    j = _knee.sweep_placements(text, source, base, ",".join(names))
    j["scenario"] = source
    j["simulated_wall_s"] = time.perf_counter() - t0
    # Each job's own "placement" column is the study's placement here (every job placed alike).
    rows = [{**job, "placement": p["placement"]} for p in j["placements"] for job in p["jobs"]]
    df = pd.DataFrame(rows, columns=["placement"] + [c for c in JOB_COLUMNS if c != "placement"])
    df.attrs.update(sweep_json=j, hot_links={p["placement"]: p["hot_links"] for p in j["placements"]})
    return df
