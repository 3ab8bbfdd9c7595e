// libFuzzer target for the JSON loaders. The first byte picks the loader (topology file or system
// file), the rest is the file's text. An InputError is the expected outcome for bad input; any
// other exception, crash, sanitizer report or hang is a bug. Loaded topologies are also routed and
// bisected, and loaded systems built, so that whatever a file can describe is exercised.
#include <cstddef>
#include <cstdint>
#include <string>

#include "sim/common/error.hpp"
#include "topologies/fabric.hpp"

using namespace knee;

namespace {
void exercise(const Topology& t) {
  (void)t.summary();  // bisection by max-flow
  const auto n = static_cast<std::uint32_t>(t.num_gpus());
  for (std::uint32_t r = 0; r < n && r < 8; ++r) {
    auto p = t.route(t.gpu_node(r), t.gpu_node((r + 1) % n), r);
    if (t.gpu_node(r) != t.gpu_node((r + 1) % n) && p.empty()) __builtin_trap();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    if (data[0] % 2 == 0) {
      exercise(parse_topology_json(text, "fuzz.json"));
    } else {
      SystemSpec s = parse_system_json(text, "fuzz.json");
      FabricOptions o;
      o.kind = parse_fabric(s.default_fabric, "default_fabric");
      o.nodes = o.kind == FabricKind::single_node ? 1 : 3;
      if (o.kind == FabricKind::torus) o.dims = {3, 1};
      if (s.gpus_per_node <= 64) exercise(build_topology(s, o));  // bound the work per input
    }
  } catch (const InputError&) {
    // expected for bad input
  }
  return 0;
}
