// The cluster report (metrics/report_cluster.hpp) from a cluster result and a placement study
// written here with known numbers: the answer names the job slowed most and its two steps, the
// study the placements that slow the worst job least and most; the faults applied; bad input names
// file and path.
#include <gtest/gtest.h>

#include "metrics/report_cluster.hpp"
#include "tests/common/error_of.hpp"

using namespace knee;
using knee::test::error_of;

namespace {
Json job(const std::string& name, double alone_s, double together_s) {
  return {{"name", name},
          {"placement", "spread"},
          {"nodes", {0, 2, 3}},
          {"gpus", 24},
          {"fits", true},
          {"alone_step_time_s", alone_s},
          {"together_step_time_s", together_s},
          {"slowdown", together_s / alone_s},
          {"alone_switch_link_bytes", 2.5e9},
          {"alone_busiest_link", "leaf0 -> spine0"},
          {"profile", "h100"},
          {"profile_origin", "derived from profile 'h200' (NVIDIA H200, unedited) by mechanisms"}};
}
Json result(double a_together, double b_together) {
  return {
      {"cluster",
       {{"system", "dgx-h100"}, {"nodes", 4}, {"gpus", 32}, {"fabric", "rail-fat-tree"}, {"oversubscription", 2.0}}},
      {"jobs", {job("alpha", 0.100, a_together), job("beta", 0.050, b_together)}},
      {"hot_links",
       {{{"from", "spine1"},
         {"to", "leaf0"},
         {"bytes", 4e9},
         {"busy_s", 0.03},
         {"capacity_GBps", 25.0},
         {"between_switches", true}}}},
      {"switch_link_bytes", 12e9},
      {"events", 10},
      {"flows", 4},
      {"collectives", 2},
      {"simulation", "every rank of every job on one engine"},
      {"scenario", "c.json"},
      {"simulated_wall_s", 0.01}};
}
const ReportContext kCtx{"r.json", "knee report r.json --out r.html", ""};
bool has(const std::string& html, const std::string& s) { return html.find(s) != std::string::npos; }
}  // namespace

TEST(ClusterReport, NamesTheJobSlowedMostWithItsBaseline) {
  const Json r = result(0.105, 0.060);  // alpha 1.05x, beta 1.2x
  ASSERT_TRUE(is_cluster_report_input(r));
  const std::string h = render_cluster_report_html(r, kCtx);
  EXPECT_TRUE(has(h,
                  "slows <b>beta</b> most: <b>1.200x</b>, its step 50.00 ms alone and 60.00 ms with the other "
                  "jobs; alpha 1.050x."))
      << h;
  EXPECT_TRUE(has(h, "Baseline of each slowdown: the same job on the same nodes")) << h;
  // The busiest link: 30 ms of the longest step (105 ms): 29%.
  EXPECT_TRUE(has(h,
                  "<code>spine1 -&gt; leaf0</code> (between switches), carried 4 GB and was busy 30.00 ms of the "
                  "longest step (105.00 ms, 29%); 12 GB crossed links between switches in all."))
      << h;
  EXPECT_TRUE(has(h,
                  "<td>alpha</td><td>spread</td><td>0,2-3</td><td>24</td><td>100.00 ms</td><td>105.00 ms</td>"
                  "<td>1.050x</td><td>2.5 GB</td><td>h100</td>"))
      << h;
  EXPECT_TRUE(has(h, "the 4-node dgx-h100 cluster (32 GPUs, rail-fat-tree, oversubscription 2)")) << h;
  EXPECT_TRUE(has(h, "h100: derived from profile &#39;h200&#39;") || has(h, "h100: derived from profile 'h200'")) << h;
  EXPECT_TRUE(has(h, "knee report r.json --out r.html")) << h;
  EXPECT_TRUE(has(h, "<li>As the result says: every rank of every job on one engine.</li>")) << h;
  EXPECT_TRUE(has(h, "from <code>c.json</code>")) << h;
}

