#include "metrics/report_cluster.hpp"

#include <algorithm>
#include <cmath>

#include "common/printf.hpp"
#include "metrics/format.hpp"
#include "metrics/report_html.hpp"
#include "metrics/svg_chart.hpp"

namespace knee {

namespace {

struct JobRow {
  std::string name, placement, nodes, busiest, profile, profile_origin;
  std::int64_t gpus = 0;
  bool fits = true;
  double alone_s = 0, together_s = 0, slowdown = 1, uplink_bytes = 0;
};
struct LinkRow {
  std::string from, to;
  double bytes = 0, busy_s = 0, capacity_GBps = 0;
  bool between_switches = false;
  std::vector<std::pair<std::string, double>> job_bytes;  // absent in results of knee before 2026-12-07
};
// One cluster result: a placement study has one per placement.
struct Run {
  std::string placement;  // "" for a single result
  std::string system, fabric;
  std::int64_t nodes = 0, gpus = 0;
  double oversubscription = 1, switch_link_bytes = 0;
  std::string simulation;  // how the jobs were simulated, as the result says
  // The cluster file's faults, one phrase each ("s0.nic0 - leaf0 at 0.5 of its bandwidth"); empty
  // when none or in results of knee before 2026-12-07 (no "faults").
  std::vector<std::string> faults;
  std::vector<JobRow> jobs;
  std::vector<LinkRow> links;
  const JobRow& worst() const {
    return *std::max_element(jobs.begin(), jobs.end(),
                             [](const JobRow& a, const JobRow& b) { return a.slowdown < b.slowdown; });
  }
};

// "0-1" for consecutive nodes, "0,2" otherwise (as knee simulate prints them).
std::string node_list(JsonArray a) {
  std::string o;
  for (std::size_t i = 0; i < a.size();) {
    std::size_t j = i;
    const std::int64_t first = a.integer(i, 0);
    while (j + 1 < a.size() && a.integer(j + 1, 0) == a.integer(j, 0) + 1) ++j;
    o += (o.empty() ? "" : ",") + std::to_string(first) + (j > i ? "-" + std::to_string(a.integer(j, 0)) : "");
    i = j + 1;
  }
  return o;
}

Run read_run(JsonObject& o, const std::string& placement) {
  Run r;
  r.placement = placement;
  JsonObject c = o.object("cluster");
  r.system = c.string("system");
  r.nodes = c.integer("nodes", 1);
  r.gpus = c.integer("gpus", 1);
  r.fabric = c.string("fabric");
  r.oversubscription = c.positive("oversubscription");
  c.finish();
  JsonArray jobs = o.array("jobs");
  if (jobs.empty()) jobs.fail_here("at least one job");
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    JsonObject j = jobs.object(i);
    JobRow J;
    J.name = j.string("name");
    J.placement = j.string("placement");
    J.nodes = node_list(j.array("nodes"));
    J.gpus = j.integer("gpus", 1);
    J.fits = j.boolean("fits");
    J.alone_s = j.positive("alone_step_time_s");
    J.together_s = j.positive("together_step_time_s");
    J.slowdown = j.positive("slowdown");
    J.uplink_bytes = j.non_negative("alone_switch_link_bytes");
    J.busiest = j.string("alone_busiest_link");
    J.profile = j.string_or("profile", "");  // absent in results of knee before 2026-12-07
    J.profile_origin = j.string_or("profile_origin", "");
    j.finish();
    r.jobs.push_back(std::move(J));
  }
  JsonArray links = o.array("hot_links");
  for (std::size_t i = 0; i < links.size(); ++i) {
    JsonObject l = links.object(i);
    LinkRow L;
    L.from = l.string("from");
    L.to = l.string("to");
    L.bytes = l.non_negative("bytes");
    L.busy_s = l.non_negative("busy_s");
    L.capacity_GBps = l.positive("capacity_GBps");
    L.between_switches = l.boolean("between_switches");
    if (l.has("job_bytes")) {
      const Json& jb = l.raw("job_bytes");
      if (!jb.is_object()) l.fail("job_bytes", "an object of job name: bytes");
      JsonObject o2(jb, l.source(), l.path_of("job_bytes"));
      for (auto it = jb.begin(); it != jb.end(); ++it) L.job_bytes.emplace_back(it.key(), o2.non_negative(it.key()));
    }
    l.finish();
    r.links.push_back(std::move(L));
  }
  if (o.has("faults")) {
    JsonObject f = o.object("faults");
    auto ends = [](JsonObject& e) {
      JsonArray b = e.array("between");
      if (b.size() != 2) b.fail_here("two node names");
      return b.string(0) + " - " + b.string(1);
    };
    if (f.has("degraded_links")) {
      JsonArray a = f.array("degraded_links");
      for (std::size_t i = 0; i < a.size(); ++i) {
        JsonObject e = a.object(i);
        r.faults.push_back(ends(e) + " at " + format_sig(e.positive("factor"), 3) + " of its bandwidth");
        e.finish();
      }
    }
    if (f.has("failed_links")) {
      JsonArray a = f.array("failed_links");
      for (std::size_t i = 0; i < a.size(); ++i) {
        JsonObject e = a.object(i);
        r.faults.push_back("link " + ends(e) + " failed");
        e.finish();
      }
    }
    if (f.has("failed_nics")) {
      JsonArray a = f.array("failed_nics");
      for (std::size_t i = 0; i < a.size(); ++i) {
        JsonObject e = a.object(i);
        e.ignore("node");
        e.ignore("gpu");
        r.faults.push_back("NIC " + e.string("nic") + " failed");
        e.finish();
      }
    }
    f.finish();
  }
  r.switch_link_bytes = o.non_negative("switch_link_bytes");
  r.simulation = o.string_or("simulation", "");
  for (const char* k : {"events", "flows", "collectives"}) o.ignore(k);
  return r;
}

std::vector<Run> read_runs(const Json& doc, const ReportContext& ctx, std::string* scenario) {
  JsonObject root = JsonObject::root(doc, ctx.source);
  std::vector<Run> runs;
  if (root.has("placements")) {
    JsonArray a = root.array("placements");
    if (a.empty()) a.fail_here("at least one placement");
    for (std::size_t i = 0; i < a.size(); ++i) {
      JsonObject p = a.object(i);
      runs.push_back(read_run(p, p.one_of("placement", {"packed", "spread", "random"})));
      p.finish();
    }
    *scenario = root.string_or("scenario", "");
    root.ignore("simulated_wall_s");
  } else {
    runs.push_back(read_run(root, ""));
    *scenario = root.string_or("scenario", "");
    root.ignore("simulated_wall_s");
  }
  root.finish();
  return runs;
}

std::string ms(double s) { return printf_double("%.2f", s * 1e3) + " ms"; }
std::string times(double x) { return printf_double("%.3f", x) + "x"; }
std::string gb(double bytes) { return format_sig(bytes * 1e-9, 3) + " GB"; }
std::string h(const std::string& s) { return html_escape(s); }

std::string describe_cluster(const Run& r) {
  return std::to_string(r.nodes) + "-node " + r.system + " cluster (" + format_count(double(r.gpus)) + " GPUs, " +
         r.fabric + ", oversubscription " + format_sig(r.oversubscription, 3) + ")";
}

std::string section_answer(const std::vector<Run>& runs) {
  std::string o = "<h2>The answer</h2>\n";
  if (runs.size() == 1) {
    const Run& r = runs[0];
    std::vector<const JobRow*> by(r.jobs.size());
    for (std::size_t i = 0; i < r.jobs.size(); ++i) by[i] = &r.jobs[i];
    std::stable_sort(by.begin(), by.end(), [](const JobRow* a, const JobRow* b) { return a->slowdown > b->slowdown; });
    o += "<p>Sharing the cluster slows <b>" + h(by[0]->name) + "</b> most: <b>" + times(by[0]->slowdown) +
         "</b>, its step " + ms(by[0]->alone_s) + " alone and " + ms(by[0]->together_s) + " with the other jobs";
    for (std::size_t i = 1; i < by.size(); ++i)
      o += (i == 1 ? "; " : ", ") + h(by[i]->name) + " " + times(by[i]->slowdown);
    o += ". Baseline of each slowdown: the same job on the same nodes, the rest of the cluster idle.</p>\n";
    if (!r.links.empty()) {
      double longest = 0;
      for (const JobRow& j : r.jobs) longest = std::max(longest, j.together_s);
      const LinkRow& l = r.links[0];
      o += "<p>The busiest link of the shared run, <code>" + h(l.from) + " -&gt; " + h(l.to) + "</code>" +
           (l.between_switches ? " (between switches)" : "") + ", carried " + gb(l.bytes) + " and was busy " +
           ms(l.busy_s) + " of the longest step (" + ms(longest) + ", " +
           printf_double("%.0f", 100 * l.busy_s / longest) + "%); " + gb(r.switch_link_bytes) +
           " crossed links between switches in all.</p>\n";
    }
    return o;
  }
  const Run *best = &runs[0], *worst = &runs[0];
  for (const Run& r : runs) {
    if (r.worst().slowdown < best->worst().slowdown) best = &r;
    if (r.worst().slowdown > worst->worst().slowdown) worst = &r;
  }
  o += "<p>Of the placements studied, <b>" + h(best->placement) + "</b> slows the jobs least (the worst job, " +
       h(best->worst().name) + ", " + times(best->worst().slowdown) + ") and <b>" + h(worst->placement) +
       "</b> most (" + h(worst->worst().name) + ", " + times(worst->worst().slowdown) +
       "). Baseline of each slowdown: the same job on the same nodes of that placement, the rest of the cluster "
       "idle; the placements also change the jobs' steps alone (below).</p>\n";
  return o;
}

std::string section_jobs(const std::vector<Run>& runs) {
  const bool study = runs.size() > 1;
  std::string o = "<h2>Jobs</h2>\n<table><tr>" + std::string(study ? "<th>placement</th>" : "") +
                  "<th>job</th><th>placed</th><th>nodes</th><th>GPUs</th><th>step alone</th><th>step together</th>"
                  "<th>slowdown</th><th>alone over switch links</th><th>profile</th></tr>\n";
  for (const Run& r : runs)
    for (const JobRow& j : r.jobs)
      o += "<tr>" + (study ? "<td>" + h(r.placement) + "</td>" : std::string()) + "<td>" + h(j.name) + "</td><td>" +
           h(j.placement) + "</td><td>" + h(j.nodes) + "</td><td>" + format_count(double(j.gpus)) + "</td><td>" +
           ms(j.alone_s) + "</td><td>" + ms(j.together_s) + "</td><td>" + times(j.slowdown) + "</td><td>" +
           gb(j.uplink_bytes) + "</td><td>" + h(j.profile.empty() ? "-" : j.profile) +
           (j.fits ? "" : " (does not fit)") + "</td></tr>\n";
  return o + "</table>\n";
}

std::string section_links(const std::vector<Run>& runs) {
  std::string o =
      "<h2>Where the jobs met</h2>\n<p>The busiest directed links of each shared run (busy = bytes / "
      "capacity, the time at full rate).</p>\n";
  for (const Run& r : runs) {
    if (runs.size() > 1) o += "<h3>" + h(r.placement) + "</h3>\n";
    if (r.links.empty()) {
      o += "<p>No link carried bytes.</p>\n";
      continue;
    }
    o += "<table><tr><th>from</th><th>to</th><th>bytes</th><th>by job</th><th>busy</th><th>capacity</th><th>between "
         "switches</th></tr>\n";
    for (const LinkRow& l : r.links) {
      std::string by;
      for (const auto& [name, b] : l.job_bytes)
        if (b > 0)
          by += (by.empty() ? "" : ", ") + h(name) + " " + format_sig(l.bytes > 0 ? 100 * b / l.bytes : 0, 3) + "%";
      o += "<tr><td>" + h(l.from) + "</td><td>" + h(l.to) + "</td><td>" + gb(l.bytes) + "</td><td>" +
           (l.job_bytes.empty() ? "-" : by) + "</td><td>" + ms(l.busy_s) + "</td><td>" +
           format_sig(l.capacity_GBps, 3) + " GB/s</td><td>" + (l.between_switches ? "yes" : "no") + "</td></tr>\n";
    }
    o += "</table>\n<p>" + gb(r.switch_link_bytes) + " crossed links between switches in the shared run.</p>\n";
  }
  return o;
}

std::string section_assumptions(const Run& r) {
  std::string broken;
  for (const std::string& f : r.faults) broken += (broken.empty() ? "" : "; ") + h(f);
  return "<h2>What is modelled</h2><ul>" +
         (r.simulation.empty() ? std::string() : "<li>As the result says: " + h(r.simulation) + ".</li>") +
         (broken.empty() ? std::string()
                         : "<li>Broken parts of the cluster, in every job's runs alone and together (the cluster "
                           "file's faults): " +
                               broken +
                               ". Routes avoid failed parts; degraded links run at their fraction of "
                               "bandwidth.</li>") +
         "<li>Every job runs every rank (docs/workloads.md, \"Every-rank simulation\"): each pipeline send and each "
         "data-parallel collective is flows on the one fabric that all jobs share; jobs slow each other through the "
         "links they share and nothing else (max-min fair rates).</li>"
         "<li>Tensor-, context- and expert-parallel collectives stay inside each job's op costs (inside a server for "
         "the usual layouts), not on the shared network; SM sharing and stragglers are not applied in this mode.</li>"
         "<li>One step of each job, all starting together: a steady state where steps drift against each other is "
         "not simulated.</li></ul>\n";
}

std::string section_provenance(const std::vector<Run>& runs, const std::string& scenario, const ReportContext& ctx) {
  std::string o = "<h2>Provenance</h2>\n<p>The " + h(describe_cluster(runs[0])) +
                  (scenario.empty() ? "" : ", from <code>" + h(scenario) + "</code>") + ".</p>\n";
  Json p = Json::object();
  for (const JobRow& j : runs[0].jobs)
    p[j.name] =
        j.profile.empty() ? "profile not recorded (a result of an older knee)" : j.profile + ": " + j.profile_origin;
  o += "<p>Each job's calibration profile and how it was made:</p>" + report_html::kv_table(p);
  return o + report_html::reproducibility(
                 {.command_line = ctx.command_line, .file = ctx.source, .file_key = "result_file"});
}

}  // namespace

