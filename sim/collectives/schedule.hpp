// A collective (or any communication pattern) as a DAG of transfers between topology nodes.
// Algorithms (algorithms.hpp) build schedules; the executor (executor.hpp) runs them as flows on
// the network, each transfer starting when the transfers it depends on have completed.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "common/units.hpp"

namespace knee {

struct CollTask {
  std::uint32_t edge;         // index into CollSchedule::edges (who sends to whom, on which channel)
  Bytes wire_bytes;           // bytes on the wire: payload divided by the protocol's efficiency
  TimePs latency_ps;          // latency before the data is usable at dst (NCCL's per-hop latency);
                              // the physical path latency is part of it, never added twice
  BytesPerSec cap_Bps;        // per-flow rate limit (per-channel bandwidth); 0: none
  TimePs cut_through_ps = 0;  // after the first byte, when start dependents may begin (below)
};

struct CollEdge {
  std::uint32_t src, dst;  // topology node ids; src == dst makes a zero-cost join
  std::uint32_t channel;   // channels take different ECMP paths
};

class CollSchedule {
 public:
  static constexpr std::uint32_t kNone = UINT32_MAX;

  std::uint32_t add_edge(std::uint32_t src, std::uint32_t dst, std::uint32_t channel);
  // Adds a task on `edge` that starts when every task in `deps` has completed (kNone entries
  // are skipped, so builders can pass "no predecessor" uniformly).
  std::uint32_t add_task(std::uint32_t edge, Bytes wire_bytes, TimePs latency_ps, BytesPerSec cap_Bps,
                         std::initializer_list<std::uint32_t> deps);
  std::uint32_t add_task(std::uint32_t edge, Bytes wire_bytes, TimePs latency_ps, BytesPerSec cap_Bps,
                         const std::vector<std::uint32_t>& deps);
  // An ordering dependency: `task` may start once `dep` has finished sending (not once its data
  // has arrived): a sender keeps several pipeline steps in flight, so per-hop latency overlaps
  // with the next step's transfer, as in NCCL.
  void add_order_dep(std::uint32_t task, std::uint32_t dep);
  // A cut-through dependency: `task` may start `cut_through_ps` after `dep` started sending (set
  // on `dep` with set_cut_through). A coarse slice stands for many fine chunks that a real
  // pipeline forwards as they arrive; waiting for the whole slice at every hop would charge one
  // coarse slice per tree level instead of one fine chunk.
  void add_start_dep(std::uint32_t task, std::uint32_t dep);
  void set_cut_through(std::uint32_t task, TimePs after_start_ps) { tasks_[task].cut_through_ps = after_start_ps; }
  // A zero-cost task that completes when all of `deps` have: joins and barriers between stages.
  std::uint32_t add_join(std::uint32_t node, const std::vector<std::uint32_t>& deps);
  void add_dep(std::uint32_t task, std::uint32_t dep);

  std::size_t size() const { return tasks_.size(); }
  const std::vector<CollTask>& tasks() const { return tasks_; }
  const std::vector<CollEdge>& edges() const { return edges_; }
  const CollTask& task(std::uint32_t t) const { return tasks_[t]; }
  const CollEdge& edge_of(std::uint32_t t) const { return edges_[tasks_[t].edge]; }

  // Latency before any transfer starts (NCCL's base latency of the algorithm and protocol).
  TimePs start_latency_ps = 0;
  // Payload bytes over all transfers (not wire bytes): a conservation check for tests.
  double payload_bytes = 0;

  // Dependency structure in compressed form, built on first use after the last add.
  const std::vector<std::uint32_t>& indegree() const;
  // Successors of task t: succ_index()[t] .. succ_index()[t+1] into successors(). Entries with
  // kOrderBit are ordering dependents, released when t finishes sending; with kStartBit, start
  // dependents, released cut_through_ps after t starts; the rest wait for t's data to arrive.
  static constexpr std::uint32_t kOrderBit = 0x80000000u;
  static constexpr std::uint32_t kStartBit = 0x40000000u;
  static constexpr std::uint32_t kTaskMask = 0x3fffffffu;
  const std::vector<std::uint32_t>& succ_index() const;
  const std::vector<std::uint32_t>& successors() const;

 private:
  void finalize() const;
  std::vector<CollTask> tasks_;
  std::vector<CollEdge> edges_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> deps_;  // (dep, task)
  mutable bool final_ = false;
  mutable std::vector<std::uint32_t> indeg_, succ_idx_, succ_;
};

}  // namespace knee
