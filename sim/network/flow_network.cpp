#include "sim/network/flow_network.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "common/error.hpp"

namespace knee {

namespace {

constexpr double kPsPerSecond = 1e12;
constexpr double kInf = std::numeric_limits<double>::infinity();
// A link whose load is within this fraction of its capacity counts as saturated. Calling a link
// saturated when it has a sliver of slack only widens the re-solved set, so erring high is safe.
constexpr double kSaturatedTol = 1e-9;
// A flow whose remaining bytes are this small a fraction of its size is done: rounding of the
// lazy byte updates must never leave a zombie flow with a few femto-bytes to send.
constexpr double kDoneTol = 1e-11;
// Durations are rounded up to whole ps after shaving this relative amount, so that a quotient
// such as 1e7 + 2e-9 that is exact in the model does not become 1e7 + 1 ps.
constexpr double kCeilTol = 1e-13;
// Links with at most this many flows get their load summed afresh when a rate on them changes;
// busier links are updated by the difference, so that a departure from a link shared by thousands
// of flows costs O(1) there rather than a pass over all of them. The drift that incremental sums
// accumulate stays many orders below kSaturatedTol, and an emptied link restarts from 0.
constexpr std::size_t kExactLoadFlows = 16;

enum Tag : std::uint32_t { kActivate = 1, kResolve = 2, kComplete = 3 };
enum class Phase : std::uint8_t { kFree, kLatency, kActive };

const char* kSource = "network";

std::string link_path(std::size_t i, const char* field) { return "links[" + std::to_string(i) + "]." + field; }

std::string number_text(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return std::to_string(v);
}

void check_capacity(double c, const std::string& path) {
  if (!std::isfinite(c) || c <= 0) throw_input_error(kSource, path, "a finite capacity > 0 B/s", number_text(c));
}

}  // namespace

struct FlowNetwork::Impl final : EventSink {
  struct Flow {
    // What the solver reads comes first, to share a cache line.
    std::vector<LinkId> path;
    std::uint32_t in_set = 0;  // == epoch: the flow's rate is being re-solved
    double new_rate = 0;       // the solver's result, committed into rate
    double rate = 0;           // committed rate
    double cap = kInf;
    std::vector<std::uint32_t> pos;  // index of this flow in links[path[i]].flows
    double size = 0;
    double remaining = 0;  // bytes left at last_ps
    TimePs last_ps = 0;
    FlowDone notify{};
    std::uint64_t seq = 0;      // start order: ties between completions break on it
    std::uint32_t gen = 0;      // bumped when the slot is freed, so old FlowIds go stale
    std::uint32_t version = 0;  // bumped when the completion time changes (heap entries)
    Phase phase = Phase::kFree;
  };
  struct LinkRef {
    std::uint32_t slot;
    std::uint32_t hop;  // index into the flow's path
  };
  struct Link {
    double capacity = 0;
    double load = 0;   // sum of committed rates
    double bytes = 0;  // bytes carried, up to each flow's last_ps
    TimePs latency = 0;
    std::vector<LinkRef> flows;  // flows in the bandwidth phase
    std::uint32_t expanded = 0;  // == epoch: all its flows are in the re-solved set
  };
  struct LinkSlot {           // kept apart from Link: the solver's hottest per-link data stays in cache
    double capacity = 0;      // a copy of Link::capacity
    std::uint32_t round = 0;  // == round: a constraint of the current water-filling
    std::uint32_t local = 0;  // its index in the round's arrays
  };
  struct Done {  // completion heap entry; stale when the flow's version moved on
    TimePs time;
    std::uint64_t seq;
    std::uint32_t slot;
    std::uint32_t version;
  };
  struct Share {  // water-filling heap entry: fair share a link gives its unfrozen flows
    double share;
    LinkId link;
    std::uint32_t local;
  };

