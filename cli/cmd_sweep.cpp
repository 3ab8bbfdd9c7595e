// knee sweep: a scaling study of a scenario over GPU counts, with the knee marked.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "cli/command.hpp"
#include "common/json_reader.hpp"
#include "metrics/sweep_table.hpp"
#include "workloads/cluster/cluster_file.hpp"
#include "workloads/training/sweep_intervals.hpp"
#include "workloads/training/training.hpp"

namespace knee::cli {

int run_sweep_cluster(const Args& args);  // cli/cmd_sweep_cluster.cpp

namespace {

int run_sweep(const Args& args) {
  if (args.positional().size() != 1)
    throw InputError("knee sweep: expected one scenario file, got " + std::to_string(args.positional().size()) +
                     " arguments");
  // A cluster file (with "jobs"): a placement study (docs/workloads.md, "Jobs sharing a cluster").
  if (cluster::is_cluster_file(parse_json_file(args.positional()[0]))) return run_sweep_cluster(args);
  if (args.value("placements"))
    throw InputError(args.what("placements") + ": expected a cluster file (one with \"jobs\"), got the scenario " +
                     args.positional()[0]);
  const Scenario s = load_scenario(args.positional()[0]);
  auto gpus_text = args.value("gpus");
  if (!gpus_text) throw InputError("knee sweep: --gpus: expected a list such as 8,16,32, got nothing");
  const auto gpus = parse_integer_list(*gpus_text, args.what("gpus"), 1);
  const std::string mode = args.value_or("mode", "strong");
  if (mode != "strong" && mode != "weak")
    throw InputError(args.what("mode") + ": expected one of strong, weak, got '" + mode + "'");
  const std::int64_t baseline = args.integer_or("baseline", 0, 1);
  const double threshold = args.number_or("threshold", 0.8);
  if (!(threshold > 0 && threshold <= 1))
    throw InputError(args.what("threshold") + ": expected a number in (0, 1], got " + std::to_string(threshold));
  if (args.flag("json") && args.flag("csv"))
    throw InputError("knee sweep: --json/--csv: expected one of them, got both");
  const int samples = static_cast<int>(args.integer_or("samples", 0, 0, 10000));
  if (samples == 1) throw InputError("knee sweep: --samples: expected 0 (no intervals) or an integer >= 2, got 1");
  auto t0 = std::chrono::steady_clock::now();
  const SweepResult r = sweep(s, gpus, mode, baseline, threshold);
  // With --samples, the whole sweep once per profile draw (docs/uncertainty.md).
  const nlohmann::ordered_json rj =
      with_sweep_intervals(r.to_json(), s, gpus, mode, baseline, threshold, {samples, {}});
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (args.flag("json")) {
    auto j = rj;
    j["scenario"] = args.positional()[0];
    j["scenario_json"] = parse_json_file(args.positional()[0]);  // for the report's scenario table
    j["simulated_wall_s"] = wall;
    std::cout << j.dump(2) << "\n";
  } else if (args.flag("csv")) {
    std::cout << sweep_csv(rj);
  } else {
    std::printf("# knee sweep %s (%s, %s schedule; simulated, not measured)\n", args.positional()[0].c_str(),
                s.system.name.c_str(), to_string(s.par.schedule));
    std::cout << sweep_table(r) << sweep_intervals_text(rj);
    std::printf("# %zu points simulated in %.2f s wall\n", r.points.size(), wall);
  }
  return 0;
}

KNEE_COMMAND(
    "sweep",
    "scaling study of a scenario over GPU counts (strong or weak), with the knee marked; on a cluster file (one with "
    "\"jobs\") a placement study: every job's slowdown per placement",
    "SCENARIO.json --gpus 8,16,... [--mode strong|weak] [--baseline N] [--threshold 0.8] [--samples N] [--json|--csv] "
    "| CLUSTER.json --placements packed,spread,random [--json]",
    {{"gpus", true, "GPU counts, comma separated"},
     {"placements", true, "cluster file: placements to compare, comma separated (packed, spread, random)"},
     {"mode", true, "strong (global batch fixed, default) or weak (global batch grows with dp)"},
     {"baseline", true, "GPU count the speedup and efficiency are relative to (default: smallest feasible)"},
     {"threshold", true, "efficiency below which the knee is marked (default 0.8)"},
     {"samples", true,
      "profile draws for 95% intervals on every point and the knee's distribution (docs/uncertainty.md; "
      "default 0: none; each draw is a whole sweep)"},
     {"json", false, "print JSON"},
     {"csv", false, "print CSV"}},
    run_sweep);

}  // namespace
}  // namespace knee::cli
