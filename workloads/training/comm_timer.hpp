// Collective times of a training step's parallel groups on the simulated cluster (internal to
// workloads/training): each (group, op, bytes) simulated once on the flow network, one
// representative group at full fidelity, scaled by the slowdown that the concurrent groups of
// its kind cause each other; and the contention factors between kinds of traffic.
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <tuple>
#include <utility>
#include <vector>

#include "common/units.hpp"
#include "sim/collectives/collective.hpp"
#include "sim/collectives/executor.hpp"
#include "sim/engine/engine.hpp"
#include "topologies/topology.hpp"
#include "workloads/training/groups.hpp"
#include "workloads/training/scenario.hpp"

namespace knee::workload {

// The embedding-gradient all-reduce between the first and last stage (tied output layer): a
// timing key of its own, accounted as data-parallel (gradient synchronisation) time.
constexpr int kEmbeddingGroup = 5;

// Collective times on the simulated cluster, cached by (group, op, bytes).
class CommTimer {
 public:
  CommTimer(const Scenario& s, const Topology& topo, const NcclParams& P)
      : s_(s), topo_(topo), P_(P), links_(effective_links(topo, P)) {
    // Strides of (tp, cp, dp, pp) from the placement order, fastest varying first.
    std::int64_t stride = 1;
    for (const auto& g : s.placement) {
      std::int64_t size = g == "tp" ? s.par.tp : g == "cp" ? s.par.cp : g == "dp" ? s.par.dp : s.par.pp;
      int idx = g == "tp" ? 0 : g == "cp" ? 1 : g == "dp" ? 2 : 3;
      stride_[idx] = stride;
      stride *= size;
    }
  }
  // The GPU of a rank: the rank itself, or with a GPU map (a job placed on a shared cluster,
  // every_rank_jobs.hpp) the cluster GPU the map gives it.
  std::uint32_t rank(std::int64_t t, std::int64_t c, std::int64_t d, std::int64_t p) const {
    const auto r = static_cast<std::uint32_t>(t * stride_[0] + c * stride_[1] + d * stride_[2] + p * stride_[3]);
    return gpu_map_.empty() ? r : gpu_map_[r];
  }
  // Ranks on these GPUs of the topology (one per rank, in rank order); empty: rank r on GPU r.
  void set_gpu_map(std::vector<std::uint32_t> gpus) { gpu_map_ = std::move(gpus); }
  // (tp, cp, dp, pp) indices of a rank.
  std::array<std::int64_t, 4> coords(std::uint32_t r) const {
    const std::int64_t size[4] = {s_.par.tp, s_.par.cp, s_.par.dp, s_.par.pp};
    std::array<std::int64_t, 4> c{};
    for (int i = 0; i < 4; ++i) c[static_cast<std::size_t>(i)] = (static_cast<std::int64_t>(r) / stride_[i]) % size[i];
    return c;
  }
  double time(int group, CollOp op, double bytes_d) {
    const Bytes bytes = static_cast<Bytes>(std::llround(bytes_d));
    if (bytes <= 0) return 0;
    return timed(group, op, bytes).s;
  }
  // Channels (CTAs, so SMs held) of the collective time() timed for (group, op, bytes).
  int channels(int group, CollOp op, double bytes_d) {
    const Bytes bytes = static_cast<Bytes>(std::llround(bytes_d));
    if (bytes <= 0) return 0;
    return timed(group, op, bytes).channels;
  }
  std::size_t timings() const { return cache_.size(); }
  // For every-rank mode (every_rank_sim.hpp), the schedules folded timing builds: a collective of
  // `ranks` with the algorithm, protocol and channels of *choice_io (chosen for these ranks first
  // when its channels are 0; a ring of one GPU per server folded into at most
  // `uniform_ring_task_budget` transfers, algorithms.hpp), and NCCL-style point-to-point sends;
  // the links they run on.
  std::shared_ptr<const CollSchedule> schedule(CollOp op, Bytes bytes, const std::vector<std::uint32_t>& ranks,
                                               CollChoice* choice_io,
                                               std::size_t uniform_ring_task_budget = kTaskBudget) const {
    return coll(op, bytes, ranks, 0, choice_io, uniform_ring_task_budget);
  }
  std::shared_ptr<const CollSchedule> sends(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& pairs,
                                            Bytes bytes) const {
    return p2p_schedule(pairs, bytes);
  }
  const std::vector<DirectedLink>& links() const { return links_; }

