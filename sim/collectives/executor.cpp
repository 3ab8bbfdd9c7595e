#include "sim/collectives/executor.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

namespace knee {

namespace {
enum Tag : std::uint32_t { kStart = 0, kArrived = 1, kFlowDone = 2, kCutThrough = 3 };
constexpr std::uint32_t kOrder = CollSchedule::kOrderBit, kStarted = CollSchedule::kStartBit,
                        kMask = CollSchedule::kTaskMask;
std::uint64_t pack(std::uint32_t inst, std::uint32_t task) { return (static_cast<std::uint64_t>(inst) << 32) | task; }
}  // namespace

struct CollectiveExecutor::Impl : EventSink {
  struct Instance {
    std::shared_ptr<const CollSchedule> sched;
    std::vector<std::uint32_t> waiting;              // unmet dependencies per task
    std::vector<std::vector<std::uint32_t>> routes;  // per edge, computed on first use
    std::vector<TimePs> phys_latency;
    std::vector<bool> routed;
    std::size_t remaining = 0;
    FlowDone notify{};
    std::uint32_t account = CollectiveExecutor::kNoAccount;
    CollRunStats stats;
    bool recording = false;
    std::vector<std::uint32_t> record_of;  // task -> index into records (when recording)
    std::vector<TransferRecord> records;
  };

  Engine& engine;
  FlowNetwork& network;
  const Topology& topo;
  SinkId self;
  bool recording = false;
  std::vector<Instance> inst;
  std::vector<std::uint64_t> worklist;
  std::vector<std::vector<double>> account_bytes;  // [account][directed link]

  Impl(Engine& e, FlowNetwork& n, const Topology& t) : engine(e), network(n), topo(t) { self = engine.add_sink(this); }

  void handle(Engine&, std::uint32_t tag, std::uint64_t payload) override {
    auto i = static_cast<std::uint32_t>(payload >> 32);
    auto t = static_cast<std::uint32_t>(payload & 0xffffffffu);
    Instance& in = inst[i];
    switch (tag) {
      case kStart: {
        const auto& indeg = in.sched->indegree();
        for (std::uint32_t k = 0; k < indeg.size(); ++k)
          if (indeg[k] == 0) begin_task(i, k);
        break;
      }
      case kFlowDone:
        sent(i, t);
        break;
      case kArrived:
        worklist.push_back(pack(i, t));
        break;
      case kCutThrough:
        release_kind(i, t, kStarted);
        break;
      default:
        throw std::logic_error("CollectiveExecutor: unknown event tag");
    }
    drain();
  }

  // Starts task t: sends its bytes as a flow at once; its latency (the larger of the task's hop
  // latency and the physical path latency) is added after the last byte, before the data counts
  // as arrived. The network therefore runs on latency-free links (effective_links()).
  void begin_task(std::uint32_t i, std::uint32_t t) {
    Instance& in = inst[i];
    const CollTask& task = in.sched->task(t);
    const CollEdge& e = in.sched->edges()[task.edge];
    if (e.src == e.dst && task.wire_bytes == 0 && task.latency_ps == 0) {  // join
      worklist.push_back(pack(i, t));
      return;
    }
    if (!in.routed[task.edge]) {
      in.routes[task.edge] = topo.route(e.src, e.dst, (static_cast<std::uint64_t>(i) << 20) ^ e.channel);
      in.phys_latency[task.edge] = topo.path_latency_ps(in.routes[task.edge]);
      in.routed[task.edge] = true;
    }
    start_flow(i, t);
  }

  void start_flow(std::uint32_t i, std::uint32_t t) {
    Instance& in = inst[i];
    const CollTask& task = in.sched->task(t);
    ++in.stats.flows;
    in.stats.wire_bytes += static_cast<double>(task.wire_bytes);
    if (in.recording) {
      const CollEdge& e = in.sched->edges()[task.edge];
      in.record_of[t] = static_cast<std::uint32_t>(in.records.size());
      in.records.push_back(TransferRecord{e.src, e.dst, e.channel, task.wire_bytes, engine.now(), 0, 0});
    }
    if (in.account != CollectiveExecutor::kNoAccount) {
      std::vector<double>& b = account_bytes[in.account];
      if (b.empty()) b.assign(network.num_links(), 0.0);
      for (std::uint32_t l : in.routes[task.edge]) b[l] += task.wire_bytes;
    }
    network.start_flow(in.routes[task.edge], task.wire_bytes, FlowDone{self, kFlowDone, pack(i, t)}, task.cap_Bps);
    if (has_kind(i, t, kStarted)) {
      if (task.cut_through_ps > 0) engine.schedule_in(task.cut_through_ps, self, kCutThrough, pack(i, t));
      else release_kind(i, t, kStarted);
    }
  }

  // Last byte sent: release ordering dependents now, data dependents after the latency.
  void sent(std::uint32_t i, std::uint32_t t) {
    Instance& in = inst[i];
    const auto& idx = in.sched->succ_index();
    const auto& succ = in.sched->successors();
    for (std::uint32_t k = idx[t]; k < idx[t + 1]; ++k)
      if (succ[k] & kOrder) release(i, succ[k] & kMask);
    const CollTask& task = in.sched->task(t);
    TimePs lat = std::max(task.latency_ps, in.phys_latency[task.edge]);
    if (in.recording) {
      TransferRecord& r = in.records[in.record_of[t]];
      r.sent_ps = engine.now();
      r.arrived_ps = engine.now() + lat;
    }
    if (lat > 0) engine.schedule_in(lat, self, kArrived, pack(i, t));
    else worklist.push_back(pack(i, t));
  }

