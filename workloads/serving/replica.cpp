// Continuous batching on one replica: general iterations and decode segments.
#include "workloads/serving/replica.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace knee::serving {

namespace {
// Iterations planned per segment at most: a longer run is planned again at its end (bounds the
// work an arrival's cut throws away).
constexpr std::int64_t kMaxSegment = 4096;
constexpr TimePs kMaxKvBins = 4096;  // bins of the KV-use series at most
}  // namespace

Replica::Replica(const ServingSpec& spec, std::int64_t blocks, IterationCost& cost, std::vector<ReqState>& reqs,
                 RunCounters& counters, bool prefill_only, const SwapCost& swap)
    : spec_(spec),
      blocks_(blocks),
      free_(blocks),
      cost_(cost),
      reqs_(reqs),
      counters_(counters),
      prefill_only_(prefill_only),
      swap_(swap),
      host_free_(swap.on ? swap.host_blocks : 0) {}

TimePs Replica::start(TimePs now) {
  busy_ = false;
  if (running_.empty() && waiting_.empty()) return -1;
  ++counters_.steps;
  counters_.batch_full_steps += !waiting_.empty() && std::int64_t(running_.size()) >= spec_.max_batch;
  const bool all_decoding = !running_.empty() && std::all_of(running_.begin(), running_.end(),
                                                             [&](std::int32_t id) { return reqs_[id].decoding; });
  if (all_decoding) {
    const std::int64_t budget = spec_.max_tokens_per_iter - std::int64_t(running_.size());
    const bool admit = !waiting_.empty() && std::int64_t(running_.size()) < spec_.max_batch && budget > 0 &&
                       can_admit_front(budget, avail() - segment_blocks(1));
    if (!admit) {
      const TimePs end = start_segment(now);
      if (end >= 0) return end;
    }
  }
  return start_general(now);
}

bool Replica::can_admit_front(std::int64_t budget, std::int64_t free_blocks) const {
  const ReqState& r = reqs_[waiting_.front()];
  if (r.kv_ready) return blocks_for(std::int64_t(r.prompt) + 1) <= free_blocks;
  if (r.swapped > 0) {  // its blocks back from the host, and any new one its tokens need
    const Resume x = swapped_resume(r, budget);
    return x.ok && x.blocks <= free_blocks;
  }
  const std::int32_t hit = cache_hit(r);  // its blocks are taken, not allocated, and not evictable
  const std::int64_t computed = r.computed + hit, held = r.held + hit / spec_.block_tokens;
  const std::int64_t rem = r.target - computed;
  if (!spec_.chunked_prefill && rem > budget) return false;
  return blocks_for(computed + std::min(rem, budget)) - held <= free_blocks - hit / spec_.block_tokens;
}

std::int64_t Replica::segment_blocks(std::int64_t j) const {
  std::int64_t n = 0;
  for (std::int32_t id : running_) n += blocks_for(reqs_[id].computed + j) - reqs_[id].held;
  return n;
}

TimePs Replica::start_segment(TimePs now) {
  std::int64_t k = kMaxSegment;
  for (std::int32_t id : running_) k = std::min<std::int64_t>(k, reqs_[id].output - reqs_[id].generated);
  if (segment_blocks(k) > avail()) {  // the largest j whose blocks are there (monotone in j)
    std::int64_t lo = 0, hi = k;
    while (hi - lo > 1) {
      const std::int64_t mid = (lo + hi) / 2;
      (segment_blocks(mid) <= avail() ? lo : hi) = mid;
    }
    k = lo;
  }
  if (k <= 0) return -1;
  const std::int64_t D = std::int64_t(running_.size());
  double ctx = 0;
  for (std::int32_t id : running_) ctx += double(reqs_[id].computed) + 1;
  seg_end_.clear();
  seg_dt_s_.clear();
  seg_J_.clear();
  const bool power = cost_.has_power();
  IterationCost::Work fixed;
  if (power) {
    fixed = cost_.dense_work(D);
    fixed += cost_.head_work(D);
  }
  TimePs t = now;
  for (std::int64_t j = 0; j < k; ++j) {
    const double c = ctx + double(j * D);
    double gpu = 0;
    const double dt = cost_.iteration_s(D, cost_.decode_attention_s(c), D, true, &gpu);
    t += s_to_ps_ceil(dt);
    seg_end_.push_back(t);
    seg_dt_s_.push_back(dt);
    if (power) {
      IterationCost::Work w = fixed;
      w += cost_.decode_attention_work(c);
      seg_J_.push_back(cost_.energy_J(dt, gpu, w));
    }
  }
  used_at_start_ = used() + segment_blocks(1);
  segment_ = busy_ = true;
  start_ps_ = now;
  return t;
}