  Engine& engine;
  SinkId sink;
  std::vector<Link> links;
  std::vector<LinkSlot> link_slot;
  std::vector<Flow> flows;
  std::vector<std::uint32_t> free_slots;
  std::vector<Done> done_heap;
  EventId armed_id = 0;
  TimePs armed_time = kTimeNever;
  bool resolve_armed = false;
  std::uint64_t next_seq = 0;
  std::size_t in_flight = 0;
  std::size_t active_count = 0;  // flows in the bandwidth phase
  std::uint64_t completed = 0;
  double delivered = 0;  // bytes, up to each flow's last_ps

  // Work lists of the selective update.
  std::vector<std::uint32_t> pending;  // activated flows not yet solved
  std::vector<LinkId> forced;          // links whose flows must all be re-solved
  std::uint32_t epoch = 0, round = 0;
  std::vector<std::uint32_t> set;       // flows being re-solved
  std::vector<LinkId> queue;            // links to examine for expansion
  std::vector<LinkId> constraint;       // links crossed by the set (this round)
  std::vector<double> rem;              // per constraint link: capacity left
  std::vector<std::uint32_t> unfrozen;  // per constraint link: unfrozen flows of the set
  std::vector<bool> saturated_now;      // per constraint link: its share was taken
  std::vector<double> set_rate;         // per constraint link: committed rates of its set flows
  std::vector<double> cap_sum;          // per constraint link: caps of its set flows (inf: uncapped)
  std::vector<Share> shares;
  struct Capped {
    double cap;
    std::uint64_t seq;
    std::uint32_t local;
  };
  std::vector<Capped> capped;
  // Compact copy of the set for one water-filling (local flow j = set[j], local link i).
  std::vector<std::uint32_t> path_begin, path_local;  // flow j's links: path_local[path_begin[j]..]
  std::vector<std::uint32_t> link_begin, link_flows;  // link i's set flows: link_flows[link_begin[i]..]
  std::vector<std::uint32_t> fill_at;
  std::vector<double> local_rate;
  std::vector<std::uint8_t> local_frozen;
  std::size_t unfrozen_flows = 0;
  std::vector<std::uint32_t> finishing;

  Impl(Engine& e, std::vector<DirectedLink> in) : engine(e) {
    links.resize(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
      check_capacity(in[i].capacity_Bps, link_path(i, "capacity_Bps"));
      if (in[i].latency_ps < 0)
        throw_input_error(kSource, link_path(i, "latency_ps"), "a latency >= 0 ps", std::to_string(in[i].latency_ps));
      links[i].capacity = in[i].capacity_Bps;
      links[i].latency = in[i].latency_ps;
    }
    link_slot.resize(links.size());
    for (std::size_t i = 0; i < links.size(); ++i) link_slot[i].capacity = links[i].capacity;
    sink = engine.add_sink(this);
  }

  static FlowId make_id(std::uint32_t slot, std::uint32_t gen) { return (static_cast<FlowId>(gen) << 32) | slot; }
  const Flow* find(FlowId id) const {
    std::uint32_t slot = static_cast<std::uint32_t>(id & 0xffffffffu);
    if (slot >= flows.size()) return nullptr;
    const Flow& f = flows[slot];
    if (f.phase == Phase::kFree || f.gen != static_cast<std::uint32_t>(id >> 32)) return nullptr;
    return &f;
  }
  void check_link(LinkId l, const char* what) const {
    if (l >= links.size())
      throw_input_error(kSource, what, "a link id below " + std::to_string(links.size()), std::to_string(l));
  }
  bool saturated(const Link& l) const { return l.load >= l.capacity * (1 - kSaturatedTol); }
  static double sent_between(const Flow& f, TimePs now) {
    if (now <= f.last_ps || f.rate <= 0) return 0;
    return std::min(f.remaining, f.rate * static_cast<double>(now - f.last_ps) / kPsPerSecond);
  }