  bool has_kind(std::uint32_t i, std::uint32_t t, std::uint32_t bit) const {
    const auto& idx = inst[i].sched->succ_index();
    const auto& succ = inst[i].sched->successors();
    for (std::uint32_t k = idx[t]; k < idx[t + 1]; ++k)
      if (succ[k] & bit) return true;
    return false;
  }
  void release_kind(std::uint32_t i, std::uint32_t t, std::uint32_t bit) {
    const auto& idx = inst[i].sched->succ_index();
    const auto& succ = inst[i].sched->successors();
    for (std::uint32_t k = idx[t]; k < idx[t + 1]; ++k)
      if (succ[k] & bit) release(i, succ[k] & kMask);
  }

  void release(std::uint32_t i, std::uint32_t t) {
    if (--inst[i].waiting[t] == 0) begin_task(i, t);
  }

  // Completions are processed from a worklist so chains of joins never recurse deeply.
  void drain() {
    while (!worklist.empty()) {
      std::uint64_t p = worklist.back();
      worklist.pop_back();
      auto i = static_cast<std::uint32_t>(p >> 32);
      auto t = static_cast<std::uint32_t>(p & 0xffffffffu);
      Instance& in = inst[i];
      const auto& idx = in.sched->succ_index();
      const auto& succ = in.sched->successors();
      const CollEdge& e = in.sched->edge_of(t);
      bool is_join = e.src == e.dst && in.sched->task(t).wire_bytes == 0 && in.sched->task(t).latency_ps == 0;
      for (std::uint32_t k = idx[t]; k < idx[t + 1]; ++k)
        if (!(succ[k] & (kOrder | kStarted)) || is_join) release(i, succ[k] & kMask);
      if (--in.remaining == 0) {
        in.stats.end_ps = engine.now();
        if (in.notify.sink != UINT32_MAX) engine.schedule_in(0, in.notify.sink, in.notify.tag, in.notify.payload);
        // Only stats and records are read from now on: free the working state (a whole training
        // step launches tens of thousands of instances on one executor).
        std::vector<std::uint32_t>().swap(in.waiting);
        std::vector<std::vector<std::uint32_t>>().swap(in.routes);
        std::vector<TimePs>().swap(in.phys_latency);
        std::vector<bool>().swap(in.routed);
      }
    }
  }
};

CollectiveExecutor::CollectiveExecutor(Engine& engine, FlowNetwork& network, const Topology& topology)
    : impl_(std::make_unique<Impl>(engine, network, topology)) {}
CollectiveExecutor::~CollectiveExecutor() = default;

std::uint32_t CollectiveExecutor::launch(std::shared_ptr<const CollSchedule> schedule, FlowDone notify,
                                         std::uint32_t account) {
  auto& im = *impl_;
  if (account != kNoAccount && account >= im.account_bytes.size()) im.account_bytes.resize(account + std::size_t{1});
  auto id = static_cast<std::uint32_t>(im.inst.size());
  Impl::Instance in;
  in.waiting = schedule->indegree();
  in.routes.resize(schedule->edges().size());
  in.phys_latency.assign(schedule->edges().size(), 0);
  in.routed.assign(schedule->edges().size(), false);
  in.remaining = schedule->size();
  in.notify = notify;
  in.account = account;
  in.stats.start_ps = im.engine.now();
  in.recording = im.recording;
  if (in.recording) in.record_of.assign(schedule->size(), UINT32_MAX);
  TimePs lat = schedule->start_latency_ps;
  in.sched = std::move(schedule);
  im.inst.push_back(std::move(in));
  if (im.inst[id].remaining == 0) {
    im.inst[id].stats.end_ps = im.engine.now() + lat;
    if (notify.sink != UINT32_MAX) im.engine.schedule_in(lat, notify.sink, notify.tag, notify.payload);
    return id;
  }
  im.engine.schedule_in(lat, im.self, kStart, pack(id, 0));
  return id;
}

bool CollectiveExecutor::done(std::uint32_t instance) const { return impl_->inst.at(instance).remaining == 0; }
const CollRunStats& CollectiveExecutor::stats(std::uint32_t instance) const { return impl_->inst.at(instance).stats; }
void CollectiveExecutor::record_transfers(bool on) { impl_->recording = on; }
const std::vector<TransferRecord>& CollectiveExecutor::transfers(std::uint32_t instance) const {
  return impl_->inst.at(instance).records;
}

const std::vector<double>& CollectiveExecutor::account_link_bytes(std::uint32_t account) const {
  static const std::vector<double> none;
  return account < impl_->account_bytes.size() ? impl_->account_bytes[account] : none;
}

TimePs run_schedule_alone(const Topology& topology, std::vector<DirectedLink> links,
                          std::shared_ptr<const CollSchedule> schedule, CollRunStats* stats) {
  Engine engine;
  FlowNetwork network(engine, std::move(links));
  CollectiveExecutor ex(engine, network, topology);
  auto id = ex.launch(std::move(schedule));
  engine.run();
  if (!ex.done(id)) throw std::logic_error("run_schedule_alone: schedule did not complete (cyclic?)");
  if (stats) *stats = ex.stats(id);
  return ex.stats(id).end_ps - ex.stats(id).start_ps;
}

}  // namespace knee
