#include "sim/metrics/report.hpp"

#include <gtest/gtest.h>

#include "sim/common/error.hpp"
#include "sim/common/json_reader.hpp"

using namespace knee;

namespace {
Json sweep_json() {
  return parse_json_text(R"({
    "mode": "strong", "baseline_gpus": 8, "threshold": 0.8, "knee": 2, "knee_cause": "exposed dp communication",
    "scenario": {"system": "dgx-h200", "model": {"layers": 24}},
    "provenance": {"profile": "h200", "profile_provenance": "fitted"},
    "points": [
      {"gpus": 8, "tp": 8, "pp": 1, "dp": 1, "global_batch": 64, "feasible": true, "speedup": 1, "efficiency": 1,
       "result": {"step_time_s": 8.0, "tokens_per_s": 1000, "mfu": 0.5, "comm_to_compute": 0.1,
                  "breakdown": {"compute_s": 7, "exposed_comm_s": 0.5, "bubble_s": 0.3, "optimizer_s": 0.2}}},
      {"gpus": 16, "feasible": true, "speedup": 1.9, "efficiency": 0.95,
       "result": {"step_time_s": 4.2, "breakdown": {"compute_s": 3.5, "exposed_comm_s": 0.5, "bubble_s": 0.1, "optimizer_s": 0.1}}},
      {"gpus": 32, "feasible": true, "speedup": 3.0, "efficiency": 0.75, "result": {"step_time_s": 2.7}},
      {"gpus": 64, "feasible": false, "reason": "memory: 90 GB > 80 GB"}
    ]})",
                         "sweep.json");
}
std::string error_of(const Json& j) {
  try {
    render_report_html(j, {"sweep.json", "knee report", ""});
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Report, SaysWhatItIsAndMarksTheKnee) {
  std::string h = render_report_html(sweep_json(), {"sweep.json", "knee report sweep.json --out r.html", ""});
  EXPECT_NE(h.find("Simulated, not measured"), std::string::npos);
  EXPECT_NE(h.find("Baseline: 8 GPUs"), std::string::npos);
  EXPECT_NE(h.find("strong scaling"), std::string::npos);
  EXPECT_NE(h.find("at <b>32 GPUs</b>"), std::string::npos);
  EXPECT_NE(h.find("exposed dp communication"), std::string::npos);
  EXPECT_NE(h.find("infeasible: memory: 90 GB &gt; 80 GB"), std::string::npos);
  EXPECT_NE(h.find("<td><code>h200</code></td>"), std::string::npos);  // provenance
  EXPECT_NE(h.find("knee report sweep.json --out r.html"), std::string::npos);  // reproducibility
  int svgs = 0;
  for (auto p = h.find("<svg"); p != std::string::npos; p = h.find("<svg", p + 1)) ++svgs;
  EXPECT_EQ(svgs, 4);
  EXPECT_EQ(h.find("<script"), std::string::npos);  // self-contained, nothing to run
  EXPECT_EQ(h.find("src="), std::string::npos);   // no external images or resources
  EXPECT_EQ(h.find("href="), std::string::npos);
}

TEST(Report, BadSweepFilesNameTheField) {
  Json j = sweep_json();
  j.erase("mode");
  EXPECT_EQ(error_of(j), "sweep.json: $.mode: expected a value (required key is missing)");
  j = sweep_json();
  j["points"][1]["gpus"] = -16;
  EXPECT_EQ(error_of(j), "sweep.json: $.points[1].gpus: expected a finite number > 0, got -16");
  j = sweep_json();
  j["points"][1]["result"].erase("step_time_s");
  EXPECT_NE(error_of(j).find("$.points[1].step_time_s"), std::string::npos);
  j = sweep_json();
  j["points"] = Json::array();
  EXPECT_NE(error_of(j).find("$.points: expected at least one point"), std::string::npos);
  j = sweep_json();
  j["knee"] = 9;
  EXPECT_NE(error_of(j).find("$.knee"), std::string::npos);
}
