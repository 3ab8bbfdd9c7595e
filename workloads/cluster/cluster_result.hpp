// What `knee simulate CLUSTER.json` gives (docs/workloads.md, "Jobs sharing a cluster"): per job
// its step alone and together on one network and the slowdown; the shared run's hot links.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "workloads/training/every_rank_jobs.hpp"

namespace knee::cluster {

struct JobResult {
  std::string name, placement;      // placement as written ("packed", "random (seed 3)", "nodes 0-1")
  std::vector<std::int64_t> nodes;  // in rank order
  std::int64_t gpus = 0;
  bool fits = true;                     // its memory fits its GPUs (simulated either way)
  double alone_step_time_s = 0;         // the job by itself on the cluster, on its nodes
  double together_step_time_s = 0;      // with every job on the one network
  double slowdown = 1;                  // together / alone
  double alone_switch_link_bytes = 0;   // bytes the job alone sends over links between switches
  std::string alone_busiest_link;       // "from -> to" of its alone run ("" when no link carried bytes)
  std::string profile, profile_origin;  // its scenario's profile and how it was made (profile_origin.hpp)
};

// A hot link of the shared run, with the bytes each job put on it (the flows of its collectives
// and sends counted by the executor per job: LinkUse::job_bytes), named.
struct HotLink : LinkUse {
  std::vector<std::pair<std::string, double>> bytes_by_job;  // (job name, bytes), in the jobs' order
};

struct ClusterResult {
  std::string source, system, fabric;
  std::int64_t nodes = 0, gpus = 0;
  double oversubscription = 1;
  Faults faults;  // the cluster file's, applied to every job's runs alone and together
  std::vector<JobResult> jobs;
  std::vector<HotLink> hot_links;                        // the shared run's busiest directed links (at most kHotLinks)
  double switch_link_bytes = 0;                          // the shared run's bytes over links between switches
  std::uint64_t events = 0, flows = 0, collectives = 0;  // the shared run's
};

inline constexpr std::size_t kHotLinks = 8;

}  // namespace knee::cluster
