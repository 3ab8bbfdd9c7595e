// A serving run as events: arrivals, the router, each replica's iterations; then the aggregates.
#include <algorithm>
#include <cmath>
#include <deque>
#include <memory>
#include <stdexcept>

#include "common/error.hpp"
#include "profile/profile_origin.hpp"
#include "sim/collectives/collective.hpp"
#include "sim/collectives/nccl_params.hpp"
#include "sim/engine/engine.hpp"
#include "sim/network/flow_network.hpp"
#include "topologies/topology.hpp"
#include "workloads/model/model_shape.hpp"
#include "workloads/serving/replica.hpp"
#include "workloads/serving/requests.hpp"
#include "workloads/serving/serving.hpp"

namespace knee::serving {
namespace {

constexpr std::uint32_t kArrive = 0, kStep = 1, kKvDone = 2;
constexpr TimePs kKvBins = 100;

// The cluster's fabric as flows, for disaggregated KV transfers: NCCL's link efficiencies (the
// transfer libraries use the same copy engines and NICs), routes as the topology gives them.
struct Fabric {
  Topology topo;
  std::unique_ptr<FlowNetwork> net;
};

// Swap preemption (docs/serving.md, "Preemption"): the host swap space of a replica in blocks
// (vLLM: swap_space bytes per GPU // one block's bytes on that GPU), and the host link's alpha-beta
// fit each way from the profile (pinned memory: vLLM pins its swap space).
SwapCost swap_cost(const ServingScenario& s, const ReplicaMemory& mem) {
  SwapCost c;
  if (s.serving.preemption != PreemptionMode::swap) return c;
  c.on = true;
  c.block_bytes = double(s.serving.block_tokens) * mem.kv_bytes_per_token;
  c.host_blocks = std::int64_t(std::floor(s.serving.swap_space_GiB * 1073741824.0 / c.block_bytes));
  const Profile::AlphaBeta out = s.profile.link("host_pinned_d2h"), in = s.profile.link("host_pinned_h2d");
  c.out_alpha_s = out.alpha_s;
  c.out_beta_s_per_byte = out.beta_s_per_byte;
  c.in_alpha_s = in.alpha_s;
  c.in_beta_s_per_byte = in.beta_s_per_byte;
  return c;
}

class Run : public EventSink {
 public:
  Run(const ServingScenario& s, const std::vector<Request>& requests, IterationCost& cost)
      : s_(s), in_(requests), cost_(cost) {
    reqs_.resize(in_.size());
    for (std::size_t i = 0; i < in_.size(); ++i) {
      ReqState& r = reqs_[i];
      r.arrival = s_to_ps_ceil(in_[i].arrival_s);
      r.prompt = in_[i].prompt_tokens;
      r.output = in_[i].output_tokens;
      r.target = r.prompt;
      r.session = in_[i].session;
      r.prefix = in_[i].prefix_tokens;
      sessions_ = std::max(sessions_, std::size_t(r.session + 1));
    }
    last_replica_.assign(sessions_, -1);
    const std::int64_t n = s.serving.replicas, np = s.serving.prefill_replicas;
    marked_.assign(std::size_t(n), 0);
    swap_ = swap_cost(s, cost.memory());
    for (std::int64_t i = 0; i < n; ++i)
      replicas_.push_back(
          std::make_unique<Replica>(s.serving, cost.memory().blocks, cost, reqs_, counters_, i < np, swap_));
    events_.assign(std::size_t(n), 0);
    sink_ = engine_.add_sink(this);
    // KV use over time: 100 bins over the arrivals, at least 1 ms each (later bins are added as
    // the run goes on; the replicas coarsen them when there get to be too many).
    if (!reqs_.empty()) counters_.kv_bin_ps = std::max<TimePs>(kPsPerMs, reqs_.back().arrival / kKvBins + 1);
    if (s.serving.disaggregated()) {
      FabricOptions fo = s.cluster.fabric;
      fo.nodes = s.cluster.nodes;
      if (s.cluster.nodes == 1) fo.kind = FabricKind::single_node;
      fabric_.topo = build_topology(s.cluster.system, fo);
      fabric_.net = std::make_unique<FlowNetwork>(
          engine_, effective_links(fabric_.topo, nccl_params_for_gpu(s.cluster.system.gpu_model)));
      flows_left_.assign(reqs_.size(), 0);
    }
  }

