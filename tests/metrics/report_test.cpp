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
  } catch (const InputError& e) { return e.what(); }
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
  EXPECT_NE(h.find("<td><code>h200</code></td>"), std::string::npos);           // provenance
  EXPECT_NE(h.find("knee report sweep.json --out r.html"), std::string::npos);  // reproducibility
  int svgs = 0;
  for (auto p = h.find("<svg"); p != std::string::npos; p = h.find("<svg", p + 1)) ++svgs;
  EXPECT_EQ(svgs, 4);
  EXPECT_EQ(h.find("<script"), std::string::npos);  // self-contained, nothing to run
  EXPECT_EQ(h.find("src="), std::string::npos);     // no external images or resources
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
    Json e = {{"gpu_J_per_step", 1e6},
              {"avg_power_per_gpu_W", 500.0 + i},
              {"facility_J_per_step", 2e6},
              {"facility_J_per_token", J[i]},
              {"pue", 1.3},
              {"other_W_per_gpu", 150.0},
              {"power_model", "measured"}};
    Json c = priced ? Json{{"usd_per_gpu_hour", 2.5},
                           {"usd_per_kWh", nullptr},
                           {"usd_per_step", 0.1},
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
  EXPECT_NE(h.find("<td>501</td><td>1.6</td><td>0.5</td>"), std::string::npos);               // read from "result"
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
  EXPECT_EQ(error_of(j),
            "sweep.json: $.points[1].result.energy.facility_J_per_token: expected a finite number >= 0, "
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
  EXPECT_NE(plain.find("<li>Stragglers: not modelled; every GPU runs at the calibration profile's speed.</li>"),
            std::string::npos);
  EXPECT_NE(plain.find("<li>Failures: not modelled (the scenario has no <code>failures</code>).</li>"),
            std::string::npos);
  EXPECT_EQ(plain.find(">stragglers<"), std::string::npos);
  Json j = sweep_json();
  j["points"][1]["result"]["breakdown"]["straggler_s"] = 0.1;  // a breakdown with 0 is as before
  j["points"][0]["result"]["breakdown"]["straggler_s"] = 0.0;
  const std::string h = render_report_html(j, ctx);
  EXPECT_NE(h.find("Stragglers: per-GPU variation was modelled"), std::string::npos);
  EXPECT_EQ(h.find("Stragglers: not modelled"), std::string::npos);
  EXPECT_NE(h.find("at most 2.4% of a step (at 16 GPUs)"), std::string::npos);
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
    j["points"][i]["result"]["cost"] = {{"usd_per_gpu_hour", 2.0},
                                        {"usd_per_kWh", nullptr},
                                        {"usd_per_step", 1.0},
                                        {"usd_per_million_tokens", 1.0 + i},
                                        {"run",
                                         {{"train_tokens", 3e11},
                                          {"steps", 1000},
                                          {"days", days[i]},
                                          {"gpu_hours", 1e5},
                                          {"facility_MWh", nullptr},
                                          {"usd", usd[i]}}}};
  }
  const std::string h = render_report_html(j, {"sweep.json", "knee report", ""});
  EXPECT_NE(h.find("A run of 300B tokens (no failures modelled): <b>40 days</b> at 8 GPUs "
                   "(the baseline), <b>14 days</b> at 32 GPUs (the knee, 65% less)."),
            std::string::npos)
      << h;
  // With the scenario's failures: each point's goodput.
  j["points"][0]["result"]["failures"] = {{"goodput", 0.98}};
  j["points"][2]["result"]["failures"] = {{"goodput", 0.95}};
  const std::string hf = render_report_html(j, {"sweep.json", "knee report", ""});
  EXPECT_NE(hf.find("A run of 300B tokens (with failures: goodput 98.0% at 8 GPUs, 95.0% at 32)"), std::string::npos)
      << hf;
  EXPECT_NE(h.find("<b>$1,400,000</b> at 32 GPUs (the knee, 40% more)."), std::string::npos);
  EXPECT_EQ(h.find("Facility energy: "), std::string::npos);  // no energy in these points
}

