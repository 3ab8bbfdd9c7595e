// knee._knee.collectives: one collective at a list of sizes on a built cluster, with the CLI's
// options and checks (cli/cmd_collective.cpp). The GIL is released while simulating.
#include <optional>
#include <variant>

#include <pybind11/stl.h>

#include "profile/profile.hpp"
#include "python/bindings.hpp"
#include "python/cluster.hpp"
#include "sim/collectives/collective.hpp"
#include "sim/collectives/collective_draws.hpp"
#include "sim/collectives/nccl_params.hpp"

namespace knee::python {
namespace {

// One dict per size, with the keys of `knee collective --json` results (plus wire_bytes).
py::list collectives(const Cluster& c, const std::string& op, const std::vector<Bytes>& sizes, const std::string& algo,
                     const std::string& proto, std::int64_t channels, std::int64_t root, bool sharp,
                     std::int64_t slices, const std::string& selection,
                     std::optional<std::variant<std::int64_t, std::vector<std::int64_t>>> gpus, const std::string& fn,
                     std::int64_t samples, const std::string& profile) {
  auto what = [&](const std::string& key) { return fn + ": " + key; };
  NcclParams params = nccl_params_for_gpu(c.gpu_model());
  CollOptions o;
  o.op = parse_coll_op(op, what("op"));
  if (algo != "auto") o.algo = parse_coll_algo(algo, what("algo"));
  if (o.algo) require_algo_supports(*o.algo, o.op, what("algo"));
  if (proto != "auto") o.proto = parse_coll_proto(proto, what("proto"));
  // 0 is auto, as an absent --channels.
  o.channels =
      channels == 0 ? 0 : static_cast<int>(checked_integer(channels, what("channels"), 1, params.max_channels));
  o.root = static_cast<int>(checked_integer(root, what("root"), 0, INT32_MAX));
  o.in_network_reduction = sharp;
  o.selection = parse_coll_selection(selection, what("selection"));
  o.slices = slices == 0 ? 0 : static_cast<int>(checked_integer(slices, what("slices"), 1, 1 << 20));
  const auto n = static_cast<std::int64_t>(c.topo.num_gpus());
  if (!gpus) {
    for (std::int64_t r = 0; r < n; ++r) o.ranks.push_back(static_cast<std::uint32_t>(r));
  } else if (auto* first = std::get_if<std::int64_t>(&*gpus)) {  // the first N GPUs, as --gpus N
    for (std::int64_t r = 0, e = checked_integer(*first, what("gpus"), 1, n); r < e; ++r)
      o.ranks.push_back(static_cast<std::uint32_t>(r));
  } else {  // explicit ranks; duplicates are refused by the collective itself
    const auto& list = std::get<std::vector<std::int64_t>>(*gpus);
    if (list.empty()) throw InputError(what("gpus") + ": expected at least one GPU rank, got an empty list");
    for (auto r : list) o.ranks.push_back(static_cast<std::uint32_t>(checked_integer(r, what("gpus"), 0, n - 1)));
  }
  for (Bytes b : sizes)
    if (b < 0) throw InputError(what("bytes") + ": expected a non-negative size, got " + std::to_string(b));

  // Intervals from draws of the profile's link parameters (docs/uncertainty.md, "Collectives").
  if (samples == 1 || samples < 0 || samples > 10000)
    throw InputError(what("samples") + ": expected 0 (no intervals) or an integer >= 2, got " +
                     std::to_string(samples));
  if (!samples && !profile.empty())
    throw InputError(what("profile") + ": expected samples >= 2 with it (the profile is only drawn), got none");
  std::vector<CollResult> results;
  std::vector<nlohmann::ordered_json> intervals;
  results.reserve(sizes.size());
  {
    py::gil_scoped_release release;
    for (Bytes b : sizes) {
      o.bytes = b;
      results.push_back(simulate_collective(c.topo, params, o, fn));
    }
    if (samples && !sizes.empty()) {
      const std::string pname = profile.empty() ? c.gpu_model() : profile;
      const bool path = pname.find('/') != std::string::npos || pname.find(".json") != std::string::npos;
      const Profile p = path ? Profile::load(pname) : Profile::builtin(pname);
      CollectiveDrawOptions d;
      d.samples = static_cast<int>(samples);
      intervals = collective_intervals(c.topo, params, o, results, p, d, fn);
    }
  }
  py::list out;
  for (std::size_t i = 0; i < results.size(); ++i) {
    auto j = results[i].to_json();
    if (!intervals.empty()) j["intervals"] = intervals[i];
    out.append(json_to_py(j));
  }
  return out;
}

void add_collectives(py::module_& m) {
  m.def("collectives", &collectives, py::arg("cluster"), py::kw_only(), py::arg("op"), py::arg("sizes"),
        py::arg("algo") = "auto", py::arg("proto") = "auto", py::arg("channels") = 0, py::arg("root") = 0,
        py::arg("sharp") = false, py::arg("slices") = 0, py::arg("selection") = "simulated",
        py::arg("gpus") = py::none(), py::arg("what") = "knee.collective", py::arg("samples") = 0,
        py::arg("profile") = "",
        "Simulates one collective at each size; a list of result dicts (use knee.collective).");
  m.def(
      "nccl_provenance", [](const Cluster& c) { return nccl_params_for_gpu(c.gpu_model()).provenance; },
      py::arg("cluster"), "Where the NCCL model parameters for this cluster's GPUs come from.");
}

}  // namespace

KNEE_PY_BINDING("collectives", add_collectives);

}  // namespace knee::python
