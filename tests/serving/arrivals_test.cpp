// Bursty arrivals and fitted lengths (issue 15): on-off arrivals against the closed forms of an
// interrupted Poisson process, lengths fitted to traces this test writes with planted parameters,
// and trace arrivals time-scaled by capacity planning, against the queueing bounds of
// capacity_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <random>
#include <set>

#include "serving_util.hpp"
#include "workloads/serving/capacity.hpp"
#include "workloads/serving/iteration_cost.hpp"
#include "workloads/serving/requests.hpp"

namespace knee::serving {
namespace {

nlohmann::json on_off_json(double rate, double on_s, double off_s, double duration_s) {
  auto j = test::base_scenario();
  j["serving"]["arrivals"] = {{"kind", "on_off"}, {"rate_per_s", rate}, {"on_s", on_s}, {"off_s", off_s}};
  j["serving"].erase("requests");
  j["serving"]["duration_s"] = duration_s;
  return j;
}

// Variance over mean of the arrival counts in consecutive windows of w seconds within [0, T).
double dispersion(const std::vector<Request>& q, double w, double T) {
  std::vector<double> n(std::size_t(T / w), 0);
  for (const Request& r : q)
    if (std::size_t(r.arrival_s / w) < n.size()) ++n[std::size_t(r.arrival_s / w)];
  double m = 0, v = 0;
  for (double x : n) m += x;
  m /= double(n.size());
  for (double x : n) v += (x - m) * (x - m);
  return v / double(n.size() - 1) / m;
}

// The index of dispersion of counts in a window w of an interrupted Poisson process (rate R on,
// 0 off, exponential periods of means A and B; Heffes and Lucantoni 1986, a two-state MMPP):
// 1 + 2 R A B^2 / (A + B)^2 x (1 - (1 - e^(-g w)) / (g w)), g = 1/A + 1/B.
double idc_closed_form(double R, double A, double B, double w) {
  const double g = 1 / A + 1 / B;
  return 1 + 2 * R * A * B * B / ((A + B) * (A + B)) * (1 - (1 - std::exp(-g * w)) / (g * w));
}

TEST(ServingArrivals, OnOffRateAndDispersion) {
  const double R = 100, T = 20000, w = 20;
  double idc_short = 0;
  for (double period_s : {0.5, 2.0}) {
    const auto s = test::parse(on_off_json(R, period_s, period_s, T));
    const auto q = make_requests(s);
    const double mean = R * period_s / (2 * period_s);
    EXPECT_DOUBLE_EQ(offered_rate_per_s(s), mean);
    // The count over T has variance IDC(T) x mean x T (about IDC(inf) here, T >> A + B): five
    // standard deviations of the rate estimate.
    const double idc_inf = idc_closed_form(R, period_s, period_s, T);
    const double tol = 5 * std::sqrt(idc_inf * mean * T) / T;
    EXPECT_NEAR(double(q.size()) / T, mean, tol) << "periods " << period_s;
    // Burstier than Poisson (IDC 1) and as the closed form says: 1000 windows estimate the
    // variance within a few percent; 25 % allows for the counts' heavy tails.
    const double idc = dispersion(q, w, T), want = idc_closed_form(R, period_s, period_s, w);
    EXPECT_GT(idc, 1.5);
    EXPECT_NEAR(idc / want, 1, 0.25) << "periods " << period_s << " idc " << idc << " closed form " << want;
    if (idc_short == 0) idc_short = idc;
    else EXPECT_GT(idc, 2 * idc_short);  // longer periods, burstier (96 against 26)
  }
}

TEST(ServingArrivals, OnOffStartsOnAndStopsWhenOff) {
  // Periods of 10 s and a rate of 1000/s: the first arrivals come at once (an on period first),
  // and off periods show as gaps far longer than any gap within an on period (1 ms mean).
  const auto s = test::parse(on_off_json(1000, 10, 10, 400));
  const auto q = make_requests(s);
  ASSERT_GT(q.size(), 10u);
  EXPECT_LT(q[10].arrival_s, 0.1);
  int long_gaps = 0;
  for (std::size_t i = 1; i < q.size(); ++i) long_gaps += q[i].arrival_s - q[i - 1].arrival_s > 0.1;
  EXPECT_GT(long_gaps, 5);  // about 20 off periods in 400 s
  EXPECT_LT(long_gaps, 40);
}

TEST(ServingArrivals, OnOffDeterministicAndCommonRandomNumbers) {
  auto j = on_off_json(50, 1, 3, 0);
  j["serving"].erase("duration_s");
  j["serving"]["requests"] = 2000;
  j["serving"]["lengths"] = {{"prompt_tokens", {{"kind", "lognormal"}, {"mean", 500}, {"cv", 1}}},
                             {"output_tokens", {{"kind", "uniform"}, {"min", 1}, {"max", 300}}}};
  const auto s = test::parse(j);
  const auto a = make_requests(s), b = make_requests(s), fast = make_requests(s, 2);
  ASSERT_EQ(a.size(), 2000u);
  ASSERT_EQ(fast.size(), a.size());
  bool earlier = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].arrival_s, b[i].arrival_s);
    EXPECT_EQ(a[i].prompt_tokens, fast[i].prompt_tokens);  // the rate changes no length
    EXPECT_EQ(a[i].output_tokens, fast[i].output_tokens);
    EXPECT_LE(fast[i].arrival_s, a[i].arrival_s);  // the same periods, more arrivals in each
    earlier = earlier || fast[i].arrival_s < a[i].arrival_s;
  }
  EXPECT_TRUE(earlier);
  auto k = j;
  k["serving"]["seed"] = 8;
  EXPECT_NE(make_requests(test::parse(k))[5].arrival_s, a[5].arrival_s);
  // The goodput search scales the on rate: the offered (long-run) rate scales with it.
  k = j;
  k["serving"]["requests"] = 20;
  const auto t = test::parse(k);
  EXPECT_DOUBLE_EQ(simulate_once(t, 1).offered_rate_per_s, 12.5);  // 50 x 1 / (1 + 3)
  EXPECT_DOUBLE_EQ(simulate_once(t, 2).offered_rate_per_s, 25);
  // Capacity planning asks for long-run rates: the on rate is set so, the periods kept.
  CapacityCandidate c;
  c.tp = 1;
  c.replicas = c.gpus = 2;
  const auto at = with_layout(t, c, 30);
  EXPECT_DOUBLE_EQ(at.serving.arrivals.rate_per_s, 120);
  EXPECT_DOUBLE_EQ(at.serving.arrivals.on_s, 1);
  EXPECT_DOUBLE_EQ(at.serving.arrivals.off_s, 3);
  EXPECT_DOUBLE_EQ(simulate_at(t, 30).offered_rate_per_s, 30);
}

