#include "sim/collectives/algorithms.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "common/error.hpp"

namespace knee {

namespace {
constexpr std::uint32_t kNone = CollSchedule::kNone;

// Bytes of slice j when `total` is split into k near-equal integer parts (parts sum to total).
Bytes part(Bytes total, int k, int j) {
  auto t = static_cast<__int128>(total);
  return static_cast<Bytes>(t * (j + 1) / k - t * j / k);
}
TimePs part_ps(TimePs total, int k, int j) { return static_cast<TimePs>(part(total, k, j)); }

struct Ctx {
  const Topology& topo;
  const NcclParams& P;
  const CollRequest& req;
  CollSchedule& s;
  std::string what;

  double eff() const { return P.proto_efficiency[static_cast<int>(req.proto)]; }
  BytesPerSec cap() const { return P.channel_Bps(req.algo); }
  Bytes wire(double payload) const { return static_cast<Bytes>(std::ceil(payload / eff())); }
  std::uint32_t node(std::uint32_t rank) const { return topo.gpu_node(rank); }
  // Whether a transfer between nodes a and b leaves the NVLink domain (uses NCCL's network
  // latencies). GPU pairs: different servers; otherwise: the route crosses a network link.
  bool crosses_servers(std::uint32_t a, std::uint32_t b) const {
    if (topo.kind(a) == NodeKind::gpu && topo.kind(b) == NodeKind::gpu) return server_of_node(a) != server_of_node(b);
    for (auto d : topo.route(a, b, 0))
      if (topo.link(d / 2).cls == LinkClass::network) return true;
    return false;
  }
  std::uint32_t server_of_node(std::uint32_t n) const {
    auto it = rank_of_node.find(n);
    return it == rank_of_node.end() ? UINT32_MAX : topo.node_of_gpu(it->second);
  }
  // Latency of one pipeline step over edge a->b (node ids), in ps.
  TimePs hop_ps(std::uint32_t a, std::uint32_t b, double steps = 1.0) const {
    bool net = crosses_servers(a, b);
    // With one GPU per server every step's network latency is exposed: NCCL charges the tree's
    // network hop for any algorithm then (tuning.cc: "with ppn=1 latencies are fully exposed").
    const CollAlgo lat_algo = net && one_per_server ? CollAlgo::tree : req.algo;
    return us_to_ps(steps * P.hop_latency_us(lat_algo, req.proto, net));
  }
  [[noreturn]] void cannot(const std::string& expected, const std::string& got) const {
    throw InputError(what + ": expected " + expected + ", got " + got);
  }
  int auto_slices(double steps, std::size_t edges_per_slice, Bytes wire_total, double chunk_bytes = 256.0 * kKiB,
                  std::size_t task_budget = kTaskBudget) const {
    if (req.slices > 0) return req.slices;
    std::size_t budget = std::max<std::size_t>(1, task_budget / std::max<std::size_t>(1, edges_per_slice));
    double want = steps > 0 ? steps : std::ceil(static_cast<double>(wire_total) / chunk_bytes);
    want = std::max(1.0, want);
    return static_cast<int>(std::min<double>(want, static_cast<double>(budget)));
  }
  std::map<std::uint32_t, std::uint32_t> rank_of_node;
  bool one_per_server = false;  // the communicator has one GPU per server (set once grouped)
};

// Pipelined ring over `order` (node ids). Each edge carries `payload_edge` bytes in total over
// `steps` algorithm steps, folded into k slices; slice j on edge r waits for slice j-1 on edge r
// (the sender sends in order) and on edge r-1 (the data it forwards has arrived).
// start[pos] (or kNone) gates the first slice leaving order[pos]. Returns the last slice of each
// edge, indexed by the receiving position.
std::vector<std::uint32_t> append_ring(Ctx& c, const std::vector<std::uint32_t>& order, std::uint32_t channel,
                                       double steps, double payload_edge, int k,
                                       const std::vector<std::uint32_t>& start = {}) {
  const std::size_t n = order.size();
  std::vector<std::uint32_t> last_in(n, kNone);
  if (n < 2 || steps <= 0) {
    for (std::size_t i = 0; i < n && i < start.size(); ++i) last_in[i] = start[i];
    return last_in;
  }
  std::vector<std::uint32_t> edge(n);
  std::vector<double> hop(n);
  for (std::size_t r = 0; r < n; ++r) {
    edge[r] = c.s.add_edge(order[r], order[(r + 1) % n], channel);
    hop[r] = static_cast<double>(c.hop_ps(order[r], order[(r + 1) % n]));
  }
  // A slice folds steps/k algorithm steps. Those steps' data crossed the steps/k edges that end
  // at this one, so the slice's latency is the sum of their hop latencies (fractional window).
  // With k == steps this is each edge's own hop latency: the exact step-by-step ring.
  const double w = steps / k;
  std::vector<double> prefix(2 * n + 1, 0.0);  // over the ring laid out twice, for wrap-around
  for (std::size_t i = 0; i < 2 * n; ++i) prefix[i + 1] = prefix[i] + hop[i % n];
  const double cycle = prefix[n];
  auto back_sum = [&](std::size_t r, std::size_t x) {  // hops of the x edges ending at r, x <= n
    return prefix[r + n + 1] - prefix[r + n + 1 - x];
  };
  std::vector<TimePs> lat(n);
  for (std::size_t r = 0; r < n; ++r) {
    double cycles = std::floor(w / static_cast<double>(n));
    double rem = w - cycles * static_cast<double>(n);
    auto whole = static_cast<std::size_t>(std::floor(rem));
    double frac = rem - static_cast<double>(whole);
    double v = cycles * cycle + back_sum(r, whole) + (frac > 0 ? frac * hop[(r + 2 * n - whole) % n] : 0.0);
    lat[r] = static_cast<TimePs>(std::llround(v));
  }
  Bytes wire_total = c.wire(payload_edge);
  std::vector<std::uint32_t> prev(n, kNone), cur(n);
  for (int j = 0; j < k; ++j) {
    for (std::size_t r = 0; r < n; ++r) {
      std::uint32_t from_pred = prev[(r + n - 1) % n];
      std::uint32_t gate = (j == 0 && r < start.size()) ? start[r] : kNone;
      cur[r] = c.s.add_task(edge[r], part(wire_total, k, j), lat[r], c.cap(), {from_pred, gate});
      c.s.add_order_dep(cur[r], prev[r]);
    }
    prev = cur;
  }
  c.s.payload_bytes += payload_edge * static_cast<double>(n);
  for (std::size_t r = 0; r < n; ++r) last_in[(r + 1) % n] = prev[r];
  return last_in;
}

// A tree over vertices (node ids) given in pre-order with parent indices (-1 for the root).
struct Tree {
  std::vector<std::uint32_t> v;
  std::vector<int> parent;
};

// Pipelined reduce (up) and/or broadcast (down) over a tree, `payload` bytes per edge in k slices.
// Up slice j of v->parent waits for up slice j of v's children; down slice j of parent->v waits
// for the parent's own down slice j (or, at the root, all up slices j). Returns every last task.
std::vector<std::uint32_t> append_tree(Ctx& c, const Tree& t, std::uint32_t channel, double payload, int k, bool up,
                                       bool down, const std::vector<TimePs>* hop_override = nullptr,
                                       std::uint32_t gate = kNone) {
  const std::size_t n = t.v.size();
  std::vector<std::vector<int>> children(n);
  for (std::size_t i = 1; i < n; ++i) children[t.parent[i]].push_back(static_cast<int>(i));
  std::vector<std::uint32_t> up_edge(n, kNone), down_edge(n, kNone);
  std::vector<TimePs> lat(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    if (t.parent[i] < 0) continue;
    std::uint32_t a = t.v[i], b = t.v[t.parent[i]];
    if (up) up_edge[i] = c.s.add_edge(a, b, channel);
    if (down) down_edge[i] = c.s.add_edge(b, a, channel);
    lat[i] = hop_override ? (*hop_override)[i] : c.hop_ps(a, b);
  }
  Bytes wire_total = c.wire(payload);
  // NCCL forwards a tree's data in chunks of a few hundred KiB. When the task budget forces coarser
  // slices, a hop forwards a slice as its first chunk arrives (cut-through): the next hop may start
  // one chunk time plus the hop latency after this one started, instead of after its last byte.
  constexpr Bytes kChunk = 256 * kKiB;
  std::vector<std::uint32_t> up_prev(n, kNone), up_cur(n, kNone), dn_prev(n, kNone), dn_cur(n, kNone);
  for (int j = 0; j < k; ++j) {
    Bytes b = part(wire_total, k, j);
    const bool cut = b > 2 * kChunk && c.cap() > 0;
    auto cut_through = [&](std::uint32_t task, std::size_t ii) {
      if (cut) c.s.set_cut_through(task, lat[ii] + s_to_ps_ceil(static_cast<double>(kChunk) / c.cap()));
    };
    auto after = [&](std::uint32_t task, std::uint32_t dep) {  // dep's data feeds task
      if (cut) c.s.add_start_dep(task, dep);
      else c.s.add_dep(task, dep);
    };
    if (up) {
      for (std::size_t ii = n; ii-- > 1;) {  // reverse pre-order: children before parents
        up_cur[ii] = c.s.add_task(up_edge[ii], b, lat[ii], c.cap(), {j == 0 ? gate : kNone});
        for (int ch : children[ii]) after(up_cur[ii], up_cur[ch]);
        c.s.add_order_dep(up_cur[ii], up_prev[ii]);
        cut_through(up_cur[ii], ii);
      }
    }
    if (down) {
      std::uint32_t root_join = kNone;
      if (up && !cut) {
        std::vector<std::uint32_t> root_ready;
        for (int ch : children[0]) root_ready.push_back(up_cur[ch]);
        root_join = c.s.add_join(t.v[0], root_ready);
      }
      for (std::size_t ii = 1; ii < n; ++ii) {
        int p = t.parent[ii];
        dn_cur[ii] = c.s.add_task(down_edge[ii], b, lat[ii], c.cap(), {(j == 0 && !up) ? gate : kNone});
        if (p != 0) after(dn_cur[ii], dn_cur[p]);
        else if (root_join != kNone) c.s.add_dep(dn_cur[ii], root_join);
        else if (up)  // cut-through at the root: the reduced chunks stream straight back down
          for (int ch : children[0]) after(dn_cur[ii], up_cur[ch]);
        c.s.add_order_dep(dn_cur[ii], dn_prev[ii]);
        cut_through(dn_cur[ii], ii);
      }
    }
    up_prev = up_cur;
    dn_prev = dn_cur;
  }
  c.s.payload_bytes += payload * static_cast<double>(n - 1) * ((up ? 1 : 0) + (down ? 1 : 0));
  std::vector<std::uint32_t> out;
  for (std::size_t i = 1; i < n; ++i) {
    if (up) out.push_back(up_prev[i]);
    if (down) out.push_back(dn_prev[i]);
  }
  return out;
}

// Ranks of the communicator grouped by server, servers in order of first appearance, and each
// group sorted by local index.
std::vector<std::vector<std::uint32_t>> group_by_server(const Topology& topo, const std::vector<std::uint32_t>& ranks) {
  std::vector<std::vector<std::uint32_t>> groups;
  std::map<std::uint32_t, std::size_t> index;
  for (auto r : ranks) {
    auto sv = topo.node_of_gpu(r);
    auto [it, fresh] = index.emplace(sv, groups.size());
    if (fresh) groups.emplace_back();
    groups[it->second].push_back(r);
  }
  for (auto& g : groups)
    std::sort(g.begin(), g.end(), [&](auto a, auto b) { return topo.local_index(a) < topo.local_index(b); });
  return groups;
}

// NCCL-like ring order for channel c: inside each server the ring enters and leaves on GPUs
// whose NICs share a rail with the neighbouring servers, rotated by channel so that channels
// spread over the NICs.
std::vector<std::uint32_t> ring_order(const Ctx& c, const std::vector<std::vector<std::uint32_t>>& groups, int ch) {
  std::vector<std::uint32_t> order;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    std::vector<std::uint32_t> l = groups[g];
    std::size_t m = l.size();
    std::rotate(l.begin(), l.begin() + (static_cast<std::size_t>(ch) % m), l.end());
    if (m >= 2 && groups.size() > 1) {
      std::uint32_t a = l[0], b = l[1];
      std::vector<std::uint32_t> mid(l.begin() + 2, l.end());
      std::vector<std::uint32_t> seq;
      seq.push_back(g % 2 == 0 ? a : b);
      seq.insert(seq.end(), mid.begin(), mid.end());
      seq.push_back(g % 2 == 0 ? b : a);
      l = seq;
    }
    for (auto r : l) order.push_back(c.node(r));
  }
  return order;
}

bool is_pow2(std::size_t n) { return n && !(n & (n - 1)); }

std::uint32_t nvswitch_of(const Topology& topo, std::uint32_t gpu_node) {
  // The NVSwitch is the switch at the far end of the GPU's NVLink.
  for (std::size_t l = 0; l < topo.num_links(); ++l) {
    const Link& lk = topo.link(static_cast<std::uint32_t>(l));
    if (lk.cls != LinkClass::nvlink) continue;
    if (lk.a == gpu_node && topo.kind(lk.b) == NodeKind::sw) return lk.b;
    if (lk.b == gpu_node && topo.kind(lk.a) == NodeKind::sw) return lk.a;
  }
  return UINT32_MAX;
}

}  // namespace