TimePs Replica::start_general(TimePs now) {
  std::int64_t budget = spec_.max_tokens_per_iter, tokens = 0, sampled = 0, chunks = 0;
  double ctx = 0, attn = 0;
  bool preempted = false;
  const bool power = cost_.has_power();
  IterationCost::Work work;  // of the prefill chunks' attention (the rest once the batch is known)
  sched_.clear();
  step_copy_s_ = 0;
  auto take = [&](std::int32_t id, ReqState& r, std::int64_t need, std::int64_t nb) {
    reclaim(nb);
    free_ -= nb;
    r.held += std::int32_t(nb);
    sched_.push_back({id, std::int32_t(need)});
    budget -= need;
    tokens += need;
    if (r.decoding) {
      ctx += double(r.computed) + 1;
      ++sampled;
    } else {
      attn += cost_.prefill_attention_s(need, r.computed);
      if (power) work += cost_.prefill_attention_work(need, r.computed);
      ++chunks;
      if (r.computed + need == r.target) ++sampled;
    }
  };
  for (std::size_t i = 0; i < running_.size() && budget > 0;) {
    const std::int32_t id = running_[i];
    ReqState& r = reqs_[id];
    const std::int64_t need = r.decoding ? 1 : std::min<std::int64_t>(r.target - r.computed, budget);
    const std::int64_t nb = blocks_for(r.computed + need) - r.held;
    bool self = false;
    while (nb > avail() && !self) {  // vLLM v1: preempt the newest running request
      const std::int32_t victim = running_.back();
      running_.pop_back();
      preempt(victim);
      preempted = true;
      self = victim == id;
    }
    if (self) break;
    take(id, r, need, nb);
    ++i;
  }
  // No admissions in a step that preempted (vLLM v1's rule).
  while (!preempted && !waiting_.empty() && std::int64_t(running_.size()) < spec_.max_batch && budget > 0) {
    const std::int32_t id = waiting_.front();
    ReqState& r = reqs_[id];
    if (r.swapped > 0) {  // swapped out: its blocks are copied back and it goes on where it stopped
      const Resume x = swapped_resume(r, budget);
      if (!x.ok || x.blocks > avail()) break;
      waiting_.pop_front();
      running_.push_back(id);
      swap_in(r);
      take(id, r, x.need, x.blocks);
      continue;
    }
    if (r.kv_ready) {  // its prompt's KV arrived: blocks for it and a decode token, no recomputation
      const std::int64_t nb = blocks_for(std::int64_t(r.prompt) + 1);
      if (nb > avail()) break;
      waiting_.pop_front();
      running_.push_back(id);
      r.kv_ready = false;
      r.computed = r.target = r.prompt;
      r.decoding = true;
      take(id, r, 1, nb);
      continue;
    }
    // A cache hit: its tokens are neither prefilled nor allocated; the rest is prefilled after them.
    const std::int32_t hit = cache_hit(r);
    const std::int64_t hit_blocks = hit / spec_.block_tokens;
    const std::int64_t rem = r.target - (r.computed + hit);
    if (!spec_.chunked_prefill && rem > budget) break;
    const std::int64_t need = std::min(rem, budget);
    const std::int64_t nb = blocks_for(r.computed + hit + need) - (r.held + hit_blocks);
    if (nb > avail() - hit_blocks) break;
    waiting_.pop_front();
    running_.push_back(id);
    if (r.first_sched < 0) r.first_sched = now;
    if (hit > 0) claim_cached(r, hit);
    take(id, r, need, nb);
  }
  if (sched_.empty()) throw std::logic_error("serving replica: nothing schedulable with requests waiting");
  double gpu = 0;
  // The step's swap copies run before its forward, on the same stream (the GPU idle meanwhile).
  const double dt =
      step_copy_s_ + cost_.iteration_s(tokens, cost_.decode_attention_s(ctx) + attn, sampled, chunks == 0, &gpu);
  step_J_ = 0;
  if (power) {
    work += cost_.dense_work(tokens);
    work += cost_.head_work(sampled);
    work += cost_.decode_attention_work(ctx);
    step_J_ = cost_.energy_J(dt, gpu, work);
  }
  used_at_start_ = used();
  busy_ = true;
  segment_ = false;
  start_ps_ = now;
  return now + s_to_ps_ceil(dt);
}

