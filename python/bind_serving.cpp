// knee._knee serving functions: the serving-workload library (workloads/serving) behind `knee
// simulate` on a scenario with a "serving" object. Scenarios arrive as JSON text plus the name
// messages use; results are the CLI's JSON as dicts, with the per-request table as columns of
// lists (for a DataFrame). The GIL is released while C++ simulates.
#include <pybind11/stl.h>

#include "common/json_reader.hpp"
#include "python/bindings.hpp"
#include "workloads/serving/capacity.hpp"
#include "workloads/serving/capacity_schema.hpp"
#include "workloads/serving/serving.hpp"
#include "workloads/serving/serving_intervals.hpp"
#include "workloads/serving/serving_result_schema.hpp"

namespace knee::python {
namespace {

py::object simulate_serving_text(const std::string& text, const std::string& source, bool goodput, int seeds,
                                 int samples) {
  nlohmann::ordered_json result, requests;
  {
    py::gil_scoped_release release;
    const auto s = serving::parse_serving_scenario(parse_json_text(text, source), source);
    serving::ServingOptions opt;
    opt.goodput = goodput;
    auto r = serving::simulate_serving(s, opt);
    serving::ServingIntervalOptions io;  // repetitions (docs/uncertainty.md, "Serving"); 0: none
    io.seeds = seeds;
    io.samples = samples;
    r.intervals = serving::serving_intervals(s, opt, r, io);
    result = serving::to_json(r);
    requests = serving::requests_json(r);
  }
  py::dict d;
  d["result"] = json_to_py(result);
  d["requests"] = json_to_py(requests);
  return d;
}

// knee capacity on a serving scenario's text: the CLI's --json as a dict.
py::object plan_capacity_text(const std::string& text, const std::string& source, double rate, bool max_rate,
                              double usd_per_gpu_hour, std::int64_t max_gpus, bool disaggregated) {
  nlohmann::ordered_json result;
  {
    py::gil_scoped_release release;
    const auto s = serving::parse_serving_scenario(parse_json_text(text, source), source);
    serving::CapacityOptions opt;
    opt.rate_per_s = rate;
    opt.max_rate = max_rate;
    opt.usd_per_gpu_hour = usd_per_gpu_hour;
    opt.max_gpus = max_gpus;
    opt.disaggregated = disaggregated;
    result = serving::to_json(serving::plan_capacity(s, opt));
  }
  return json_to_py(result);
}

template <class Spec>
py::list spec_list(const std::vector<Spec>& specs) {
  py::list l;
  for (const auto& f : specs) {
    py::dict d;
    if constexpr (requires { f.key; }) d["key"] = f.key;
    else d["key"] = f.name;
    d["unit"] = f.unit;
    d["meaning"] = f.meaning;
    l.append(d);
  }
  return l;
}

void add_serving(py::module_& m) {
  m.def(
      "is_serving_scenario",
      [](const std::string& text, const std::string& source) {
        return serving::is_serving_scenario(parse_json_text(text, source));
      },
      py::arg("text"), py::arg("source"), "Whether a scenario's JSON text has a \"serving\" object.");
  m.def("simulate_serving", &simulate_serving_text, py::arg("text"), py::arg("source"), py::arg("goodput") = true,
        py::arg("seeds") = 0, py::arg("samples") = 0,
        "A serving scenario simulated (with 95% intervals over seeds or samples >= 2 repetitions): {'result': the "
        "fields of `knee simulate --json`, 'requests': {column: list}}.");
  m.def(
      "serving_fields", [] { return spec_list(serving::serving_result_fields()); },
      "The fields of a serving result (`knee simulate --json` on a serving scenario): key, unit, meaning.");
  m.def(
      "serving_interval_figures", [] { return serving::serving_interval_figures(); },
      "The JSON pointers of a serving result's figures that get intervals (seeds or samples).");
  m.def(
      "serving_request_columns", [] { return spec_list(serving::request_columns()); },
      "The columns of a serving result's per-request table: key, unit, meaning.");
  m.def("plan_capacity", &plan_capacity_text, py::arg("text"), py::arg("source"), py::arg("rate"),
        py::arg("max_rate") = false, py::arg("usd_per_gpu_hour") = -1.0, py::arg("max_gpus") = 0,
        py::arg("disaggregated") = true, "knee capacity on a serving scenario: the fields of `knee capacity --json`.");
  m.def(
      "capacity_fields", [] { return spec_list(serving::capacity_fields()); },
      "The fields of a capacity plan (`knee capacity --json`): key, unit, meaning.");
  m.def(
      "capacity_candidate_columns", [] { return spec_list(serving::candidate_columns()); },
      "The columns of a capacity plan's table of candidates tried: key, unit, meaning.");
}

}  // namespace

KNEE_PY_BINDING("serving", add_serving);

}  // namespace knee::python