 private:
  // A timing and the channels of the collective that gave it.
  struct Timed {
    double s;
    int channels;
  };
  // NCCL's point-to-point sends use two channels per peer.
  static constexpr int kP2pChannels = 2;

  Timed timed(int group, CollOp op, Bytes bytes) {
    const auto key = std::make_tuple(group, static_cast<int>(op), bytes);
    auto it = cache_.find(key);
    if (it == cache_.end()) it = cache_.emplace(key, measure(group, op, bytes)).first;
    return it->second;
  }
  static constexpr std::size_t kFlowBudget = 1u << 17;

  // Runs schedules together on one network; seconds from the first start to each one's end.
  std::vector<double> run_each(const std::vector<std::shared_ptr<const CollSchedule>>& scheds) const {
    Engine e;
    FlowNetwork net(e, links_);
    CollectiveExecutor ex(e, net, topo_);
    std::vector<std::uint32_t> ids;
    for (auto& sc : scheds) ids.push_back(ex.launch(sc));
    e.run();
    std::vector<double> out;
    for (auto id : ids) out.push_back(ps_to_s(ex.stats(id).end_ps));
    return out;
  }
  double run(const std::vector<std::shared_ptr<const CollSchedule>>& scheds) const {
    double end = 0;
    for (double t : run_each(scheds)) end = std::max(end, t);
    return end;
  }

  std::shared_ptr<const CollSchedule> coll(CollOp op, Bytes bytes, const std::vector<std::uint32_t>& ranks, int slices,
                                           CollChoice* choice_io,
                                           std::size_t uniform_ring_task_budget = kTaskBudget) const {
    CollRequest req;
    req.op = op;
    req.bytes = bytes;
    req.ranks = ranks;
    if (choice_io->channels == 0) {
      CollOptions o;
      o.op = op;
      o.bytes = bytes;
      o.selection = s_.train.collective_selection;
      *choice_io = select_collective(topo_, P_, o, ranks, s_.source);
    }
    req.algo = choice_io->algo;
    req.proto = choice_io->proto;
    req.channels = choice_io->channels;
    req.slices = slices;
    req.uniform_ring_task_budget = uniform_ring_task_budget;
    return build_schedule(topo_, P_, req, s_.source);
  }

  // Point-to-point transfers (pipeline activations, ring-attention K/V), two channels each as
  // NCCL's p2p uses per peer, all at once.
  double p2p(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& pairs, Bytes bytes) const {
    return run({p2p_schedule(pairs, bytes)});
  }
  std::shared_ptr<const CollSchedule> p2p_schedule(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& pairs,
                                                   Bytes bytes) const {
    auto sc = std::make_shared<CollSchedule>();
    sc->start_latency_ps = us_to_ps(P_.base_latency_us_of(CollAlgo::direct, CollProto::simple));
    const int C = kP2pChannels;
    for (auto [a, b] : pairs) {
      const auto na = topo_.gpu_node(a), nb = topo_.gpu_node(b);
      const bool net = topo_.node_of_gpu(a) != topo_.node_of_gpu(b);
      const TimePs lat = us_to_ps(P_.hop_latency_us(CollAlgo::direct, CollProto::simple, net));
      for (int ch = 0; ch < C; ++ch) {
        sc->add_task(sc->add_edge(na, nb, static_cast<std::uint32_t>(ch)), (bytes + C - 1) / C, lat,
                     P_.channel_Bps(CollAlgo::direct), {});
        sc->payload_bytes += double(bytes) / C;
      }
    }
    return sc;
  }