  void credit(Flow& f, double b) {
    if (b <= 0) return;
    for (LinkId l : f.path) links[l].bytes += b;
    delivered += b;
  }
  // Brings a flow's remaining bytes to now() (lazy update: only when its rate is about to change).
  void advance(Flow& f) {
    TimePs now = engine.now();
    double b = sent_between(f, now);
    f.remaining -= b;
    credit(f, b);
    f.last_ps = now;
  }

  // ---- Flow lifecycle ----------------------------------------------------------------------

  FlowId start(std::vector<LinkId> path, Bytes size, FlowDone notify, BytesPerSec cap) {
    for (std::size_t i = 0; i < path.size(); ++i) {
      std::string where = "path[" + std::to_string(i) + "]";
      check_link(path[i], where.c_str());
      for (std::size_t j = 0; j < i; ++j)
        if (path[j] == path[i])
          throw_input_error(kSource, where, "a path without repeated links",
                            "link " + std::to_string(path[i]) + " again");
    }
    if (size < 0) throw_input_error(kSource, "size", "a size >= 0 bytes", std::to_string(size));
    if (std::isnan(cap)) throw_input_error(kSource, "max_rate_Bps", "a rate cap (<= 0 for none)", "nan");
    std::uint32_t slot;
    if (!free_slots.empty()) {
      slot = free_slots.back();
      free_slots.pop_back();
    } else {
      slot = static_cast<std::uint32_t>(flows.size());
      flows.emplace_back();
      flows.back().gen = 1;
    }
    Flow& f = flows[slot];
    f.path = std::move(path);
    f.pos.assign(f.path.size(), 0);
    f.size = static_cast<double>(size);
    f.remaining = f.size;
    f.rate = 0;
    f.cap = cap > 0 ? cap : kInf;
    f.notify = notify;
    f.seq = ++next_seq;
    ++in_flight;
    TimePs latency = 0;
    for (LinkId l : f.path) latency += links[l].latency;
    FlowId id = make_id(slot, f.gen);
    if (latency > 0) {
      f.phase = Phase::kLatency;
      engine.schedule_in(latency, sink, kActivate, id);
    } else {
      activate(slot);
    }
    return id;
  }

  void activate(std::uint32_t slot) {
    Flow& f = flows[slot];
    f.last_ps = engine.now();
    if (f.size == 0 || (f.path.empty() && f.cap == kInf)) {
      f.phase = Phase::kActive;  // finish() expects it
      finish(slot);
      return;
    }
    f.phase = Phase::kActive;
    ++active_count;
    for (std::size_t h = 0; h < f.path.size(); ++h) {
      Link& l = links[f.path[h]];
      f.pos[h] = static_cast<std::uint32_t>(l.flows.size());
      l.flows.push_back({slot, static_cast<std::uint32_t>(h)});
    }
    pending.push_back(slot);
    if (!resolve_armed) {
      resolve_armed = true;
      engine.schedule_at(engine.now(), sink, kResolve);
    }
  }

  // Credits the flow's last bytes, notifies and frees its slot. Links must be detached already.
  void finish(std::uint32_t slot) {
    Flow& f = flows[slot];
    credit(f, f.remaining);
    f.remaining = 0;
    f.rate = 0;
    f.phase = Phase::kFree;
    ++f.gen;
    ++f.version;
    --in_flight;
    ++completed;
    engine.schedule_at(engine.now(), f.notify.sink, f.notify.tag, f.notify.payload);
    free_slots.push_back(slot);
  }

  void detach(std::uint32_t slot) {
    Flow& f = flows[slot];
    for (std::size_t h = 0; h < f.path.size(); ++h) {
      Link& l = links[f.path[h]];
      std::uint32_t p = f.pos[h];
      LinkRef moved = l.flows.back();
      l.flows[p] = moved;
      flows[moved.slot].pos[moved.hop] = p;
      l.flows.pop_back();
    }
    --active_count;
  }

