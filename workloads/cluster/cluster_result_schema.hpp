// A cluster result defined once (docs/python.md, "One schema"): each field of `knee simulate
// --json` on a cluster file, each column of its per-job table and of its hot links, with unit and
// meaning. The JSON and Python's result fields are all made from these.
#pragma once
#include <functional>
#include <vector>

#include <nlohmann/json.hpp>

#include "workloads/cluster/cluster_result.hpp"

namespace knee::cluster {

struct ClusterField {
  const char* key;
  const char* unit;     // "s", "bytes", ...; "" for counts, names and objects
  const char* meaning;  // one line, for help texts and Python docstrings
  std::function<nlohmann::ordered_json(const ClusterResult&)> value;
};
const std::vector<ClusterField>& cluster_result_fields();

struct JobColumn {
  const char* key;
  const char* unit;
  const char* meaning;
  std::function<nlohmann::ordered_json(const JobResult&)> value;
};
const std::vector<JobColumn>& job_columns();

struct LinkColumn {
  const char* key;
  const char* unit;
  const char* meaning;
  std::function<nlohmann::ordered_json(const HotLink&)> value;
};
const std::vector<LinkColumn>& link_columns();

// The "faults" field: a cluster file's faults as its keys write them (failed NICs with their
// topology name, sNODE.nicGPU).
nlohmann::ordered_json faults_json(const Faults& f);

// The fields in order; "jobs" and "hot_links" are lists of objects with the columns above.
nlohmann::ordered_json to_json(const ClusterResult& r);

}  // namespace knee::cluster
