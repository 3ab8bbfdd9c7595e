// knee._knee.Profile (profile/profile.hpp) and knee._knee.fit, the library behind `knee fit`
// (cli/cmd_fit.cpp): raw measurements -> profile JSON, or a derived profile of another GPU.
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

#include <pybind11/stl.h>

#include "calibrate/derive_profile.hpp"
#include "calibrate/fitter.hpp"
#include "calibrate/trace_refit.hpp"
#include "common/json_reader.hpp"
#include "common/parse.hpp"
#include "metrics/kernel_classify.hpp"
#include "metrics/kernel_comparison.hpp"
#include "metrics/kineto_trace.hpp"
#include "profile/profile.hpp"
#include "python/bindings.hpp"

namespace knee::python {
namespace {

// `inputs`: ("path", PATH) or ("json", TEXT of a dict), in the order given (the first raw run is
// the primary one, a second adds run-to-run variation; nccl-tests text files add link data).
py::object fit(const std::vector<std::pair<std::string, std::string>>& inputs, const std::string& name,
               const std::string& nccl_class, double power_settle_s, const std::string& command_line) {
  const std::string fn = "knee.fit";
  FitOptions opt;
  opt.name = name;
  opt.command_line = command_line;
  opt.git_revision = knee_git_revision();
  if (!(power_settle_s >= 0))
    throw InputError(fn + ": power_settle_s: expected a number >= 0, got " + std::to_string(power_settle_s));
  opt.power_settle_s = power_settle_s;
  OrderedJson profile;
  {
    py::gil_scoped_release release;
    std::vector<RawRun> runs;
    std::vector<std::pair<std::string, std::string>> nccl;  // (source, text)
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const auto& [kind, value] = inputs[i];
      const std::string source = kind == "path" ? value : "<dict " + std::to_string(i) + ">";
      std::string text = kind == "path" ? read_text_file(value) : value;
      if (kind == "path" && looks_like_nccl_tests(text)) {
        nccl.emplace_back(source, std::move(text));
        continue;
      }
      if (runs.size() == 2) throw InputError(fn + ": " + source + ": expected at most two raw JSON runs, got a third");
      runs.push_back(read_raw_json(parse_json_text(text, source), source));
    }
    if (runs.empty()) throw InputError(fn + ": raw: expected a raw measurement file or dict, got none");
    for (const auto& [source, text] : nccl) import_nccl_tests(text, source, nccl_class, runs[0]);
    if (opt.name.empty()) {
      const Datasheet* d = runs[0].device_kind == "gpu" && runs[0].manifest.contains("gpu_name")
                               ? find_datasheet(runs[0].manifest["gpu_name"].get<std::string>())
                               : nullptr;
      opt.name = d ? d->key : runs[0].device_kind;
    }
    profile = fit_profile(runs[0], runs.size() > 1 ? &runs[1] : nullptr, opt);
    Profile::from_json(profile, "fitted profile");  // what fit returns, Profile must accept
  }
  return json_to_py(profile);
}

// `target`: a built-in datasheet key, or "" with `datasheet` a file or key; `base_datasheet`: the
// base GPU's ("" for the built-in one matching the base's $.gpu).
py::object derive(const std::string& base_json, const std::string& target, const std::string& datasheet,
                  const std::string& base_datasheet, const std::string& command_line) {
  FitOptions opt;
  opt.command_line = command_line;
  opt.git_revision = knee_git_revision();
  Profile base = Profile::from_json(OrderedJson::parse(base_json), "<base profile>");
  std::optional<Datasheet> from;
  if (!base_datasheet.empty()) from = datasheet_arg(base_datasheet, "knee.derive: base_datasheet");
  OrderedJson p;
  if (!datasheet.empty())
    p = derive_profile(base.json(), datasheet_arg(datasheet, "knee.derive: datasheet"), opt, from ? &*from : nullptr);
  else if (from) p = derive_profile(base.json(), datasheet_arg(target, "knee.derive: target"), opt, &*from, true);
  else p = derive_profile(base.json(), target, opt);
  Profile::from_json(p, "derived profile");
  return json_to_py(p);
}

// knee fit --kineto: `base_json` the base profile's JSON text, or "" for the one the trace's GPU names.
py::object fit_kineto(const std::string& trace_path, const std::string& base_json, const std::string& name,
                      const std::string& command_line) {
  OrderedJson p;
  {
    py::gil_scoped_release release;
    const KinetoTrace trace = load_kineto_trace(trace_path);
    std::string basis = "profile";
    const Profile base =
        base_json.empty() ? load_profile_arg(default_profile_for(trace.device_name, basis), "knee.fit_kineto: profile")
                          : Profile::from_json(OrderedJson::parse(base_json), "<base profile>");
    const KernelComparison c = compare_kernels(trace, base, basis);
    TraceRefitOptions opt;
    opt.name = name;
    opt.trace_source = trace_path;
    opt.command_line = command_line;
    opt.git_revision = knee_git_revision();
    p = refit_profile_from_trace(base.json(), measured_kernels(c.calls), opt);
  }
  return json_to_py(p);
}

void add_calibrate(py::module_& m) {
  py::class_<Profile>(m, "Profile", "A calibrated GPU profile (use knee.Profile, which wraps this).")
      .def_static("builtin", &Profile::builtin, py::arg("name"))
      .def_static("builtin_names", &Profile::builtin_names)
      .def_static("load", &Profile::load, py::arg("path"))
      .def_static(
          "from_json_text",
          [](const std::string& text, const std::string& source) {
            return Profile::from_json(OrderedJson::parse(text), source);
          },
          py::arg("text"), py::arg("source"))
      .def_property_readonly("name", &Profile::name)
      .def_property_readonly("gpu", &Profile::gpu)
      .def_property_readonly("parameters_state", &Profile::parameters_state)
      .def(
          "gemm_time_s",
          [](const Profile& p, std::int64_t m, std::int64_t n, std::int64_t k, const std::string& dtype,
             const std::string& role) { return p.gemm_time_s(m, n, k, dtype, parse_gemm_role(role, "role")); },
          py::arg("m"), py::arg("n"), py::arg("k"), py::arg("dtype"), py::arg("role") = "none")
      .def(
          "gemm_tflops",
          [](const Profile& p, std::int64_t m, std::int64_t n, std::int64_t k, const std::string& dtype,
             const std::string& role) { return p.gemm_tflops(m, n, k, dtype, parse_gemm_role(role, "role")); },
          py::arg("m"), py::arg("n"), py::arg("k"), py::arg("dtype"), py::arg("role") = "none")
      .def("gemm_dtypes", &Profile::gemm_dtypes)
      .def("batched_gemm_time_s", &Profile::batched_gemm_time_s, py::arg("batch"), py::arg("m"), py::arg("n"),
           py::arg("k"), py::arg("dtype"))
      .def("has_batched_gemm", &Profile::has_batched_gemm, py::arg("dtype"))
      .def("memory_bound_time_s", &Profile::memory_bound_time_s, py::arg("bytes_moved"), py::arg("op"))
      .def("attention_time_s", &Profile::attention_time_s, py::arg("batch"), py::arg("heads"), py::arg("seq"),
           py::arg("head_dim"), py::arg("causal"), py::arg("backward"))
      .def("attention_unfused_time_s", &Profile::attention_unfused_time_s, py::arg("batch"), py::arg("heads"),
           py::arg("seq"), py::arg("head_dim"))
      .def("has_attention_unfused", &Profile::has_attention_unfused)
      .def("launch_overhead_s", &Profile::launch_overhead_s)
      .def("hbm_capacity_bytes", &Profile::hbm_capacity_bytes)
      .def("memory_bandwidth_Bps", &Profile::memory_bandwidth_Bps)
      .def(
          "link",
          [](const Profile& p, const std::string& cls) {
            auto ab = p.link(cls);
            py::dict d;
            d["alpha_s"] = ab.alpha_s;
            d["beta_s_per_byte"] = ab.beta_s_per_byte;
            d["provenance"] = ab.provenance;
            return d;
          },
          py::arg("cls"))
      .def("link_classes", &Profile::link_classes)
      .def("link_time_s", &Profile::link_time_s, py::arg("cls"), py::arg("bytes"))
      .def("power_W", &Profile::power_W, py::arg("compute_util"), py::arg("mem_util"))
      .def("has_power", &Profile::has_power)
      .def("power_reference",
           [](const Profile& p) {
             const auto r = p.power_reference();
             py::dict d;
             d["flops_per_s"] = r.flops_per_s;
             d["memory_Bps"] = r.memory_Bps;
             return d;
           })
      .def("variability_cv", &Profile::variability_cv, py::arg("which"))
      .def("json", [](const Profile& p) { return json_to_py(p.json()); });
  m.def("fit", &fit, py::arg("inputs"), py::kw_only(), py::arg("name"), py::arg("nccl_class"),
        py::arg("power_settle_s"), py::arg("command_line"));
  m.def("derive", &derive, py::arg("base_json"), py::arg("target"), py::arg("datasheet"), py::arg("base_datasheet"),
        py::arg("command_line"));
  m.def("fit_kineto", &fit_kineto, py::arg("trace_path"), py::arg("base_json"), py::arg("name"),
        py::arg("command_line"));
  m.def("datasheet_keys", &datasheet_keys);
}

}  // namespace

KNEE_PY_BINDING("calibrate", add_calibrate);

}  // namespace knee::python