void Replica::preempt(std::int32_t id) {
  ReqState& r = reqs_[id];
  if (swap_.on && r.held > 0) {
    if (r.held <= host_free_) {  // its blocks to host memory, before this step's forward
      const std::int64_t n = r.held;
      host_free_ -= n;
      host_peak_blocks = std::max(host_peak_blocks, swap_.host_blocks - host_free_);
      const double t = swap_.out_s(n);
      step_copy_s_ += t;
      counters_.swap_out_s += t;
      ++counters_.swap_outs;
      counters_.swap_blocks_out += n;
      free_ += n;
      r.held = 0;
      r.swapped = std::int32_t(n);
      ++r.swaps;
      ++r.preemptions;
      ++counters_.preemptions;
      waiting_.push_front(id);
      return;
    }
    ++counters_.swap_fallbacks;  // the host swap space is full: recomputed instead
  }
  free_ += r.held;
  r.held = 0;
  r.computed = 0;
  r.decoding = false;
  r.target = r.prompt + r.generated;  // recomputation: prompt and the tokens generated so far
  ++r.preemptions;
  ++counters_.preemptions;
  waiting_.push_front(id);
}

// A swapped request's blocks come back (take() allocates them on the GPU): the copy joins the step.
void Replica::swap_in(ReqState& r) {
  const std::int64_t n = r.swapped;
  host_free_ += n;
  const double t = swap_.in_s(n);
  step_copy_s_ += t;
  counters_.swap_in_s += t;
  ++counters_.swap_ins;
  counters_.swap_blocks_in += n;
  r.swapped = 0;
}

void Replica::emit(ReqState& r, TimePs now) {
  ++r.generated;
  if (r.first_token < 0) r.first_token = now;
  else counters_.itl.add(ps_to_s(now - r.last_token));
  r.last_token = now;
}

void Replica::complete(ReqState& r, TimePs now) {
  if (spec_.prefix_caching && r.session >= 0) keep_cached(r);
  free_ += r.held;
  r.held = 0;
  r.finish = now;
  outstanding_tokens -= std::int64_t(r.prompt) + r.output;
  --ongoing;
}

void Replica::hand_off(ReqState& r, std::int32_t id) {
  free_ += r.held;
  r.held = 0;
  outstanding_tokens -= std::int64_t(r.prompt) + r.output;
  --ongoing;
  handoffs_.push_back(id);
}

// Blocks in use from start_ps_ to `end`, going from a to b linearly (a segment's blocks grow a
// token at a time; an iteration's are allocated at its start): the trapezoid, and its mean spread
// over the time bins the interval overlaps.
void Replica::account_kv(TimePs end, std::int64_t a, std::int64_t b) {
  const double mean = 0.5 * double(a + b);
  kv_block_seconds += mean * ps_to_s(end - start_ps_);
  kv_peak_blocks = std::max({kv_peak_blocks, a, b});
  auto& bins = counters_.kv_block_ps;
  TimePs& w = counters_.kv_bin_ps;
  while (end / w >= kMaxKvBins) {  // twice as wide, half as many
    for (std::size_t i = 0; i < bins.size(); ++i) bins[i / 2] = (i % 2 ? bins[i / 2] : 0) + bins[i];
    bins.resize((bins.size() + 1) / 2);
    w *= 2;
  }
  for (TimePs t = start_ps_; t < end;) {
    const std::size_t i = std::size_t(t / w);
    const TimePs stop = std::min(end, TimePs(i + 1) * w);
    if (bins.size() <= i) bins.resize(i + 1, 0);
    bins[i] += mean * double(stop - t);
    t = stop;
  }
}

void Replica::finish(TimePs now) {
  busy_ = false;
  active_ps += now - start_ps_;
  if (segment_) {
    const std::int32_t k = std::int32_t(seg_end_.size());
    for (std::size_t j = 0; j < seg_J_.size() && j < seg_end_.size(); ++j) iteration_J += seg_J_[j];
    const double D = double(running_.size());
    for (double dt : seg_dt_s_) counters_.itl.add(dt, D);  // every running request, every iteration
    counters_.iterations += k;
    ++counters_.segments;
    for (std::int32_t id : running_) {
      ReqState& r = reqs_[id];
      r.computed += k;
      r.generated += k;
      const std::int32_t held = blocks_for(r.computed);
      reclaim(held - r.held);
      free_ -= held - r.held;
      r.held = held;
      r.last_token = now;
    }
    account_kv(now, used_at_start_, used());
    segment_ = false;
  } else {
    for (auto [id, n] : sched_) {
      ReqState& r = reqs_[id];
      r.computed += n;
      if (r.decoding) {
        emit(r, now);
      } else if (r.computed == r.target) {
        r.decoding = true;
        emit(r, now);
      }
    }
    account_kv(now, used_at_start_, used_at_start_);
    ++counters_.iterations;
    iteration_J += step_J_;
  }
  std::size_t w = 0;
  for (std::int32_t id : running_) {
    ReqState& r = reqs_[id];
    if (r.generated >= r.output) complete(r, now);
    else if (prefill_only_ && r.decoding) hand_off(r, id);
    else running_[w++] = id;
  }
  running_.resize(w);
}