TEST(ServingArrivals, OnOffBadInput) {
  for (const char* key : {"rate_per_s", "on_s", "off_s"}) {
    for (double bad : {0.0, -1.0, std::numeric_limits<double>::infinity()}) {
      auto j = on_off_json(10, 1, 1, 10);
      j["serving"]["arrivals"][key] = bad;
      EXPECT_NE(test::parse_error(j).find(std::string("<test>: $.serving.arrivals.") + key +
                                          ": expected a finite number > 0"),
                std::string::npos)
          << test::parse_error(j);
    }
    auto j = on_off_json(10, 1, 1, 10);
    j["serving"]["arrivals"].erase(key);
    EXPECT_NE(test::parse_error(j).find(std::string("$.serving.arrivals.") + key), std::string::npos)
        << test::parse_error(j);
  }
  auto j = on_off_json(10, 1, 1, 10);
  j["serving"]["arrivals"]["cv"] = 2;  // a gamma key
  EXPECT_NE(test::parse_error(j).find("$.serving.arrivals.cv"), std::string::npos) << test::parse_error(j);
  EXPECT_EQ(test::parse_error(j).find('\n'), std::string::npos);
}

// A trace of n rows whose columns are lognormal (medians exp(mu), log sds sigma), drawn by the
// standard library, not by knee.
std::string lognormal_trace(const std::string& name, int n, double mu_p, double sigma_p, double mu_o, double sigma_o) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::mt19937_64 g(15);
  std::lognormal_distribution<double> p(mu_p, sigma_p), o(mu_o, sigma_o);
  std::ofstream f(path);
  f << "arrival_s,prompt_tokens,output_tokens\n";
  for (int i = 0; i < n; ++i)
    f << 0.01 * i << "," << std::max(1.0, std::round(p(g))) << "," << std::max(1.0, std::round(o(g))) << "\n";
  return path;
}

nlohmann::json fitted_json(const std::string& prompt_file, const std::string& output_file, const char* family) {
  auto j = test::base_scenario();
  j["serving"]["lengths"] = {{"prompt_tokens", {{"kind", "fitted"}, {"file", prompt_file}, {"family", family}}},
                             {"output_tokens", {{"kind", "fitted"}, {"file", output_file}, {"family", family}}}};
  return j;
}