  // A communicator kind: one representative group alone at full fidelity, scaled by the
  // slowdown the concurrent groups cause each other (measured with unsliced schedules).
  Timed groups(CollOp op, Bytes bytes, const std::vector<std::vector<std::uint32_t>>& gs) const {
    CollChoice ch{};
    ch.channels = 0;
    auto first = coll(op, bytes, gs[0], 0, &ch);
    // Selection simulated the chosen candidate alone already: the same schedule on an idle network.
    double alone = -1;
    for (const CollCandidate& c : ch.candidates)
      if (c.algo == ch.algo && c.proto == ch.proto && c.channels == ch.channels && c.simulated_s >= 0)
        alone = c.simulated_s;
    if (alone < 0) alone = run({first});
    if (gs.size() == 1 || s_.ablate.no_group_contention) return {alone, ch.channels};
    std::vector<std::shared_ptr<const CollSchedule>> all;
    std::size_t tasks = 0;
    for (const auto& g : gs) {
      all.push_back(coll(op, bytes, g, 1, &ch));
      tasks += all.back()->size();
      if (tasks > kFlowBudget) break;  // enough groups to load the shared links
    }
    const double coarse_all = run(all), coarse_one = run({all[0]});
    return {coarse_one > 0 ? alone * std::max(1.0, coarse_all / coarse_one) : alone, ch.channels};
  }

  // Data-parallel groups of pipeline stage p: one per TP rank, over dp x cp.
  std::vector<std::vector<std::uint32_t>> dp_groups(std::int64_t pst) const {
    const auto& p = s_.par;
    std::vector<std::vector<std::uint32_t>> gs;
    for (std::int64_t t = 0; t < p.tp; ++t) {
      std::vector<std::uint32_t> r;
      for (std::int64_t d = 0; d < p.dp; ++d)
        for (std::int64_t c = 0; c < p.cp; ++c) r.push_back(rank(t, c, d, pst));
      gs.push_back(r);
    }
    return gs;
  }
  std::vector<std::pair<std::uint32_t, std::uint32_t>> pp_pairs(std::int64_t from, std::int64_t to) const {
    const auto& p = s_.par;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;
    for (std::int64_t d = 0; d < p.dp && pairs.size() < kFlowBudget / 2; ++d)
      for (std::int64_t c = 0; c < p.cp; ++c)
        for (std::int64_t t = 0; t < p.tp; ++t) pairs.push_back({rank(t, c, d, from), rank(t, c, d, to)});
    return pairs;
  }

 public:
  // Slowdowns when kinds of traffic share the fabric, measured on the flow network with unsliced
  // schedules, each kind loading the links for the whole run: a stage's DP reduction while the
  // other stages reduce too (dp_dp), while its pipeline sends run (dp_pp), and a pipeline send
  // while the DP reduction runs (pp_dp). 1 where the kinds use disjoint links.
  struct Contention {
    double dp_dp = 1, dp_pp = 1, pp_dp = 1;
  };
  Contention contention(CollOp dp_op, Bytes dp_bytes, Bytes pp_bytes) const {
    Contention k;
    const auto& p = s_.par;
    if (p.pp < 2 || p.dp * p.cp < 2 || dp_bytes <= 0) return k;
    CollChoice ch{};
    ch.channels = 0;
    std::vector<std::shared_ptr<const CollSchedule>> st0, all;
    std::size_t tasks = 0;
    for (std::int64_t pst = 0; pst < p.pp && tasks <= kFlowBudget; ++pst)
      for (const auto& g : dp_groups(pst)) {
        all.push_back(coll(dp_op, dp_bytes, g, 1, &ch));
        tasks += all.back()->size();
        if (pst == 0) st0.push_back(all.back());
        if (tasks > kFlowBudget) break;
      }
    const double one = run(st0);
    if (one <= 0) return k;
    if (all.size() > st0.size()) {
      const auto ends = run_each(all);
      double e0 = 0;
      for (std::size_t i = 0; i < st0.size(); ++i) e0 = std::max(e0, ends[i]);
      k.dp_dp = std::max(1.0, e0 / one);
    }
    if (pp_bytes > 0) {
      const auto pairs = pp_pairs(0, 1);
      const double pp_alone = run({p2p_schedule(pairs, pp_bytes)});
      if (pp_alone > 0) {
        // Sends sized to last as long as the reduction, so both are active throughout.
        const Bytes scaled = std::max<Bytes>(1, static_cast<Bytes>(std::llround(double(pp_bytes) * one / pp_alone)));
        auto pps = p2p_schedule(pairs, scaled);
        const double pp_one = run({pps});
        auto both = st0;
        both.push_back(pps);
        const auto ends = run_each(both);
        double e0 = 0;
        for (std::size_t i = 0; i < st0.size(); ++i) e0 = std::max(e0, ends[i]);
        k.dp_pp = std::max(1.0, e0 / one);
        k.pp_dp = pp_one > 0 ? std::max(1.0, ends.back() / pp_one) : 1.0;
      }
    }
    return k;
  }

