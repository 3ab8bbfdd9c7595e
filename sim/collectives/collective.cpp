#include "sim/collectives/collective.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "common/error.hpp"
#include "sim/collectives/executor.hpp"

namespace knee {

std::vector<DirectedLink> effective_links(const Topology& topo, const NcclParams& params) {
  std::vector<DirectedLink> out;
  out.reserve(topo.num_directed_links());
  for (const Link& l : topo.links()) {
    double e = params.link_efficiency(l.cls);
    // Latency is applied per transfer by the executor (after the last byte), not by the network.
    out.push_back(DirectedLink{l.bw_ab_Bps * e, 0});
    out.push_back(DirectedLink{l.bw_ba_Bps * e, 0});
  }
  return out;
}

namespace {

struct CommShape {
  std::size_t n = 0, servers = 0, per_server = 0;  // per_server: the largest group
  bool uniform = true;
  BytesPerSec intra_Bps = 0, inter_Bps = 0;  // effective, per GPU per direction
};

// Slowest effective rate along the route between two nodes.
BytesPerSec route_rate(const Topology& topo, const NcclParams& P, std::uint32_t a, std::uint32_t b) {
  BytesPerSec r = INFINITY;
  for (auto d : topo.route(a, b, 0)) {
    const Link& l = topo.link(d / 2);
    r = std::min(r, (d % 2 == 0 ? l.bw_ab_Bps : l.bw_ba_Bps) * P.link_efficiency(l.cls));
  }
  return r;
}

CommShape shape_of(const Topology& topo, const NcclParams& P, const std::vector<std::uint32_t>& ranks) {
  CommShape s;
  s.n = ranks.size();
  std::map<std::uint32_t, std::vector<std::uint32_t>> by_server;
  for (auto r : ranks) by_server[topo.node_of_gpu(r)].push_back(r);
  s.servers = by_server.size();
  for (auto& [k, v] : by_server) {
    if (s.per_server && v.size() != s.per_server) s.uniform = false;
    s.per_server = std::max(s.per_server, v.size());
  }
  const auto& first = by_server.begin()->second;
  if (first.size() >= 2) s.intra_Bps = route_rate(topo, P, topo.gpu_node(first[0]), topo.gpu_node(first[1]));
  if (s.servers >= 2) {
    auto second = std::next(by_server.begin())->second;
    s.inter_Bps = route_rate(topo, P, topo.gpu_node(first[0]), topo.gpu_node(second[0]));
  }
  return s;
}

double log2_ceil(double x) { return x <= 1 ? 0 : std::ceil(std::log2(x)); }

}  // namespace

double predict_collective_s(const Topology& topo, const NcclParams& P, CollOp op, CollAlgo algo, CollProto proto, int C,
                            Bytes bytes, const std::vector<std::uint32_t>& ranks) {
  CommShape sh = shape_of(topo, P, ranks);
  const double n = static_cast<double>(sh.n), m = static_cast<double>(sh.servers),
               p = static_cast<double>(sh.per_server);
  const double S = static_cast<double>(bytes);
  const double eff = P.proto_efficiency[static_cast<int>(proto)];
  const double base = P.base_latency_us_of(algo, proto) * 1e-6;
  // One GPU per server: the tree's network hop for every algorithm, as the builders (and NCCL) charge.
  const double h_in = P.hop_latency_us(algo, proto, false) * 1e-6,
               h_net = P.hop_latency_us(sh.per_server == 1 ? CollAlgo::tree : algo, proto, true) * 1e-6;
  if (sh.n <= 1 || bytes == 0) return base;
  const double ch = P.channel_Bps(algo);
  const double nics_per_channel = std::ceil(C / std::max(1.0, p));  // channels sharing one NIC
  // Per-channel flow rate inside a server and across servers (wire bytes/s).
  const double r_in = sh.per_server >= 2 ? std::min(ch, sh.intra_Bps / C) : INFINITY;
  const double r_net = sh.servers >= 2 ? std::min(ch, sh.inter_Bps / nics_per_channel) : INFINITY;
  const double rate = std::min(r_in, r_net);
  auto ring_time = [&](double steps, double payload_per_channel) {
    double inter_steps = sh.servers >= 2 ? steps * m / n : 0;
    return (steps - inter_steps) * h_in + inter_steps * h_net + payload_per_channel * steps / n / eff / rate;
  };
  switch (algo) {
    case CollAlgo::ring:
      if (op == CollOp::allreduce) return base + ring_time(2 * (n - 1), S / C);
      if (op == CollOp::broadcast || op == CollOp::reduce)
        return base + (n - 1) * (sh.servers >= 2 ? h_net : h_in) + S / C / eff / rate;
      return base + ring_time(n - 1, S / C);
    case CollAlgo::tree: {
      double depth = (p - 1) * h_in + log2_ceil(m) * h_net;
      // The busiest link bounds the pipelined tree: count the flows (each carries S/C bytes) a
      // NIC and a GPU's NVLink carry per direction, from the same trees and head GPUs the
      // builder uses. Across servers a position sends to its parent and children (all-reduce:
      // both passes overlap); channels 2i and 2i+1 share a head's NIC, and NCCL's double binary
      // tree makes a server interior in only one of them.
      const bool up = op != CollOp::broadcast, down = op != CollOp::reduce;
      const std::size_t P_ = sh.per_server, M = sh.servers;
      double net_flows = 0, nvl_flows = 0;
      if (M >= 2) {
        const std::vector<int> par[2] = {dbt_parents(M, 0), dbt_parents(M, 1)};
        std::vector<double> kids[2] = {std::vector<double>(M, 0), std::vector<double>(M, 0)};
        for (int tr = 0; tr < 2; ++tr)
          for (std::size_t g = 0; g < M; ++g)
            if (par[tr][g] >= 0) kids[tr][static_cast<std::size_t>(par[tr][g])] += 1;
        for (std::size_t h = 0; h < P_; ++h)
          for (std::size_t g = 0; g < M; ++g) {
            double out = 0, in = 0;
            for (int chn = 0; chn < C; ++chn) {
              if (tree_head(chn, P_) != h) continue;
              int tr = op == CollOp::allreduce ? chn % 2 : 0;
              double to_parent = par[tr][g] >= 0 ? 1 : 0, children = kids[tr][g];
              out += (up ? to_parent : 0) + (down ? children : 0);
              in += (up ? children : 0) + (down ? to_parent : 0);
            }
            net_flows = std::max({net_flows, out, in});
          }
      }
      if (P_ >= 2)
        for (std::size_t gpu = 0; gpu < P_; ++gpu) {
          double out = 0, in = 0;
          for (int chn = 0; chn < C; ++chn) {
            std::size_t q = (gpu + P_ - tree_head(chn, P_)) % P_;  // position in the chain
            double toward_head = q > 0 ? 1 : 0, away = q + 1 < P_ ? 1 : 0;
            out += (up ? toward_head : 0) + (down ? away : 0);
            in += (up ? away : 0) + (down ? toward_head : 0);
          }
          nvl_flows = std::max({nvl_flows, out, in});
        }
      double t_in = nvl_flows > 0 ? S / C / eff / std::min(ch, sh.intra_Bps / nvl_flows) : 0;
      double t_net = net_flows > 0 ? S / C / eff / std::min(ch, sh.inter_Bps / net_flows) : 0;
      double passes = op == CollOp::allreduce ? 2 : 1;
      return base + passes * depth + std::max(t_in, t_net);
    }
    case CollAlgo::nvls: {
      double r = std::min(sh.intra_Bps, P.nvls_efficiency * sh.intra_Bps / P.link_efficiency_nvlink);
      double per_gpu = op == CollOp::allreduce ? S + S / n : S;
      return base + h_in + per_gpu / r;
    }
    case CollAlgo::rhd: {
      double steps = (op == CollOp::allreduce ? 2 : 1) * log2_ceil(n);
      double h = sh.servers >= 2 ? h_net : h_in;
      double moved = (op == CollOp::allreduce ? 2 : 1) * S * (n - 1) / n / C;
      return base + steps * h + moved / eff / rate;
    }
    case CollAlgo::pat: {
      double h = sh.servers >= 2 ? h_net : h_in;
      return base + log2_ceil(n) * h + S * (n - 1) / n / C / eff / rate;
    }
    case CollAlgo::hierarchical:
    case CollAlgo::collnet: {
      double intra = 2 * ((p - 1) * h_in + (S / C) * (p - 1) / p / eff / r_in);
      if (sh.per_server < 2) intra = 0;
      // Stage 2 runs on every local index, so each NIC carries one flow of every channel.
      double r_rail = std::min(ch, sh.inter_Bps / C);
      double inter = algo == CollAlgo::hierarchical ? 2 * (m - 1) * h_net + (S / C / p) * 2 * (m - 1) / m / eff / r_rail
                                                    : 2 * h_net + (S / C / p) / eff / r_rail;
      return base + intra + inter;
    }
    case CollAlgo::pairwise:
    case CollAlgo::a2a_hierarchical: {
      double out = S * (n - 1) / n;
      double per_rank = sh.servers >= 2 ? sh.inter_Bps : sh.intra_Bps;
      double t = out / eff / per_rank;
      double bis = topo.bisection_Bps();
      if (sh.n == topo.num_gpus() && bis > 0 && sh.servers >= 2) t = std::max(t, n * S / 4 / bis);
      return base + (n - 1) * (sh.servers >= 2 ? h_net : h_in) + t;
    }
    case CollAlgo::direct:
      if (op == CollOp::alltoall) {
        // All pairs at once: a rank's sends across servers share its NIC, those inside share
        // its NVLink; across an oversubscribed fabric the bisection bounds the whole exchange.
        double out_net = sh.servers >= 2 ? S / n * (n - p) : 0, out_nvl = S / n * (p - 1);
        double t =
            std::max(out_net > 0 ? out_net / eff / sh.inter_Bps : 0, out_nvl > 0 ? out_nvl / eff / sh.intra_Bps : 0);
        double bis = topo.bisection_Bps();
        if (sh.n == topo.num_gpus() && bis > 0 && sh.servers >= 2) t = std::max(t, n * S / 4 / bis);
        return base + (sh.servers >= 2 ? h_net : h_in) + t;
      }
      return base + (sh.servers >= 2 ? h_net : h_in) + S / C / eff / rate;
  }
  return base;
}

double nccl_model_s(const Topology& topo, const NcclParams& P, CollOp op, CollAlgo algo, CollProto proto, int C,
                    Bytes bytes, const std::vector<std::uint32_t>& ranks) {
  const double pred = predict_collective_s(topo, P, op, algo, proto, C, bytes, ranks);
  if (ranks.size() <= 1 || bytes == 0) return pred;
  if (algo != CollAlgo::pat) return pred;
  CommShape sh = shape_of(topo, P, ranks);
  const double n = static_cast<double>(sh.n);
  // NCCL 2.23+ scores PAT at 3/4 of the ring-like bus bandwidth ("busBw *= .75") with latency
  // 8 us + log2(nodes) x (network hop latency / 3.5) + 2.8 us per rank, the network hop being the
  // tree's for one GPU per node. Recalled from src/graph/tuning.cc without network access.
  // knee's closed form: log2(n) hops, at the tree's network hop with one GPU per server.
  const double h = (sh.servers >= 2 ? P.hop_latency_us(sh.per_server == 1 ? CollAlgo::tree : algo, proto, true)
                                    : P.hop_latency_us(algo, proto, false)) *
                   1e-6;
  const double bandwidth_s = pred - P.base_latency_us_of(algo, proto) * 1e-6 - log2_ceil(n) * h;
  const double nodes = static_cast<double>(sh.servers);
  const double latency_s =
      (8 + std::floor(std::log2(std::max(1.0, nodes))) * P.hop_latency_us(CollAlgo::tree, proto, true) / 3.5 +
       2.8 * n) *
      1e-6;
  return latency_s + bandwidth_s / 0.75;
}

namespace {

// What `opt` asks for, run as (algo, proto, channels): op is opt.op with a barrier as all-reduce.
CollRequest request_for(const CollOptions& opt, CollOp op, CollAlgo algo, CollProto proto, int channels,
                        const std::vector<std::uint32_t>& ranks) {
  CollRequest req;
  req.op = op;
  req.bytes = opt.bytes;
  req.ranks = ranks;
  req.algo = algo;
  req.proto = proto;
  req.channels = channels;
  req.root = opt.root;
  req.slices = opt.slices;
  req.alltoallv = opt.alltoallv;
  return req;
}

// One schedule alone on an idle network, at full fidelity, as executor instance 0 (the route hash
// includes it): what selection compares and simulate_collective reports, so one run serves both.
struct AloneRun {
  std::shared_ptr<CollSchedule> sched;  // null: not run
  CollRunStats stats;
  std::vector<TransferRecord> transfers;  // when recorded
  double time_s() const { return ps_to_s(stats.end_ps - stats.start_ps); }
};
AloneRun run_alone(const Topology& topo, const std::vector<DirectedLink>& links, std::shared_ptr<CollSchedule> sched,
                   bool record_transfers) {
  AloneRun out;
  Engine engine;
  FlowNetwork network(engine, links);
  CollectiveExecutor ex(engine, network, topo);
  ex.record_transfers(record_transfers);
  auto id = ex.launch(sched);
  engine.run();
  out.stats = ex.stats(id);
  if (record_transfers) out.transfers = ex.transfers(id);
  out.sched = std::move(sched);
  return out;
}

// select_collective; with `chosen_run`, the run of the chosen candidate when selection simulated it.
CollChoice select_impl(const Topology& topo, const NcclParams& P, const CollOptions& opt,
                       const std::vector<std::uint32_t>& ranks, const std::string& what, AloneRun* chosen_run);

CollChoice select_impl(const Topology& topo, const NcclParams& P, const CollOptions& opt,
                       const std::vector<std::uint32_t>& ranks, const std::string& what, AloneRun* chosen_run) {
  std::vector<CollAlgo> algos;
  if (opt.algo) {
    algos.push_back(*opt.algo);
  } else {
    CommShape sh = shape_of(topo, P, ranks);
    switch (opt.op) {
      case CollOp::alltoall:
        // NCCL posts every send at once; past the task budget, pairwise rounds keep it tractable.
        algos = {sh.n * (sh.n - 1) <= kTaskBudget ? CollAlgo::direct : CollAlgo::pairwise};
        break;
      case CollOp::sendrecv:
        algos = {CollAlgo::direct};
        break;
      case CollOp::broadcast:
      case CollOp::reduce:
        algos = {CollAlgo::ring};
        break;
      default:
        algos.push_back(CollAlgo::ring);
        if (opt.op == CollOp::allreduce || opt.op == CollOp::barrier) algos.push_back(CollAlgo::tree);
        if (P.nvls_supported && sh.servers == 1 && sh.n > 2 && topo.num_switches() > 0) algos.push_back(CollAlgo::nvls);
        if ((opt.op == CollOp::allgather || opt.op == CollOp::reducescatter) && sh.per_server == 1 && sh.n > 2)
          algos.push_back(CollAlgo::pat);
        if (opt.in_network_reduction && opt.op == CollOp::allreduce && sh.servers >= 2 && sh.uniform)
          algos.push_back(CollAlgo::collnet);
    }
  }
  CollOp op = opt.op == CollOp::barrier ? CollOp::allreduce : opt.op;
  for (auto a : algos) require_algo_supports(a, opt.op, what + ": algorithm");
  std::vector<CollProto> protos;
  if (opt.proto) protos.push_back(*opt.proto);
  else protos = {CollProto::ll, CollProto::ll128, CollProto::simple};
  std::vector<int> chans;
  if (opt.channels > 0) chans.push_back(opt.channels);
  else
    for (int c = 1; c <= P.max_channels; c *= 2) chans.push_back(c);

  // Each algorithm's protocol and channel count by its score: fewer channels win unless more are
  // at least 1% faster (NCCL also scales channels with size).
  const bool nccl = opt.selection == CollSelection::nccl;
  std::vector<CollCandidate> cands;
  for (auto a : algos) {
    std::optional<CollCandidate> best;
    for (auto pr : protos) {
      if ((a == CollAlgo::nvls || a == CollAlgo::collnet || a == CollAlgo::pairwise ||
           a == CollAlgo::a2a_hierarchical || (a == CollAlgo::direct && opt.op == CollOp::alltoall) ||
           (a == CollAlgo::pat && nccl)) &&
          pr != CollProto::simple && !opt.proto)
        continue;
      // NVLS runs on NCCL's NVLS channel count (NCCL_NVLS_NCHANNELS), not a searched one.
      const std::vector<int> nvls_chans = {P.nvls_channels};
      for (int c : a == CollAlgo::nvls && opt.channels <= 0 ? nvls_chans : chans) {
        const double t = predict_collective_s(topo, P, op, a, pr, c, opt.bytes, ranks);
        const double score = nccl ? nccl_model_s(topo, P, op, a, pr, c, opt.bytes, ranks) : t;
        if (!best || score < best->scored_s * 0.99) best = CollCandidate{a, pr, c, t, score};
      }
    }
    if (best) cands.push_back(*best);
  }
  // Across algorithms the list order breaks ties within 1% (ring first, as before shortlisting).
  std::size_t pick = 0;
  for (std::size_t i = 1; i < cands.size(); ++i)
    if (cands[i].scored_s < cands[pick].scored_s * 0.99) pick = i;
  if (!nccl && cands.size() > 1) {
    // Simulate in score order; skip a candidate scored beyond kSelectionPruneFactor of the fastest
    // simulated so far.
    std::vector<std::size_t> order(cands.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return cands[a].scored_s < cands[b].scored_s; });
    const std::vector<DirectedLink> links = effective_links(topo, P);
    double fastest = INFINITY;
    for (std::size_t i : order) {
      if (cands[i].scored_s > kSelectionPruneFactor * fastest) continue;
      const CollCandidate& k = cands[i];
      AloneRun run = run_alone(
          topo, links, build_schedule(topo, P, request_for(opt, op, k.algo, k.proto, k.channels, ranks), what), false);
      cands[i].simulated_s = run.time_s();
      if (cands[i].simulated_s < fastest) {
        fastest = cands[i].simulated_s;
        pick = i;
        if (chosen_run) *chosen_run = std::move(run);
      }
    }
  }
  const CollCandidate& c = cands[pick];
  CollChoice out{c.algo, c.proto, c.channels, c.predicted_s, opt.selection, {}};
  if (!(opt.algo && opt.proto && opt.channels > 0)) out.candidates = std::move(cands);
  return out;
}

}  // namespace

