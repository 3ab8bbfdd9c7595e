// knee._knee.Cluster: a system + fabric (or a topology file or dict) built once, with the same
// options, defaults and checks as the CLI's cluster flags (cli/cluster_args.cpp).
#include <chrono>
#include <cmath>
#include <optional>

#include <pybind11/stl.h>

#include "common/parse.hpp"
#include "python/bindings.hpp"
#include "python/cluster.hpp"

namespace knee::python {
namespace {

struct ClusterArgs {
  std::optional<std::string> system, system_json, file, file_json, fabric;
  std::optional<std::int64_t> nodes, radix;
  std::optional<double> oversubscription;
  std::optional<std::vector<std::int64_t>> dims;
  std::optional<std::int64_t> pod_gpus;
  std::optional<double> pod_oversubscription;
};

Cluster build_cluster(const ClusterArgs& a, const std::string& fn) {
  auto what = [&](const std::string& key) { return fn + ": " + key; };
  const bool has_system = a.system || a.system_json, has_file = a.file || a.file_json;
  if (has_system == has_file)
    throw InputError(fn + ": system/file: expected exactly one of system and file, got " +
                     std::string(has_system ? "both" : "neither"));
  if ((a.system && a.system_json) || (a.file && a.file_json))
    throw InputError(fn + ": expected one source per argument, got two");  // the wrapper never does this
  auto with_fn = [&](const InputError& e) {  // "--nodes: ..." from the builder gets the function name
    std::string m = e.what();
    return InputError(m.rfind("--", 0) == 0 ? fn + ": " + m : m);
  };
  Cluster c;
  auto t0 = std::chrono::steady_clock::now();
  if (has_file) {
    if (a.nodes) throw InputError(what("nodes") + ": expected no fabric options with file, got one");
    if (a.fabric) throw InputError(what("fabric") + ": expected no fabric options with file, got one");
    if (a.oversubscription)
      throw InputError(what("oversubscription") + ": expected no fabric options with file, got one");
    if (a.radix) throw InputError(what("radix") + ": expected no fabric options with file, got one");
    if (a.dims) throw InputError(what("dims") + ": expected no fabric options with file, got one");
    if (a.pod_gpus) throw InputError(what("pod_gpus") + ": expected no fabric options with file, got one");
    if (a.pod_oversubscription)
      throw InputError(what("pod_oversubscription") + ": expected no fabric options with file, got one");
    py::gil_scoped_release release;
    c.topo = a.file ? load_topology_file(*a.file) : parse_topology_json(*a.file_json, "<dict>");
  } else {
    try {
      c.system = a.system ? load_system(*a.system) : parse_system_json(*a.system_json, "<dict>");
    } catch (const InputError& e) { throw with_fn(e); }
    FabricOptions opt;
    opt.kind = parse_fabric(a.fabric.value_or(c.system.default_fabric), what("fabric"));
    if (a.dims) {
      for (auto d : *a.dims) checked_integer(d, what("dims"), 1);
      opt.dims = *a.dims;
    }
    std::int64_t def_nodes = 1;
    if (opt.kind == FabricKind::torus)
      for (auto d : opt.dims) def_nodes *= d;
    opt.nodes = a.nodes ? checked_integer(*a.nodes, what("nodes"), 1) : def_nodes;
    opt.oversubscription = a.oversubscription.value_or(1.0);
    if (!(opt.oversubscription >= 1) || !std::isfinite(opt.oversubscription))
      throw InputError(what("oversubscription") + ": expected a number >= 1, got " +
                       std::to_string(opt.oversubscription));
    opt.radix = a.radix ? checked_integer(*a.radix, what("radix"), 4, 65536) : 0;
    opt.pod_gpus = a.pod_gpus ? checked_integer(*a.pod_gpus, what("pod_gpus"), 0) : 0;
    opt.pod_oversubscription = a.pod_oversubscription.value_or(1.0);
    if (!(opt.pod_oversubscription >= 1) || !std::isfinite(opt.pod_oversubscription))
      throw InputError(what("pod_oversubscription") + ": expected a number >= 1, got " +
                       std::to_string(opt.pod_oversubscription));
    try {
      py::gil_scoped_release release;
      c.topo = build_topology(c.system, opt);
    } catch (const InputError& e) { throw with_fn(e); }
  }
  c.build_time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return c;
}

void add_topology(py::module_& m) {
  py::class_<Cluster>(m, "Cluster", "A built cluster topology (use knee.Cluster, which wraps this).")
      .def(py::init([](std::optional<std::string> system, std::optional<std::string> system_json,
                       std::optional<std::string> file, std::optional<std::string> file_json,
                       std::optional<std::int64_t> nodes, std::optional<std::string> fabric,
                       std::optional<double> oversubscription, std::optional<std::int64_t> radix,
                       std::optional<std::vector<std::int64_t>> dims, std::optional<std::int64_t> pod_gpus,
                       std::optional<double> pod_oversubscription, const std::string& fn) {
             return build_cluster({system, system_json, file, file_json, fabric, nodes, radix, oversubscription, dims,
                                   pod_gpus, pod_oversubscription},
                                  fn);
           }),
           py::kw_only(), py::arg("system") = py::none(), py::arg("system_json") = py::none(),
           py::arg("file") = py::none(), py::arg("file_json") = py::none(), py::arg("nodes") = py::none(),
           py::arg("fabric") = py::none(), py::arg("oversubscription") = py::none(), py::arg("radix") = py::none(),
           py::arg("dims") = py::none(), py::arg("pod_gpus") = py::none(), py::arg("pod_oversubscription") = py::none(),
           py::arg("what") = "knee.Cluster")
      .def(
          "summary", [](const Cluster& c) { return json_to_py(c.topo.summary()); },
          "Counts, system and fabric, bisection (the keys of `knee topology --json`).")
      .def_property_readonly("system", &Cluster::system_name)
      .def_property_readonly("gpu_model", &Cluster::gpu_model)
      .def_property_readonly("num_gpus", [](const Cluster& c) { return c.topo.num_gpus(); })
      .def_property_readonly("build_time_s", [](const Cluster& c) { return c.build_time_s; });
  m.def("builtin_systems", &builtin_systems, "Names of the built-in system designs.");
}

}  // namespace

KNEE_PY_BINDING("topology", add_topology);

}  // namespace knee::python