  void run() {
    if (!reqs_.empty()) engine_.schedule_at(reqs_[0].arrival, sink_, kArrive, 0);
    engine_.run();
  }

  void handle(Engine& e, std::uint32_t tag, std::uint64_t payload) override {
    if (tag == kArrive) {
      // The first call of a group (of arrivals.fanout calls at one instant; each request is its
      // own group without fan-out): every call is routed and queued before a replica starts, so
      // the calls of a group that land on one replica can share its next iteration.
      const std::size_t i = std::size_t(payload);
      const std::size_t end = std::min(reqs_.size(), i + std::size_t(s_.serving.arrivals.fanout));
      if (end < reqs_.size()) e.schedule_at(reqs_[end].arrival, sink_, kArrive, end);
      touched_.clear();
      if (shared()) {
        for (std::size_t j = i; j < end; ++j) central_.push_back(j);
        dispatch();
      } else {
        const std::size_t pool =
            s_.serving.disaggregated() ? std::size_t(s_.serving.prefill_replicas) : replicas_.size();
        for (std::size_t j = i; j < end; ++j) {
          const std::size_t k = route(0, pool, rr_prefill_, reqs_[j].session);
          if (reqs_[j].session >= 0) last_replica_[std::size_t(reqs_[j].session)] = std::int32_t(k);
          deliver(j, k);
        }
      }
      for (std::size_t k : touched_) kick(k, e.now());
    } else if (tag == kKvDone) {  // one TP rank's share of a request's KV cache arrived
      const std::size_t i = std::size_t(payload);
      if (--flows_left_[i] > 0) return;
      reqs_[i].kv_arrived = e.now();
      reqs_[i].kv_ready = true;
      touched_.clear();
      deliver(i, std::size_t(reqs_[i].replica));
      kick(std::size_t(reqs_[i].replica), e.now());
    } else {
      const std::size_t k = std::size_t(payload);
      replicas_[k]->finish(e.now());
      for (std::int32_t id : replicas_[k]->handoffs()) send_kv(std::size_t(id), k, e.now());
      replicas_[k]->handoffs().clear();
      // The shared queue refills the replicas that finished requests before this one plans its
      // next step, as the replica's own queue would have held them (one replica: the same run).
      touched_.clear();
      if (shared()) dispatch();
      start(k, e.now());
      for (std::size_t t : touched_) {
        if (t != k) kick(t, e.now());
        marked_[t] = 0;
      }
    }
  }

  const ServingScenario& s_;
  const std::vector<Request>& in_;
  IterationCost& cost_;
  SwapCost swap_;
  std::vector<ReqState> reqs_;
  RunCounters counters_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::vector<EventId> events_;
  Engine engine_;
  SinkId sink_ = 0;
  std::size_t rr_prefill_ = 0, rr_decode_ = 0;
  Fabric fabric_;
  std::vector<std::int32_t> flows_left_;
  std::size_t sessions_ = 0;
  std::vector<std::int32_t> last_replica_;  // by session: the replica its last request went to
  std::deque<std::size_t> central_;         // shared_queue: requests waiting at the router, FIFO
  std::vector<std::size_t> touched_;        // replicas given requests by the event being handled
  std::vector<char> marked_;                // by replica: in touched_