namespace {
// The text of one section: from its heading to the next.
std::string section(const std::string& h, const std::string& heading) {
  const auto a = h.find("<h2>" + heading);
  if (a == std::string::npos) return "";
  return h.substr(a, h.find("<h2>", a + 4) - a);
}
std::string assumptions(const std::string& h) { return section(h, "Scenario and assumptions"); }
std::string answer(const std::string& h) { return section(h, "The answer"); }
// A whole run on every feasible point, priced by the GPU-hour, as `knee sweep --json` writes it.
Json with_run(Json j) {
  const double days[3] = {40, 21, 14}, usd[3] = {1e6, 1.05e6, 1.4e6};
  for (int i = 0; i < 3; ++i)
    j["points"][i]["cost"] = {{"usd_per_gpu_hour", 2.0},
                              {"usd_per_kWh", nullptr},
                              {"usd_per_step", 1.0},
                              {"usd_per_million_tokens", 1.0 + i},
                              {"run",
                               {{"train_tokens", 3e11},
                                {"steps", 1000},
                                {"days", days[i]},
                                {"gpu_hours", 1e5},
                                {"facility_MWh", nullptr},
                                {"usd", usd[i]}}}};
  return j;
}
// The scenario's failures on every feasible point: a GPU MTBF of 50,000 hours.
Json with_failures(Json j) {
  const double goodput[3] = {0.98, 0.97, 0.95};
  for (int i = 0; i < 3; ++i) {
    const double gpus = j["points"][i]["gpus"].get<double>();
    j["points"][i]["failures"] = {{"system_mtbf_h", 50000 / gpus},
                                  {"checkpoint_bytes", 2.4e12},
                                  {"checkpoint_write_s", 12.0},
                                  {"checkpoint_interval_s", 2900.0},
                                  {"interval", "Daly's optimum"},
                                  {"goodput", goodput[i]},
                                  {"effective_tokens_per_s", 1000 * goodput[i]}};
  }
  return j;
}
const ReportContext kCtx{"sweep.json", "knee report", ""};
}  // namespace

TEST(Report, AssumptionsSayFailuresWereModelledWhenTheAnswerUsesThem) {
  // With failures, the answer quotes goodput, and the assumptions must say failures were modelled
  // (with the MTBF), not that they were not.
  const std::string h = render_report_html(with_failures(with_run(sweep_json())), kCtx);
  EXPECT_NE(answer(h).find("(with failures: goodput 98.0% at 8 GPUs, 95.0% at 32)"), std::string::npos) << answer(h);
  const std::string a = assumptions(h);
  EXPECT_NE(a.find("<li>Failures: modelled over a whole run (the scenario's <code>failures</code>, Daly's checkpoint "
                   "model): a GPU MTBF of 50,000 hours, so a system MTBF of 6,250 h at 8 GPUs and 1,563 h at 32 GPUs; "
                   "a checkpoint takes 12 s to write and comes every 2,900 s of training at 8 GPUs (Daly's optimum); "
                   "goodput 98.0% at 8 GPUs to 95.0% at 32 GPUs."),
            std::string::npos)
      << a;
  EXPECT_NE(a.find("divided by the goodput"), std::string::npos);
  EXPECT_EQ(a.find("not modelled (the scenario has no <code>failures</code>)"), std::string::npos);
  EXPECT_EQ(a.find("failures are not modelled"), std::string::npos);

  // Without failures: the answer says none were modelled, and so do the assumptions.
  const std::string n = render_report_html(with_run(sweep_json()), kCtx);
  EXPECT_NE(answer(n).find("(no failures modelled)"), std::string::npos);
  EXPECT_NE(assumptions(n).find("<li>Failures: not modelled (the scenario has no <code>failures</code>). A whole run's "
                                "days and dollars assume none.</li>"),
            std::string::npos)
      << assumptions(n);
  EXPECT_EQ(assumptions(n).find("Failures: modelled"), std::string::npos);

  // Failures without a whole run: the answer gives the goodput, the assumptions the MTBF.
  const std::string g = render_report_html(with_failures(sweep_json()), kCtx);
  EXPECT_NE(answer(g).find("goodput): <b>98.0%</b> at 8 GPUs (the baseline), <b>95.0%</b> at 32 GPUs (the knee)."),
            std::string::npos)
      << answer(g);
  EXPECT_NE(assumptions(g).find("a GPU MTBF of 50,000 hours"), std::string::npos);
  EXPECT_EQ(assumptions(g).find("divided by the goodput"), std::string::npos);
}

