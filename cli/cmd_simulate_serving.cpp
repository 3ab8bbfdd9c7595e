// knee simulate on a serving scenario: the summary in the layout of `vllm bench serve` (its
// headings and units, so a real benchmark and the simulation can be read side by side), then
// knee's provenance lines; --json gives the result's fields (workloads/serving/serving_result_schema.hpp).
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "cli/command.hpp"
#include "workloads/serving/serving.hpp"
#include "workloads/serving/serving_result_schema.hpp"

namespace knee::cli {
namespace {

void line(const char* label, const std::string& value) { std::printf("%-40s %-10s\n", label, value.c_str()); }
void line(const char* label, double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.2f", v);
  line(label, std::string(b));
}
void line(const char* label, std::int64_t v) { line(label, std::to_string(v)); }
// Per-token energies are small: 4 significant digits, the rest with 2 decimals as vLLM prints.
std::string fixed(double v, const std::string& key) {
  char b[64];
  std::snprintf(b, sizeof b, key.rfind("J_per", 0) == 0 ? "%.4g" : "%.2f", v);
  return b;
}
// vLLM centres section titles in 50 columns of '-' (and the banner in '=').
void title(const std::string& t, char fill) {
  const int n = 50, pad = n - int(t.size()), left = pad / 2;
  std::printf("%s%s%s\n", std::string(std::size_t(std::max(left, 0)), fill).c_str(), t.c_str(),
              std::string(std::size_t(std::max(pad - left, 0)), fill).c_str());
}
void latency(const char* what, const char* unit_title, const serving::LatencySummary& s) {
  title(unit_title, '-');
  const std::string w = what;
  line(("Mean " + w + " (ms):").c_str(), 1e3 * s.mean);
  line(("Median " + w + " (ms):").c_str(), 1e3 * s.p50);
  line(("P99 " + w + " (ms):").c_str(), 1e3 * s.p99);
}

void print_summary(const serving::ServingScenario& s, const serving::ServingResult& r, double wall_s) {
  title(" Serving Benchmark Result ", '=');
  line("Successful requests:", r.completed);
  line("Benchmark duration (s):", r.duration_s);
  line("Total input tokens:", r.total_input_tokens);
  line("Total generated tokens:", r.total_output_tokens);
  line("Request throughput (req/s):", r.request_throughput_rps);
  if (r.goodput.computed) line("Request goodput (req/s):", r.goodput.goodput_rps);
  line("Output token throughput (tok/s):", r.output_throughput_tokens_per_s);
  line("Total Token throughput (tok/s):", r.throughput_tokens_per_s);
  latency("TTFT", "Time to First Token", r.ttft);
  latency("TPOT", "Time per Output Token (excl. 1st token)", r.tpot);
  latency("ITL", "Inter-token Latency", r.itl);
  latency("E2EL", "End-to-end Latency", r.e2e);
  title("Energy and Cost", '-');  // knee's, not vLLM's: the fields of serving_result_schema.hpp
  const auto j = serving::to_json(r);
  for (const auto& t : serving::energy_text_lines()) {
    const auto& v = j.at(t.key);
    line(t.label, v.is_null() ? std::string("n/a") : fixed(v.get<double>() * t.scale, t.key));
  }
  title("", '=');
  const auto& p = r.provenance;
  const auto& S = s.serving;
  std::printf("# knee: simulated, not measured; profile %s (%s; parameters %s)\n", p.value("profile", "").c_str(),
              p.value("profile_description", "").c_str(), p.value("profile_parameters", "").c_str());
  std::printf("# %s, %lld replicas x tp %lld, router %s, %s arrivals at %.4g req/s, seed %llu; %s\n",
              s.cluster.system.name.c_str(), static_cast<long long>(S.replicas), static_cast<long long>(S.tp),
              to_string(S.router), to_string(S.arrivals.kind), r.offered_rate_per_s,
              static_cast<unsigned long long>(S.seed), S.cuda_graphs ? "CUDA graphs for decode" : "eager");
  std::printf("# measurement window: %s (%lld requests)\n", p.value("window", "").c_str(),
              static_cast<long long>(r.completed));
  std::printf("# queueing mean %.2f ms, p99 %.2f ms; TTFT p90 %.2f ms, p99.9 %.2f ms (95%% CI of p99 %.2f-%.2f ms)\n",
              1e3 * r.queue.mean, 1e3 * r.queue.p99, 1e3 * r.ttft.p90, 1e3 * r.ttft.p999, 1e3 * r.ttft.ci95[3][0],
              1e3 * r.ttft.ci95[3][1]);
  std::printf(
      "# KV cache %lld blocks of %lld tokens per replica (%.2f GiB weights per GPU), peak %.1f %%, mean %.1f %%; "
      "%lld preemptions (%lld requests)\n",
      static_cast<long long>(r.memory.blocks), static_cast<long long>(S.block_tokens),
      r.memory.weights_bytes / 1073741824.0, 100 * r.kv_peak_fraction, 100 * r.kv_mean_fraction,
      static_cast<long long>(r.preemptions), static_cast<long long>(r.requests_preempted));
  if (S.disaggregated())
    std::printf(
        "# disaggregated: %lld prefill and %lld decode replicas; KV cache transfer mean %.2f ms, p99 %.2f ms "
        "(%lld transfers on the simulated fabric)\n",
        static_cast<long long>(S.prefill_replicas), static_cast<long long>(S.decode_replicas), 1e3 * r.kv_transfer.mean,
        1e3 * r.kv_transfer.p99, static_cast<long long>(r.kv_transfer.count));
  if (S.has_slo())
    std::printf("# SLOs (TTFT %.4g s, TPOT %.4g s) met by %.1f %% of requests%s%s\n", S.slo_ttft_s, S.slo_tpot_s,
                100 * r.slo_attainment, r.goodput.computed ? "; goodput: " : "", r.goodput.note.c_str());
  std::printf("# power model: %s; GPUs active %.1f %% of the window\n", p.value("power_model", "").c_str(),
              100 * r.gpu_active_share);
  std::printf("# simulated in %.3f s wall (%llu events, %lld iterations, %lld decode segments)\n", wall_s,
              static_cast<unsigned long long>(r.events), static_cast<long long>(r.iterations),
              static_cast<long long>(r.decode_segments));
}

}  // namespace

int run_simulate_serving(const Args& args) {
  for (const char* f : {"force", "trace", "trace-ranks", "trace-max-events", "every-rank"})
    if (args.flag(f) || args.value(f))
      throw InputError(args.what(f) + ": expected a training scenario, got a serving scenario (" +
                       args.positional()[0] + " has a \"serving\" object)");
  const auto s = serving::load_serving_scenario(args.positional()[0]);
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = serving::simulate_serving(s);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (args.flag("json")) {
    auto j = serving::to_json(r);
    j["scenario"] = args.positional()[0];
    j["simulated_wall_s"] = wall;
    std::cout << j.dump(2) << "\n";
  } else {
    print_summary(s, r, wall);
  }
  return 0;
}

}  // namespace knee::cli