std::vector<int> dbt_parents(std::size_t m, int tree) {
  // ncclGetBtree: position r's level is its lowest set bit; odd positions are leaves and 0 is the
  // root with a single child.
  auto btree_parent = [m](std::size_t r) -> long {
    if (r == 0) return -1;
    std::size_t bit = 1;
    while (bit < m && !(bit & r)) bit <<= 1;
    std::size_t up = (r ^ bit) | (bit << 1);
    if (up >= m) up = r ^ bit;
    return static_cast<long>(up);
  };
  std::vector<int> parent(m, -1);
  for (std::size_t r = 0; r < m; ++r) {
    long u;
    if (tree == 0) {
      u = btree_parent(r);
    } else if (m % 2 == 0) {  // mirror: leaves (odd) of tree 0 become interior (even) here
      u = btree_parent(m - 1 - r);
      if (u >= 0) u = static_cast<long>(m) - 1 - u;
    } else {  // shift by one
      u = btree_parent((r + m - 1) % m);
      if (u >= 0) u = (u + 1) % static_cast<long>(m);
    }
    parent[r] = static_cast<int>(u);
  }
  return parent;
}

std::size_t tree_head(int channel, std::size_t gpus_per_server) {
  return gpus_per_server == 0 ? 0 : static_cast<std::size_t>(channel / 2) % gpus_per_server;
}

