// The serving result's fields and per-request columns, and the JSON made from them.
#include "workloads/serving/serving_result_schema.hpp"

#include <cmath>
#include <string>

namespace knee::serving {

using OJ = nlohmann::ordered_json;

namespace {
// NaN (no such value: no SLO, no interval) is null, in the CLI's JSON and in Python alike.
OJ num(double v) { return std::isnan(v) ? OJ(nullptr) : OJ(v); }
}  // namespace

OJ latency_json(const LatencySummary& s) {
  OJ ci;
  const char* names[5] = {"mean", "p50", "p90", "p99", "p999"};
  for (int i = 0; i < 5; ++i) ci[names[i]] = {num(s.ci95[std::size_t(i)][0]), num(s.ci95[std::size_t(i)][1])};
  return OJ{{"mean", num(s.mean)}, {"p50", num(s.p50)}, {"p90", num(s.p90)}, {"p99", num(s.p99)},
            {"p999", num(s.p999)}, {"count", s.count},  {"ci95", ci}};
}

const std::vector<ServingField>& serving_result_fields() {
  using R = ServingResult;
  static const std::vector<ServingField> f = {
      {"completed", "", "requests completed (every request sent completes)",
       [](const R& r) { return OJ(r.completed); }},
      {"duration_s", "s", "first arrival to last token (vllm bench serve's benchmark duration)",
       [](const R& r) { return OJ(r.duration_s); }},
      {"total_input_tokens", "tokens", "prompt tokens of all requests",
       [](const R& r) { return OJ(r.total_input_tokens); }},
      {"total_output_tokens", "tokens", "output tokens of all requests",
       [](const R& r) { return OJ(r.total_output_tokens); }},
      {"offered_rate_per_s", "req/s", "arrival rate sent", [](const R& r) { return OJ(r.offered_rate_per_s); }},
      {"request_throughput_rps", "req/s", "completed / duration_s",
       [](const R& r) { return OJ(r.request_throughput_rps); }},
      {"input_throughput_tokens_per_s", "tokens/s", "prompt tokens / duration_s",
       [](const R& r) { return OJ(r.input_throughput_tokens_per_s); }},
      {"output_throughput_tokens_per_s", "tokens/s", "output tokens / duration_s",
       [](const R& r) { return OJ(r.output_throughput_tokens_per_s); }},
      {"throughput_tokens_per_s", "tokens/s", "input + output tokens / duration_s (Total Token throughput)",
       [](const R& r) { return OJ(r.throughput_tokens_per_s); }},
      {"queue_s", "s", "arrival to first scheduled, over requests", [](const R& r) { return latency_json(r.queue); }},
      {"ttft_s", "s", "time to first token, over requests", [](const R& r) { return latency_json(r.ttft); }},
      {"tpot_s", "s", "time per output token after the first, over requests with 2+ output tokens",
       [](const R& r) { return latency_json(r.tpot); }},
      {"itl_s", "s", "inter-token latency, over every gap between consecutive tokens",
       [](const R& r) { return latency_json(r.itl); }},
      {"e2e_s", "s", "arrival to last token, over requests", [](const R& r) { return latency_json(r.e2e); }},
      {"kv_transfer_s", "s",
       "disaggregated: prefill end to the KV cache's arrival at a decode replica (count 0 co-located)",
       [](const R& r) { return latency_json(r.kv_transfer); }},
      {"preemptions", "", "preemptions of all requests (recomputed, or swapped with serving.preemption \"swap\")",
       [](const R& r) { return OJ(r.preemptions); }},
      {"requests_preempted", "", "requests preempted at least once",
       [](const R& r) { return OJ(r.requests_preempted); }},
      {"swap", "",
       "swap preemption (absent, None in Python, without serving.preemption \"swap\"): swap_outs and swap_ins "
       "(copies of a request's KV blocks to host memory and back), requests_swapped, fallbacks (preemptions "
       "recomputed: the host swap space was full), bytes_out and bytes_in (over all GPUs' host links), out_s and "
       "in_s (seconds the replicas were blocked copying, summed), host_blocks_per_replica and host_peak_blocks",
       [](const R& r) {
         if (!r.swap.on) return OJ(nullptr);
         const SwapResult& w = r.swap;
         return OJ{{"swap_outs", w.swap_outs},
                   {"swap_ins", w.swap_ins},
                   {"requests_swapped", w.requests_swapped},
                   {"fallbacks", w.fallbacks},
                   {"bytes_out", w.bytes_out},
                   {"bytes_in", w.bytes_in},
                   {"out_s", w.out_s},
                   {"in_s", w.in_s},
                   {"host_blocks_per_replica", w.host_blocks_per_replica},
                   {"host_peak_blocks", w.host_peak_blocks}};
       }},
      {"prefix_cache", "",
       "prefix caching (absent, None in Python, without serving.prefix_caching): hit_rate (cached_prompt_tokens / "
       "total_input_tokens), prompt_tokens_computed (total_input_tokens - cached_prompt_tokens), hit_requests, "
       "evicted_blocks, and each replica's free, cached and in-use blocks at the end",
       [](const R& r) {
         if (!r.prefix_cache.on) return OJ(nullptr);
         const PrefixCacheResult& c = r.prefix_cache;
         return OJ{{"hit_rate", c.hit_rate},
                   {"cached_prompt_tokens", c.cached_prompt_tokens},
                   {"prompt_tokens_computed", c.prompt_tokens_computed},
                   {"hit_requests", c.hit_requests},
                   {"evicted_blocks", c.evicted_blocks},
                   {"blocks_at_end",
                    {{"free", c.free_blocks_end}, {"cached", c.cached_blocks_end}, {"in_use", c.in_use_blocks_end}}}};
       }},
      {"groups", "",
       "fan-out (absent, None in Python, without serving.arrivals.fanout > 1): fanout (calls per arrival), count "
       "(groups), e2e_s (arrival to the group's last token, over groups: mean, p50, p90, p99, p999)",
       [](const R& r) {
         if (!r.groups.on) return OJ(nullptr);
         return OJ{{"fanout", r.groups.fanout}, {"count", r.groups.count}, {"e2e_s", latency_json(r.groups.e2e)}};
       }},
      {"slo_attainment", "share", "requests meeting every SLO (null without SLOs)",
       [](const R& r) { return num(r.slo_attainment); }},
      {"goodput_rps", "req/s", "highest rate at which goodput.share of requests meet every SLO (null: not searched)",
       [](const R& r) { return r.goodput.computed ? num(r.goodput.goodput_rps) : OJ(nullptr); }},
      {"goodput", "", "the goodput search: bracket, runs, how it ended",
       [](const R& r) {
         if (!r.goodput.computed) return OJ(nullptr);
         return OJ{{"lower_rps", r.goodput.lower_rps},
                   {"upper_rps", r.goodput.upper_rps},
                   {"runs", r.goodput.runs},
                   {"note", r.goodput.note}};
       }},
      {"kv_cache", "",
       "KV-cache blocks per replica and their use: peak, time mean, and a series of the share in use per time bin",
       [](const R& r) {
         return OJ{{"blocks_per_replica", r.memory.blocks}, {"kv_bytes_per_token_per_gpu", r.memory.kv_bytes_per_token},
                   {"peak_fraction", r.kv_peak_fraction},   {"mean_fraction", r.kv_mean_fraction},
                   {"series_bin_s", r.kv_series_bin_s},     {"series_fraction", r.kv_series_fraction}};
       }},
      {"memory", "", "one GPU of a replica: capacity, usable share, weights, activation reserve (bytes)",
       [](const R& r) {
         return OJ{{"capacity_bytes", r.memory.capacity_bytes},
                   {"usable_bytes", r.memory.usable_bytes},
                   {"weights_bytes", r.memory.weights_bytes},
                   {"activation_bytes", r.memory.activation_bytes}};
       }},
      {"replicas", "", "serving replicas", [](const R& r) { return OJ(r.replicas); }},
      {"iterations", "", "forward iterations of all replicas", [](const R& r) { return OJ(r.iterations); }},
      {"decode_segments", "", "runs of decode-only iterations simulated as one event",
       [](const R& r) { return OJ(r.decode_segments); }},
      {"scheduling_steps", "", "scheduling steps of all replicas (an iteration, or a decode segment)",
       [](const R& r) { return OJ(r.scheduling_steps); }},
      {"batch_full_steps", "", "steps that began with max_batch sequences running and requests waiting",
       [](const R& r) { return OJ(r.batch_full_steps); }},
      {"events", "", "engine events processed", [](const R& r) { return OJ(r.events); }},
      {"gpus", "", "serving GPUs (replicas x tp), those the energy and cost count",
       [](const R& r) { return OJ(r.gpus); }},
      {"gpu_active_share", "share", "GPU time in iterations over gpus x duration_s (the rest idle)",
       [](const R& r) { return num(r.gpu_active_share); }},
      {"gpu_energy_J", "J", "energy of the serving GPUs over duration_s (null without a power model)",
       [](const R& r) { return num(r.gpu_energy_J); }},
      {"facility_energy_J", "J", "(gpu_energy_J + cost.other_W_per_gpu x gpus x duration_s) x cost.pue",
       [](const R& r) { return num(r.facility_energy_J); }},
      {"avg_power_per_gpu_W", "W", "gpu_energy_J / (gpus x duration_s)",
       [](const R& r) { return num(r.avg_power_per_gpu_W); }},
      {"J_per_output_token", "J/token", "facility_energy_J / total_output_tokens",
       [](const R& r) { return num(r.J_per_output_token); }},
      {"J_per_token", "J/token", "facility_energy_J / (total_input_tokens + total_output_tokens)",
       [](const R& r) { return num(r.J_per_token); }},
      {"usd", "USD", "cost.usd_per_gpu_hour x GPU-hours + cost.usd_per_kWh x facility kWh (null unpriced)",
       [](const R& r) { return num(r.usd); }},
      {"usd_per_million_output_tokens", "USD", "usd per million output tokens (null unpriced)",
       [](const R& r) { return num(r.usd_per_million_output_tokens); }},
      {"provenance", "", "profile, system, seed, measurement window, how each mechanism is costed",
       [](const R& r) { return r.provenance; }},
      {"intervals", "",
       "95% intervals over request seeds or profile draws: [lo, hi] at each headline figure's place, with level, "
       "samples, varied, method, sources, excluded (absent, None in Python, unless seeds or samples are asked)",
       [](const R& r) { return r.intervals; }},
  };
  return f;
}

const std::vector<TextLine>& energy_text_lines() {
  static const std::vector<TextLine> t = {
      {"avg_power_per_gpu_W", "Mean power per GPU (W):", 1},
      {"gpu_energy_J", "GPU energy (kJ):", 1e-3},
      {"facility_energy_J", "Facility energy (kJ):", 1e-3},
      {"J_per_output_token", "Energy per output token (J):", 1},
      {"J_per_token", "Energy per token (J):", 1},
      {"usd_per_million_output_tokens", "Cost per million output tokens ($):", 1},
  };
  return t;
}

const std::vector<RequestColumn>& request_columns() {
  using Q = RequestRecord;
  static const std::vector<RequestColumn> c = {
      {"arrival_s", "s", "arrival time", [](const Q& q) { return q.arrival_s; }},
      {"replica", "", "replica the router chose", [](const Q& q) { return double(q.replica); }},
      {"prompt_tokens", "tokens", "prompt length", [](const Q& q) { return double(q.prompt_tokens); }},
      {"output_tokens", "tokens", "output length", [](const Q& q) { return double(q.output_tokens); }},
      {"queue_s", "s", "arrival to first scheduled", [](const Q& q) { return q.queue_s; }},
      {"ttft_s", "s", "time to first token", [](const Q& q) { return q.ttft_s; }},
      {"tpot_s", "s", "time per output token after the first (NaN for one token)", [](const Q& q) { return q.tpot_s; }},
      {"e2e_s", "s", "arrival to last token", [](const Q& q) { return q.e2e_s; }},
      {"preemptions", "", "times preempted and recomputed", [](const Q& q) { return double(q.preemptions); }},
      {"kv_transfer_s", "s", "KV cache transfer, prefill to decode replica (NaN co-located)",
       [](const Q& q) { return q.kv_transfer_s; }},
      {"cached_tokens", "tokens", "prompt tokens found in the prefix cache, not prefilled (0 without caching)",
       [](const Q& q) { return double(q.cached_tokens); }},
      {"group", "", "the arrival's group of arrivals.fanout calls (the request's index without fan-out)",
       [](const Q& q) { return double(q.group); }},
  };
  return c;
}

OJ to_json(const ServingResult& r) {
  OJ j;
  for (const auto& f : serving_result_fields()) {
    OJ v = f.value(r);
    // Without repetitions a result is as it was before intervals existed: no "intervals" key.
    // Nor, without prefix caching, a "prefix_cache" key, without fan-out a "groups" key, or without
    // swap preemption a "swap" key: results
    // are as they were before these existed.
    const std::string key = f.key;
    if (v.is_null() && (key == "intervals" || key == "prefix_cache" || key == "groups" || key == "swap")) continue;
    j[f.key] = std::move(v);
  }
  return j;
}

OJ requests_json(const ServingResult& r) {
  OJ j;
  for (const auto& c : request_columns()) {
    OJ col = OJ::array();
    for (const auto& q : r.requests) col.push_back(c.value(q));
    j[c.name] = std::move(col);
  }
  return j;
}

}  // namespace knee::serving
