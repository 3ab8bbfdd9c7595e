// A serving scenario (docs/scenarios.md, "Serving scenarios"): the cluster, model and profile keys
// of a training scenario plus a "serving" object (replicas, batching, KV cache, arrivals, lengths,
// router, SLOs), read strictly once; the simulation reads these structs, never the JSON.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "profile/profile.hpp"
#include "topologies/cluster_spec.hpp"
#include "workloads/model/cost_prices.hpp"
#include "workloads/model/model_spec.hpp"

namespace knee::serving {

enum class ArrivalKind { poisson, gamma, on_off, trace };
enum class LengthKind { fixed, uniform, lognormal, empirical, geometric };
enum class RouterKind { round_robin, least_outstanding_tokens, prefix_aware, shared_queue };
enum class PreemptionMode { recompute, swap };

// Tokens of a prompt or an output: fixed (mean), uniform on [min, max], lognormal with `mean` and
// coefficient of variation `cv`, empirical (one of `values`, uniformly), or geometric with `mean`
// (P(n) = p (1 - p)^(n - 1) for n >= 1, p = 1 / mean: the number of decode iterations of an
// exponential-like service), rounded to an integer and kept in [min, max]. Fitted from a trace (`fitted_from`):
// lognormal by maximum likelihood, or empirical with the trace's lengths as `values`.
struct LengthSpec {
  LengthKind kind = LengthKind::fixed;
  double mean = 0, cv = 0;
  std::int64_t min = 1, max = 0;  // max 0: the model's seq_len
  std::vector<std::int32_t> values;
  std::string fitted_from;       // the trace file the distribution was fitted to; "" none
  std::int64_t fitted_rows = 0;  // its rows
};

struct ArrivalSpec {
  ArrivalKind kind = ArrivalKind::poisson;
  double rate_per_s = 0;  // poisson, gamma; on_off: the rate during on periods; unused by a trace
  double cv = 1;          // gamma: coefficient of variation of the gaps (1 is Poisson)
  // on_off: mean seconds of the on and off periods (each exponential), starting in an on period.
  double on_s = 0, off_s = 0;
  std::string file;  // trace: CSV or JSON of arrival_s, prompt_tokens, output_tokens
  // Calls per arrival (The Tail at Scale's fan-out): each arrival is a group of `fanout` requests
  // at the same instant, each with its own lengths, each routed; rate_per_s counts the groups.
  std::int64_t fanout = 1;
  // Long-run requests per second (on_off: rate x on / (on + off); times fanout); 0 for a trace.
  double mean_rate_per_s() const {
    if (kind == ArrivalKind::trace) return 0;
    const double groups = kind == ArrivalKind::on_off ? rate_per_s * on_s / (on_s + off_s) : rate_per_s;
    return fanout == 1 ? groups : groups * double(fanout);
  }
  // Sets the long-run request rate: on_off scales its on rate and keeps its periods; the group
  // rate is r / fanout. Not for a trace.
  void set_mean_rate(double r) {
    if (fanout != 1) r /= double(fanout);
    rate_per_s = kind == ArrivalKind::on_off ? r * (on_s + off_s) / on_s : r;
  }
};

struct ServingSpec {
  std::int64_t replicas = 1, tp = 1, pp = 1;
  // Disaggregated prefill and decode (DistServe, Splitwise): replicas [0, prefill_replicas) only
  // prefill, the others only decode, each request's KV cache sent between them over the fabric.
  // 0: co-located (every replica does both).
  std::int64_t prefill_replicas = 0, decode_replicas = 0;
  bool disaggregated() const { return prefill_replicas > 0; }
  // vLLM --max-num-seqs, --max-num-batched-tokens, --enable-chunked-prefill.
  std::int64_t max_batch = 256, max_tokens_per_iter = 8192;
  bool chunked_prefill = true;
  // vLLM --block-size, --gpu-memory-utilization, --num-gpu-blocks-override (0: from memory).
  std::int64_t block_tokens = 16;
  double gpu_memory_utilization = 0.9;
  std::int64_t num_blocks = 0;
  ArrivalSpec arrivals;
  LengthSpec prompt, output;
  RouterKind router = RouterKind::round_robin;
  // shared_queue: requests wait in one FIFO queue at the router and go to a replica only while it
  // holds fewer than max_ongoing of them (Ray Serve's max_ongoing_requests); default max_batch.
  std::int64_t max_ongoing = 0;
  double slo_ttft_s = 0, slo_tpot_s = 0;  // 0: no such SLO
  double goodput_share = 0.9;             // DistServe's attainment target
  int goodput_runs = 8;                   // simulations of the goodput search (0: none)
  std::int64_t requests = 0;  // requests to send (a multiple of fanout); 0: all of duration_s (or the trace)
  double duration_s = 0;      // arrivals within this time; 0: `requests` of them
  std::uint64_t seed = 0;
  bool cuda_graphs = true;  // vLLM's default; false is --enforce-eager
  // vLLM's --enable-prefix-caching, SGLang's RadixAttention: a finished request's full KV blocks
  // stay cached for its session (evictable, least recently used first); a later request of the
  // session reuses them instead of prefilling them (docs/serving.md, "Prefix caching").
  bool prefix_caching = false;
  // vLLM's preemption_mode: a preempted request's KV blocks are freed and recomputed later (V1's
  // only mode), or swapped to host memory over the GPU's host link and back (V0's swap;
  // docs/serving.md, "Preemption"). swap_space_GiB: vLLM's --swap-space, host memory per GPU.
  PreemptionMode preemption = PreemptionMode::recompute;
  double swap_space_GiB = 4;
  bool has_slo() const { return slo_ttft_s > 0 || slo_tpot_s > 0; }
};

// The scenario's "cost" object: the keys a training scenario's has (docs/scenarios.md, "cost"),
// but train_tokens; a price < 0 is not given.
// A serving scenario's cost: the prices every kind of job reads (usd_per_kWh needs a power model).
using ServingCost = CostPrices;

struct ServingScenario {
  std::string source;  // file name or "<json>", for messages
  ClusterSpec cluster;
  ModelSpec model;
  std::string profile_name;  // as written, or the system's GPU model
  Profile profile;
  ServingSpec serving;
  ServingCost cost;
};

// A scenario file with a "serving" object is a serving scenario (knee simulate dispatches on it).
bool is_serving_scenario(const nlohmann::json& j);
// Strict: unknown keys and every inconsistency are InputErrors naming $.serving.KEY.
ServingScenario parse_serving_scenario(const nlohmann::json& j, const std::string& source);
ServingScenario load_serving_scenario(const std::string& path);

const char* to_string(ArrivalKind);
const char* to_string(RouterKind);
const char* to_string(PreemptionMode);

}  // namespace knee::serving