bool algo_supports(CollAlgo a, CollOp op) {
  switch (a) {
    case CollAlgo::ring:
      return op == CollOp::allreduce || op == CollOp::reducescatter || op == CollOp::allgather ||
             op == CollOp::broadcast || op == CollOp::reduce;
    case CollAlgo::tree:
      return op == CollOp::allreduce || op == CollOp::broadcast || op == CollOp::reduce;
    case CollAlgo::rhd:
      return op == CollOp::allreduce || op == CollOp::reducescatter || op == CollOp::allgather;
    case CollAlgo::hierarchical:
      return op == CollOp::allreduce;
    case CollAlgo::nvls:
      return op == CollOp::allreduce || op == CollOp::reducescatter || op == CollOp::allgather;
    case CollAlgo::collnet:
      return op == CollOp::allreduce;
    case CollAlgo::pat:
      return op == CollOp::allgather || op == CollOp::reducescatter;
    case CollAlgo::pairwise:
    case CollAlgo::a2a_hierarchical:
      return op == CollOp::alltoall;
    case CollAlgo::direct:
      return op == CollOp::sendrecv || op == CollOp::alltoall;
  }
  return false;
}

void require_algo_supports(CollAlgo algo, CollOp op, const std::string& what) {
  if (!algo_supports(algo, op == CollOp::barrier ? CollOp::allreduce : op))
    throw InputError(what + ": expected an algorithm that implements " + to_string(op) + ", got '" + to_string(algo) +
                     "'");
}

