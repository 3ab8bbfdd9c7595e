// One serving replica's continuous-batching scheduler, as vLLM v1 runs it (docs/serving.md,
// "Scheduler"): every iteration the running requests first (decodes, and prefills going on in
// chunks), then waiting requests within the token budget; paged KV blocks per request; when
// blocks run out, the newest running request is preempted: recomputed later, or (preemption
// "swap") its blocks copied to host memory and back when it is scheduled again.
//
// Runs of decode-only iterations in which nothing can change (no request finishes, none can be
// admitted, no block runs out) are planned as one segment: the same iterations, timed one by one,
// with one engine event at the end; an arrival cuts the segment at the iteration then running.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <unordered_map>
#include <vector>

#include "common/units.hpp"
#include "workloads/serving/iteration_cost.hpp"
#include "workloads/serving/latency_stats.hpp"

namespace knee::serving {

struct ReqState {
  TimePs arrival = 0, first_sched = -1, first_token = -1, last_token = -1, finish = -1;
  std::int32_t prompt = 0, output = 0;
  std::int32_t generated = 0;  // output tokens emitted
  std::int32_t computed = 0;   // tokens whose KV is in the cache
  std::int32_t target = 0;     // while prefilling: tokens to compute before the next token
  std::int32_t held = 0;       // KV blocks held
  std::int32_t preemptions = 0, replica = -1;
  // Prefix caching: the session (-1 none), the tokens shared with its previous request, and the
  // prompt tokens its first admission found cached (not prefilled).
  std::int32_t session = -1, prefix = 0, cached = 0;
  bool decoding = false;
  // Swap preemption: KV blocks of the request held in the replica's host swap space (0: none; its
  // `computed` tokens come back with them), and its swap-outs.
  std::int32_t swapped = 0, swaps = 0;
  // Disaggregated: the KV cache of the prompt arrived from a prefill replica (admission takes
  // its blocks and decodes; nothing is recomputed); when it left and arrived.
  bool kv_ready = false;
  TimePs kv_sent = -1, kv_arrived = -1;
};

// Counters shared by the replicas of a run.
struct RunCounters {
  std::int64_t iterations = 0, segments = 0, preemptions = 0;
  // Scheduling steps (an iteration, or a decode segment planned as one), and those that began with
  // max_batch sequences running and requests waiting (none could be admitted: the batch limit).
  std::int64_t steps = 0, batch_full_steps = 0;
  std::int64_t cached_prompt_tokens = 0, evicted_blocks = 0;  // prefix caching
  // Swap preemption: swap-outs and swap-ins, preemptions recomputed because the host swap space
  // was full, the blocks copied each way (one GPU's share), and the seconds replicas spent on the
  // copies (each copy once: a replica's TP ranks copy their shares at once, each on its own link).
  std::int64_t swap_outs = 0, swap_ins = 0, swap_fallbacks = 0, swap_blocks_out = 0, swap_blocks_in = 0;
  double swap_out_s = 0, swap_in_s = 0;
  LogHistogram itl;
  // KV blocks in use over time, all replicas: block-picoseconds per bin of kv_bin_ps (grows).
  TimePs kv_bin_ps = 1;
  std::vector<double> kv_block_ps;
};

// Swap preemption's costs (docs/serving.md, "Preemption"): a copy of n KV blocks between a GPU and
// its host's pinned memory takes alpha + beta x n x block_bytes (the profile's host_pinned_d2h or
// host_pinned_h2d link), and blocks the replica's iteration (vLLM V0 swaps in its scheduler step,
// on the model's stream, before the forward).
struct SwapCost {
  bool on = false;
  std::int64_t host_blocks = 0;  // swap space per replica, in blocks (each GPU its own share)
  double block_bytes = 0;        // one block on one GPU: block_tokens x KV bytes per token / tp
  double out_alpha_s = 0, out_beta_s_per_byte = 0, in_alpha_s = 0, in_beta_s_per_byte = 0;
  double out_s(std::int64_t blocks) const { return out_alpha_s + out_beta_s_per_byte * double(blocks) * block_bytes; }
  double in_s(std::int64_t blocks) const { return in_alpha_s + in_beta_s_per_byte * double(blocks) * block_bytes; }
};

class Replica {
 public:
  // prefill_only: a disaggregated prefill replica; a request leaves it with its first token
  // (handoffs()), for a decode replica.
  Replica(const ServingSpec& spec, std::int64_t blocks, IterationCost& cost, std::vector<ReqState>& reqs,
          RunCounters& counters, bool prefill_only = false, const SwapCost& swap = SwapCost{});

