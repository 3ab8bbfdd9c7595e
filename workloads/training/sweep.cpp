// Scaling study: the same model and per-replica layout at several GPU counts, with the knee.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "common/error.hpp"
#include "common/printf.hpp"
#include "workloads/training/sweep.hpp"
#include "workloads/training/training.hpp"

namespace knee {
namespace {

// What the scaling core needs of a point: simulated or read back from sweep JSON, the same doubles.
struct ScalingInput {
  std::int64_t gpus = 0;
  bool feasible = false;
  std::string reason;
  double tokens_per_s = 0, step_time_s = 0;
  double costs[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0};  // in kCostNames order
};
constexpr int kCosts = 9;
const char* const kCostNames[kCosts] = {"exposed tp communication",
                                        "exposed pp communication",
                                        "exposed dp communication",
                                        "exposed cp communication",
                                        "exposed ep communication",
                                        "pipeline bubble",
                                        "optimizer",
                                        "launch gaps",
                                        "stragglers"};

ScalingInput scaling_input(const SweepPoint& p) {
  const Breakdown& b = p.result.breakdown;
  ScalingInput in{p.gpus,
                  p.feasible,
                  p.reason,
                  p.result.tokens_per_s,
                  p.result.step_time_s,
                  {b.tp_s, b.pp_s, b.dp_s, b.cp_s, b.ep_s, b.bubble_s, b.optimizer_s, b.launch_gap_s, b.straggler_s}};
  return in;
}

ScalingInput scaling_input(const nlohmann::ordered_json& q) {
  ScalingInput in;
  in.gpus = q.at("gpus").get<std::int64_t>();
  in.feasible = q.at("feasible").get<bool>();
  if (!in.feasible) {
    in.reason = q.value("reason", std::string());
    return in;
  }
  in.tokens_per_s = q.at("tokens_per_s").get<double>();
  in.step_time_s = q.at("step_time_s").get<double>();
  const auto& b = q.at("breakdown");
  const auto& g = b.at("exposed_comm_by_group_s");
  const char* groups[5] = {"tp", "pp", "dp", "cp", "ep"};
  for (int i = 0; i < 5; ++i) in.costs[i] = g.at(groups[i]).get<double>();
  in.costs[5] = b.at("bubble_s").get<double>();
  in.costs[6] = b.at("optimizer_s").get<double>();
  in.costs[7] = b.at("launch_gap_s").get<double>();
  in.costs[8] = b.value("straggler_s", 0.0);  // absent in sweeps written before stragglers
  return in;
}

struct Scaling {
  int baseline = -1, knee = -1;
  std::string knee_cause;
  std::vector<double> speedup, efficiency;
};

// Speedup and efficiency against the baseline (the given GPU count, or the first feasible point),
// the knee (the first later point below the threshold) and the cost whose share grew most.
Scaling derive_scaling(const std::vector<ScalingInput>& pts, std::int64_t baseline, double threshold) {
  Scaling out;
  out.speedup.assign(pts.size(), 0);
  out.efficiency.assign(pts.size(), 0);
  for (std::size_t i = 0; i < pts.size(); ++i)
    if (pts[i].feasible && (baseline == 0 || pts[i].gpus == baseline)) {
      out.baseline = static_cast<int>(i);
      break;
    }
  if (baseline > 0 && out.baseline < 0)
    throw InputError("sweep: --baseline: expected a feasible point, got " + std::to_string(baseline) + " GPUs (" + [&] {
      for (auto& p : pts)
        if (p.gpus == baseline) return p.reason;
      return std::string();
    }() + ")");
  if (out.baseline < 0) return out;
  const ScalingInput& b = pts[static_cast<std::size_t>(out.baseline)];
  for (std::size_t i = 0; i < pts.size(); ++i) {
    const ScalingInput& p = pts[i];
    if (!p.feasible) continue;
    out.speedup[i] = p.tokens_per_s / b.tokens_per_s;
    out.efficiency[i] = out.speedup[i] / (double(p.gpus) / double(b.gpus));
    if (out.knee < 0 && static_cast<int>(i) > out.baseline && out.efficiency[i] < threshold) {
      out.knee = static_cast<int>(i);
      double best = -1;
      for (int c = 0; c < kCosts; ++c) {
        const double before = b.costs[c] / b.step_time_s, after = p.costs[c] / p.step_time_s;
        if (after - before > best) {
          best = after - before;
          out.knee_cause = std::string(kCostNames[c]) + " grew from " + printf_double("%.1f", 100 * before) + "% to " +
                           printf_double("%.1f", 100 * after) + "% of the step";
        }
      }
    }
  }
  return out;
}

nlohmann::ordered_json sweep_header(const std::string& mode, std::int64_t baseline_gpus, double threshold) {
  nlohmann::ordered_json j;
  j["mode"] = mode;
  j["batch"] = mode == "strong" ? "global batch held fixed" : "global batch grows with dp (per-replica batch fixed)";
  j["baseline_gpus"] = baseline_gpus;
  j["threshold"] = threshold;
  return j;
}

}  // namespace

std::vector<std::int64_t> check_sweep_args(const std::vector<std::int64_t>& gpus, const std::string& mode,
                                           std::int64_t baseline, double threshold) {
  if (mode != "strong" && mode != "weak")
    throw InputError("sweep: --mode: expected one of strong, weak, got '" + mode + "'");
  if (!(threshold > 0 && threshold <= 1))
    throw InputError("sweep: --threshold: expected a number in (0, 1], got " + printf_double("%g", threshold));
  if (gpus.empty()) throw InputError("sweep: --gpus: expected at least one GPU count, got none");
  std::vector<std::int64_t> sorted = gpus;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  if (baseline > 0 && std::find(sorted.begin(), sorted.end(), baseline) == sorted.end())
    throw InputError("sweep: --baseline: expected one of the --gpus values, got " + std::to_string(baseline));
  return sorted;
}

SweepPoint sweep_point(const Scenario& base, std::int64_t n, const std::string& mode) {
  const std::int64_t gpn = base.system.gpus_per_node;
  const std::int64_t per_replica_batch = base.par.global_batch / base.par.dp;
  SweepPoint pt;
  pt.gpus = n;
  Scenario s = base;
  s.gpus = n;
  s.nodes = (n + gpn - 1) / gpn;
  s.fabric.nodes = s.nodes;
  if (s.nodes > 1 && s.fabric.kind == FabricKind::single_node)  // a one-server scenario grows into the system's fabric
    s.fabric.kind = parse_fabric(s.system.default_fabric, "sweep: system default fabric");
  s.par.tp = std::min({base.par.tp, gpn, n});
  s.par.pp = std::min(base.par.pp, std::max<std::int64_t>(1, n / (s.par.tp * base.par.cp)));
  s.par.cp = base.par.cp;
  if (s.par.pp != base.par.pp && s.par.schedule == Schedule::interleaved && s.par.pp < 2) {
    s.par.schedule = Schedule::f1b1;
    s.par.virtual_stages = 1;
  }
  if (s.par.tp == 1) s.par.sequence_parallel = false;
  s.stages.clear();  // an explicit split belongs to the scenario's pp only
  pt.tp = s.par.tp;
  pt.pp = s.par.pp;
  pt.cp = s.par.cp;
  const std::int64_t mp = s.par.tp * s.par.pp * s.par.cp;
  if (n % mp != 0) {
    pt.reason = "gpus not divisible by tp x pp x cp (" + std::to_string(mp) + ")";
    return pt;
  }
  s.par.dp = n / mp;
  s.par.global_batch = mode == "weak" ? per_replica_batch * s.par.dp : base.par.global_batch;
  pt.dp = s.par.dp;
  pt.global_batch = s.par.global_batch;
  try {
    validate_scenario(s);
    pt.result = simulate(s, {});
    if (!pt.result.memory.fits) {
      pt.reason = "memory: " + printf_double("%.1f", pt.result.memory.per_gpu_bytes / double(1 << 30)) +
                  " GiB per GPU > " + printf_double("%.1f", pt.result.memory.capacity_bytes / double(1 << 30)) + " GiB";
    } else {
      pt.feasible = true;
    }
  } catch (const InputError& e) { pt.reason = e.what(); }
  return pt;
}

SweepResult sweep(const Scenario& base, const std::vector<std::int64_t>& gpus, const std::string& mode,
                  std::int64_t baseline, double threshold) {
  SweepResult out;
  out.mode = mode;
  out.threshold = threshold;
  for (std::int64_t n : check_sweep_args(gpus, mode, baseline, threshold))
    out.points.push_back(sweep_point(base, n, mode));
  std::vector<ScalingInput> in;
  for (const auto& p : out.points) in.push_back(scaling_input(p));
  Scaling sc = derive_scaling(in, baseline, threshold);
  if (sc.baseline < 0) return out;
  out.baseline_gpus = out.points[static_cast<std::size_t>(sc.baseline)].gpus;
  out.knee = sc.knee;
  out.knee_cause = sc.knee_cause;
  for (std::size_t i = 0; i < out.points.size(); ++i) {
    out.points[i].speedup = sc.speedup[i];
    out.points[i].efficiency = sc.efficiency[i];
  }
  return out;
}

// What the numbers rest on (profile, system, network, contention factors): the first feasible
// point's provenance; each point's layout is in its own row.
static nlohmann::ordered_json sweep_provenance(const nlohmann::ordered_json& points) {
  for (const auto& q : points)
    if (q.value("feasible", false) && q.contains("provenance")) return q.at("provenance");
  return nullptr;
}

nlohmann::ordered_json assemble_sweep_json(const std::vector<nlohmann::ordered_json>& points, const std::string& mode,
                                           std::int64_t baseline, double threshold) {
  std::vector<ScalingInput> in;
  for (const auto& q : points) in.push_back(scaling_input(q));
  Scaling sc = derive_scaling(in, baseline, threshold);
  nlohmann::ordered_json j =
      sweep_header(mode, sc.baseline >= 0 ? in[static_cast<std::size_t>(sc.baseline)].gpus : 0, threshold);
  j["knee_gpus"] =
      sc.knee >= 0 ? nlohmann::ordered_json(in[static_cast<std::size_t>(sc.knee)].gpus) : nlohmann::ordered_json();
  j["knee_cause"] = sc.knee_cause;
  j["points"] = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < points.size(); ++i) {
    nlohmann::ordered_json q = points[i];
    if (q.at("feasible").get<bool>()) {
      q["speedup"] = sc.speedup[i];
      q["efficiency"] = sc.efficiency[i];
    }
    j["points"].push_back(std::move(q));
  }
  j["provenance"] = sweep_provenance(j["points"]);
  return j;
}