namespace {

// What every builder needs to know about the communicator, computed once by build_schedule.
struct Comm {
  std::size_t n;                                   // ranks
  int C;                                           // channels
  double S, dn;                                    // the request's bytes, and n, as doubles
  std::vector<std::vector<std::uint32_t>> groups;  // ranks by server (group_by_server)
};

// Input checks that do not depend on the algorithm's shape (each builder checks its own).
void check_request(Ctx& c) {
  const Topology& topo = c.topo;
  const CollRequest& req = c.req;
  const std::size_t n = req.ranks.size();
  if (n == 0) c.cannot("a communicator of at least one GPU", "none");
  for (auto r : req.ranks) {
    if (r >= topo.num_gpus())
      c.cannot("GPU ranks below " + std::to_string(topo.num_gpus()), "rank " + std::to_string(r));
    if (!c.rank_of_node.emplace(topo.gpu_node(r), r).second)
      c.cannot("each GPU at most once in a communicator", "rank " + std::to_string(r) + " twice");
  }
  if (req.bytes < 0) c.cannot("a non-negative size", std::to_string(req.bytes));
  if (req.channels < 1) c.cannot("at least one channel", std::to_string(req.channels));
  if (!algo_supports(req.algo, req.op))
    c.cannot(std::string("an algorithm that implements ") + to_string(req.op),
             std::string("'") + to_string(req.algo) + "'");
  if ((req.algo == CollAlgo::nvls || req.algo == CollAlgo::collnet) && req.proto != CollProto::simple)
    c.cannot(std::string("protocol Simple for ") + to_string(req.algo), to_string(req.proto));
  if (!req.alltoallv.empty()) {
    if (req.op != CollOp::alltoall) c.cannot("per-pair sizes only for alltoall", to_string(req.op));
    if (req.alltoallv.size() != n)
      c.cannot("an all-to-all-v matrix of " + std::to_string(n) + " rows", std::to_string(req.alltoallv.size()));
    for (auto& row : req.alltoallv) {
      if (row.size() != n) c.cannot("all-to-all-v rows of " + std::to_string(n) + " sizes", std::to_string(row.size()));
      for (auto b : row)
        if (b < 0) c.cannot("non-negative all-to-all-v sizes", std::to_string(b));
    }
  }
}

// Ring: broadcast and reduce run as a pipelined chain from (to) the root along the ring order;
// the other ops as the pipelined ring itself.
void build_ring(Ctx& c, const Comm& cm) {
  const CollRequest& req = c.req;
  const std::size_t n = cm.n;
  const int C = cm.C;
  const double S = cm.S, dn = cm.dn;
  if (req.op == CollOp::broadcast || req.op == CollOp::reduce) {
    if (req.root < 0 || static_cast<std::size_t>(req.root) >= n)
      c.cannot("a root within the communicator (0.." + std::to_string(n - 1) + ")", std::to_string(req.root));
    for (int ch = 0; ch < C; ++ch) {
      auto order = ring_order(c, cm.groups, ch);
      // Rotate so the root's node comes first, then make the chain (reduce: reversed).
      auto it = std::find(order.begin(), order.end(), c.node(req.ranks[req.root]));
      std::rotate(order.begin(), it, order.end());
      if (req.op == CollOp::reduce)
        std::reverse(order.begin() + 1, order.end()), std::reverse(order.begin(), order.end());
      Tree chain;
      for (std::size_t i = 0; i < n; ++i) {
        chain.v.push_back(order[i]);
        chain.parent.push_back(static_cast<int>(i) - 1);
      }
      if (req.op == CollOp::reduce) {  // data flows toward the root: the root is the chain's end
        std::reverse(chain.v.begin(), chain.v.end());
      }
      double payload = S / C;
      int k = c.auto_slices(0, n * C, c.wire(payload));
      append_tree(c, chain, ch, payload, k, req.op == CollOp::reduce, req.op == CollOp::broadcast);
    }
  } else {
    double steps = req.op == CollOp::allreduce ? 2.0 * (dn - 1) : dn - 1;
    double per_edge = (S / C) * steps / dn;
    int k = c.auto_slices(steps, n * C, 0, 256.0 * kKiB, c.one_per_server ? req.uniform_ring_task_budget : kTaskBudget);
    for (int ch = 0; ch < C; ++ch) append_ring(c, ring_order(c, cm.groups, ch), ch, steps, per_edge, k);
  }
}

// Channel ch's tree for build_tree: each server's chain of GPUs (starting at its head GPU) hung
// below the head of its parent server in `par`, in the pre-order append_tree needs.
Tree server_tree(const Ctx& c, const Comm& cm, const std::vector<int>& par, int ch) {
  const auto& groups = cm.groups;
  const std::size_t m = groups.size();
  Tree t;
  std::vector<std::vector<std::uint32_t>> chains(m);
  for (std::size_t g = 0; g < m; ++g) {
    // Channels 2i and 2i+1 (one per tree) share a head GPU, hence a NIC, as NCCL's
    // duplicated tree channels do: the server is interior in at most one of them.
    auto l = groups[g];
    std::rotate(l.begin(), l.begin() + tree_head(ch, l.size()), l.end());
    for (auto r : l) chains[g].push_back(c.node(r));
  }
  std::vector<std::vector<std::size_t>> kids(m);
  std::size_t root = 0;
  for (std::size_t g = 0; g < m; ++g) {
    if (par[g] < 0) root = g;
    else kids[static_cast<std::size_t>(par[g])].push_back(g);
  }
  auto add_server = [&](std::size_t g, int parent_head) {
    int head = static_cast<int>(t.v.size());
    t.v.push_back(chains[g][0]);
    t.parent.push_back(parent_head);
    for (std::size_t i = 1; i < chains[g].size(); ++i) {
      t.v.push_back(chains[g][i]);
      t.parent.push_back(static_cast<int>(t.v.size()) - 2);
    }
    return head;
  };
  // Breadth-first over servers: parents are added before their children (pre-order
  // property append_tree needs).
  std::vector<std::pair<std::size_t, int>> queue{{root, -1}};
  for (std::size_t qi = 0; qi < queue.size(); ++qi) {
    int head = add_server(queue[qi].first, queue[qi].second);
    for (auto kid : kids[queue[qi].first]) queue.push_back({kid, head});
  }
  return t;
}

void build_tree(Ctx& c, const Comm& cm) {
  const CollRequest& req = c.req;
  const std::size_t n = cm.n;
  const int C = cm.C;
  // NCCL's double binary tree over servers, a chain inside each server; channel parity picks
  // the tree (all-reduce only: broadcast and reduce use tree 0, rooted at the first server).
  const std::size_t m = cm.groups.size();
  double payload = cm.S / C;
  const std::vector<int> parents[2] = {dbt_parents(m, 0), dbt_parents(m, 1)};
  // NCCL halves a tree's chunk (from its Simple step) while the pipeline would hold fewer than
  // about 8 chunks per hop of depth, down to a floor (enqueue.cc's chunk-size loops for trees,
  // recalled): a 1 MB all-reduce over 16 servers is pipelined, not sent whole at every level.
  const double depth = double(cm.groups.front().size() - 1) + std::ceil(std::log2(std::max<double>(1, double(m))));
  const double chunk_floor = (req.proto == CollProto::ll ? 8.0 : 32.0) * kKiB;
  double chunk = 256.0 * kKiB;
  while (static_cast<double>(c.wire(payload)) / chunk < 8 * depth && chunk > chunk_floor) chunk /= 2;
  for (int ch = 0; ch < C; ++ch) {
    Tree t = server_tree(c, cm, parents[req.op == CollOp::allreduce ? ch % 2 : 0], ch);
    int k = c.auto_slices(0, 2 * n * C, c.wire(payload), chunk);
    bool up = req.op != CollOp::broadcast, down = req.op != CollOp::reduce;
    if (req.op != CollOp::allreduce && req.root != 0)
      c.cannot("root 0 for tree broadcast and reduce", std::to_string(req.root));
    append_tree(c, t, ch, payload, k, up, down);
  }
}

// Recursive halving (reduce-scatter) and doubling (all-gather) between partners r ^ dist.
void build_rhd(Ctx& c, const Comm& cm) {
  const CollRequest& req = c.req;
  const std::size_t n = cm.n;
  const int C = cm.C;
  const double S = cm.S;
  if (!is_pow2(n)) c.cannot("a power-of-two communicator for rhd", std::to_string(n) + " ranks");
  int logn = 0;
  while ((std::size_t(1) << logn) < n) ++logn;
  for (int ch = 0; ch < C; ++ch) {
    double P_ch = S / C;
    // last[r]: the latest transfer into rank r (what its next send waits for)
    std::vector<std::uint32_t> last(n, kNone), sent(n, kNone);
    auto phase = [&](int step, double bytes) {
      std::vector<std::uint32_t> nl(n), ns(n);
      std::size_t dist = n >> (step + 1);
      for (std::size_t r = 0; r < n; ++r) {
        std::size_t p = r ^ dist;
        auto a = c.node(req.ranks[r]), b = c.node(req.ranks[p]);
        auto e = c.s.add_edge(a, b, ch);
        ns[r] = c.s.add_task(e, c.wire(bytes), c.hop_ps(a, b), c.cap(), {last[r]});
        c.s.add_order_dep(ns[r], sent[r]);
        c.s.payload_bytes += bytes;
      }
      for (std::size_t r = 0; r < n; ++r) nl[r ^ dist] = ns[r];
      last = nl;
      sent = ns;
    };
    if (req.op != CollOp::allgather)  // reduce-scatter by recursive halving
      for (int st = 0; st < logn; ++st) phase(st, P_ch / double(std::size_t(2) << st));
    if (req.op == CollOp::allreduce)  // all-gather by recursive doubling: mirror the halving
      for (int st = logn - 1; st >= 0; --st) phase(st, P_ch / double(std::size_t(2) << st));
    if (req.op == CollOp::allgather)
      for (int st = logn - 1; st >= 0; --st) phase(st, P_ch / double(std::size_t(2) << st));
  }
}

// The in-network reduction tree of collnet for the GPUs `o` (one per server): the union of the
// routes from each member to the switch at the top of the route between the first and last
// member, that switch (the apex) first, in pre-order.
Tree collnet_tree(Ctx& c, const std::vector<std::uint32_t>& o, int ch) {
  const Topology& topo = c.topo;
  auto path = topo.route(o.front(), o.back(), static_cast<std::uint64_t>(ch));
  std::vector<std::uint32_t> nodes{o.front()};
  for (auto d : path) {
    const Link& lk = topo.link(d / 2);
    nodes.push_back(d % 2 == 0 ? lk.b : lk.a);
  }
  std::uint32_t apex = nodes[nodes.size() / 2];
  if (topo.kind(apex) != NodeKind::sw)
    c.cannot("a switched fabric for collnet (in-network reduction)", "no switch between servers");
  std::map<std::uint32_t, std::uint32_t> parent_of;  // node -> parent node
  for (auto member : o) {
    std::uint32_t cur = member;
    auto r = topo.route(member, apex, static_cast<std::uint64_t>(ch));
    for (auto d : r) {
      const Link& lk = topo.link(d / 2);
      std::uint32_t nx = d % 2 == 0 ? lk.b : lk.a;
      if (topo.kind(nx) != NodeKind::sw) continue;            // NICs are not aggregation points
      if (parent_of.emplace(cur, nx).second == false) break;  // joined an existing branch
      cur = nx;
    }
  }
  Tree t;
  std::map<std::uint32_t, int> index{{apex, 0}};
  t.v.push_back(apex);
  t.parent.push_back(-1);
  // pre-order by repeated passes (trees are shallow: a few levels)
  bool added = true;
  while (added) {
    added = false;
    for (auto& [child, par] : parent_of) {
      if (index.count(child) || !index.count(par)) continue;
      index[child] = static_cast<int>(t.v.size());
      t.v.push_back(child);
      t.parent.push_back(index[par]);
      added = true;
    }
  }
  return t;
}

// Stage 2 of collnet for one local index: the switches reduce the share of the GPUs `o` (gated by
// stage 1, `join1`) and multicast it back. Returns the join on the apex that stage 3 waits for.
std::uint32_t collnet_share(Ctx& c, const Comm& cm, const std::vector<std::uint32_t>& o, int ch,
                            const std::vector<std::uint32_t>& join1, double P_ch) {
  const Topology& topo = c.topo;
  const NcclParams& P = c.P;
  const CollRequest& req = c.req;
  const int C = cm.C;
  const std::size_t p = cm.groups[0].size();
  const double dp = static_cast<double>(p);
  Tree t = collnet_tree(c, o, ch);
  const std::uint32_t apex = t.v[0];
  std::vector<TimePs> lat(t.v.size(), 0);
  for (std::size_t i = 1; i < t.v.size(); ++i)
    if (topo.kind(t.v[i]) == NodeKind::gpu) lat[i] = us_to_ps(P.hop_latency_us(req.algo, req.proto, true));
  double payload = P_ch / dp;
  int k2 = c.auto_slices(0, 2 * t.v.size() * C * p, c.wire(payload));
  auto gate = c.s.add_join(apex, join1);
  auto outs = append_tree(c, t, ch, payload, k2, true, true, &lat, gate);
  return c.s.add_join(apex, outs);
}

// Hierarchical all-reduce and collnet: reduce-scatter inside each server, all-reduce of each
// 1/p share across servers (a ring, or in-network reduction), all-gather inside each server.
void build_hierarchical(Ctx& c, const Comm& cm) {
  const CollRequest& req = c.req;
  const std::size_t n = cm.n;
  const int C = cm.C;
  const double S = cm.S;
  const auto& groups = cm.groups;
  const std::size_t m = groups.size(), p = groups[0].size();
  if (m < 2)
    c.cannot(std::string("a communicator spanning at least two servers for ") + to_string(req.algo), "one server");
  for (auto& g : groups)
    if (g.size() != p)
      c.cannot(std::string("the same number of GPUs in every server for ") + to_string(req.algo),
               std::to_string(g.size()) + " and " + std::to_string(p));
  const double dp = static_cast<double>(p), dm = static_cast<double>(m);
  for (int ch = 0; ch < C; ++ch) {
    const double P_ch = S / C;
    auto local_order = [&](std::size_t g) {
      std::vector<std::uint32_t> o;
      for (std::size_t i = 0; i < p; ++i) o.push_back(c.node(groups[g][(i + ch) % p]));
      return o;
    };
    int k1 = c.auto_slices(dp - 1, n * C, 0);
    // Stage 1: reduce-scatter inside each server.
    std::vector<std::uint32_t> join1(m);
    for (std::size_t g = 0; g < m; ++g) {
      auto o = local_order(g);
      join1[g] = c.s.add_join(o[0], append_ring(c, o, ch, dp - 1, P_ch * (dp - 1) / dp, k1));
    }
    // Stage 2: each local index all-reduces its 1/p share across servers.
    std::vector<std::vector<std::uint32_t>> into(m);
    for (std::size_t l = 0; l < p; ++l) {
      std::vector<std::uint32_t> o;
      for (std::size_t g = 0; g < m; ++g) o.push_back(c.node(groups[g][(l + ch) % p]));
      if (req.algo == CollAlgo::hierarchical) {
        int k2 = c.auto_slices(2 * (dm - 1), n * C, 0);
        auto last = append_ring(c, o, ch, 2 * (dm - 1), (P_ch / dp) * 2 * (dm - 1) / dm, k2, join1);
        for (std::size_t g = 0; g < m; ++g) into[g].push_back(last[g]);
      } else {
        auto done = collnet_share(c, cm, o, ch, join1, P_ch);
        for (std::size_t g = 0; g < m; ++g) into[g].push_back(done);
      }
    }
    // Stage 3: all-gather inside each server.
    for (std::size_t g = 0; g < m; ++g) {
      auto o = local_order(g);
      auto j2 = c.s.add_join(o[0], into[g]);
      append_ring(c, o, ch, dp - 1, P_ch * (dp - 1) / dp, k1, std::vector<std::uint32_t>(p, j2));
    }
  }
}

void build_nvls(Ctx& c, const Comm& cm) {
  const Topology& topo = c.topo;
  const NcclParams& P = c.P;
  const CollRequest& req = c.req;
  const std::size_t n = cm.n;
  const int C = cm.C;
  const double S = cm.S, dn = cm.dn;
  if (cm.groups.size() != 1)
    c.cannot("a communicator inside one NVLink domain for nvls", std::to_string(cm.groups.size()) + " servers");
  std::uint32_t sw = nvswitch_of(topo, c.node(req.ranks[0]));
  if (sw == UINT32_MAX) c.cannot("GPUs attached to an NVSwitch for nvls", "no NVSwitch");
  if (!P.nvls_supported)
    c.cannot("an NVSwitch with NVLink SHARP for nvls (Hopper or later)", P.generation + "'s NVSwitch");
  // The switch reduces (multimem.ld_reduce) and multicasts (multimem.st): per GPU, the
  // reduce-scatter sends its whole buffer up and receives 1/n back; the all-gather sends 1/n
  // up and receives the whole result.
  const Link* nv = nullptr;
  for (auto d : topo.route(c.node(req.ranks[0]), sw, 0)) nv = &topo.link(d / 2);
  BytesPerSec nv_cap = P.nvls_efficiency * (nv ? nv->bw_ab_Bps : 0) / C;
  TimePs hop = us_to_ps(P.hop_latency_us(req.algo, req.proto, false));
  for (int ch = 0; ch < C; ++ch) {
    double P_ch = S / C;
    // NCCL's NVLS chunk is 128 KiB (NCCL_NVLS_CHUNKSIZE's default, recalled): finer than the ring's
    // 256 KiB slices, so the two passes fill their pipeline sooner.
    int k = c.auto_slices(0, 4 * n * C, c.wire(P_ch), 128.0 * kKiB);
    std::vector<std::uint32_t> up_e(n), dn_e(n);
    for (std::size_t i = 0; i < n; ++i) {
      auto g = c.node(req.ranks[i]);
      up_e[i] = c.s.add_edge(g, sw, ch);
      dn_e[i] = c.s.add_edge(sw, g, ch);
    }
    bool rs = req.op != CollOp::allgather, ag = req.op != CollOp::reducescatter;
    std::vector<std::uint32_t> up(n, kNone), down(n, kNone), up2(n, kNone), down2(n, kNone);
    Bytes full = c.wire(P_ch), share = c.wire(P_ch / dn);
    // One pass through the switch: every GPU sends up (after `ready[i]`, in order after its
    // previous send), the switch combines, every GPU receives.
    // The port's NVLS rate is shared by the two passes of an all-reduce, which overlap slice by
    // slice in each direction: each pass's flows get the share of its bytes (the whole buffer, or
    // 1/n of it), so a direction moves S (1 + 1/n) at the NVLS rate.
    const bool both = rs && ag;
    const BytesPerSec cap_full = both ? nv_cap * dn / (dn + 1) : nv_cap, cap_share = both ? nv_cap / (dn + 1) : nv_cap;
    auto through_switch = [&](Bytes up_b, Bytes down_b, TimePs up_lat, const std::vector<std::uint32_t>& ready,
                              std::vector<std::uint32_t>& up_prev, std::vector<std::uint32_t>& down_prev) {
      std::vector<std::uint32_t> ups(n);
      const BytesPerSec up_cap = up_b >= down_b ? cap_full : cap_share,
                        down_cap = up_b >= down_b ? cap_share : cap_full;
      for (std::size_t i = 0; i < n; ++i) {
        auto t = c.s.add_task(up_e[i], up_b, up_lat, up_cap, {ready[i]});
        c.s.add_order_dep(t, up_prev[i]);
        ups[i] = up_prev[i] = t;
      }
      auto combined = c.s.add_join(sw, ups);
      for (std::size_t i = 0; i < n; ++i) {
        auto t = c.s.add_task(dn_e[i], down_b, 0, down_cap, {combined});
        c.s.add_order_dep(t, down_prev[i]);
        down_prev[i] = t;
      }
    };
    const std::vector<std::uint32_t> none(n, kNone);
    for (int j = 0; j < k; ++j) {
      if (rs) through_switch(part(full, k, j), part(share, k, j), part_ps(hop, k, j), none, up, down);
      // The all-gather sends the share it received from the reduce-scatter (none without one).
      if (ag) through_switch(part(share, k, j), part(full, k, j), rs ? 0 : part_ps(hop, k, j), down, up2, down2);
    }
    c.s.payload_bytes += (rs ? dn * (P_ch + P_ch / dn) : 0) + (ag ? dn * (P_ch + P_ch / dn) : 0);
  }
}

void build_pat(Ctx& c, const Comm& cm) {
  const CollRequest& req = c.req;
  const std::size_t n = cm.n;
  const int C = cm.C;
  const double S = cm.S, dn = cm.dn;
  // Log-step (Bruck-like) exchange: step d sends min(d, n-d) chunks to the rank d behind.
  for (int ch = 0; ch < C; ++ch) {
    double chunk = S / C / dn;
    std::vector<std::size_t> dists;
    for (std::size_t d = 1; d < n; d *= 2) dists.push_back(d);
    if (req.op == CollOp::reducescatter) std::reverse(dists.begin(), dists.end());
    std::vector<std::uint32_t> last(n, kNone), sent(n, kNone);
    for (auto d : dists) {
      std::vector<std::uint32_t> ns(n), nl(n);
      double bytes = chunk * static_cast<double>(std::min(d, n - d));
      for (std::size_t r = 0; r < n; ++r) {
        std::size_t to = (r + n - d) % n;
        auto a = c.node(req.ranks[r]), b = c.node(req.ranks[to]);
        ns[r] = c.s.add_task(c.s.add_edge(a, b, ch), c.wire(bytes), c.hop_ps(a, b), c.cap(), {last[r]});
        c.s.add_order_dep(ns[r], sent[r]);
        nl[to] = ns[r];
        c.s.payload_bytes += bytes;
      }
      last = nl;
      sent = ns;
    }
  }
}

// Bytes communicator index i sends to j in an all-to-all.
double pair_bytes(const Ctx& c, const Comm& cm, std::size_t i, std::size_t j) {
  if (!c.req.alltoallv.empty()) return static_cast<double>(c.req.alltoallv[i][j]);
  return cm.S / cm.dn;  // nccl-tests: the per-rank buffer holds n equal blocks
}

void build_pairwise(Ctx& c, const Comm& cm) {
  const CollRequest& req = c.req;
  const std::size_t n = cm.n;
  // n-1 rounds; in round k rank r sends to r+k once it has finished round k-1 both ways.
  std::vector<std::uint32_t> sent(n, kNone), recv(n, kNone);
  for (std::size_t k = 1; k < n; ++k) {
    std::vector<std::uint32_t> ns(n), nr(n);
    for (std::size_t r = 0; r < n; ++r) {
      std::size_t to = (r + k) % n;
      auto a = c.node(req.ranks[r]), b = c.node(req.ranks[to]);
      double bytes = pair_bytes(c, cm, r, to);
      ns[r] =
          c.s.add_task(c.s.add_edge(a, b, static_cast<std::uint32_t>(k)), c.wire(bytes), c.hop_ps(a, b), 0, {recv[r]});
      c.s.add_order_dep(ns[r], sent[r]);
      nr[to] = ns[r];
      c.s.payload_bytes += bytes;
    }
    sent = ns;
    recv = nr;
  }
}

void build_a2a_hierarchical(Ctx& c, const Comm& cm) {
  const CollRequest& req = c.req;
  const std::size_t n = cm.n;
  const auto& groups = cm.groups;
  // Two phases: inside each server, GPU i hands GPU j everything bound for local index j
  // elsewhere; then GPU j exchanges those aggregates with GPU j of every other server, on
  // its own rail.
  const std::size_t m = groups.size(), p = groups[0].size();
  for (auto& g : groups)
    if (g.size() != p)
      c.cannot("the same number of GPUs in every server for a2a-hierarchical", std::to_string(g.size()));
  std::map<std::uint32_t, std::size_t> pos;  // rank -> communicator index
  for (std::size_t i = 0; i < n; ++i) pos[req.ranks[i]] = i;
  std::vector<std::vector<std::uint32_t>> into(n);
  for (std::size_t g = 0; g < m; ++g)
    for (std::size_t i = 0; i < p; ++i)
      for (std::size_t j = 0; j < p; ++j) {
        if (i == j) continue;
        std::size_t src = pos[groups[g][i]];
        double bytes = 0;
        for (std::size_t b = 0; b < m; ++b) bytes += pair_bytes(c, cm, src, pos[groups[b][j]]);
        auto a = c.node(groups[g][i]), d = c.node(groups[g][j]);
        auto t = c.s.add_task(c.s.add_edge(a, d, 0), c.wire(bytes), c.hop_ps(a, d), 0, {});
        into[pos[groups[g][j]]].push_back(t);
        c.s.payload_bytes += bytes;
      }
  std::vector<std::uint32_t> ready(n);
  for (std::size_t i = 0; i < n; ++i) ready[i] = c.s.add_join(c.node(req.ranks[i]), into[i]);
  for (std::size_t g = 0; g < m; ++g)
    for (std::size_t j = 0; j < p; ++j)
      for (std::size_t b = 0; b < m; ++b) {
        if (b == g) continue;
        double bytes = 0;
        for (std::size_t i = 0; i < p; ++i) bytes += pair_bytes(c, cm, pos[groups[g][i]], pos[groups[b][j]]);
        auto a = c.node(groups[g][j]), d = c.node(groups[b][j]);
        c.s.add_task(c.s.add_edge(a, d, 0), c.wire(bytes), c.hop_ps(a, d), 0, {ready[pos[groups[g][j]]]});
        c.s.payload_bytes += bytes;
      }
}

void build_direct(Ctx& c, const Comm& cm) {
  const CollRequest& req = c.req;
  const std::size_t n = cm.n;
  const int C = cm.C;
  const double S = cm.S, dn = cm.dn;
  if (req.op == CollOp::alltoall) {
    // NCCL's all-to-all: every send and receive posted in one group, all in flight at once;
    // the links (max-min) decide who gets what.
    for (std::size_t r = 0; r < n; ++r)
      for (std::size_t k = 1; k < n; ++k) {
        std::size_t to = (r + k) % n;
        auto a = c.node(req.ranks[r]), b = c.node(req.ranks[to]);
        double bytes = req.alltoallv.empty() ? S / dn : static_cast<double>(req.alltoallv[r][to]);
        c.s.add_task(c.s.add_edge(a, b, static_cast<std::uint32_t>(k)), c.wire(bytes), c.hop_ps(a, b), 0, {});
        c.s.payload_bytes += bytes;
      }
    return;
  }
  // send/recv as nccl-tests runs it: every rank sends to the next
  for (int ch = 0; ch < C; ++ch)
    for (std::size_t r = 0; r < n; ++r) {
      auto a = c.node(req.ranks[r]), b = c.node(req.ranks[(r + 1) % n]);
      c.s.add_task(c.s.add_edge(a, b, ch), c.wire(S / C), c.hop_ps(a, b), c.cap(), {});
      c.s.payload_bytes += S / C;
    }
}

}  // namespace