bool is_cluster_report_input(const Json& doc) {
  return doc.is_object() && ((doc.contains("cluster") && doc.contains("jobs")) || doc.contains("placements"));
}

std::string render_cluster_report_html(const Json& doc, const ReportContext& ctx) {
  std::string scenario;
  const std::vector<Run> runs = read_runs(doc, ctx, &scenario);
  const std::string question = !ctx.question.empty() ? ctx.question
                               : runs.size() > 1
                                   ? "How much do these jobs slow each other down on the " + describe_cluster(runs[0]) +
                                         ", and how does their placement change it?"
                                   : "How much do these jobs slow each other down on the " + describe_cluster(runs[0]) +
                                         ", and which links do they meet on?";
  std::string o = report_html::page_head("knee cluster report", "Cluster report");
  o += "<p class=\"note\"><b>Simulated, not measured.</b> Every figure below comes from knee's event-driven "
       "simulation of every rank of every job on one network, with the calibration profiles named under "
       "<i>Provenance</i>.</p>\n";
  o += "<h2>The question</h2><p>" + h(question) + "</p>\n";
  return o + section_answer(runs) + section_jobs(runs) + section_links(runs) + section_assumptions(runs[0]) +
         section_provenance(runs, scenario, ctx) + "</body></html>\n";
}

}  // namespace knee
