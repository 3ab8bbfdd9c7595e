// Where each job of a cluster file runs (docs/workloads.md, "Jobs sharing a cluster"): explicit
// node ranges first (they must not overlap), then the other jobs in file order on the nodes still
// free: packed takes the lowest-numbered free nodes, spread strides evenly over them, random takes
// a seeded shuffle of them (sorted). A job's ranks fill its nodes in order, GPU by GPU.
#pragma once
#include <cstdint>
#include <vector>

#include "workloads/cluster/cluster_file.hpp"

namespace knee::cluster {

// Per job: its nodes, in rank order. InputError naming the file and the job's key when the jobs
// need more nodes than the cluster has or explicit placements overlap.
std::vector<std::vector<std::int64_t>> place_jobs(const ClusterFile& c);

// The cluster GPU of each of a job's ranks on `nodes` (gpus_per_node each).
std::vector<std::uint32_t> gpu_map(const std::vector<std::int64_t>& nodes, std::int64_t gpus_per_node);

}  // namespace knee::cluster
