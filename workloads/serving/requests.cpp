// Arrivals (Poisson, gamma, on-off, trace; in groups with a fan-out) and lengths (fixed, uniform,
// lognormal, empirical, geometric), seeded; lengths fitted to a trace.
#include "workloads/serving/requests.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>
#include <unordered_map>

#include "common/json_reader.hpp"
#include "common/random.hpp"

namespace knee::serving {
namespace {

// Independent streams per quantity, so the i-th request's lengths do not depend on the rate.
constexpr std::uint64_t kArrivalStream = 0x6172726976616C73ULL, kPromptStream = 0x70726F6D70747321ULL,
                        kOutputStream = 0x6F75747075747321ULL, kPeriodStream = 0x6F6E5F6F66662121ULL;

// Gamma(shape k, scale 1) by Marsaglia and Tsang (2000); k < 1 by the boost G(k+1) U^(1/k).
double gamma_draw(Random& r, double k) {
  if (k < 1) return gamma_draw(r, k + 1) * std::pow(r.uniform(), 1 / k);
  const double d = k - 1.0 / 3, c = 1 / std::sqrt(9 * d);
  for (;;) {
    double x, v;
    do {
      x = r.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const double u = r.uniform();
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
  }
}

// A gap of mean 1: exponential (Poisson; on-off within its on time) or gamma with coefficient of
// variation cv.
double unit_gap(Random& r, const ArrivalSpec& a) {
  if (a.kind != ArrivalKind::gamma) return -std::log(r.uniform());
  const double k = 1 / (a.cv * a.cv);
  return gamma_draw(r, k) / k;
}

// On-off arrivals (a two-state Markov-modulated Poisson process, off rate 0): Poisson points laid
// on the on time only, which this maps to wall time. The periods have their own stream and are
// drawn in order (on, off, on, ...), so a run at another rate sees the same periods: common random
// numbers, with only the on rate changed.
class OnOffClock {
 public:
  OnOffClock(std::uint64_t seed, double on_s, double off_s)
      : r_(seed), on_s_(on_s), off_s_(off_s), len_s_(on_s * -std::log(r_.uniform())) {}
  // Wall time of on time u; calls in non-decreasing u.
  double wall_s(double u) {
    while (u > before_s_ + len_s_) {
      start_s_ += len_s_ + off_s_ * -std::log(r_.uniform());
      before_s_ += len_s_;
      len_s_ = on_s_ * -std::log(r_.uniform());
    }
    return start_s_ + (u - before_s_);
  }

 private:
  Random r_;
  double on_s_, off_s_;
  double start_s_ = 0, before_s_ = 0;  // the current on period's wall start, and on time before it
  double len_s_;                       // its length
};

std::int32_t draw_length(Random& r, const LengthSpec& L, std::int64_t cap) {
  double v = L.mean;
  if (L.kind == LengthKind::empirical) {
    const std::size_t n = L.values.size();
    v = double(L.values[std::min(n - 1, std::size_t(r.uniform() * double(n)))]);
  } else if (L.kind == LengthKind::uniform) {
    v = double(L.min) + std::floor(r.uniform() * double(L.max - L.min + 1));
  } else if (L.kind == LengthKind::geometric) {
    // Inversion: n = 1 + floor(ln U / ln(1 - p)) has P(n) = p (1 - p)^(n - 1); p = 1 gives 1.
    const double p = 1 / L.mean;
    v = p >= 1 ? 1 : 1 + std::floor(std::log(r.uniform()) / std::log1p(-p));
  } else if (L.kind == LengthKind::lognormal) {
    const double s2 = std::log1p(L.cv * L.cv);
    v = std::round(std::exp(std::log(L.mean) - s2 / 2 + std::sqrt(s2) * r.normal()));
  }
  const std::int64_t hi = std::max<std::int64_t>(1, std::min(L.max, cap));
  return static_cast<std::int32_t>(std::clamp<std::int64_t>(std::llround(v), std::min(L.min, hi), hi));
}

std::string resolve(const std::string& path, const std::string& source) {
  if (path.empty() || path[0] == '/') return path;
  const auto slash = source.rfind('/');
  return slash == std::string::npos ? path : source.substr(0, slash + 1) + path;
}

void check_row(const Request& q, const Request* prev, std::int64_t seq_len, const std::string& where,
               const std::string& file) {
  if (!(q.arrival_s >= 0)) throw_input_error(file, where + ".arrival_s", "a time >= 0 in seconds", "negative");
  if (prev && q.arrival_s < prev->arrival_s)
    throw_input_error(file, where + ".arrival_s",
                      "arrival times in order (not before the row above, " + std::to_string(prev->arrival_s) + " s)",
                      std::to_string(q.arrival_s));
  if (q.prompt_tokens < 1) throw_input_error(file, where + ".prompt_tokens", "at least 1 token", "less");
  if (q.output_tokens < 1) throw_input_error(file, where + ".output_tokens", "at least 1 token", "less");
  if (std::int64_t(q.prompt_tokens) + q.output_tokens > seq_len)
    throw_input_error(file, where + ".output_tokens",
                      "prompt_tokens + output_tokens <= model.seq_len (" + std::to_string(seq_len) + ")",
                      std::to_string(q.prompt_tokens + q.output_tokens));
}

// Session ids as written (any text, or a JSON integer) to numbers in order of first appearance;
// an empty one is no session.
struct SessionIds {
  std::unordered_map<std::string, std::int32_t> ids;
  std::int32_t of(const std::string& name) {
    if (name.empty()) return -1;
    return ids.emplace(name, std::int32_t(ids.size())).first->second;
  }
};

std::vector<Request> read_csv(const std::string& text, std::int64_t seq_len, const std::string& file) {
  std::istringstream in(text);
  std::string line;
  std::vector<Request> out;
  SessionIds sessions;
  int col[4] = {-1, -1, -1, -1};
  std::size_t lineno = 0, ncols = 0;
  auto split = [](const std::string& l) {
    std::vector<std::string> f;
    std::string cell;
    std::istringstream ls(l);
    while (std::getline(ls, cell, ',')) {
      cell.erase(0, cell.find_first_not_of(" \t\r"));
      cell.erase(cell.find_last_not_of(" \t\r") + 1);
      f.push_back(cell);
    }
    // getline drops an empty last field ("0,10,2," with no session id): keep it.
    const auto end = l.find_last_not_of(" \t\r");
    if (end != std::string::npos && l[end] == ',') f.push_back("");
    return f;
  };
  while (std::getline(in, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos || line[0] == '#') continue;
    const auto f = split(line);
    if (ncols == 0) {  // the header names the columns
      ncols = f.size();
      for (std::size_t i = 0; i < f.size(); ++i) {
        if (f[i] == "arrival_s") col[0] = int(i);
        else if (f[i] == "prompt_tokens") col[1] = int(i);
        else if (f[i] == "output_tokens") col[2] = int(i);
        else if (f[i] == "session_id") col[3] = int(i);
        else
          throw_input_error(file, "line " + std::to_string(lineno),
                            "a header of arrival_s, prompt_tokens, output_tokens (and session_id)", "'" + f[i] + "'");
      }
      if (col[0] < 0 || col[1] < 0 || col[2] < 0)
        throw_input_error(file, "line " + std::to_string(lineno),
                          "a header naming arrival_s, prompt_tokens and output_tokens", "'" + line + "'");
      continue;
    }
    const std::string where = "line " + std::to_string(lineno);
    if (f.size() != ncols)
      throw_input_error(file, where, std::to_string(ncols) + " comma-separated fields", std::to_string(f.size()));
    Request q;
    try {
      std::size_t used = 0;
      q.arrival_s = std::stod(f[std::size_t(col[0])], &used);
      if (used != f[std::size_t(col[0])].size()) throw std::invalid_argument("x");
      q.prompt_tokens = std::stoi(f[std::size_t(col[1])]);
      q.output_tokens = std::stoi(f[std::size_t(col[2])]);
    } catch (const std::exception&) {
      throw_input_error(file, where, "a number of seconds and two token counts", "'" + line + "'");
    }
    if (col[3] >= 0) q.session = sessions.of(f[std::size_t(col[3])]);
    check_row(q, out.empty() ? nullptr : &out.back(), seq_len, where, file);
    out.push_back(q);
  }
  return out;
}

std::vector<Request> read_json(const Json& j, std::int64_t seq_len, const std::string& file) {
  const Json* rows = &j;
  std::string path = "$";
  if (j.is_object()) {
    JsonObject root = JsonObject::root(j, file);
    rows = &root.raw("requests");
    root.finish();
    path = "$.requests";
  }
  if (!rows->is_array())
    throw_input_error(file, path, "an array of {arrival_s, prompt_tokens, output_tokens}", describe_json(*rows));
  JsonArray a(*rows, file, path);
  std::vector<Request> out;
  SessionIds sessions;
  for (std::size_t i = 0; i < a.size(); ++i) {
    JsonObject o = a.object(i);
    Request q;
    q.arrival_s = o.number("arrival_s");
    q.prompt_tokens = static_cast<std::int32_t>(o.integer("prompt_tokens", 1, seq_len));
    q.output_tokens = static_cast<std::int32_t>(o.integer("output_tokens", 1, seq_len));
    if (o.has("session_id")) {
      const Json& id = o.raw("session_id");
      if (id.is_string()) q.session = sessions.of(id.get<std::string>());
      else if (id.is_number_integer()) q.session = sessions.of("#" + std::to_string(id.get<std::int64_t>()));
      else if (!id.is_null()) o.fail("session_id", "a string or an integer (null: no session)");
    }
    o.finish();
    check_row(q, out.empty() ? nullptr : &out.back(), seq_len, a.path_of(i), file);
    out.push_back(q);
  }
  return out;
}

}  // namespace

std::vector<Request> read_trace(const std::string& path, std::int64_t seq_len, const std::string& what) {
  const std::string text = read_text_file(path, "trace file (" + what + ")");
  const auto first = text.find_first_not_of(" \t\r\n");
  std::vector<Request> rows = first != std::string::npos && (text[first] == '[' || text[first] == '{')
                                  ? read_json(parse_json_text(text, path), seq_len, path)
                                  : read_csv(text, seq_len, path);
  if (rows.empty()) throw_input_error(path, "$", "at least one request (read for " + what + ")", "none");
  return rows;
}

std::vector<Request> make_requests(const ServingScenario& s, double rate_scale) {
  const ServingSpec& S = s.serving;
  std::vector<Request> out;
  if (S.arrivals.kind == ArrivalKind::trace) {
    const auto rows =
        read_trace(resolve(S.arrivals.file, s.source), s.model.seq_len, s.source + ": $.serving.arrivals.file");
    const double t0 = rows.front().arrival_s;
    for (const Request& q : rows) {
      Request r = q;
      r.arrival_s = (q.arrival_s - t0) / rate_scale;
      if (S.duration_s > 0 && r.arrival_s > S.duration_s) break;
      out.push_back(r);
      if (S.requests > 0 && std::int64_t(out.size()) == S.requests) break;
    }
    // Multi-turn: each request's shared prefix is its session's previous request's context.
    std::unordered_map<std::int32_t, std::size_t> last;
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (out[i].session < 0) continue;
      const auto it = last.find(out[i].session);
      if (it != last.end()) {
        const Request& p = out[it->second];
        out[i].prefix_tokens = std::min(out[i].prompt_tokens, p.prompt_tokens + p.output_tokens);
      }
      last[out[i].session] = i;
    }
    return out;
  }
  Random arr(S.seed ^ kArrivalStream), pr(S.seed ^ kPromptStream), outr(S.seed ^ kOutputStream);
  const double rate = S.arrivals.rate_per_s * rate_scale;
  const bool on_off = S.arrivals.kind == ArrivalKind::on_off;
  OnOffClock clock(S.seed ^ kPeriodStream, S.arrivals.on_s, S.arrivals.off_s);
  double unit_t = 0;
  // Each arrival is a group of `fanout` calls at one instant, each with its own lengths (the i-th
  // request's lengths are the i-th draws whatever the fanout).
  const std::int64_t fanout = S.arrivals.fanout;
  for (std::int64_t i = 0;; i += fanout) {
    if (S.requests > 0 && i >= S.requests) break;
    const double t = on_off ? clock.wall_s(unit_t / rate) : unit_t / rate;
    if (S.duration_s > 0 && t > S.duration_s) break;
    for (std::int64_t c = 0; c < fanout; ++c) {
      Request q;
      q.arrival_s = t;
      q.prompt_tokens = draw_length(pr, S.prompt, s.model.seq_len - 1);
      q.output_tokens = draw_length(outr, S.output, s.model.seq_len - q.prompt_tokens);
      out.push_back(q);
    }
    unit_t += unit_gap(arr, S.arrivals);
  }
  return out;
}

double offered_rate_per_s(const ServingScenario& s) {
  if (s.serving.arrivals.kind != ArrivalKind::trace) return s.serving.arrivals.mean_rate_per_s();
  const auto r = make_requests(s, 1);
  const double span = r.back().arrival_s - r.front().arrival_s;
  return span > 0 ? double(r.size() - 1) / span : 0;
}

LengthSpec fit_lengths(const std::string& path, const std::string& source, const std::string& column, bool lognormal,
                       std::int64_t max_tokens, const std::string& what) {
  LengthSpec L;
  L.fitted_from = resolve(path, source);
  // No model limit on a length file's rows: a longer model's trace still gives its mix, clipped.
  const auto rows = read_trace(L.fitted_from, std::numeric_limits<std::int32_t>::max(), what);
  L.max = max_tokens;
  L.fitted_rows = std::int64_t(rows.size());
  for (const Request& q : rows) L.values.push_back(column == "prompt_tokens" ? q.prompt_tokens : q.output_tokens);
  double sum = 0, log_sum = 0;
  for (std::int32_t v : L.values) {
    sum += v;
    log_sum += std::log(double(v));
  }
  const double n = double(L.values.size()), mu = log_sum / n;
  if (lognormal) {
    // Maximum likelihood: the mean and (biased, 1/n) variance of the log lengths.
    double ss = 0;
    for (std::int32_t v : L.values) ss += (std::log(double(v)) - mu) * (std::log(double(v)) - mu);
    const double s2 = ss / n;
    L.kind = LengthKind::lognormal;
    L.mean = std::exp(mu + s2 / 2);
    L.cv = std::sqrt(std::expm1(s2));
    L.values.clear();
  } else {
    L.kind = LengthKind::empirical;
    L.mean = sum / n;
  }
  return L;
}

std::string describe(const LengthSpec& L) {
  char buf[200];
  const std::string range = "[" + std::to_string(L.min) + ", " + std::to_string(L.max) + "]";
  const std::string rows = std::to_string(L.fitted_rows) + " rows of " + L.fitted_from;
  switch (L.kind) {
    case LengthKind::fixed:
      return "fixed " + std::to_string(std::llround(L.mean));
    case LengthKind::uniform:
      return "uniform on " + range;
    case LengthKind::lognormal:
      std::snprintf(buf, sizeof buf, "mean %.4g, cv %.4g", L.mean, L.cv);
      if (L.fitted_from.empty()) return "lognormal, " + std::string(buf) + ", in " + range;
      return "lognormal fitted by maximum likelihood to the log lengths of the " + rows + ": " + buf + ", in " + range;
    case LengthKind::empirical:
      std::snprintf(buf, sizeof buf, "mean %.4g", L.mean);
      return "empirical, resampled (seeded) from the " + rows + " (" + buf + "), in " + range;
    case LengthKind::geometric:
      std::snprintf(buf, sizeof buf, "mean %.4g", L.mean);
      return "geometric, " + std::string(buf) + " (p = 1 / mean), in " + range;
  }
  return "";
}

}  // namespace knee::serving
