// The sweep a report is made of, read once (internal to metrics/report.cpp): its points as the
// report reads them (values on the point or in its "result"), what the study modelled, and the
// study itself. Reading is separate from rendering so each stays one concept.
#pragma once
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "common/json_reader.hpp"
#include "metrics/report.hpp"

namespace knee::report_detail {

inline const char* const kKinds[5] = {"tp", "pp", "dp", "cp", "ep"};  // breakdown.exposed_comm_by_group_s

// A sweep point as the report reads it. Values may sit on the point or in its "result".
struct Point {
  double gpus = 0;
  bool feasible = true;
  std::string reason;
  double step_time_s = NAN, tokens_per_s = NAN, speedup = NAN, efficiency = NAN, mfu = NAN, c2c = NAN;
  double global_batch = NAN;
  std::string layout;
  double compute_s = NAN, exposed_comm_s = NAN, bubble_s = NAN, optimizer_s = NAN;
  bool by_kind = false;  // breakdown.exposed_comm_by_group_s (absent in older sweep files)
  double exposed_by_kind_s[5] = {NAN, NAN, NAN, NAN, NAN};
  double straggler_s = 0;  // absent before stragglers existed; 0 without a straggler model
  // The point's "stragglers" (a simulation result's; knee sweep --json leaves it out): null without them.
  bool stragglers = false;
  double gpu_cv = NAN, op_cv = NAN;
  std::string gpu_cv_from, op_cv_from;
  // Energy and cost (absent in sweeps of older versions; null without a power model or a price).
  bool energy = false, cost = false;
  double avg_power_W = NAN, J_per_token = NAN, pue = NAN, other_W_per_gpu = NAN;
  std::string power_model;
  double usd_per_gpu_hour = NAN, usd_per_kWh = NAN, usd_per_million_tokens = NAN;
  // A whole run (the scenario's cost.train_tokens): run false and NAN when absent.
  bool run = false;
  double train_tokens = NAN, run_days = NAN, run_usd = NAN, run_MWh = NAN;
  // The scenario's failures (null without them): Daly's model over a whole run.
  bool failures = false;
  double goodput = NAN, system_mtbf_h = NAN, checkpoint_write_s = NAN, checkpoint_interval_s = NAN;
  std::string interval;  // "Daly's optimum" or "given"
  // 95% intervals (knee sweep --samples N: the point's "intervals"); NAN without them.
  double step_lo = NAN, step_hi = NAN, speedup_lo = NAN, speedup_hi = NAN, eff_lo = NAN, eff_hi = NAN;
};

// What the study modelled, read once from the points (and the scenario's settings) so that the
// answer, the charts and the assumptions say the same. The scenario is the same on every point.
struct Modelled {
  const Point* energy_of = nullptr;    // the first point with energy
  const Point* cost_of = nullptr;      // ... with a cost object
  bool priced = false;                 // some point has a price per million tokens
  const Point* run_of = nullptr;       // ... with a whole run (cost.run)
  const Point* failures_of = nullptr;  // ... with failures
  // Stragglers: a point's "stragglers", the scenario's key, or a straggler part in a breakdown.
  bool stragglers = false;
  const Point* stragglers_of = nullptr;       // a point with "stragglers" (its parameters)
  const Json* stragglers_scenario = nullptr;  // the scenario's "stragglers" settings
  const Point* most_straggled = nullptr;      // the largest straggler share of a step (> 0)
};

struct Study {
  std::string mode, cause, question;
  double baseline = 0, threshold = 0.8;
  int knee = -1;
  std::vector<Point> points;
  const Json* scenario = nullptr;  // "scenario" or "scenario_json" (knee sweep --json), an object
  Modelled m;
  // knee sweep --samples N: the draws, and where the knee fell in them (GPUs, NAN: no knee; share).
  int samples = 0;
  std::vector<std::pair<double, double>> knee_shares;
  const Point* knee_point() const { return knee >= 0 ? &points[static_cast<std::size_t>(knee)] : nullptr; }
  const Point* baseline_point() const {
    for (const auto& p : points)
      if (p.gpus == baseline) return &p;
    return nullptr;
  }
};

// Reads `sweep` (the JSON of knee sweep, or a hand-made one); InputErrors name ctx.source and the path.
Study read_study(const Json& sweep, const ReportContext& ctx);

}  // namespace knee::report_detail