TEST(ServingLengths, LognormalFitRecoversPlantedParameters) {
  // 20,000 rows: the fitted mean's relative standard error is sqrt((s^2 + s^4 / 2) / n), 0.65 %
  // at s = 0.8, the cv's about 0.7 %; 3 % is over four of them.
  const double mu_p = std::log(600.0), s_p = 0.8, mu_o = std::log(150.0), s_o = 0.5;
  const std::string f = lognormal_trace("serving_fit_lognormal.csv", 20000, mu_p, s_p, mu_o, s_o);
  const auto s = test::parse(fitted_json(f, f, "lognormal"));
  const LengthSpec &P = s.serving.prompt, &O = s.serving.output;
  EXPECT_EQ(P.kind, LengthKind::lognormal);
  EXPECT_EQ(P.fitted_rows, 20000);
  EXPECT_EQ(P.fitted_from, f);
  EXPECT_NEAR(P.mean / std::exp(mu_p + s_p * s_p / 2), 1, 0.03);
  EXPECT_NEAR(P.cv / std::sqrt(std::expm1(s_p * s_p)), 1, 0.03);
  EXPECT_NEAR(O.mean / std::exp(mu_o + s_o * s_o / 2), 1, 0.03);
  EXPECT_NEAR(O.cv / std::sqrt(std::expm1(s_o * s_o)), 1, 0.03);
  // Drawn from the fit: 20,000 prompts average near the planted mean (the clip at seq_len
  // removes about 0.5 % of it; 5 % bound).
  auto j = fitted_json(f, f, "lognormal");
  j["serving"]["requests"] = 20000;
  double sum = 0;
  for (const Request& q : make_requests(test::parse(j))) sum += q.prompt_tokens;
  EXPECT_NEAR(sum / 20000 / std::exp(mu_p + s_p * s_p / 2), 1, 0.05);
  // The result says what it used.
  j["serving"]["requests"] = 20;
  const std::string used = simulate_once(test::parse(j)).provenance.at("lengths").get<std::string>();
  EXPECT_NE(used.find("prompt_tokens lognormal fitted by maximum likelihood to the log lengths of the 20000 rows of " +
                      f + ": mean "),
            std::string::npos)
      << used;
}

TEST(ServingLengths, EmpiricalDrawsOnlyTheTracesLengthsClipped) {
  const std::string f = ::testing::TempDir() + "/serving_empirical.csv";
  // 9000 is longer than the model (seq_len 8192): read, and clipped when drawn.
  std::ofstream(f) << "arrival_s,prompt_tokens,output_tokens\n0,17,5\n1,100,50\n2,333,500\n3,2048,5\n4,9000,50\n";
  auto j = fitted_json(f, f, "empirical");
  j["serving"]["requests"] = 3000;
  const auto s = test::parse(j);
  EXPECT_EQ(s.serving.prompt.kind, LengthKind::empirical);
  const std::set<int> prompts = {17, 100, 333, 2048}, outputs = {5, 50, 500};
  std::set<int> seen;
  const auto q = make_requests(s);
  for (const Request& r : q) {
    EXPECT_TRUE(prompts.count(r.prompt_tokens) || r.prompt_tokens == 8191) << r.prompt_tokens;
    EXPECT_TRUE(outputs.count(r.output_tokens) || r.output_tokens == 8192 - r.prompt_tokens) << r.output_tokens;
    EXPECT_LE(r.prompt_tokens + r.output_tokens, 8192);
    seen.insert(r.prompt_tokens);
  }
  EXPECT_EQ(seen.size(), 5u);  // every row drawn (each about 600 times)
  const auto again = make_requests(s);
  for (std::size_t i = 0; i < q.size(); ++i) EXPECT_EQ(q[i].prompt_tokens, again[i].prompt_tokens);
  j["serving"]["seed"] = 99;
  const auto other = make_requests(test::parse(j));
  int same = 0;
  for (std::size_t i = 0; i < q.size(); ++i) same += q[i].prompt_tokens == other[i].prompt_tokens;
  EXPECT_LT(same, 1000);  // about 600 by chance (1 in 5)
}