 private:
  void start(std::size_t k, TimePs now) {
    const TimePs end = replicas_[k]->start(now);
    if (end >= 0) events_[k] = engine_.schedule_at(end, sink_, kStep, k);
  }
  bool shared() const { return s_.serving.router == RouterKind::shared_queue; }
  // Request i queued at replica k (kick starts the replica); k joins touched_.
  void deliver(std::size_t i, std::size_t k) {
    Replica& rep = *replicas_[k];
    reqs_[i].replica = std::int32_t(k);
    if (!reqs_[i].kv_ready) rep.outstanding_tokens += std::int64_t(reqs_[i].prompt) + reqs_[i].output;
    ++rep.ongoing;
    rep.enqueue(std::int32_t(i));
    if (!marked_[k]) {
      marked_[k] = 1;
      touched_.push_back(k);
    }
  }
  // Replica k got requests at `now`: an idle one starts, a decode segment is cut at the iteration
  // running (the others see them at their next step).
  void kick(std::size_t k, TimePs now) {
    marked_[k] = 0;
    Replica& rep = *replicas_[k];
    if (!rep.busy()) {
      start(k, now);
    } else if (const TimePs end = rep.cut(now); end >= 0) {
      engine_.cancel(events_[k]);
      events_[k] = engine_.schedule_at(end, sink_, kStep, k);
    }
  }
  // shared_queue: the router's queue in order, each request to the free replica (fewer than
  // max_ongoing requests in it) with the fewest, ties to the lowest index; with prefix caching to
  // its session's last replica when that one is free. Stops at the first that finds none free.
  void dispatch() {
    const std::int64_t cap = s_.serving.max_ongoing;
    while (!central_.empty()) {
      std::size_t best = replicas_.size();
      for (std::size_t k = 0; k < replicas_.size(); ++k)
        if (replicas_[k]->ongoing < cap &&
            (best == replicas_.size() || replicas_[k]->ongoing < replicas_[best]->ongoing))
          best = k;
      if (best == replicas_.size()) return;
      const std::size_t i = central_.front();
      central_.pop_front();
      const std::int32_t session = reqs_[i].session;
      if (s_.serving.prefix_caching && session >= 0) {
        const std::int32_t last = last_replica_[std::size_t(session)];
        if (last >= 0 && replicas_[std::size_t(last)]->ongoing < cap) best = std::size_t(last);
        last_replica_[std::size_t(session)] = std::int32_t(best);
      }
      deliver(i, best);
    }
  }
  // The prompt's KV cache from prefill replica `from` to a decode replica: each TP rank sends its
  // kv_heads / tp share to the same rank of the other replica, as flows on the fabric.
  void send_kv(std::size_t i, std::size_t from, TimePs now) {
    const std::size_t to = route(std::size_t(s_.serving.prefill_replicas), replicas_.size(), rr_decode_, -1);
    ReqState& r = reqs_[i];
    r.replica = std::int32_t(to);
    r.kv_sent = now;
    replicas_[to]->outstanding_tokens += std::int64_t(r.prompt) + r.output;  // the router sees it in flight
    const std::int64_t tp = s_.serving.tp;
    const Bytes bytes =
        static_cast<Bytes>(std::ceil(double(r.prompt) * model::kv_bytes_per_token(s_.model) / double(tp)));
    flows_left_[i] = std::int32_t(tp);
    for (std::int64_t t = 0; t < tp; ++t) {
      const auto a = fabric_.topo.gpu_node(std::uint32_t(std::int64_t(from) * tp + t));
      const auto b = fabric_.topo.gpu_node(std::uint32_t(std::int64_t(to) * tp + t));
      fabric_.net->start_flow(fabric_.topo.route(a, b, i), bytes, FlowDone{sink_, kKvDone, i});
    }
  }
  // A replica of [lo, hi) by the scenario's router, for a request of `session` (-1: none).
  std::size_t route(std::size_t lo, std::size_t hi, std::size_t& rr, std::int32_t session) {
    if (s_.serving.router == RouterKind::round_robin) return lo + rr++ % (hi - lo);
    std::size_t best = lo;  // least outstanding tokens; ties to the lowest index
    for (std::size_t k = lo + 1; k < hi; ++k)
      if (replicas_[k]->outstanding_tokens < replicas_[best]->outstanding_tokens) best = k;
    if (s_.serving.router == RouterKind::prefix_aware && session >= 0) {
      // Affinity to the session's last replica unless it is out of balance: more than twice the
      // least loaded's outstanding tokens and more than one iteration's token budget above them
      // (SGLang's cache-aware router balances only past both a relative and an absolute threshold).
      const std::int32_t last = last_replica_[std::size_t(session)];
      if (last >= std::int32_t(lo) && last < std::int32_t(hi)) {
        const std::int64_t mine = replicas_[std::size_t(last)]->outstanding_tokens;
        const std::int64_t least = replicas_[best]->outstanding_tokens;
        if (mine <= 2 * least || mine - least <= s_.serving.max_tokens_per_iter) return std::size_t(last);
      }
    }
    return best;
  }
};

void check_kv_holds(const ServingScenario& s, const std::vector<Request>& reqs, const ReplicaMemory& mem) {
  std::int64_t longest = 0;
  for (const Request& q : reqs)
    longest = std::max<std::int64_t>(longest, std::int64_t(q.prompt_tokens) + q.output_tokens);
  // Without chunking a prompt (and a recomputation: prompt and output so far) is one iteration.
  if (!s.serving.chunked_prefill && s.serving.max_tokens_per_iter < longest)
    throw_input_error(s.source, "$.serving.batching.max_tokens_per_iter",
                      "a token budget that holds the longest request (" + std::to_string(longest) +
                          " tokens) without chunked_prefill",
                      std::to_string(s.serving.max_tokens_per_iter));
  const std::int64_t cap = mem.blocks * s.serving.block_tokens;
  if (cap < longest)
    throw_input_error(s.source, s.serving.num_blocks > 0 ? "$.serving.kv_cache.num_blocks" : "$.serving.kv_cache",
                      "a KV cache that holds the longest request (" + std::to_string(longest) + " tokens)",
                      std::to_string(mem.blocks) + " blocks of " + std::to_string(s.serving.block_tokens) +
                          " tokens (" + std::to_string(cap) + " tokens)");
}

// Energy over the window (first arrival to last token, duration_s) of the serving GPUs: every GPU
// of a replica runs its iterations (the TP ranks the same kernels), idle power the rest of the
// window; then facility energy, per token, and the prices (docs/serving.md, "Energy and cost").
void energy_and_cost(const ServingScenario& s, const IterationCost& cost,
                     const std::vector<std::unique_ptr<Replica>>& replicas, ServingResult& R) {
  const double tp = double(s.serving.tp), window = R.duration_s;
  R.gpus = std::int64_t(replicas.size()) * s.serving.tp;
  const double gpus = double(R.gpus), gpu_hours = gpus * window / 3600;
  const ServingCost& c = s.cost;
  if (!(window > 0)) return;
  double active_s = 0;
  for (const auto& rep : replicas) active_s += ps_to_s(rep->active_ps);
  R.gpu_active_share = active_s * tp / (gpus * window);
  double kWh = 0;
  if (cost.has_power()) {
    double J = 0;
    for (const auto& rep : replicas)
      J += tp * (rep->iteration_J + std::max(0.0, window - ps_to_s(rep->active_ps)) * cost.idle_W());
    R.gpu_energy_J = J;
    R.facility_energy_J = (J + c.other_W_per_gpu * gpus * window) * c.pue;
    R.avg_power_per_gpu_W = J / (gpus * window);
    if (R.total_output_tokens > 0) R.J_per_output_token = R.facility_energy_J / double(R.total_output_tokens);
    R.J_per_token = R.facility_energy_J / double(R.total_input_tokens + R.total_output_tokens);
    kWh = R.facility_energy_J / 3.6e6;
  }
  if (c.priced()) {
    R.usd = std::max(0.0, c.usd_per_gpu_hour) * gpu_hours + std::max(0.0, c.usd_per_kWh) * kWh;
    if (R.total_output_tokens > 0) R.usd_per_million_output_tokens = R.usd / double(R.total_output_tokens) * 1e6;
  }
}

}  // namespace

double slo_attainment(const ServingScenario& s, const std::vector<RequestRecord>& requests) {
  if (requests.empty()) return std::nan("");
  std::int64_t ok = 0;
  for (const RequestRecord& r : requests) {
    const bool ttft = s.serving.slo_ttft_s <= 0 || r.ttft_s <= s.serving.slo_ttft_s;
    const bool tpot = s.serving.slo_tpot_s <= 0 || std::isnan(r.tpot_s) || r.tpot_s <= s.serving.slo_tpot_s;
    ok += ttft && tpot;
  }
  return double(ok) / double(requests.size());
}

ServingResult simulate_once(const ServingScenario& s, double rate_scale) {
  const std::vector<Request> in = make_requests(s, rate_scale);
  IterationCost cost(s);
  check_kv_holds(s, in, cost.memory());
  Run run(s, in, cost);
  run.run();

  ServingResult R;
  R.replicas = s.serving.replicas;
  R.memory = cost.memory();
  R.offered_rate_per_s =
      s.serving.arrivals.kind == ArrivalKind::trace
          ? (in.size() > 1 && in.back().arrival_s > 0 ? double(in.size() - 1) / in.back().arrival_s : 0)
          : s.serving.arrivals.mean_rate_per_s() * rate_scale;
  TimePs first = kTimeNever, last = 0;
  std::vector<double> q, ttft, tpot, e2e, kv;
  R.requests.reserve(in.size());
  const std::int64_t fanout = s.serving.arrivals.fanout;
  std::vector<TimePs> group_end(fanout > 1 ? (run.reqs_.size() + std::size_t(fanout) - 1) / std::size_t(fanout) : 0, 0);
  for (const ReqState& r : run.reqs_) {
    if (r.finish < 0) throw std::logic_error("serving: a request never finished");
    RequestRecord x;
    x.arrival_s = ps_to_s(r.arrival);
    x.queue_s = ps_to_s(r.first_sched - r.arrival);
    x.ttft_s = ps_to_s(r.first_token - r.arrival);
    x.e2e_s = ps_to_s(r.finish - r.arrival);
    x.tpot_s = r.output > 1 ? ps_to_s(r.finish - r.first_token) / double(r.output - 1) : std::nan("");
    x.prompt_tokens = r.prompt;
    x.output_tokens = r.output;
    x.replica = r.replica;
    x.preemptions = r.preemptions;
    x.kv_transfer_s = r.kv_sent >= 0 ? ps_to_s(r.kv_arrived - r.kv_sent) : std::nan("");
    x.cached_tokens = r.cached;
    x.group = std::int64_t(R.requests.size()) / fanout;  // a group's calls are consecutive
    if (fanout > 1) group_end[std::size_t(x.group)] = std::max(group_end[std::size_t(x.group)], r.finish - r.arrival);
    R.prefix_cache.hit_requests += r.cached > 0;
    kv.push_back(x.kv_transfer_s);
    R.total_input_tokens += r.prompt;
    R.total_output_tokens += r.output;
    R.requests_preempted += r.preemptions > 0;
    first = std::min(first, r.arrival);
    last = std::max(last, r.finish);
    q.push_back(x.queue_s);
    ttft.push_back(x.ttft_s);
    tpot.push_back(x.tpot_s);
    e2e.push_back(x.e2e_s);
    R.requests.push_back(x);
  }
  R.completed = std::int64_t(R.requests.size());
  R.duration_s = R.completed > 0 ? ps_to_s(last - first) : 0;
  if (R.duration_s > 0) {
    R.request_throughput_rps = double(R.completed) / R.duration_s;
    R.input_throughput_tokens_per_s = double(R.total_input_tokens) / R.duration_s;
    R.output_throughput_tokens_per_s = double(R.total_output_tokens) / R.duration_s;
    R.throughput_tokens_per_s = R.input_throughput_tokens_per_s + R.output_throughput_tokens_per_s;
  }
  R.queue = summarize(std::move(q));
  R.ttft = summarize(std::move(ttft));
  R.tpot = summarize(std::move(tpot));
  R.e2e = summarize(std::move(e2e));
  R.itl = run.counters_.itl.summary();
  R.kv_transfer = summarize(std::move(kv));
  if (fanout > 1) {
    R.groups.on = true;
    R.groups.fanout = fanout;
    R.groups.count = std::int64_t(group_end.size());
    std::vector<double> g;
    g.reserve(group_end.size());
    for (TimePs t : group_end) g.push_back(ps_to_s(t));
    R.groups.e2e = summarize(std::move(g));
  }
  R.preemptions = run.counters_.preemptions;
  if (run.swap_.on) {
    SwapResult& w = R.swap;
    const RunCounters& c = run.counters_;
    w.on = true;
    w.swap_outs = c.swap_outs;
    w.swap_ins = c.swap_ins;
    w.fallbacks = c.swap_fallbacks;
    for (const ReqState& r : run.reqs_) w.requests_swapped += r.swaps > 0;
    const double tp = double(s.serving.tp);  // every TP rank copies its share
    w.bytes_out = double(c.swap_blocks_out) * run.swap_.block_bytes * tp;
    w.bytes_in = double(c.swap_blocks_in) * run.swap_.block_bytes * tp;
    w.out_s = c.swap_out_s;
    w.in_s = c.swap_in_s;
    w.host_blocks_per_replica = run.swap_.host_blocks;
    for (const auto& rep : run.replicas_) w.host_peak_blocks = std::max(w.host_peak_blocks, rep->host_peak_blocks);
  }
  R.iterations = run.counters_.iterations;
  R.decode_segments = run.counters_.segments;
  R.scheduling_steps = run.counters_.steps;
  R.batch_full_steps = run.counters_.batch_full_steps;
  R.events = run.engine_.events_processed();
  double block_s = 0;
  std::int64_t peak = 0;
  for (const auto& rep : run.replicas_) {
    block_s += rep->kv_block_seconds;
    peak = std::max(peak, rep->kv_peak_blocks);
  }
  const double blocks = double(R.memory.blocks);
  R.kv_peak_fraction = blocks > 0 ? double(peak) / blocks : 0;
  R.kv_mean_fraction = blocks > 0 && R.duration_s > 0 ? block_s / (blocks * double(R.replicas) * R.duration_s) : 0;
  R.kv_series_bin_s = ps_to_s(run.counters_.kv_bin_ps);
  for (double bps : run.counters_.kv_block_ps)
    R.kv_series_fraction.push_back(blocks > 0 ? bps / (blocks * double(R.replicas) * double(run.counters_.kv_bin_ps))
                                              : 0);
  if (s.serving.prefix_caching) {
    PrefixCacheResult& c = R.prefix_cache;
    c.on = true;
    c.cached_prompt_tokens = run.counters_.cached_prompt_tokens;
    c.prompt_tokens_computed = R.total_input_tokens - c.cached_prompt_tokens;
    c.hit_rate = R.total_input_tokens > 0 ? double(c.cached_prompt_tokens) / double(R.total_input_tokens) : 0;
    c.evicted_blocks = run.counters_.evicted_blocks;
    for (const auto& rep : run.replicas_) {
      const Replica::BlockCensus b = rep->census();
      c.free_blocks_end.push_back(b.free);
      c.cached_blocks_end.push_back(b.cached);
      c.in_use_blocks_end.push_back(b.in_use);
    }
  }
  if (s.serving.has_slo()) R.slo_attainment = slo_attainment(s, R.requests);
  energy_and_cost(s, cost, run.replicas_, R);

  const Profile& p = s.profile;
  R.provenance["profile"] = p.name();
  R.provenance["profile_gpu"] = p.gpu();
  R.provenance["profile_description"] = p.description();
  R.provenance["profile_parameters"] = p.parameters_state();
  R.provenance["profile_origin"] = profile_origin(p);
  R.provenance["system"] = s.cluster.system.name;
  R.provenance["seed"] = s.serving.seed;
  R.provenance["arrivals"] = to_string(s.serving.arrivals.kind);
  R.provenance["lengths"] = s.serving.arrivals.kind == ArrivalKind::trace
                                ? "the trace's rows"
                                : "prompt_tokens " + describe(s.serving.prompt) + "; output_tokens " +
                                      describe(s.serving.output) + "; each clipped to model.seq_len";
  R.provenance["router"] = to_string(s.serving.router);
  if (s.serving.router == RouterKind::shared_queue) R.provenance["max_ongoing"] = s.serving.max_ongoing;
  if (fanout > 1)  // only with fan-out, so results without it are as before
    R.provenance["fanout"] = "each arrival is " + std::to_string(fanout) +
                             " calls at one instant, each with its own lengths, each routed; a group ends with its "
                             "last call";
  if (s.serving.prefix_caching)  // only with it on, so results without it are as before
    R.provenance["prefix_caching"] =
        "per replica, a finished request's full KV blocks (prompt + output - 1 tokens computed) stay cached for its "
        "session, evictable least recently used first; a later request of the session reuses min(cached, shared "
        "prefix, prompt - 1) tokens in whole blocks and prefills the rest after them";
  if (run.swap_.on) {  // only with swap, so results without it are as before
    const Profile::AlphaBeta out = p.link("host_pinned_d2h"), in = p.link("host_pinned_h2d");
    R.provenance["preemption"] =
        "swap: a preempted request's KV blocks copied to host memory (" + std::to_string(run.swap_.host_blocks) +
        " blocks a replica, swap_space_GiB per GPU) at profile " + p.name() + "'s links.host_pinned_d2h (" +
        out.provenance + ") and back at links.host_pinned_h2d (" + in.provenance +
        "), alpha + bytes x beta, each TP rank on its own link; the copies block the step that makes them; with the "
        "host swap space full, recomputed";
  }
  R.provenance["window"] = "every request, from the first arrival to the last token";
  R.provenance["tp_comm"] = cost.tp_comm_note();
  R.provenance["power_model"] =
      p.has_power() ? "profile " + p.name() + " (" + p.power_provenance() + "), " + std::to_string(R.gpus) +
                          " serving GPUs: each iteration at its FLOPs' and bytes' utilization, idle between, over the "
                          "window"
                    : "none: profile " + p.name() + " has no power model (energy fields null)";
  if (s.serving.disaggregated())
    R.provenance["kv_transfer"] =
        "disaggregated: " + std::to_string(s.serving.prefill_replicas) + " prefill and " +
        std::to_string(s.serving.decode_replicas) +
        " decode replicas; each prompt's KV cache (2 x layers x kv_heads x head_dim x 2 bytes a token) sent as tp "
        "flows on the cluster's flow network, sharing links with the other transfers";
  R.provenance["host"] = s.serving.cuda_graphs
                             ? "decode-only iterations replay a CUDA graph (one launch); others launch each kernel"
                             : "eager (--enforce-eager): every kernel launched by the host";
  R.provenance["kernels_per_iteration"] = cost.kernels_per_iteration();
  R.provenance["launch_overhead_s"] = p.launch_overhead_s();
  return R;
}

}  // namespace knee::serving