nlohmann::ordered_json sweep_point_json(const SweepPoint& p) {
  nlohmann::ordered_json q;
  q["gpus"] = p.gpus;
  q["tp"] = p.tp;
  q["pp"] = p.pp;
  q["dp"] = p.dp;
  q["cp"] = p.cp;
  q["global_batch"] = p.global_batch;
  q["feasible"] = p.feasible;
  if (!p.feasible) {
    q["reason"] = p.reason;
  } else {
    q["step_time_s"] = p.result.step_time_s;
    q["tokens_per_s"] = p.result.tokens_per_s;
    q["speedup"] = p.speedup;
    q["efficiency"] = p.efficiency;
    q["mfu"] = p.result.mfu;
    q["comm_to_compute"] = p.result.comm_to_compute;
    const auto rj = p.result.to_json();
    q["breakdown"] = rj["breakdown"];
    q["memory_per_gpu_bytes"] = p.result.memory.per_gpu_bytes;
    q["energy"] = rj["energy"];
    q["cost"] = rj["cost"];
    q["failures"] = rj["failures"];
    q["provenance"] = rj["provenance"];
  }
  return q;
}

nlohmann::ordered_json SweepResult::to_json() const {
  nlohmann::ordered_json j = sweep_header(mode, baseline_gpus, threshold);
  j["knee_gpus"] =
      knee >= 0 ? nlohmann::ordered_json(points[static_cast<std::size_t>(knee)].gpus) : nlohmann::ordered_json();
  j["knee_cause"] = knee_cause;
  j["points"] = nlohmann::ordered_json::array();
  for (const auto& p : points) j["points"].push_back(sweep_point_json(p));
  j["provenance"] = sweep_provenance(j["points"]);
  return j;
}

}  // namespace knee
