// A cluster file simulated (docs/workloads.md, "Jobs sharing a cluster"): the cluster's topology
// built once, every job placed, each job's step every rank alone on it and then all jobs together
// on one engine and one flow network (workloads/training/every_rank_jobs.hpp).
#pragma once

#include "workloads/cluster/cluster_file.hpp"
#include "workloads/cluster/cluster_result.hpp"

namespace knee::cluster {

ClusterResult simulate_cluster(const ClusterFile& c);

}  // namespace knee::cluster