// Only a first admission looks: a preempted request recomputes (its session's entry, if any, was
// claimed when it was first admitted). At least one prompt token is left to compute, for the
// logits of the first output token (vLLM caps a hit at prompt - 1 tokens too).
std::int32_t Replica::cache_hit(const ReqState& r) const {
  if (!spec_.prefix_caching || r.session < 0 || r.prefix <= 0 || r.first_sched >= 0 || r.computed > 0) return 0;
  const auto it = cache_.find(r.session);
  if (it == cache_.end()) return 0;
  const std::int64_t B = spec_.block_tokens;
  const std::int64_t shared = std::min<std::int64_t>(r.prefix, std::int64_t(r.prompt) - 1) / B * B;
  return std::int32_t(std::min(it->second.blocks * B, shared));
}

// The session's whole entry leaves the cache: the hit's blocks become the request's, the rest (a
// prompt that diverges from the previous context before the entry ends) are freed.
void Replica::claim_cached(ReqState& r, std::int32_t hit) {
  const auto it = cache_.find(r.session);
  const std::int64_t hb = hit / spec_.block_tokens;
  cached_ -= it->second.blocks;
  free_ += it->second.blocks - hb;
  lru_.erase(it->second.use);
  cache_.erase(it);
  r.computed = hit;
  r.held = std::int32_t(hb);
  r.cached = hit;
  counters_.cached_prompt_tokens += hit;
}

// vLLM evicts the least recently used free block, taking a chain from its tail: here an entry
// gives up blocks from its end (its prefix stays usable) until enough are free.
void Replica::reclaim(std::int64_t blocks) {
  while (free_ < blocks) {
    if (lru_.empty()) throw std::logic_error("serving replica: KV blocks allocated beyond the cache");
    const auto oldest = lru_.begin();
    CacheEntry& e = cache_.at(oldest->second);
    const std::int64_t n = std::min(e.blocks, blocks - free_);
    e.blocks -= n;
    cached_ -= n;
    free_ += n;
    counters_.evicted_blocks += n;
    if (e.blocks == 0) {
      cache_.erase(oldest->second);
      lru_.erase(oldest);
    }
  }
}

// The full blocks of the tokens whose KV was computed (prompt + output - 1: the last token is
// sampled, never fed back) replace the session's entry, as its newest context.
void Replica::keep_cached(ReqState& r) {
  const std::int64_t keep = std::min<std::int64_t>(r.held, r.computed / spec_.block_tokens);
  if (const auto it = cache_.find(r.session); it != cache_.end()) {  // an older request of the session
    cached_ -= it->second.blocks;
    free_ += it->second.blocks;
    lru_.erase(it->second.use);
    cache_.erase(it);
  }
  if (keep <= 0) return;
  const std::int64_t use = uses_++;
  cache_[r.session] = CacheEntry{keep, use};
  lru_[use] = r.session;
  cached_ += keep;
  r.held -= std::int32_t(keep);
}

Replica::BlockCensus Replica::census() const {
  BlockCensus c;
  c.free = free_;
  for (const auto& kv : cache_) c.cached += kv.second.blocks;
  for (std::int32_t id : running_) c.in_use += reqs_[id].held;
  for (std::int32_t id : waiting_) c.in_use += reqs_[id].held;
  return c;
}

TimePs Replica::cut(TimePs now) {
  if (!busy_ || !segment_) return -1;
  const std::size_t j = std::size_t(std::lower_bound(seg_end_.begin(), seg_end_.end(), now) - seg_end_.begin());
  if (j + 1 >= seg_end_.size()) return -1;
  seg_end_.resize(j + 1);
  seg_dt_s_.resize(j + 1);
  return seg_end_.back();
}

}  // namespace knee::serving