CollChoice select_collective(const Topology& topo, const NcclParams& P, const CollOptions& opt,
                             const std::vector<std::uint32_t>& ranks, const std::string& what) {
  return select_impl(topo, P, opt, ranks, what, nullptr);
}

nlohmann::ordered_json CollResult::to_json() const {
  nlohmann::ordered_json j;
  j["op"] = to_string(op);
  j["bytes"] = bytes;
  j["ranks"] = nranks;
  j["time_s"] = time_s;
  j["algbw_GBps"] = algbw_GBps;
  j["busbw_GBps"] = busbw_GBps;
  j["algorithm"] = to_string(choice.algo);
  j["protocol"] = to_string(choice.proto);
  j["channels"] = choice.channels;
  j["predicted_time_s"] = choice.predicted_s;
  j["selection"] = to_string(choice.selection);
  j["candidates"] = nlohmann::ordered_json::array();
  for (const CollCandidate& c : choice.candidates) {
    nlohmann::ordered_json cj;
    cj["algorithm"] = to_string(c.algo);
    cj["protocol"] = to_string(c.proto);
    cj["channels"] = c.channels;
    cj["predicted_time_s"] = c.predicted_s;
    cj["scored_time_s"] = c.scored_s;
    if (c.simulated_s >= 0) cj["simulated_time_s"] = c.simulated_s;
    else cj["simulated_time_s"] = nullptr;
    j["candidates"].push_back(cj);
  }
  j["flows"] = flows;
  j["wire_bytes"] = wire_bytes;
  j["lower_bound_s"] = lower_bound_s;
  j["bound_note"] = bound_note;
  return j;
}

