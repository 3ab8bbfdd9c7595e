// What a serving simulation gives: every request's latencies and the aggregates serving people
// read (vllm bench serve's), KV-cache use, goodput under the SLOs, and where each number came from.
// Its JSON fields and Python columns are defined once in serving_result_schema.hpp.
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workloads/serving/iteration_cost.hpp"
#include "workloads/serving/latency_stats.hpp"

namespace knee::serving {

struct RequestRecord {
  double arrival_s = 0;
  double queue_s = 0;        // arrival to first scheduled (its first prefill chunk)
  double ttft_s = 0;         // arrival to first output token
  double tpot_s = 0;         // (e2e - ttft) / (output_tokens - 1); NaN for one-token outputs
  double e2e_s = 0;          // arrival to last token
  double kv_transfer_s = 0;  // disaggregated: prefill end to KV arrival at the decode replica; else NaN
  std::int32_t prompt_tokens = 0, output_tokens = 0, replica = 0, preemptions = 0;
  std::int32_t cached_tokens = 0;  // prompt tokens found in the prefix cache (not prefilled)
  std::int64_t group = 0;          // the arrival's group (arrivals.fanout calls); the request's index without fan-out
};

// Fan-out (serving.arrivals.fanout > 1; The Tail at Scale): each arrival's calls as one group,
// which ends with its last call.
struct GroupResult {
  bool on = false;  // fanout > 1
  std::int64_t fanout = 1, count = 0;
  LatencySummary e2e;  // over groups: arrival to the last token of the group's last call
};

// Prefix caching's effect (serving.prefix_caching; docs/serving.md, "Prefix caching").
struct PrefixCacheResult {
  bool on = false;
  std::int64_t cached_prompt_tokens = 0, prompt_tokens_computed = 0, hit_requests = 0, evicted_blocks = 0;
  double hit_rate = 0;  // cached_prompt_tokens / total_input_tokens
  // Each replica's blocks at the end of the run, counted apart: free, cached, held by requests.
  std::vector<std::int64_t> free_blocks_end, cached_blocks_end, in_use_blocks_end;
};

// Swap preemption (serving.preemption "swap"; docs/serving.md, "Preemption").
struct SwapResult {
  bool on = false;
  std::int64_t swap_outs = 0, swap_ins = 0;  // copies of a request's blocks to the host and back
  std::int64_t requests_swapped = 0;         // requests swapped out at least once
  std::int64_t fallbacks = 0;                // preemptions recomputed: the host swap space was full
  double bytes_out = 0, bytes_in = 0;        // over the host links of all GPUs (each TP rank its share)
  double out_s = 0, in_s = 0;                // replica-seconds of the copies, which block the replica
  std::int64_t host_blocks_per_replica = 0, host_peak_blocks = 0;  // swap space; the most in use at once
};

// DistServe's goodput: the highest request rate at which at least `share` of the requests meet
// every SLO, found by re-simulating at scaled rates (docs/serving.md, "Goodput").
struct GoodputResult {
  bool computed = false;
  double goodput_rps = std::numeric_limits<double>::quiet_NaN();
  double lower_rps = 0, upper_rps = 0;  // the bracket: met at lower, missed at upper (0: not found)
  int runs = 0;
  std::string note;  // how the bracket ended
};

struct ServingResult {
  std::vector<RequestRecord> requests;
  std::int64_t completed = 0;
  double duration_s = 0;  // first arrival to last token, as vllm bench serve's benchmark duration
  std::int64_t total_input_tokens = 0, total_output_tokens = 0;
  double offered_rate_per_s = 0;
  double request_throughput_rps = 0, input_throughput_tokens_per_s = 0, output_throughput_tokens_per_s = 0,
         throughput_tokens_per_s = 0;  // the last: input + output ("Total Token throughput")
  LatencySummary queue, ttft, tpot, itl, e2e, kv_transfer;
  std::int64_t preemptions = 0, requests_preempted = 0;
  std::int64_t replicas = 0;
  ReplicaMemory memory;
  double kv_peak_fraction = 0, kv_mean_fraction = 0;  // of a replica's blocks; mean over time and replicas
  // Share of all replicas' blocks in use, mean over each bin of kv_series_bin_s from time 0.
  double kv_series_bin_s = 0;
  std::vector<double> kv_series_fraction;
  std::int64_t iterations = 0, decode_segments = 0;
  std::int64_t scheduling_steps = 0, batch_full_steps = 0;  // see RunCounters (replica.hpp)
  std::uint64_t events = 0;
  PrefixCacheResult prefix_cache;
  SwapResult swap;
  GroupResult groups;
  double slo_attainment = std::numeric_limits<double>::quiet_NaN();  // share meeting every SLO
  GoodputResult goodput;
  // Energy and cost over the window (docs/serving.md, "Energy and cost"): the serving GPUs
  // (replicas x tp), each drawing the power model's power for each iteration's utilization and
  // idle power between iterations. NaN (null) without a power model; the prices NaN unpriced.
  std::int64_t gpus = 0;
  double gpu_active_share = std::numeric_limits<double>::quiet_NaN();  // GPU-time in iterations / gpus x window
  double gpu_energy_J = std::numeric_limits<double>::quiet_NaN();
  double facility_energy_J = std::numeric_limits<double>::quiet_NaN();  // (GPU + other_W_per_gpu) x pue
  double avg_power_per_gpu_W = std::numeric_limits<double>::quiet_NaN();
  double J_per_output_token = std::numeric_limits<double>::quiet_NaN();  // facility energy per token
  double J_per_token = std::numeric_limits<double>::quiet_NaN();         // per input + output token
  double usd = std::numeric_limits<double>::quiet_NaN();                 // GPU-hours and electricity
  double usd_per_million_output_tokens = std::numeric_limits<double>::quiet_NaN();
  nlohmann::ordered_json provenance;
  // 95% intervals over request seeds or profile draws (serving_intervals.hpp); null (and absent
  // from the JSON) unless asked.
  nlohmann::ordered_json intervals;
};

}  // namespace knee::serving