TEST(Report, AssumptionsSayStragglersWereModelledWhereverTheSweepSaysSo) {
  // The scenario's stragglers with no effect on any step (every straggler part 0) are still modelled.
  Json j = sweep_json();
  j["scenario"]["stragglers"] = {{"gpu_cv", 0.01}, {"op_cv", 0.02}};
  std::string a = assumptions(render_report_html(j, kCtx));
  EXPECT_NE(a.find("<li>Stragglers: per-GPU variation was modelled (the scenario's <code>stragglers</code>: gpu_cv "
                   "0.01, op_cv 0.02): "),
            std::string::npos)
      << a;
  EXPECT_EQ(a.find("Stragglers: not modelled"), std::string::npos);
  EXPECT_EQ(a.find("at most"), std::string::npos);  // no straggler part to quote
  // A point's "stragglers" result (as knee simulate --json writes it) names the parameters used.
  j = sweep_json();
  j["points"][0]["result"]["stragglers"] = {
      {"gpu_cv", 0.0045}, {"gpu_cv_from", "profile"}, {"op_cv", 0.033}, {"op_cv_from", "profile"}, {"steps", 1}};
  a = assumptions(render_report_html(j, kCtx));
  EXPECT_NE(a.find("(the scenario's <code>stragglers</code>: gpu_cv 0.0045 (profile), op_cv 0.033 (profile))"),
            std::string::npos)
      << a;
  // Without any of them: not modelled.
  a = assumptions(render_report_html(sweep_json(), kCtx));
  EXPECT_NE(a.find("<li>Stragglers: not modelled"), std::string::npos);
  EXPECT_EQ(a.find("per-GPU variation was modelled"), std::string::npos);
}

TEST(Report, AssumptionsStateThePricesAndTheWholeRunTheAnswerUses) {
  const std::string h = render_report_html(with_run(sweep_json()), kCtx);
  std::string a = assumptions(h);
  EXPECT_NE(a.find("<li>Prices: $2 per GPU-hour, no electricity price.</li>"), std::string::npos) << a;
  EXPECT_NE(a.find("<li>A whole run of 300B tokens (the scenario's <code>cost.train_tokens</code>): whole steps at "
                   "each point's step time, no failures.</li>"),
            std::string::npos)
      << a;
  EXPECT_NE(a.find("no power model, so no energy figures"), std::string::npos);
  EXPECT_EQ(a.find("No prices given"), std::string::npos);
  // No cost: no prices and no whole run, said as such.
  a = assumptions(render_report_html(sweep_json(), kCtx));
  EXPECT_NE(a.find("<li>No prices given (the scenario's <code>cost</code>): no dollar figures.</li>"),
            std::string::npos)
      << a;
  EXPECT_EQ(a.find("Prices: $"), std::string::npos);
  EXPECT_EQ(a.find("A whole run"), std::string::npos);
  // A whole run without a price (train_tokens alone): the answer gives its days, and no dollars.
  Json j = with_run(sweep_json());
  for (int i = 0; i < 3; ++i) {
    Json& c = j["points"][i]["cost"];
    c["usd_per_gpu_hour"] = c["usd_per_step"] = c["usd_per_million_tokens"] = c["run"]["usd"] = nullptr;
  }
  const std::string u = render_report_html(j, kCtx);
  EXPECT_NE(answer(u).find("A run of 300B tokens (no failures modelled): <b>40 days</b> at 8 GPUs"), std::string::npos)
      << answer(u);
  EXPECT_EQ(answer(u).find("$"), std::string::npos);
  EXPECT_NE(assumptions(u).find("No prices given"), std::string::npos);
  EXPECT_NE(assumptions(u).find("<li>A whole run of 300B tokens"), std::string::npos);
}