CollResult simulate_collective(const Topology& topo, const NcclParams& P, const CollOptions& opt,
                               const std::string& what) {
  if (opt.bytes < 0) throw InputError(what + ": bytes: expected a non-negative size, got " + std::to_string(opt.bytes));
  std::vector<std::uint32_t> ranks = opt.ranks;
  if (ranks.empty())
    for (std::uint32_t r = 0; r < topo.num_gpus(); ++r) ranks.push_back(r);
  CollOptions o = opt;
  if (o.op == CollOp::barrier) o.bytes = 8;  // a barrier is an all-reduce of one element
  AloneRun run;                              // the chosen candidate's run, when selection simulated it
  CollChoice choice = select_impl(topo, P, o, ranks, what, &run);
  const CollRequest req = request_for(o, o.op == CollOp::barrier ? CollOp::allreduce : o.op, choice.algo, choice.proto,
                                      choice.channels, ranks);
  auto sched = run.sched ? run.sched : build_schedule(topo, P, req, what);

  std::vector<DirectedLink> links = effective_links(topo, P);
  // The bound needs only the schedule and its routes; the route hash includes the executor's
  // instance number, 0 for the first (only) launch below.
  CollBound bound = collective_lower_bound(topo, links, *sched, 0);
  // The note's crowding sweep reads the transfers as they ran, and only where bandwidth binds:
  // recording costs time, so latency-bound runs skip it.
  const bool bandwidth_binds = bound.bandwidth_s >= bound.latency_path_s;
  // Run again (the same run) only where selection's run lacks transfers that are needed: a
  // timeline's, or the note's where bandwidth binds and the time exceeds the bound.
  const bool need_transfers =
      o.record_transfers || (bandwidth_binds && (!run.sched || run.time_s() > bound.bound_s * (1 + kBoundTolerance)));
  if (!run.sched || need_transfers) run = run_alone(topo, links, sched, o.record_transfers || bandwidth_binds);
  const CollRunStats& st = run.stats;
  CollResult r;
  r.op = opt.op;
  r.bytes = opt.bytes;
  r.nranks = static_cast<int>(ranks.size());
  r.choice = choice;
  r.time_s = ps_to_s(st.end_ps - st.start_ps);
  r.algbw_GBps = r.time_s > 0 ? static_cast<double>(o.bytes) / r.time_s * 1e-9 : 0;
  r.busbw_GBps = r.algbw_GBps * busbw_factor(req.op, r.nranks);
  r.flows = st.flows;
  r.wire_bytes = st.wire_bytes;
  r.bound = bound;
  r.lower_bound_s = bound.bound_s;
  if (r.time_s > r.lower_bound_s * (1 + kBoundTolerance)) {
    LinkCrowding crowding;
    if (bandwidth_binds) crowding = peak_crowding(topo, links, run.transfers, 0);
    r.bound_note = bound_note(topo, r.bound, r.time_s, bandwidth_binds ? &crowding : nullptr);
  }
  if (o.record_transfers) r.transfers = std::move(run.transfers);
  return r;
}

}  // namespace knee
