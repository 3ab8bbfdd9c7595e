#include "metrics/report.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"
#include "common/json_reader.hpp"

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

namespace {
int count_of(const std::string& h, const std::string& what) {
  int n = 0;
  for (auto p = h.find(what); p != std::string::npos; p = h.find(what, p + 1)) ++n;
  return n;
}
// The sample with energy (and a price) on its feasible points, as `knee sweep --json` writes them
// (on the point itself) and as older files kept values (in the point's "result").
Json with_energy(bool priced) {
  Json j = sweep_json();
  double J[] = {1.5, 1.6, 2.0};
  for (int i = 0; i < 3; ++i) {
    Json e = {{"gpu_J_per_step", 1e6}, {"avg_power_per_gpu_W", 500.0 + i}, {"facility_J_per_step", 2e6},
              {"facility_J_per_token", J[i]}, {"pue", 1.3}, {"other_W_per_gpu", 150.0}, {"power_model", "measured"}};
    Json c = priced ? Json{{"usd_per_gpu_hour", 2.5}, {"usd_per_kWh", nullptr}, {"usd_per_step", 0.1},
                           {"usd_per_million_tokens", 0.25 * (i + 1)}}
                    : Json(nullptr);
    Json& at = i == 1 ? j["points"][i]["result"] : j["points"][i];
    at["energy"] = e;
    at["cost"] = c;
  }
  return j;
}
}  // namespace

TEST(Report, EnergyAndCostWhenTheSweepCarriesThem) {
  std::string h = render_report_html(with_energy(true), {"sweep.json", "knee report", ""});
  EXPECT_NE(h.find("<th>W/GPU</th><th>J/token</th><th>$/M tokens</th><th>note</th>"), std::string::npos);
  EXPECT_NE(h.find("<td>0.1</td><td>500</td><td>1.5</td><td>0.25</td>"), std::string::npos);  // 8 GPUs
  EXPECT_NE(h.find("<td>501</td><td>1.6</td><td>0.5</td>"), std::string::npos);  // read from "result"
  EXPECT_NE(h.find("<td>-</td><td>-</td><td>-</td><td style=\"text-align:left\">infeasible"), std::string::npos);
  EXPECT_EQ(count_of(h, "<svg"), 5);
  EXPECT_NE(h.find("aria-label=\"Facility energy per token (PUE 1.3)\""), std::string::npos);
  EXPECT_NE(h.find("<p>Facility energy per token: <b>1.5 J</b> at 8 GPUs (the baseline), <b>2 J</b> at 32 GPUs "
                   "(the knee, 33% more). Cost per million tokens: <b>$0.25</b> at 8 GPUs (the baseline), <b>$0.75</b> "
                   "at 32 GPUs (the knee, 200% more).</p>"),
            std::string::npos);
  EXPECT_NE(h.find("(measured power model)"), std::string::npos);
  EXPECT_NE(h.find("150 W per GPU of other IT power) &times; PUE 1.3"), std::string::npos);
  EXPECT_NE(h.find("<li>Prices: $2.5 per GPU-hour, no electricity price.</li>"), std::string::npos);
  EXPECT_NE(h.find("Power model of the calibration profile: <code>measured</code>"), std::string::npos);

  h = render_report_html(with_energy(false), {"sweep.json", "knee report", ""});  // energy, no price
  EXPECT_NE(h.find("<th>J/token</th><th>note</th>"), std::string::npos);
  EXPECT_EQ(h.find("$/M tokens"), std::string::npos);
  EXPECT_EQ(h.find("per million tokens"), std::string::npos);
  EXPECT_NE(h.find("No prices given"), std::string::npos);
  EXPECT_EQ(count_of(h, "<svg"), 5);

  // A GPU-hour price with a profile without a power model: the price column, no energy.
  Json j = with_energy(true);
  for (int i = 0; i < 3; ++i) (i == 1 ? j["points"][i]["result"] : j["points"][i])["energy"] = nullptr;
  h = render_report_html(j, {"sweep.json", "knee report", ""});
  EXPECT_NE(h.find("<th>comm/compute</th><th>$/M tokens</th><th>note</th>"), std::string::npos);
  EXPECT_EQ(h.find("J/token"), std::string::npos);
  EXPECT_NE(h.find("<p>Cost per million tokens: <b>$0.25</b> at 8 GPUs (the baseline)"), std::string::npos);
  EXPECT_NE(h.find("no power model, so no energy figures"), std::string::npos);
  EXPECT_NE(h.find("<li>Prices: $2.5 per GPU-hour, no electricity price.</li>"), std::string::npos);
  EXPECT_EQ(h.find("Power model of the calibration profile"), std::string::npos);
  EXPECT_EQ(count_of(h, "<svg"), 4);
}

