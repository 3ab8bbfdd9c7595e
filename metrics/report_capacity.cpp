#include "metrics/report_capacity.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "common/json_reader.hpp"
#include "metrics/format.hpp"
#include "metrics/report_html.hpp"
#include "metrics/svg_chart.hpp"

namespace knee {

namespace {

struct Layout {
  std::int64_t gpus = 0, tp = 0, replicas = 0, prefill = 0, decode = 0, preemptions = 0;
  bool disaggregated = false, meets = false;
  double attainment = 0, ttft_p99_s = NAN, tpot_p99_s = NAN, tokens_per_s = NAN, usd_per_m = NAN, J_per_token = NAN;
};

struct MaxRate {
  bool present = false;
  double rate = NAN, lower = NAN, upper = NAN;
  std::int64_t runs = 0;
  std::string cause, detail;
};

struct Capacity {
  double rate = 0, share = 0;
  std::string scenario;
  bool has_best = false;
  Layout best;
  MaxRate max_rate;
  std::vector<std::string> notes;
  std::vector<Layout> tried;
  std::int64_t simulations = 0;
};

Layout read_layout(JsonObject& o) {
  Layout l;
  l.gpus = o.integer("gpus", 1);
  l.tp = o.integer("tp", 1);
  l.replicas = o.integer("replicas", 0);
  l.disaggregated = o.boolean("disaggregated");
  l.prefill = o.integer("prefill_replicas", 0);
  l.decode = o.integer("decode_replicas", 0);
  l.meets = o.boolean("meets_slo");
  l.attainment = o.number("slo_attainment");
  l.ttft_p99_s = o.number_or_nan("ttft_p99_s");
  l.tpot_p99_s = o.number_or_nan("tpot_p99_s");
  l.tokens_per_s = o.number_or_nan("output_tokens_per_s");
  l.preemptions = o.integer("preemptions", 0);
  l.usd_per_m = o.number_or_nan("usd_per_million_output_tokens");
  l.J_per_token = o.number_or_nan("joules_per_output_token");
  return l;
}

// The candidates: an object of equal-length columns, one entry per layout tried.
std::vector<Layout> read_candidates(JsonObject& r) {
  JsonObject c = r.object("candidates");
  JsonArray gpus = c.array("gpus");
  const std::size_t n = gpus.size();
  std::vector<Layout> out(n);
  auto column = [&](const char* key) {
    JsonArray a = c.array(key);
    if (a.size() != n) c.fail(key, "a list of " + std::to_string(n) + " values, one per layout (as gpus)");
    return a;
  };
  auto flag = [&](const JsonArray& a, std::size_t i) {
    if (!a.raw(i).is_boolean()) a.fail(i, "true or false");
    return a.raw(i).get<bool>();
  };
  auto maybe = [&](const JsonArray& a, std::size_t i) { return a.raw(i).is_null() ? NAN : a.number(i); };
  const JsonArray tp = column("tp"), rep = column("replicas"), dis = column("disaggregated"),
                  pre = column("prefill_replicas"), dec = column("decode_replicas"), meets = column("meets_slo"),
                  att = column("slo_attainment"), ttft = column("ttft_p99_s"), tpot = column("tpot_p99_s"),
                  tok = column("output_tokens_per_s"), pe = column("preemptions"),
                  usd = column("usd_per_million_output_tokens"), J = column("joules_per_output_token");
  for (std::size_t i = 0; i < n; ++i) {
    Layout& l = out[i];
    l.gpus = gpus.integer(i, 1), l.tp = tp.integer(i, 1), l.replicas = rep.integer(i, 0);
    l.disaggregated = flag(dis, i), l.prefill = pre.integer(i, 0), l.decode = dec.integer(i, 0);
    l.meets = flag(meets, i), l.attainment = att.number(i);
    l.ttft_p99_s = maybe(ttft, i), l.tpot_p99_s = maybe(tpot, i), l.tokens_per_s = maybe(tok, i);
    l.preemptions = pe.integer(i, 0), l.usd_per_m = maybe(usd, i), l.J_per_token = maybe(J, i);
  }
  return out;
}

Capacity read_capacity(const Json& doc, const std::string& source) {
  JsonObject r = JsonObject::root(doc, source);
  Capacity c;
  c.rate = r.positive("rate_per_s");
  c.share = r.positive("share");
  c.simulations = r.integer("simulations", 0);
  c.scenario = r.has("scenario") && r.raw("scenario").is_string() ? r.string("scenario") : "";
  if (r.has("best") && !r.raw("best").is_null()) {
    JsonObject b = r.object("best");
    c.best = read_layout(b);
    c.has_best = true;
  }
  if (r.has("max_rate") && !r.raw("max_rate").is_null()) {
    JsonObject m = r.object("max_rate");
    c.max_rate.present = true;
    c.max_rate.rate = m.number_or_nan("max_rate_rps");
    c.max_rate.lower = m.number_or_nan("lower_rps");
    c.max_rate.upper = m.number_or_nan("upper_rps");
    c.max_rate.runs = m.integer("runs", 0);
    c.max_rate.cause = m.string("cause");
    c.max_rate.detail = m.string("detail");
  }
  JsonArray notes = r.array("notes");
  for (std::size_t i = 0; i < notes.size(); ++i) c.notes.push_back(notes.string(i));
  c.tried = read_candidates(r);
  return c;
}

std::string layout_words(const Layout& l) {
  if (l.disaggregated)
    return "TP " + std::to_string(l.tp) + ", disaggregated: " + std::to_string(l.prefill) + " prefill + " +
           std::to_string(l.decode) + " decode replicas";
  return "TP " + std::to_string(l.tp) + " x " + std::to_string(l.replicas) + " replica" + (l.replicas == 1 ? "" : "s") +
         ", co-located";
}

std::string opt(double v, const std::string& unit, int digits = 3) {
  return std::isfinite(v) ? format_sig(v, digits) + unit : "-";
}

std::string td(const std::string& s) { return "<td>" + html_escape(s) + "</td>"; }

std::string section_answer(const Capacity& c) {
  std::string o = "<h2>The answer</h2>\n";
  if (!c.has_best) {
    o += "<p class=\"note\">No layout searched serves " + format_sig(c.rate, 4) +
         " requests/s within the SLOs (see the layouts tried below and the notes).</p>\n";
  } else {
    const Layout& b = c.best;
    o += "<p>To serve <b>" + format_sig(c.rate, 4) + " requests/s</b> with at least " + format_sig(100 * c.share, 3) +
         "% of requests meeting every SLO: <b>" + format_count(double(b.gpus)) + " GPU" + (b.gpus == 1 ? "" : "s") +
         "</b> (" + html_escape(layout_words(b)) + "): SLO attainment " + format_sig(100 * b.attainment, 4) +
         "%, p99 TTFT " + opt(1e3 * b.ttft_p99_s, " ms") + ", p99 TPOT " + opt(1e3 * b.tpot_p99_s, " ms") + ", " +
         opt(b.tokens_per_s, " output tokens/s", 4) + ", " +
         (std::isfinite(b.usd_per_m) ? "$" + format_sig(b.usd_per_m, 3) + " per million output tokens"
                                     : "cost not computed") +
         ", " + opt(b.J_per_token, " J per output token") + ".</p>\n";
  }
  if (c.max_rate.present) {
    const MaxRate& m = c.max_rate;
    o += "<h2>The serving knee</h2>\n<p>On the scenario's own layout (as written, not the answer's) an SLO first "
         "breaks at <b>" +
         opt(m.rate, " requests/s", 4) + "</b> (bracketed between " + opt(m.lower, "", 4) + " and " +
         opt(m.upper, "", 4) + " requests/s in " + std::to_string(m.runs) + " runs); the cause: <b>" +
         html_escape(m.cause) + "</b> (" + html_escape(m.detail) + ").</p>\n";
  }
  return o;
}

std::string section_tried(const Capacity& c) {
  std::string o =
      "<h2>Every layout tried</h2>\n<p>" + std::to_string(c.simulations) +
      " simulations; the answer's row is marked.</p>\n<table><tr><th>GPUs</th><th>layout</th><th>meets "
      "SLOs</th><th>SLO "
      "attainment</th><th>p99 TTFT</th><th>p99 TPOT</th><th>output tokens/s</th><th>preemptions</th><th>$ / M "
      "tokens</th><th>J / token</th></tr>\n";
  for (const auto& l : c.tried) {
    const bool best = c.has_best && l.gpus == c.best.gpus && l.tp == c.best.tp && l.replicas == c.best.replicas &&
                      l.disaggregated == c.best.disaggregated && l.prefill == c.best.prefill &&
                      l.decode == c.best.decode;
    o += std::string("<tr") +
         (best      ? " class=\"knee\""
          : l.meets ? ""
                    : " class=\"bad\"") +
         ">" + td(format_count(double(l.gpus))) + td(layout_words(l)) + td(l.meets ? "yes" : "no") +
         td(format_sig(100 * l.attainment, 4) + "%") + td(opt(1e3 * l.ttft_p99_s, " ms")) +
         td(opt(1e3 * l.tpot_p99_s, " ms")) + td(opt(l.tokens_per_s, "", 4)) + td(std::to_string(l.preemptions)) +
         td(std::isfinite(l.usd_per_m) ? "$" + format_sig(l.usd_per_m, 3) : "-") + td(opt(l.J_per_token, "")) +
         "</tr>\n";
  }
  return o + "</table>\n";
}

// SLO attainment and p99 TTFT against GPUs, one series per TP and kind (co-located, disaggregated),
// the share to meet as a reference line.
std::string section_charts(const Capacity& c) {
  std::map<std::pair<std::int64_t, bool>, std::vector<const Layout*>> by;
  for (const auto& l : c.tried) by[{l.tp, l.disaggregated}].push_back(&l);
  LineChart att, ttft;
  att.title = "SLO attainment of each layout tried";
  att.x_label = ttft.x_label = "GPUs";
  att.y_label = "share of requests meeting every SLO";
  att.log2_x = ttft.log2_x = true;
  ttft.title = "p99 time to first token of each layout tried (log)";
  ttft.y_label = "p99 TTFT (s)";
  ttft.log_y = true;
  double lo = INFINITY, hi = 0;
  for (auto& [key, ls] : by) {
    std::sort(ls.begin(), ls.end(), [](const Layout* a, const Layout* b) { return a->gpus < b->gpus; });
    const std::string name = "TP " + std::to_string(key.first) + (key.second ? " disaggregated" : "");
    Series a{name, {}, {}, key.second, false, {}, {}}, t{name, {}, {}, key.second, false, {}, {}};
    for (const Layout* l : ls) {
      a.x.push_back(double(l->gpus)), a.y.push_back(l->attainment);
      if (std::isfinite(l->ttft_p99_s)) t.x.push_back(double(l->gpus)), t.y.push_back(l->ttft_p99_s);
      lo = std::min(lo, double(l->gpus)), hi = std::max(hi, double(l->gpus));
    }
    att.series.push_back(a);
    ttft.series.push_back(t);
  }
  if (std::isfinite(lo)) {
    Series share{"share to meet", {lo, hi}, {c.share, c.share}, true, false, {}, {}};
    att.series.push_back(share);
  }
  return "<figure>" + att.svg() + "</figure>\n<figure>" + ttft.svg() + "</figure>\n";
}

}  // namespace

bool is_capacity_report_input(const Json& doc) {
  return doc.is_object() && doc.contains("rate_per_s") && doc.contains("candidates") && doc.contains("share");
}

std::string render_capacity_report_html(const Json& doc, const ReportContext& ctx) {
  const Capacity c = read_capacity(doc, ctx.source);
  std::string o =
      report_html::page_head("knee: serving capacity", "Serving capacity: " + format_sig(c.rate, 4) + " requests/s");
  if (!ctx.question.empty()) o += "<p><b>Question:</b> " + html_escape(ctx.question) + "</p>\n";
  if (!c.scenario.empty())
    o += "<p>Scenario: <code>" + html_escape(c.scenario) + "</code> (simulated, not measured).</p>\n";
  o += section_answer(c) + section_tried(c) + section_charts(c);
  o += "<h2>How it was searched</h2>\n<ul>";
  for (const auto& n : c.notes) o += "<li>" + html_escape(n) + "</li>";
  o += "</ul>\n" +
       report_html::reproducibility(
           {.command_line = ctx.command_line, .file = ctx.source, .made_with = "knee capacity --json"}) +
       "</body></html>\n";
  return o;
}

}  // namespace knee
