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
  std::vector<std::uint32_t> gpus{};   // the cluster GPU of each of the job's ranks (rank order)
  std::string name{};                  // for messages: "job \"a\" ($.jobs[0])"
};

// A cluster's broken parts (a cluster file's "faults"), the same for every job on it.
struct ClusterFaults {
  Faults faults;
  std::string source;  // the cluster file, for messages naming $.faults...
};

// One directed link of the run that carried bytes.
struct LinkUse {
  std::string from{}, to{};
  double bytes = 0;
  double busy_s = 0;  // bytes / capacity: seconds of transfer at full rate
  double capacity_Bps = 0;
  bool between_switches = false;  // a fabric uplink or spine link (both ends switches)
  // Per job of the run, in the jobs' order: the bytes its collectives and sends put on this link
  // (CollectiveExecutor's accounts; they sum to `bytes`).
  std::vector<double> job_bytes{};
};

struct JobsRun {
  std::vector<double> step_time_s;  // per job, as every-rank mode gives it
  std::vector<bool> fits;           // per job: its memory fits its GPUs
  std::uint64_t events = 0, flows = 0, collectives = 0;
  std::vector<LinkUse> links;    // every directed link that carried bytes, busiest first (ties: link id)
  double switch_link_bytes = 0;  // bytes over links between two switches (uplinks, spines)
};

// The jobs' steps together (one job: alone) on `cluster` with `faults`: degraded links at their
// fraction of capacity, failed links and NICs down so that routes avoid them (InputError naming
// $.faults.failed_links[i] or failed_nics[i] and the job when a group of a job is cut off).
// InputError naming the job's scenario for what it may not carry here (slow GPUs; degraded or
// failed parts, which belong in the cluster file's faults).
JobsRun simulate_jobs(const std::vector<JobOnCluster>& jobs, const Topology& cluster, const ClusterFaults& faults = {});

}  // namespace knee