TEST(Report, WithoutEnergyRendersAsBefore) {
  // energy and cost null (a profile without a power model, no price) renders as a sweep file
  // without the keys (older versions).
  const ReportContext ctx{"sweep.json", "knee report", ""};
  Json j = sweep_json();
  for (int i = 0; i < 3; ++i) j["points"][i]["energy"] = j["points"][i]["cost"] = nullptr;
  std::string h = render_report_html(j, ctx);
  EXPECT_EQ(h, render_report_html(sweep_json(), ctx));
  EXPECT_EQ(h.find("J/token"), std::string::npos);
  EXPECT_EQ(h.find("energy"), std::string::npos);
  EXPECT_EQ(count_of(h, "<svg"), 4);
}

TEST(Report, BadEnergyNamesTheField) {
  Json j = with_energy(true);
  j["points"][1]["result"]["energy"]["facility_J_per_token"] = "lots";
  EXPECT_EQ(error_of(j), "sweep.json: $.points[1].result.energy.facility_J_per_token: expected a finite number >= 0, "
                         "got \"lots\"");
  j = with_energy(true);
  j["points"][0]["energy"] = 3;
  EXPECT_NE(error_of(j).find("$.points[0].energy"), std::string::npos);
  j = with_energy(true);
  j["points"][2]["cost"]["usd_per_million_tokens"] = -1;
  EXPECT_NE(error_of(j).find("$.points[2].cost.usd_per_million_tokens"), std::string::npos);
}

TEST(Report, StragglersGetTheirPartAndSentence) {
  const ReportContext ctx{"sweep.json", "knee report", ""};
  const std::string plain = render_report_html(sweep_json(), ctx);
  EXPECT_NE(plain.find("Stragglers and failures are not modelled in this study."), std::string::npos);
  EXPECT_EQ(plain.find(">stragglers<"), std::string::npos);
  Json j = sweep_json();
  j["points"][1]["result"]["breakdown"]["straggler_s"] = 0.1;  // a breakdown with 0 is as before
  j["points"][0]["result"]["breakdown"]["straggler_s"] = 0.0;
  const std::string h = render_report_html(j, ctx);
  EXPECT_NE(h.find("Stragglers: per-GPU variation was modelled"), std::string::npos);
  EXPECT_EQ(h.find("Stragglers and failures are not modelled"), std::string::npos);
  EXPECT_NE(h.find(">stragglers<"), std::string::npos) << "legend entry of the stacked bars";
  j["points"][1]["result"]["breakdown"]["straggler_s"] = 0.0;
  EXPECT_EQ(render_report_html(j, ctx), plain);
}

TEST(Report, AWholeRunInDaysDollarsAndEnergy) {
  // Points whose cost carries a whole run (cost.train_tokens): the answer states it at the baseline
  // and at the knee.
  Json j = sweep_json();
  const double days[3] = {40, 21, 14}, usd[3] = {1e6, 1.05e6, 1.4e6};
  for (int i = 0; i < 3; ++i) {
    j["points"][i]["result"]["cost"] = {{"usd_per_gpu_hour", 2.0}, {"usd_per_kWh", nullptr},
                                        {"usd_per_step", 1.0}, {"usd_per_million_tokens", 1.0 + i},
                                        {"run", {{"train_tokens", 3e11}, {"steps", 1000}, {"days", days[i]},
                                                 {"gpu_hours", 1e5}, {"facility_MWh", nullptr}, {"usd", usd[i]}}}};
  }
  const std::string h = render_report_html(j, {"sweep.json", "knee report", ""});
  EXPECT_NE(h.find("A run of 3e+11 tokens (no failures modelled): <b>40 days</b> at 8 GPUs "
                   "(the baseline), <b>14 days</b> at 32 GPUs (the knee, 65% less)."),
            std::string::npos)
      << h;
  // With the scenario's failures: each point's goodput.
  j["points"][0]["result"]["failures"] = {{"goodput", 0.98}};
  j["points"][2]["result"]["failures"] = {{"goodput", 0.95}};
  const std::string hf = render_report_html(j, {"sweep.json", "knee report", ""});
  EXPECT_NE(hf.find("A run of 3e+11 tokens (with failures: goodput 98.0% at 8 GPUs, 95.0% at 32)"), std::string::npos)
      << hf;
  EXPECT_NE(h.find("<b>$1.4e+06</b> at 32 GPUs (the knee, 40% more)."), std::string::npos);
  EXPECT_EQ(h.find("Facility energy: "), std::string::npos);  // no energy in these points
}
