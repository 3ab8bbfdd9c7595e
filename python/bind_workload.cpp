// knee._knee.simulate / sweep / sweep_point: the training-workload library (sim/workload) behind
// `knee simulate` and `knee sweep`. Scenarios arrive as JSON text plus the name messages use (the
// file path, or "<dict>"), so a worker process parses exactly what the caller read. Results are
// the CLI's JSON as Python dicts; the GIL is released while C++ simulates.
#include <pybind11/stl.h>

#include "python/bindings.hpp"
#include "sim/common/json_reader.hpp"
#include "sim/workload/workload.hpp"

namespace knee::python {
namespace {

Scenario scenario_of(const std::string& text, const std::string& source) {
  return parse_scenario(parse_json_text(text, source), source);
}

py::object simulate_scenario(const std::string& text, const std::string& source, bool force) {
  nlohmann::ordered_json j;
  {
    py::gil_scoped_release release;
    const Scenario s = scenario_of(text, source);
    SimOptions opt;
    opt.simulate_if_not_fits = force;
    j = simulate(s, opt).to_json();
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

// One point of a sweep, as sweep() makes it (its layout rules, its infeasibility reasons): a
// sweep of that GPU count alone. speedup and efficiency are relative to the point itself; the
// caller derives them against the baseline once every point is back (knee/workload.py).
py::object sweep_one_point(const std::string& text, const std::string& source, std::int64_t gpus,
                           const std::string& mode, double threshold) {
  nlohmann::ordered_json j;
  {
    py::gil_scoped_release release;
    j = sweep(scenario_of(text, source), {gpus}, mode, 0, threshold).to_json()["points"][0];
  }
  return json_to_py(j);
}

void add_workload(py::module_& m) {
  m.def("check_scenario", [](const std::string& text, const std::string& source) { scenario_of(text, source); },
        py::arg("text"), py::arg("source"), "Reads a scenario (InputError if bad), simulating nothing.");
  m.def("simulate", &simulate_scenario, py::arg("text"), py::arg("source"), py::arg("force"),
        "One training step of a scenario (JSON text): the dict of `knee simulate --json`.");
  m.def("sweep", &sweep_scenario, py::arg("text"), py::arg("source"), py::arg("gpus"), py::arg("mode"),
        py::arg("baseline"), py::arg("threshold"), "A scaling study: the dict of `knee sweep --json`.");
  m.def("sweep_point", &sweep_one_point, py::arg("text"), py::arg("source"), py::arg("gpus"), py::arg("mode"),
        py::arg("threshold"), "One point of a sweep (speedup and efficiency relative to itself).");
}

}  // namespace

KNEE_PY_BINDING("workload", add_workload);

}  // namespace knee::python
