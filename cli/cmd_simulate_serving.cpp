// knee simulate on a serving scenario: the summary in the layout of `vllm bench serve` (its
// headings and units, so a real benchmark and the simulation can be read side by side), then
// knee's provenance lines; --json gives the result's fields (workloads/serving/serving_result_schema.hpp).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "cli/command.hpp"
#include "common/json_pointer.hpp"
#include "workloads/serving/serving.hpp"
#include "workloads/serving/serving_intervals.hpp"
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
// " (lo-hi)" of the figure at `pointer` of the result's intervals, in the unit printed
// (`scale` from the field's), or "" without one.
std::string iv_text(const serving::ServingResult& r, const std::string& pointer, double scale, const char* format) {
  if (r.intervals.is_null()) return "";
  const auto* at = json_at(r.intervals, pointer);
  if (!at || !at->is_array() || at->size() != 2) return "";
  char b[96];
  std::snprintf(b, sizeof b, format, (*at)[0].get<double>() * scale);
  std::string lo = b;
  std::snprintf(b, sizeof b, format, (*at)[1].get<double>() * scale);
  return " (" + lo + "-" + b + ")";
}
// vLLM centres section titles in 50 columns of '-' (and the banner in '=').
void title(const std::string& t, char fill) {
  const int n = 50, pad = n - int(t.size()), left = pad / 2;
  std::printf("%s%s%s\n", std::string(std::size_t(std::max(left, 0)), fill).c_str(), t.c_str(),
              std::string(std::size_t(std::max(pad - left, 0)), fill).c_str());
}
std::string two(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.2f", v);
  return b;
}
// `key`: the field's JSON key ("ttft_s"), for its intervals.
void latency(const char* what, const char* unit_title, const serving::LatencySummary& s,
             const serving::ServingResult& r, const std::string& key) {
  title(unit_title, '-');
  const std::string w = what;
  line(("Mean " + w + " (ms):").c_str(), two(1e3 * s.mean) + iv_text(r, "/" + key + "/mean", 1e3, "%.2f"));
  line(("Median " + w + " (ms):").c_str(), two(1e3 * s.p50) + iv_text(r, "/" + key + "/p50", 1e3, "%.2f"));
  line(("P99 " + w + " (ms):").c_str(), two(1e3 * s.p99) + iv_text(r, "/" + key + "/p99", 1e3, "%.2f"));
}