std::shared_ptr<CollSchedule> build_schedule(const Topology& topo, const NcclParams& P, const CollRequest& req,
                                             const std::string& what) {
  auto sched = std::make_shared<CollSchedule>();
  Ctx c{topo, P, req, *sched, what, {}};
  check_request(c);
  const std::size_t n = req.ranks.size();
  sched->start_latency_ps = us_to_ps(P.base_latency_us_of(req.algo, req.proto));
  if (n == 1 || req.bytes == 0) return sched;  // nothing crosses a link

  const Comm cm{n, req.channels, static_cast<double>(req.bytes), static_cast<double>(n),
                group_by_server(topo, req.ranks)};
  c.one_per_server = cm.groups.size() == n && n > 1;
  switch (req.algo) {
    case CollAlgo::ring:
      build_ring(c, cm);
      break;
    case CollAlgo::tree:
      build_tree(c, cm);
      break;
    case CollAlgo::rhd:
      build_rhd(c, cm);
      break;
    case CollAlgo::hierarchical:
    case CollAlgo::collnet:
      build_hierarchical(c, cm);
      break;
    case CollAlgo::nvls:
      build_nvls(c, cm);
      break;
    case CollAlgo::pat:
      build_pat(c, cm);
      break;
    case CollAlgo::pairwise:
      build_pairwise(c, cm);
      break;
    case CollAlgo::a2a_hierarchical:
      build_a2a_hierarchical(c, cm);
      break;
    case CollAlgo::direct:
      build_direct(c, cm);
      break;
    default:
      c.cannot("an implemented algorithm", to_string(req.algo));
  }
  return sched;
}

}  // namespace knee