TEST(ClusterReport, APlacementStudyNamesTheLeastAndMostHarmfulPlacement) {
  Json packed = result(0.100, 0.050), spread = result(0.130, 0.055);
  for (Json* p : {&packed, &spread}) {  // a study's placements carry no file keys of their own
    p->erase("scenario");
    p->erase("simulated_wall_s");
  }
  packed["placement"] = "packed";
  spread["placement"] = "spread";
  const Json study = {{"placements", {packed, spread}}, {"scenario", "c.json"}, {"simulated_wall_s", 0.1}};
  ASSERT_TRUE(is_cluster_report_input(study));
  const std::string h = render_cluster_report_html(study, kCtx);
  EXPECT_TRUE(has(h,
                  "<b>packed</b> slows the jobs least (the worst job, alpha, 1.000x) and <b>spread</b> most "
                  "(alpha, 1.300x)"))
      << h;
  EXPECT_TRUE(has(h, "<td>spread</td><td>alpha</td>")) << h;
  EXPECT_TRUE(has(h, "<h3>packed</h3>") && has(h, "<h3>spread</h3>")) << h;
  EXPECT_TRUE(has(h, "and how does their placement change it?")) << h;
}

TEST(ClusterReport, BadInputNamesTheFileAndThePath) {
  Json r = result(0.105, 0.060);
  r["jobs"][1].erase("slowdown");
  EXPECT_TRUE(has(error_of([&] { render_cluster_report_html(r, kCtx); }), "r.json: $.jobs[1].slowdown"))
      << error_of([&] { render_cluster_report_html(r, kCtx); });
  r = result(0.105, 0.060);
  r["jobs"][0]["slowdwn"] = 1.0;  // a typo: unknown keys are errors
  EXPECT_TRUE(has(error_of([&] { render_cluster_report_html(r, kCtx); }), "$.jobs[0].slowdwn"));
  r = result(0.105, 0.060);
  r["jobs"] = Json::array();
  EXPECT_TRUE(has(error_of([&] { render_cluster_report_html(r, kCtx); }), "$.jobs: expected at least one job"));
  EXPECT_FALSE(is_cluster_report_input(Json{{"points", Json::array()}, {"mode", "weak"}}));
}

// Each hot link's bytes by job, as shares of the link (results before job_bytes render "-").
TEST(ClusterReport, HotLinksShowEachJobsShare) {
  Json r = result(0.105, 0.060);
  EXPECT_TRUE(has(render_cluster_report_html(r, kCtx), "<td>4 GB</td><td>-</td>"))
      << render_cluster_report_html(r, kCtx);
  r["hot_links"][0]["job_bytes"] = {{"alpha", 3e9}, {"beta", 1e9}};
  const std::string h = render_cluster_report_html(r, kCtx);
  EXPECT_TRUE(has(h, "<td>alpha 75%, beta 25%</td>")) << h;
  r["hot_links"][0]["job_bytes"] = {{"alpha", -1.0}};
  EXPECT_TRUE(has(error_of([&] { render_cluster_report_html(r, kCtx); }), "$.hot_links[0].job_bytes.alpha"));
}

// The cluster file's faults under what is modelled; a result without them (older knee) or with
// empty lists says nothing about broken parts.
TEST(ClusterReport, NamesTheFaultsApplied) {
  Json r = result(0.105, 0.060);
  EXPECT_FALSE(has(render_cluster_report_html(r, kCtx), "Broken parts"));
  r["faults"] = {{"degraded_links", Json::array()}, {"failed_links", Json::array()}, {"failed_nics", Json::array()}};
  EXPECT_FALSE(has(render_cluster_report_html(r, kCtx), "Broken parts"));
  r["faults"]["degraded_links"] = {{{"between", {"leaf0", "spine1"}}, {"factor", 0.5}}};
  r["faults"]["failed_links"] = {{{"between", {"leaf1", "spine0"}}}};
  r["faults"]["failed_nics"] = {{{"node", 1}, {"gpu", 3}, {"nic", "s1.nic3"}}};
  const std::string h = render_cluster_report_html(r, kCtx);
  EXPECT_TRUE(has(h,
                  "(the cluster file&#39;s faults): leaf0 - spine1 at 0.5 of its bandwidth; link leaf1 - spine0 "
                  "failed; NIC s1.nic3 failed.") ||
              has(h,
                  "(the cluster file's faults): leaf0 - spine1 at 0.5 of its bandwidth; link leaf1 - spine0 "
                  "failed; NIC s1.nic3 failed."))
      << h;
  r["faults"]["failed_nics"][0]["nic"] = 3;
  EXPECT_TRUE(has(error_of([&] { render_cluster_report_html(r, kCtx); }), "r.json: $.faults.failed_nics[0].nic"))
      << error_of([&] { render_cluster_report_html(r, kCtx); });
}
