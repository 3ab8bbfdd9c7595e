// libFuzzer target for the JSON loaders. The first byte picks the loader (topology file, system
// file, scenario, profile, raw measurements, nccl-tests text, sweep for the report), the rest is
// the file's text. An InputError is the expected outcome for bad input; any
// other exception, crash, sanitizer report or hang is a bug. Loaded topologies are also routed and
// bisected, and loaded systems built, so that whatever a file can describe is exercised.
#include <cstddef>
#include <cstdint>
#include <string>

#include "calibrate/raw.hpp"
#include "common/error.hpp"
#include "common/json_reader.hpp"
#include "metrics/report.hpp"
#include "profile/profile.hpp"
#include "topologies/fabric.hpp"
#include "workloads/training/training.hpp"

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
    switch (data[0] % 7) {
      case 0:
        exercise(parse_topology_json(text, "fuzz.json"));
        break;
      case 1: {
        SystemSpec s = parse_system_json(text, "fuzz.json");
        FabricOptions o;
        o.kind = parse_fabric(s.default_fabric, "default_fabric");
        o.nodes = o.kind == FabricKind::single_node ? 1 : 3;
        if (o.kind == FabricKind::torus) o.dims = {3, 1};
        if (s.gpus_per_node <= 64) exercise(build_topology(s, o));  // bound the work per input
        break;
      }
      case 2: {  // scenarios: read and checked; small ones simulated
        Scenario s = parse_scenario(parse_json_text(text, "fuzz.json"), "fuzz.json");
        validate_scenario(s);
        if (s.gpus <= 64 && s.model.layers <= 8) (void)simulate(s, {});
        break;
      }
      case 3: {  // profiles: loaded and queried
        Profile p = Profile::from_json(parse_json_text(text, "fuzz.json"), "fuzz.json");
        for (const auto& dt : p.gemm_dtypes()) (void)p.gemm_time_s(1024, 1024, 1024, dt);
        (void)p.memory_bound_time_s(1 << 20);
        (void)p.launch_overhead_s();
        break;
      }
      case 4:
        (void)read_raw_json(parse_json_text(text, "fuzz.json"), "fuzz.json");
        break;
      case 5:
        (void)looks_like_nccl_tests(text);
        {
          RawRun run;
          import_nccl_tests(text, "fuzz.txt", "network", run);
        }
        break;
      default:
        (void)render_report_html(parse_json_text(text, "fuzz.json"), {"fuzz.json", "fuzz", ""});
    }
  } catch (const InputError&) {
    // expected for bad input
  }
  return 0;
}