TEST(Report, TheKneeStatesItsBaseline) {
  std::string h = render_report_html(sweep_json(), kCtx);
  EXPECT_NE(h.find("<p>Scaling efficiency first falls below 0.80 at <b>32 GPUs</b>, the knee: efficiency 0.750 against "
                   "the 8-GPU baseline (strong scaling, global batch 64), a speedup of 3 on 4 times the GPUs. The cost "
                   "that grew: <b>exposed dp communication</b>.</p>"),
            std::string::npos)
      << answer(h);
  Json j = sweep_json();
  j["mode"] = "weak";
  j["points"][2]["global_batch"] = 256;
  h = render_report_html(j, kCtx);
  EXPECT_NE(h.find("against the 8-GPU baseline (weak scaling, global batch 64 at the baseline and 256 at the knee)"),
            std::string::npos);
  j = sweep_json();
  j.erase("knee");
  h = render_report_html(j, kCtx);
  EXPECT_NE(h.find("<p>Efficiency stays at or above 0.80 against the 8-GPU baseline (strong scaling, global batch 64) "
                   "over the whole range studied: no knee.</p>"),
            std::string::npos);
}

TEST(Report, StepSharesSplitCommunicationByKind) {
  Json j = sweep_json();
  j["points"][0]["result"]["breakdown"]["exposed_comm_by_group_s"] = {
      {"tp", 0.4}, {"pp", 0}, {"dp", 0.1}, {"cp", 0}, {"ep", 0}};
  j["points"][1]["result"]["breakdown"]["exposed_comm_by_group_s"] = {
      {"tp", 0.2}, {"pp", 0.1}, {"dp", 0.2}, {"cp", 0}, {"ep", 0}};
  j["points"][2]["result"]["breakdown"] = {
      {"compute_s", 1.5},
      {"exposed_comm_s", 1.0},
      {"bubble_s", 0.1},
      {"optimizer_s", 0.1},
      {"exposed_comm_by_group_s", {{"tp", 0.1}, {"pp", 0.1}, {"dp", 0.8}, {"cp", 0}, {"ep", 0}}}};
  const std::string h = render_report_html(j, kCtx);
  const std::string bars = h.substr(h.find("<svg", h.find("Where a step")));
  for (const char* k : {"tp", "pp", "dp"})
    EXPECT_NE(h.find(std::string(">exposed ") + k + " communication<"), std::string::npos) << k;  // legend
  EXPECT_EQ(h.find(">exposed cp communication<"), std::string::npos);  // never exposed: no part
  EXPECT_EQ(h.find(">exposed ep communication<"), std::string::npos);
  EXPECT_EQ(h.find(">exposed communication<"), std::string::npos);
  EXPECT_NE(h.find("<title>exposed tp communication: 0.05</title>"), std::string::npos);   // 0.4 s of 8 s
  EXPECT_NE(h.find("<title>exposed dp communication: 0.296</title>"), std::string::npos);  // 0.8 s of 2.7 s
  // Without the split (older sweep files): one part, as before.
  EXPECT_NE(render_report_html(sweep_json(), kCtx).find(">exposed communication<"), std::string::npos);
}