 private:
  Timed measure(int group, CollOp op, Bytes bytes) const {
    const auto& p = s_.par;
    switch (group) {
      case kEmbeddingGroup: {  // first and last stage of every (tp, cp, dp) replica, all at once
        std::vector<std::vector<std::uint32_t>> gs;
        for (std::int64_t d = 0; d < p.dp; ++d)
          for (std::int64_t c = 0; c < p.cp; ++c)
            for (std::int64_t t = 0; t < p.tp; ++t) gs.push_back({rank(t, c, d, 0), rank(t, c, d, p.pp - 1)});
        return groups(op, bytes, gs);
      }
      case kTP: {
        std::vector<std::uint32_t> r;
        for (std::int64_t i = 0; i < p.tp; ++i) r.push_back(rank(i, 0, 0, 0));
        return groups(op, bytes, {r});
      }
      case kDP:  // gradients are reduced over dp x cp (context-parallel ranks share weights)
        return groups(op, bytes, dp_groups(0));
      case kEP: {  // ep consecutive dp indices (Megatron's tp-cp-ep-dp-pp order)
        std::vector<std::vector<std::uint32_t>> gs;
        for (std::int64_t t = 0; t < p.tp; ++t)
          for (std::int64_t c = 0; c < p.cp; ++c)
            for (std::int64_t k = 0; k < p.dp / p.ep; ++k) {
              std::vector<std::uint32_t> r;
              for (std::int64_t e = 0; e < p.ep; ++e) r.push_back(rank(t, c, k * p.ep + e, 0));
              gs.push_back(r);
            }
        return groups(op, bytes, gs);
      }
      case kCP: {  // every rank sends its K/V block to the next in its ring, all rings at once
        std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;
        for (std::int64_t t = 0; t < p.tp && pairs.size() < kFlowBudget / 2; ++t)
          for (std::int64_t d = 0; d < p.dp; ++d)
            for (std::int64_t c = 0; c < p.cp; ++c) pairs.push_back({rank(t, c, d, 0), rank(t, (c + 1) % p.cp, d, 0)});
        return {p2p(pairs, bytes), kP2pChannels};
      }
      case kPP:  // stage 0 -> 1 of every (tp, cp, dp) replica at once
        return {p2p(pp_pairs(0, 1), bytes), kP2pChannels};
    }
    return {0, 0};
  }

  const Scenario& s_;
  const Topology& topo_;
  // A copy: callers pass nccl_params_for_gpu(...)'s temporary (a reference would dangle).
  const NcclParams P_;
  std::vector<DirectedLink> links_;
  std::vector<std::uint32_t> gpu_map_;
  std::int64_t stride_[4] = {1, 1, 1, 1};
  std::map<std::tuple<int, int, Bytes>, Timed> cache_;
};

}  // namespace knee::workload