TEST(ServingLengths, BadInputNamesFileAndField) {
  const std::string dir = ::testing::TempDir();
  const std::string ok = dir + "/serving_len_ok.csv", empty = dir + "/serving_len_empty.csv",
                    zero = dir + "/serving_len_zero.csv";
  std::ofstream(ok) << "arrival_s,prompt_tokens,output_tokens\n0,10,10\n";
  std::ofstream(empty) << "arrival_s,prompt_tokens,output_tokens\n";
  std::ofstream(zero) << "arrival_s,prompt_tokens,output_tokens\n0,10,10\n1,0,10\n";
  const std::string missing = dir + "/serving_len_missing.csv";
  auto err = test::parse_error(fitted_json(missing, ok, "lognormal"));
  EXPECT_EQ(err.rfind(missing + ": expected a readable trace file (<test>: $.serving.lengths.prompt_tokens.file)", 0),
            0u)
      << err;
  err = test::parse_error(fitted_json(ok, empty, "empirical"));
  EXPECT_EQ(err.rfind(empty + ": $: expected at least one request (read for <test>: "
                              "$.serving.lengths.output_tokens.file), got none",
                      0),
            0u)
      << err;
  err = test::parse_error(fitted_json(zero, ok, "empirical"));
  EXPECT_EQ(err.rfind(zero + ": line 3.prompt_tokens: expected at least 1 token", 0), 0u) << err;
  auto j = fitted_json(ok, ok, "normal");
  EXPECT_NE(test::parse_error(j).find("<test>: $.serving.lengths.prompt_tokens.family"), std::string::npos)
      << test::parse_error(j);
  j = fitted_json(ok, ok, "lognormal");
  j["serving"]["lengths"]["output_tokens"]["mean"] = 5;
  EXPECT_NE(test::parse_error(j).find("<test>: $.serving.lengths.output_tokens.mean"), std::string::npos)
      << test::parse_error(j);
  for (const auto& e : {test::parse_error(fitted_json(missing, ok, "lognormal")), test::parse_error(j)})
    EXPECT_EQ(e.find('\n'), std::string::npos);
}

// capacity_test.cpp's M/D/1 setting (one-token outputs of a fixed prompt, one request at a time),
// its Poisson arrivals replayed from a trace at 10 req/s that capacity planning time-scales.
double service_s() {
  auto j = test::base_scenario();
  j["serving"]["batching"] = {{"max_batch", 1}, {"max_tokens_per_iter", 1024}};
  const auto s = test::parse(j);
  IterationCost c(s);
  return ps_to_s(s_to_ps_ceil(c.iteration_s(512, c.prefill_attention_s(512, 0), 1, false)));
}

TEST(ServingCapacity, TraceArrivalsAreTimeScaledToTheRate) {
  const std::string f = ::testing::TempDir() + "/serving_capacity_trace.csv";
  std::vector<double> t;
  {
    std::mt19937_64 g(3);
    std::exponential_distribution<double> gap(10);
    std::ofstream o(f);
    o.precision(17);
    o << "arrival_s,prompt_tokens,output_tokens\n";
    double x = 5;  // a trace need not start at 0
    for (int i = 0; i < 2000; ++i, x += gap(g)) {
      t.push_back(x);
      o << x << ",512,1\n";
    }
  }
  auto j = test::base_scenario();
  j["serving"].erase("lengths");
  j["serving"].erase("requests");
  j["serving"]["arrivals"] = {{"kind", "trace"}, {"file", f}};
  j["serving"]["batching"] = {{"max_batch", 1}, {"max_tokens_per_iter", 1024}};
  const double D = service_s();
  j["serving"]["slo"] = {{"ttft_s", 5 * D}};
  const auto s = test::parse(j);
  const double own = 1999 / (t.back() - t.front()), load = 3, R = load / D;
  const auto at = simulate_at(s, R);
  EXPECT_NEAR(at.offered_rate_per_s / R, 1, 1e-9);
  ASSERT_EQ(at.requests.size(), t.size());
  for (std::size_t i = 0; i < t.size(); i += 97) EXPECT_NEAR(at.requests[i].arrival_s, (t[i] - t[0]) * own / R, 1e-9);
  CapacityOptions o;
  o.rate_per_s = R;
  o.disaggregated = false;
  o.max_gpus = 64;
  const auto r = plan_capacity(s, o);
  std::int64_t n = 0;
  for (const auto& c : r.tried)
    if (c.tp == 1 && c.meets && (n == 0 || c.replicas < n)) n = c.replicas;
  // capacity_test.cpp's bounds: rho >= 1.2 cannot meet the SLO, rho <= 0.5 does.
  ASSERT_GT(n, 0);
  EXPECT_GT(double(n), load / 1.2);
  EXPECT_LE(double(n), std::ceil(2 * load));
  CapacityCandidate c;
  c.tp = 1;
  c.replicas = c.gpus = n;
  EXPECT_GE(slo_attainment(s, simulate_at(with_layout(s, c, R), R).requests), s.serving.goodput_share);
  // One arrival time has no rate to scale.
  std::ofstream(f) << "arrival_s,prompt_tokens,output_tokens\n1,512,1\n1,512,1\n";
  const auto one = test::parse(j);
  try {
    plan_capacity(one, o);
    FAIL() << "a trace with no time span was planned";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("<test>: $.serving.arrivals.file: expected a trace whose arrivals span"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace knee::serving