  void recompute_load(Link& l) {
    double s = 0;
    for (const LinkRef& r : l.flows) s += flows[r.slot].rate;
    l.load = s;
  }
  // A rate on the link changed by delta (its flow list already updated).
  void adjust_load(Link& l, double delta) {
    if (l.flows.size() <= kExactLoadFlows) recompute_load(l);
    else l.load += delta;
  }

  // ---- Completion heap and the one pending engine event ------------------------------------

  struct Later {
    bool operator()(const Done& a, const Done& b) const {
      return a.time > b.time || (a.time == b.time && a.seq > b.seq);
    }
  };
  static constexpr Later later{};
  bool stale(const Done& d) const {
    const Flow& f = flows[d.slot];
    return f.phase != Phase::kActive || f.version != d.version;
  }
  void push_done(const Done& d) {
    done_heap.push_back(d);
    std::push_heap(done_heap.begin(), done_heap.end(), later);
  }
  void pop_done() {
    std::pop_heap(done_heap.begin(), done_heap.end(), later);
    done_heap.pop_back();
  }
  // Sets the flow's completion from its remaining bytes and rate, both current at now().
  void schedule_finish(std::uint32_t slot) {
    Flow& f = flows[slot];
    ++f.version;
    if (f.rate <= 0) return;  // waits for a re-solve
    TimePs now = engine.now();
    TimePs t;
    if (f.remaining <= f.size * kDoneTol) {
      t = now;
    } else {
      double dur = f.remaining * kPsPerSecond / f.rate;
      dur = std::ceil(dur - dur * kCeilTol);
      if (dur >= static_cast<double>(kTimeNever - now)) return;  // never, in practice
      t = now + static_cast<TimePs>(dur);
    }
    push_done({t, f.seq, slot, f.version});
  }
  void arm() {
    while (!done_heap.empty() && stale(done_heap.front())) pop_done();
    if (done_heap.size() > 2 * active_count + 1024) {  // shed stale entries in bulk
      std::erase_if(done_heap, [&](const Done& d) { return stale(d); });
      std::make_heap(done_heap.begin(), done_heap.end(), later);
    }
    TimePs t = done_heap.empty() ? kTimeNever : done_heap.front().time;
    if (t == armed_time) return;
    if (armed_id != 0) engine.cancel(armed_id);
    armed_id = 0;
    armed_time = t;
    if (t != kTimeNever) armed_id = engine.schedule_at(t, sink, kComplete);
  }

  void handle(Engine&, std::uint32_t tag, std::uint64_t payload) override {
    switch (tag) {
      case kActivate: {
        std::uint32_t slot = static_cast<std::uint32_t>(payload & 0xffffffffu);
        activate(slot);
        break;
      }
      case kResolve:
        resolve_armed = false;
        if (!pending.empty() || !forced.empty()) {
          update();
          arm();
        }
        break;
      case kComplete:
        armed_id = 0;
        armed_time = kTimeNever;
        complete_due();
        arm();
        break;
    }
  }

  void complete_due() {
    TimePs now = engine.now();
    finishing.clear();
    while (!done_heap.empty() && done_heap.front().time <= now) {
      Done d = done_heap.front();
      pop_done();
      if (!stale(d)) finishing.push_back(d.slot);
    }
    if (finishing.empty()) return;
    std::sort(finishing.begin(), finishing.end(),
              [&](std::uint32_t a, std::uint32_t b) { return flows[a].seq < flows[b].seq; });
    // Links saturated before the departures: the freed capacity goes to their other flows.
    for (std::uint32_t s : finishing)
      for (LinkId l : flows[s].path)
        if (saturated(links[l])) forced.push_back(l);
    for (std::uint32_t s : finishing) {
      detach(s);
      const double r = flows[s].rate;
      flows[s].rate = 0;
      for (LinkId l : flows[s].path) adjust_load(links[l], -r);
    }
    for (std::uint32_t s : finishing) finish(s);
    update();
  }