void print_summary(const serving::ServingScenario& s, const serving::ServingResult& r, double wall_s) {
  title(" Serving Benchmark Result ", '=');
  line("Successful requests:", r.completed);
  line("Benchmark duration (s):", r.duration_s);
  line("Total input tokens:", r.total_input_tokens);
  line("Total generated tokens:", r.total_output_tokens);
  line("Request throughput (req/s):", two(r.request_throughput_rps) + iv_text(r, "/request_throughput_rps", 1, "%.2f"));
  if (r.goodput.computed)
    line("Request goodput (req/s):", two(r.goodput.goodput_rps) + iv_text(r, "/goodput_rps", 1, "%.2f"));
  line("Output token throughput (tok/s):",
       two(r.output_throughput_tokens_per_s) + iv_text(r, "/output_throughput_tokens_per_s", 1, "%.2f"));
  line("Total Token throughput (tok/s):",
       two(r.throughput_tokens_per_s) + iv_text(r, "/throughput_tokens_per_s", 1, "%.2f"));
  latency("TTFT", "Time to First Token", r.ttft, r, "ttft_s");
  latency("TPOT", "Time per Output Token (excl. 1st token)", r.tpot, r, "tpot_s");
  latency("ITL", "Inter-token Latency", r.itl, r, "itl_s");
  latency("E2EL", "End-to-end Latency", r.e2e, r, "e2e_s");
  // Fan-out (knee's, not vLLM's): a group of arrivals.fanout calls ends with its last call.
  if (r.groups.on) latency("Group E2EL", "Group End-to-end Latency", r.groups.e2e, r, "groups/e2e_s");
  title("Energy and Cost", '-');  // knee's, not vLLM's: the fields of serving_result_schema.hpp
  const auto j = serving::to_json(r);
  for (const auto& t : serving::energy_text_lines()) {
    const auto& v = j.at(t.key);
    line(t.label, v.is_null() ? std::string("n/a")
                              : fixed(v.get<double>() * t.scale, t.key) +
                                    iv_text(r, std::string("/") + t.key, t.scale,
                                            std::string(t.key).rfind("J_per", 0) == 0 ? "%.4g" : "%.2f"));
  }
  title("", '=');
  const auto& p = r.provenance;
  const auto& S = s.serving;
  std::printf("# knee: simulated, not measured; profile %s (%s; parameters %s)\n", p.value("profile", "").c_str(),
              p.value("profile_description", "").c_str(), p.value("profile_parameters", "").c_str());
  const std::string ongoing =
      S.router == serving::RouterKind::shared_queue ? " (max_ongoing " + std::to_string(S.max_ongoing) + ")" : "";
  std::printf("# %s, %lld replicas x tp %lld, router %s%s, %s arrivals at %.4g req/s, seed %llu; %s\n",
              s.cluster.system.name.c_str(), static_cast<long long>(S.replicas), static_cast<long long>(S.tp),
              to_string(S.router), ongoing.c_str(), to_string(S.arrivals.kind), r.offered_rate_per_s,
              static_cast<unsigned long long>(S.seed), S.cuda_graphs ? "CUDA graphs for decode" : "eager");
  std::printf("# lengths: %s\n", p.value("lengths", "").c_str());
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
  if (r.swap.on)
    std::printf(
        "# swap preemption: %lld swap-outs (%lld requests), %lld swap-ins, %.2f GiB out and %.2f GiB in over the "
        "host links, %.2f ms out and %.2f ms in copying; %lld preemptions recomputed with the host swap "
        "space (%lld blocks) full\n",
        static_cast<long long>(r.swap.swap_outs), static_cast<long long>(r.swap.requests_swapped),
        static_cast<long long>(r.swap.swap_ins), r.swap.bytes_out / 1073741824.0, r.swap.bytes_in / 1073741824.0,
        1e3 * r.swap.out_s, 1e3 * r.swap.in_s, static_cast<long long>(r.swap.fallbacks),
        static_cast<long long>(r.swap.host_blocks_per_replica));
  if (r.groups.on)
    std::printf(
        "# fan-out: %lld groups of %lld calls at one instant, a group ending with its last call; group E2EL p90 "
        "%.2f ms, p99.9 %.2f ms\n",
        static_cast<long long>(r.groups.count), static_cast<long long>(r.groups.fanout), 1e3 * r.groups.e2e.p90,
        1e3 * r.groups.e2e.p999);
  if (r.prefix_cache.on)
    std::printf(
        "# prefix cache: hit rate %.1f %% (%lld of %lld prompt tokens cached, %lld requests hit), %lld prompt "
        "tokens computed, %lld blocks evicted\n",
        100 * r.prefix_cache.hit_rate, static_cast<long long>(r.prefix_cache.cached_prompt_tokens),
        static_cast<long long>(r.total_input_tokens), static_cast<long long>(r.prefix_cache.hit_requests),
        static_cast<long long>(r.prefix_cache.prompt_tokens_computed),
        static_cast<long long>(r.prefix_cache.evicted_blocks));
  if (S.has_slo())
    std::printf("# SLOs (TTFT %.4g s, TPOT %.4g s) met by %.1f %% of requests%s%s\n", S.slo_ttft_s, S.slo_tpot_s,
                100 * r.slo_attainment, r.goodput.computed ? "; goodput: " : "", r.goodput.note.c_str());
  std::printf("# power model: %s; GPUs active %.1f %% of the window\n", p.value("power_model", "").c_str(),
              100 * r.gpu_active_share);
  if (!r.intervals.is_null()) {
    std::string sources, excluded;
    for (const auto& x : r.intervals["sources"]) sources += (sources.empty() ? "" : "; ") + x.get<std::string>();
    for (const auto& x : r.intervals["excluded"]) excluded += (excluded.empty() ? "" : "; ") + x.get<std::string>();
    std::printf("# (lo-hi): 95%% intervals over %d %s (%s); not included: %s (docs/uncertainty.md)\n",
                r.intervals["samples"].get<int>(), r.intervals["varied"].get<std::string>().c_str(), sources.c_str(),
                excluded.c_str());
  }
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
  // Repetitions only when asked (docs/uncertainty.md, "Serving"): --seeds N or --samples N, N >= 2.
  serving::ServingIntervalOptions io;
  if (args.value("seeds") && args.value("samples"))
    throw InputError("knee simulate: --seeds: expected it without --samples (one source of draws), got both");
  io.seeds = static_cast<int>(args.integer_or("seeds", 0, 2, 10000));
  io.samples = static_cast<int>(args.integer_or("samples", 0, 0, 10000));
  if (io.samples == 1)
    throw InputError("knee simulate: --samples: expected 0 (no intervals) or an integer >= 2, got 1");
  const auto s = serving::load_serving_scenario(args.positional()[0]);
  const auto t0 = std::chrono::steady_clock::now();
  serving::ServingOptions opt;
  auto r = serving::simulate_serving(s, opt);
  r.intervals = serving::serving_intervals(s, opt, r, io);
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
