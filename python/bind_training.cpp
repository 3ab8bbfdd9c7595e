// knee._knee.simulate / sweep / sweep_point / explain: the training-workload library
// (workloads/training) behind `knee simulate`, `knee sweep` and `knee explain`. Scenarios arrive
// as JSON text plus the name messages use (the file path, or "<dict>"), so a worker process
// parses exactly what the caller read. Results are the CLI's JSON as Python dicts; the GIL is
// released while C++ simulates.
#include <pybind11/stl.h>

#include "common/json_reader.hpp"
#include "metrics/trace.hpp"
#include "python/bindings.hpp"
#include "workloads/training/explain.hpp"
#include "workloads/training/prediction_intervals.hpp"
#include "workloads/training/result_schema.hpp"
#include "workloads/training/sweep_intervals.hpp"
#include "workloads/training/training.hpp"

namespace knee::python {
namespace {

Scenario scenario_of(const std::string& text, const std::string& source) {
  return parse_scenario(parse_json_text(text, source), source);
}

py::object simulate_scenario(const std::string& text, const std::string& source, bool force,
                             const std::string& trace_path, const std::string& trace_ranks, bool every_rank,
                             int samples, int seeds) {
  nlohmann::ordered_json j;
  {
    py::gil_scoped_release release;
    const Scenario s = scenario_of(text, source);
    SimOptions opt;
    opt.simulate_if_not_fits = force;
    opt.every_rank = every_rank;
    opt.interval_samples = samples < 0 ? default_interval_samples(s, opt) : samples;
    if (seeds > 0) {  // the stochastic parts only (as knee simulate --seeds)
      opt.interval_samples = seeds;
      opt.interval_seeds_only = true;
    }
    ChromeTrace trace;
    if (!trace_path.empty()) {
      opt.trace = &trace;
      if (!trace_ranks.empty())
        opt.trace_ranks = parse_rank_set(trace_ranks, "knee.simulate: trace_ranks", static_cast<std::uint32_t>(s.gpus));
    }
    const SimResult r = simulate(s, opt);
    if (!trace_path.empty() && r.simulated) trace.write_file(trace_path, r.trace_metadata);
    j = r.to_json();
  }
  return json_to_py(j);
}

py::object sweep_scenario(const std::string& text, const std::string& source, const std::vector<std::int64_t>& gpus,
                          const std::string& mode, std::int64_t baseline, double threshold) {
  nlohmann::ordered_json j;
  {
    py::gil_scoped_release release;
    j = sweep(scenario_of(text, source), gpus, mode, baseline, threshold).to_json();
  }
  return json_to_py(j);
}

// knee explain's JSON (workloads/training/explain.hpp): the baseline and one row per mechanism.
// A sweep's JSON with intervals over `samples` profile draws (workloads/training/sweep_intervals.hpp).
py::object sweep_intervals(const std::string& sweep_text, const std::string& text, const std::string& source,
                           const std::vector<std::int64_t>& gpus, const std::string& mode, std::int64_t baseline,
                           double threshold, int samples) {
  nlohmann::ordered_json j;
  {
    py::gil_scoped_release release;
    j = with_sweep_intervals(nlohmann::ordered_json::parse(sweep_text), scenario_of(text, source), gpus, mode, baseline,
                             threshold, {samples, {}});
  }
  return json_to_py(j);
}

py::object explain_scenario(const std::string& text, const std::string& source) {
  nlohmann::ordered_json j;
  {
    py::gil_scoped_release release;
    j = explain_json(explain(scenario_of(text, source)));
  }
  return json_to_py(j);
}

// The pieces of sweep() for sweeps whose points run elsewhere (process pools, Dask): the same
// argument checks, one point as sweep() makes it, and the assembly (speedup, efficiency, knee) of
// independently simulated points by the very code sweep() uses.
py::object sweep_one_point(const std::string& text, const std::string& source, std::int64_t gpus,
                           const std::string& mode) {
  nlohmann::ordered_json j;
  {
    py::gil_scoped_release release;
    j = sweep_point_json(sweep_point(scenario_of(text, source), gpus, mode));
  }
  return json_to_py(j);
}

py::object assemble_points(const std::string& points_text, const std::string& mode, std::int64_t baseline,
                           double threshold) {
  std::vector<nlohmann::ordered_json> points;
  for (auto& q : nlohmann::ordered_json::parse(points_text)) points.push_back(q);
  return json_to_py(assemble_sweep_json(points, mode, baseline, threshold));
}

// The result schema (workloads/training/result_schema.hpp) as lists of dicts: what Python's
// SimulationResult fields and sweep DataFrame columns are made from.
py::list simulate_fields() { return field_list(simulate_result_fields()); }

py::list sweep_column_list() {
  py::list out;
  for (const auto& c : sweep_columns()) {
    py::dict d;
    d["name"] = c.name;
    d["pointer"] = c.pointer;
    d["unit"] = c.unit;
    d["meaning"] = c.meaning;
    out.append(d);
  }
  return out;
}

// Explain's definition (workloads/training/explain.hpp): what Python's DataFrame columns and
// attrs are made from.
py::list explain_field_list(bool rows) {
  py::list out;
  auto add = [&](const char* key, const char* unit, const char* meaning) {
    py::dict d;
    d["key"] = key;
    d["unit"] = unit;
    d["meaning"] = meaning;
    out.append(d);
  };
  if (rows)
    for (const auto& f : explain_row_fields()) add(f.key, f.unit, f.meaning);
  else
    for (const auto& f : explain_fields()) add(f.key, f.unit, f.meaning);
  return out;
}

void add_workload(py::module_& m) {
  m.def(
      "explain_row_fields", [] { return explain_field_list(true); },
      "The fields of one row of `knee explain --json`: key, unit, meaning.");
  m.def(
      "explain_fields", [] { return explain_field_list(false); },
      "The top-level fields of `knee explain --json`: key, unit, meaning.");
  m.def("explain", &explain_scenario, py::arg("text"), py::arg("source"),
        "The error budget of a scenario (JSON text): the dict of `knee explain --json`.");
  m.def("simulate_fields", &simulate_fields, "The top-level fields of `knee simulate --json`: key, unit, meaning.");
  m.def(
      "sweep_columns", &sweep_column_list,
      "The columns of a sweep table (`knee sweep --csv`, knee.sweep): name, JSON pointer into a point, unit, meaning.");
  m.def(
      "check_scenario", [](const std::string& text, const std::string& source) { scenario_of(text, source); },
      py::arg("text"), py::arg("source"), "Reads a scenario (InputError if bad), simulating nothing.");
  m.def("simulate", &simulate_scenario, py::arg("text"), py::arg("source"), py::arg("force"),
        py::arg("trace_path") = "", py::arg("trace_ranks") = "", py::arg("every_rank") = false, py::arg("samples") = -1,
        py::arg("seeds") = 0,
        "One training step of a scenario (JSON text): the dict of `knee simulate --json` (samples -1: the CLI's "
        "default draws for intervals).");
  m.def("sweep_intervals", &sweep_intervals, py::arg("sweep_text"), py::arg("text"), py::arg("source"), py::arg("gpus"),
        py::arg("mode"), py::arg("baseline"), py::arg("threshold"), py::arg("samples"),
        "A sweep's JSON with 95% intervals over profile draws and the knee's distribution.");
  m.def("sweep", &sweep_scenario, py::arg("text"), py::arg("source"), py::arg("gpus"), py::arg("mode"),
        py::arg("baseline"), py::arg("threshold"), "A scaling study: the dict of `knee sweep --json`.");
  m.def("check_sweep_args", &check_sweep_args, py::arg("gpus"), py::arg("mode"), py::arg("baseline"),
        py::arg("threshold"), "sweep()'s argument checks: the sorted, unique GPU counts (InputError if bad).");
  m.def("sweep_point", &sweep_one_point, py::arg("text"), py::arg("source"), py::arg("gpus"), py::arg("mode"),
        "One point of a sweep as sweep() simulates it (speedup and efficiency not yet derived).");
  m.def("assemble_sweep", &assemble_points, py::arg("points_json"), py::arg("mode"), py::arg("baseline"),
        py::arg("threshold"), "Independently simulated points (JSON text of a list) -> `knee sweep --json`.");
}

}  // namespace

KNEE_PY_BINDING("workload", add_workload);

}  // namespace knee::python
