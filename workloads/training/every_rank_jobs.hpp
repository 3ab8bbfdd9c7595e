// Several training jobs' steps on one cluster (workloads/cluster, docs/workloads.md "Jobs sharing
// a cluster"): every job's units run every rank on ONE engine and ONE flow network over the
// cluster's topology, each job's ranks on the cluster GPUs its placement gives, so that jobs slow
// each other down through the links they share and nothing else. One job alone on all of a
// cluster's GPUs in rank order is exactly `knee simulate --every-rank` of its scenario.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "topologies/topology.hpp"
#include "workloads/training/scenario.hpp"

namespace knee {

struct JobOnCluster {
  const Scenario* scenario = nullptr;  // its system and fabric the cluster's; gpus = the job's GPUs
  std::vector<std::uint32_t> gpus;     // the cluster GPU of each of the job's ranks (rank order)
};

// One directed link of the run that carried bytes.
struct LinkUse {
  std::string from, to;
  double bytes = 0;
  double busy_s = 0;  // bytes / capacity: seconds of transfer at full rate
  double capacity_Bps = 0;
  bool between_switches = false;  // a fabric uplink or spine link (both ends switches)
};

struct JobsRun {
  std::vector<double> step_time_s;  // per job, as every-rank mode gives it
  std::vector<bool> fits;           // per job: its memory fits its GPUs
  std::uint64_t events = 0, flows = 0, collectives = 0;
  std::vector<LinkUse> links;    // every directed link that carried bytes, busiest first (ties: link id)
  double switch_link_bytes = 0;  // bytes over links between two switches (uplinks, spines)
};

// The jobs' steps together (one job: alone). InputError naming the job's scenario for what
// every-rank mode does not simulate (stragglers, degraded links in a job).
JobsRun simulate_jobs(const std::vector<JobOnCluster>& jobs, const Topology& cluster);

}  // namespace knee