  void enqueue(std::int32_t req) { waiting_.push_back(req); }
  bool busy() const { return busy_; }
  // Starts the next iteration (or decode segment) at `now`; its end time, or -1 when idle.
  TimePs start(TimePs now);
  // Completes the iteration or segment that ends at `now`.
  void finish(TimePs now);
  // A request arrived during a decode segment: the segment ends with the iteration running at
  // `now`. The new end time, or -1 when the end is unchanged.
  TimePs cut(TimePs now);
  // Requests whose prefill finished here (prefill_only), since the last call; the caller clears it.
  std::vector<std::int32_t>& handoffs() { return handoffs_; }

  // Blocks at this moment: free, held by the prefix cache, held by requests (counted from the
  // cache's entries and the requests here, not from free_, so a test can check they add up).
  struct BlockCensus {
    std::int64_t free = 0, cached = 0, in_use = 0;
  };
  BlockCensus census() const;

  std::int64_t outstanding_tokens = 0;  // prompt + output of requests routed here, not finished
  std::int64_t ongoing = 0;             // requests delivered here and not finished (or handed off)
  double kv_block_seconds = 0;          // integral of blocks in use over time
  std::int64_t kv_peak_blocks = 0;
  // One GPU of the replica: energy of its finished iterations (the power model at each one's
  // utilization, launch gaps at idle; 0 without a power model) and the time they took.
  double iteration_J = 0;
  TimePs active_ps = 0;
  std::int64_t host_peak_blocks = 0;  // swap: the most host swap blocks in use at once

 private:
  std::int32_t blocks_for(std::int64_t tokens) const {
    return std::int32_t((tokens + spec_.block_tokens - 1) / spec_.block_tokens);
  }
  TimePs start_segment(TimePs now);
  TimePs start_general(TimePs now);
  bool can_admit_front(std::int64_t budget, std::int64_t free_blocks) const;
  // A swapped-out request resumed this step: whether it may (unchunked, its rest of the prompt must
  // fit `budget`), the tokens it computes (that rest, or one decode token, within `budget`) and the
  // blocks it then holds.
  struct Resume {
    bool ok;
    std::int64_t need, blocks;
  };
  Resume swapped_resume(const ReqState& r, std::int64_t budget) const {
    const std::int64_t rem = r.decoding ? 1 : r.target - r.computed;
    if (!spec_.chunked_prefill && rem > budget) return {false, 0, 0};
    const std::int64_t need = std::min(rem, budget);
    return {true, need, blocks_for(r.computed + need)};
  }
  std::int64_t segment_blocks(std::int64_t j) const;  // new blocks the running decodes need for j more
  void preempt(std::int32_t req);
  void swap_in(ReqState& r);
  void emit(ReqState& r, TimePs now);
  void complete(ReqState& r, TimePs now);
  void hand_off(ReqState& r, std::int32_t id);
  void account_kv(TimePs end, std::int64_t used_start, std::int64_t used_end);
  // Prefix caching. Free blocks plus those the cache would give up; blocks in use (neither).
  std::int64_t avail() const { return free_ + cached_; }
  std::int64_t used() const { return blocks_ - free_ - cached_; }
  // Prompt tokens a first admission of r would find cached here (whole blocks), 0 for none.
  std::int32_t cache_hit(const ReqState& r) const;
  void claim_cached(ReqState& r, std::int32_t hit);  // r takes its session's entry (hit tokens of it)
  void reclaim(std::int64_t blocks);                 // evicts until `blocks` are free, LRU first
  void keep_cached(ReqState& r);                     // a finished request's full blocks stay cached

  const ServingSpec& spec_;
  const std::int64_t blocks_;
  std::int64_t free_;
  IterationCost& cost_;
  std::vector<ReqState>& reqs_;
  RunCounters& counters_;
  std::vector<std::int32_t> running_;
  std::deque<std::int32_t> waiting_;
  bool busy_ = false, segment_ = false;
  TimePs start_ps_ = 0;
  std::vector<std::pair<std::int32_t, std::int32_t>> sched_;  // general step: (request, tokens)
  std::vector<TimePs> seg_end_;                               // segment: end of each iteration
  std::vector<double> seg_dt_s_;
  std::vector<double> seg_J_;  // segment: energy of each iteration (one GPU)
  double step_J_ = 0;          // general step: its energy (one GPU)
  std::int64_t used_at_start_ = 0;
  const bool prefill_only_;
  const SwapCost swap_;
  std::int64_t host_free_ = 0;  // swap: free blocks of the host swap space
  double step_copy_s_ = 0;      // general step: its swap copies (before its forward)
  std::vector<std::int32_t> handoffs_;
  // The prefix cache: a session's blocks and when last used; `lru_` orders them by that use.
  struct CacheEntry {
    std::int64_t blocks = 0, use = 0;
  };
  std::unordered_map<std::int32_t, CacheEntry> cache_;
  std::map<std::int64_t, std::int32_t> lru_;  // use -> session
  std::int64_t cached_ = 0, uses_ = 0;
};

}  // namespace knee::serving