  // ---- Max-min solver ----------------------------------------------------------------------
  //
  // The selective update re-solves a set V of flows with every other flow's rate held fixed. V
  // grows until it is closed: every link crossed by V that is saturated, before or after the
  // solve, has all its flows in V. Then flows outside V keep a valid bottleneck (saturated, where
  // they have the largest rate) and so do flows in V, which makes the union the global max-min
  // allocation. Links with slack never propagate a change, which keeps V small in practice.

  void next_epoch() {
    if (++epoch == 0) {  // wrapped: clear the stamps once every 2^32 updates
      for (Flow& f : flows) f.in_set = 0;
      for (Link& l : links) l.expanded = 0;
      epoch = 1;
    }
  }
  void add_to_set(std::uint32_t slot) {
    Flow& f = flows[slot];
    if (f.in_set == epoch) return;
    f.in_set = epoch;
    set.push_back(slot);
    for (LinkId l : f.path) queue.push_back(l);
  }
  void expand_link(LinkId id) {
    Link& l = links[id];
    if (l.expanded == epoch) return;
    l.expanded = epoch;
    for (const LinkRef& r : l.flows) add_to_set(r.slot);
  }
  void close_over_saturated() {
    for (std::size_t i = 0; i < queue.size(); ++i) {
      LinkId l = queue[i];
      if (links[l].expanded != epoch && saturated(links[l])) expand_link(l);
    }
    queue.clear();
  }

  void update() {
    next_epoch();
    set.clear();
    queue.clear();
    for (std::uint32_t s : pending) add_to_set(s);
    for (LinkId l : forced) expand_link(l);
    pending.clear();
    forced.clear();
    while (true) {
      close_over_saturated();
      if (set.empty()) return;
      water_fill();
      bool grew = false;
      for (std::size_t i = 0; i < constraint.size(); ++i) {
        LinkId id = constraint[i];
        Link& l = links[id];
        if (l.expanded == epoch) continue;
        if (rem[i] > l.capacity * kSaturatedTol) continue;  // still has slack
        for (const LinkRef& r : l.flows)
          if (flows[r.slot].in_set != epoch) {  // newly saturated with fixed flows on it
            expand_link(id);
            grew = true;
            break;
          }
      }
      if (!grew) break;
    }
    commit();
  }

  struct ShareAfter {  // a function object, so the heap algorithms inline it
    bool operator()(const Share& a, const Share& b) const {
      return a.share > b.share || (a.share == b.share && a.link > b.link);
    }
  };
  static constexpr ShareAfter share_after{};
  double share_of(std::uint32_t i) const { return (rem[i] > 0 ? rem[i] : 0) / unfrozen[i]; }
  // Fixes local flow j (index into set) at `rate` and takes it off its links.
  void freeze(std::uint32_t j, double rate) {
    local_rate[j] = rate;
    local_frozen[j] = 1;
    --unfrozen_flows;
    for (std::uint32_t k = path_begin[j]; k < path_begin[j + 1]; ++k) {
      const std::uint32_t i = path_local[k];
      rem[i] -= rate;
      --unfrozen[i];
    }
  }
  // Drops finished links from the top of the share heap and refreshes stale keys. Freezing a flow
  // at the current level never lowers a link's share ((rem - x) / (n - 1) >= rem / n when
  // x <= rem / n), so a key is at most the link's true share and the heap is refreshed lazily:
  // once the top's key is current, it is the smallest share.
  void settle_top() {
    while (!shares.empty()) {
      std::uint32_t i = shares.front().local;
      if (saturated_now[i] || unfrozen[i] == 0) {
        std::pop_heap(shares.begin(), shares.end(), share_after);
        shares.pop_back();
        continue;
      }
      double cur = share_of(i);
      if (cur <= shares.front().share) return;
      std::pop_heap(shares.begin(), shares.end(), share_after);
      shares.back().share = cur;
      std::push_heap(shares.begin(), shares.end(), share_after);
    }
  }