TEST(Report, ChartsScaleWithThePageAndSpeedupIsLogLog) {
  const std::string h = render_report_html(with_failures(with_run(sweep_json())), kCtx);
  EXPECT_EQ(count_of(h, "<svg"), 6);  // speedup, efficiency, shares, comm/compute, run, goodput
  EXPECT_EQ(count_of(h, "viewBox=\"0 0 960 400\" width=\"100%\""), 6);
  EXPECT_EQ(h.find("width=\"640\""), std::string::npos);
  EXPECT_NE(h.find("aria-label=\"Speedup against the 8-GPU baseline (log-log)\""), std::string::npos);
  // The speedup axis (1 to 4: ideal at 32 GPUs) is logarithmic: ticks 1, 2, 5.
  const std::string speed = h.substr(h.find("<svg"), h.find("</svg>") - h.find("<svg"));
  for (const char* t : {">1<", ">2<", ">5<"}) EXPECT_NE(speed.find(t), std::string::npos) << t;
  EXPECT_EQ(speed.find(">3<"), std::string::npos);
  // The whole run: days on the left, dollars on the right; goodput in a chart of its own.
  EXPECT_NE(h.find("aria-label=\"A whole run of 300B tokens: days and cost (with failures)\""), std::string::npos);
  EXPECT_NE(h.find(">cost (USD)<"), std::string::npos);
  EXPECT_NE(h.find(">1.5M<"), std::string::npos);  // a right-axis tick
  EXPECT_NE(h.find("aria-label=\"Goodput with failures: the share of wall time that trains\""), std::string::npos);
  // Without a whole run or failures, neither chart.
  EXPECT_EQ(count_of(render_report_html(sweep_json(), kCtx), "<svg"), 4);
}

TEST(Report, NumbersAsPeopleWriteThem) {
  Json j = with_run(sweep_json());
  j["points"][0]["result"]["tokens_per_s"] = 472000.4;
  j["points"][2]["speedup"] = 1234.5;
  for (int i = 0; i < 3; ++i) j["points"][i]["cost"]["run"]["usd"] = 528916.4 * (i + 1);
  j["points"].push_back({{"gpus", 16384}, {"feasible", false}, {"reason", "too big"}});
  const std::string h = render_report_html(j, kCtx);
  EXPECT_NE(h.find("<td>472,000</td>"), std::string::npos);  // tokens/s
  EXPECT_NE(h.find("<td>1,235</td>"), std::string::npos);    // speedup
  EXPECT_NE(h.find("<td>16,384</td>"), std::string::npos);   // GPUs
  EXPECT_NE(h.find("<b>$528,916</b> at 8 GPUs (the baseline), <b>$1,586,749</b> at 32 GPUs"), std::string::npos)
      << answer(h);
  EXPECT_NE(h.find("A run of 300B tokens"), std::string::npos);
  for (const char* e : {"e+0", "e+1", "e-0"}) EXPECT_EQ(h.find(e), std::string::npos) << e;
}

// A sweep with intervals (knee sweep --samples N): the knee's distribution in words, the step
// time's interval in the table, and a shaded band on the speedup and efficiency charts; without
// them, no band.
TEST(Report, IntervalsGiveBandsAndTheKneeAsADistribution) {
  EXPECT_EQ(render_report_html(sweep_json(), {"sweep.json", "knee report", ""}).find("class=\"band\""),
            std::string::npos);
  Json j = sweep_json();
  for (auto& p : j["points"]) {
    if (!p["feasible"].get<bool>()) continue;
    const double st = p["result"]["step_time_s"].get<double>(), sp = p["speedup"].get<double>(),
                 ef = p["efficiency"].get<double>();
    p["intervals"] = {
        {"step_time_s", {0.9 * st, 1.1 * st}}, {"speedup", {0.9 * sp, 1.1 * sp}}, {"efficiency", {0.9 * ef, 1.1 * ef}}};
  }
  j["intervals"] = {{"level", 0.95}, {"samples", 8}};
  j["knee_distribution"] = Json::array({{{"gpus", 32}, {"share", 0.75}}, {{"gpus", nullptr}, {"share", 0.25}}});
  const std::string h = render_report_html(j, {"sweep.json", "knee report", ""});
  EXPECT_NE(h.find("Over 8 draws of the profile"), std::string::npos);
  EXPECT_NE(h.find("at 32 GPUs in 75% of draws and absent (no knee) in 25% of draws"), std::string::npos);
  EXPECT_NE(h.find("<td>8 (7.2-8.8)</td>"), std::string::npos);
  int bands = 0;
  for (auto p = h.find("class=\"band\""); p != std::string::npos; p = h.find("class=\"band\"", p + 1)) ++bands;
  EXPECT_EQ(bands, 2);
}
