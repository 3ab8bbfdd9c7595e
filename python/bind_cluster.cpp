// knee._knee cluster functions: a cluster file (workloads/cluster) behind `knee simulate` on a
// file with "jobs". The file arrives as JSON text plus the name messages use and the folder job
// scenario paths are relative to; the result is the CLI's JSON as a dict. The GIL is released
// while C++ simulates.
#include "common/json_reader.hpp"
#include "python/bindings.hpp"
#include "workloads/cluster/cluster_result_schema.hpp"
#include "workloads/cluster/cluster_sim.hpp"
#include "workloads/cluster/placement_sweep.hpp"

namespace knee::python {
namespace {

void add_cluster(py::module_& m) {
  m.def(
      "is_cluster_file",
      [](const std::string& text, const std::string& source) {
        return cluster::is_cluster_file(parse_json_text(text, source));
      },
      py::arg("text"), py::arg("source"), "Whether a scenario's JSON text has a \"jobs\" key (a cluster file).");
  m.def(
      "simulate_cluster",
      [](const std::string& text, const std::string& source, const std::string& base_dir) {
        nlohmann::ordered_json j;
        {
          py::gil_scoped_release release;
          j = cluster::to_json(
              cluster::simulate_cluster(cluster::parse_cluster_file(parse_json_text(text, source), source, base_dir)));
        }
        return json_to_py(j);
      },
      py::arg("text"), py::arg("source"), py::arg("base_dir"),
      "A cluster file simulated: the fields of `knee simulate --json` on it.");
  m.def(
      "sweep_placements",
      [](const std::string& text, const std::string& source, const std::string& base_dir,
         const std::string& placements) {
        nlohmann::ordered_json j;
        {
          py::gil_scoped_release release;
          const auto kinds = cluster::parse_placement_list(placements, "knee.sweep_placements: placements");
          j = cluster::to_json(cluster::sweep_placements(
              cluster::parse_cluster_file(parse_json_text(text, source), source, base_dir), kinds));
        }
        return json_to_py(j);
      },
      py::arg("text"), py::arg("source"), py::arg("base_dir"), py::arg("placements"),
      "A placement study: the fields of `knee sweep CLUSTER.json --placements LIST --json`.");
  m.def(
      "cluster_fields", [] { return field_list(cluster::cluster_result_fields()); },
      "The fields of a cluster result (`knee simulate --json` on a cluster file): key, unit, meaning.");
  m.def(
      "cluster_job_columns", [] { return field_list(cluster::job_columns()); },
      "The keys of each entry of a cluster result's jobs: key, unit, meaning.");
  m.def(
      "cluster_link_columns", [] { return field_list(cluster::link_columns()); },
      "The keys of each entry of a cluster result's hot_links: key, unit, meaning.");
}

}  // namespace

KNEE_PY_BINDING("cluster", add_cluster);

}  // namespace knee::python