  // Progressive filling of the set's rates; the other flows' rates are subtracted from capacity.
  // The set is first copied into compact arrays (each flow's path as local link indices, each
  // link's set flows as local flow indices), so that filling touches no Flow or Link record.
  void water_fill() {
    if (++round == 0) {
      for (LinkSlot& l : link_slot) l.round = 0;
      round = 1;
    }
    constraint.clear();
    rem.clear();
    unfrozen.clear();
    saturated_now.clear();
    capped.clear();
    set_rate.clear();
    cap_sum.clear();
    path_begin.clear();
    path_local.clear();
    for (std::uint32_t j = 0; j < set.size(); ++j) {
      const Flow& f = flows[set[j]];
      if (f.cap != kInf) capped.push_back({f.cap, f.seq, j});
      path_begin.push_back(static_cast<std::uint32_t>(path_local.size()));
      for (LinkId id : f.path) {
        LinkSlot& l = link_slot[id];
        if (l.round != round) {
          l.round = round;
          l.local = static_cast<std::uint32_t>(constraint.size());
          constraint.push_back(id);
          rem.push_back(l.capacity);
          unfrozen.push_back(0);
          saturated_now.push_back(false);
          set_rate.push_back(0);
          cap_sum.push_back(0);
        }
        const std::uint32_t i = l.local;
        path_local.push_back(i);
        ++unfrozen[i];
        set_rate[i] += f.rate;
        cap_sum[i] += f.cap;
      }
    }
    path_begin.push_back(static_cast<std::uint32_t>(path_local.size()));
    // Each link's set flows, in set order (a counting sort of path_local).
    const std::size_t L = constraint.size();
    link_begin.assign(L + 1, 0);
    for (std::size_t i = 0; i < L; ++i) link_begin[i + 1] = link_begin[i] + unfrozen[i];
    link_flows.resize(path_local.size());
    fill_at.assign(link_begin.begin(), link_begin.end() - 1);
    for (std::uint32_t j = 0; j < set.size(); ++j)
      for (std::uint32_t k = path_begin[j]; k < path_begin[j + 1]; ++k) link_flows[fill_at[path_local[k]]++] = j;
    // Capacity left by the flows outside the set: summed over them on quiet links, from the
    // link's load on busy ones (where only a few of thousands of flows may be outside the set).
    for (std::size_t i = 0; i < L; ++i) {
      const Link& l = links[constraint[i]];
      if (unfrozen[i] == l.flows.size()) continue;
      if (l.flows.size() <= kExactLoadFlows) {
        for (const LinkRef& r : l.flows)
          if (flows[r.slot].in_set != epoch) rem[i] -= flows[r.slot].rate;
      } else {
        rem[i] -= std::max(0.0, l.load - set_rate[i]);
      }
    }
    std::sort(capped.begin(), capped.end(),
              [](const Capped& a, const Capped& b) { return a.cap < b.cap || (a.cap == b.cap && a.seq < b.seq); });
    // A link that keeps slack with every set flow at its cap can bind none of them: it stays out
    // of the share heap (its rem is still tracked, for the closure test in update()).
    shares.clear();
    for (std::uint32_t i = 0; i < L; ++i)
      if (!(rem[i] - cap_sum[i] > link_slot[constraint[i]].capacity * kSaturatedTol))
        shares.push_back({share_of(i), constraint[i], i});
    std::make_heap(shares.begin(), shares.end(), share_after);
    local_rate.assign(set.size(), 0.0);
    local_frozen.assign(set.size(), 0);
    std::size_t next_cap = 0;
    unfrozen_flows = set.size();
    while (unfrozen_flows > 0) {
      settle_top();
      while (next_cap < capped.size() && local_frozen[capped[next_cap].local]) ++next_cap;
      bool have_link = !shares.empty(), have_cap = next_cap < capped.size();
      if (!have_link && !have_cap) break;
      if (have_cap && (!have_link || capped[next_cap].cap <= shares.front().share)) {
        const Capped& c = capped[next_cap++];
        freeze(c.local, c.cap);
        continue;
      }
      std::uint32_t i = shares.front().local;
      std::pop_heap(shares.begin(), shares.end(), share_after);
      shares.pop_back();
      double level = share_of(i);  // never above the key: no rounding past capacity
      saturated_now[i] = true;
      for (std::uint32_t k = link_begin[i]; k < link_begin[i + 1]; ++k)
        if (!local_frozen[link_flows[k]]) freeze(link_flows[k], level);
    }
    for (std::uint32_t j = 0; j < set.size(); ++j) flows[set[j]].new_rate = local_rate[j];
  }

  void commit() {
    for (std::uint32_t s : set) {
      Flow& f = flows[s];
      if (f.new_rate == f.rate && f.rate > 0) continue;  // unchanged: keep its lazy state
      advance(f);
      const double delta = f.new_rate - f.rate;
      f.rate = f.new_rate;
      for (LinkId l : f.path) adjust_load(links[l], delta);
      schedule_finish(s);
    }
  }

  void solve_all() {
    next_epoch();
    set.clear();
    pending.clear();
    forced.clear();
    for (std::uint32_t s = 0; s < flows.size(); ++s)
      if (flows[s].phase == Phase::kActive) {
        flows[s].in_set = epoch;
        set.push_back(s);
      }
    if (set.empty()) return;
    water_fill();
    commit();
    arm();
  }
};

FlowNetwork::FlowNetwork(Engine& engine, std::vector<DirectedLink> links)
    : impl_(std::make_unique<Impl>(engine, std::move(links))) {}
FlowNetwork::~FlowNetwork() = default;

FlowId FlowNetwork::start_flow(std::vector<LinkId> path, Bytes size, FlowDone notify, BytesPerSec max_rate_Bps) {
  return impl_->start(std::move(path), size, notify, max_rate_Bps);
}

BytesPerSec FlowNetwork::rate_Bps(FlowId flow) const {
  const Impl::Flow* f = impl_->find(flow);
  return f && f->phase == Phase::kActive ? f->rate : 0;
}

double FlowNetwork::link_bytes(LinkId link) const {
  impl_->check_link(link, "link");
  const Impl::Link& l = impl_->links[link];
  double b = l.bytes;
  TimePs now = impl_->engine.now();
  for (const Impl::LinkRef& r : l.flows) b += Impl::sent_between(impl_->flows[r.slot], now);
  return b;
}

BytesPerSec FlowNetwork::link_load_Bps(LinkId link) const {
  impl_->check_link(link, "link");
  return impl_->links[link].load;
}

BytesPerSec FlowNetwork::link_capacity_Bps(LinkId link) const {
  impl_->check_link(link, "link");
  return impl_->links[link].capacity;
}

std::size_t FlowNetwork::active_flows() const { return impl_->in_flight; }
std::uint64_t FlowNetwork::flows_completed() const { return impl_->completed; }

double FlowNetwork::bytes_delivered() const {
  double b = impl_->delivered;
  TimePs now = impl_->engine.now();
  for (const Impl::Flow& f : impl_->flows)
    if (f.phase == Phase::kActive) b += Impl::sent_between(f, now);
  return b;
}

std::size_t FlowNetwork::num_links() const { return impl_->links.size(); }

void FlowNetwork::set_link_capacity(LinkId link, BytesPerSec capacity_Bps) {
  impl_->check_link(link, "link");
  check_capacity(capacity_Bps, "link[" + std::to_string(link) + "].capacity_Bps");
  impl_->links[link].capacity = capacity_Bps;
  impl_->link_slot[link].capacity = capacity_Bps;
  impl_->forced.push_back(link);
  impl_->update();
  impl_->arm();
}

void FlowNetwork::solve_all() { impl_->solve_all(); }

}  // namespace knee
