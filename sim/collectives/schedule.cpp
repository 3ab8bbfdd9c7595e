#include "sim/collectives/schedule.hpp"

#include <stdexcept>

namespace knee {

std::uint32_t CollSchedule::add_edge(std::uint32_t src, std::uint32_t dst, std::uint32_t channel) {
  edges_.push_back(CollEdge{src, dst, channel});
  return static_cast<std::uint32_t>(edges_.size() - 1);
}

std::uint32_t CollSchedule::add_task(std::uint32_t edge, Bytes wire_bytes, TimePs latency_ps, BytesPerSec cap_Bps,
                                     std::initializer_list<std::uint32_t> deps) {
  return add_task(edge, wire_bytes, latency_ps, cap_Bps, std::vector<std::uint32_t>(deps));
}

std::uint32_t CollSchedule::add_task(std::uint32_t edge, Bytes wire_bytes, TimePs latency_ps, BytesPerSec cap_Bps,
                                     const std::vector<std::uint32_t>& deps) {
  if (edge >= edges_.size()) throw std::logic_error("CollSchedule: unknown edge");
  if (wire_bytes < 0 || latency_ps < 0) throw std::logic_error("CollSchedule: negative task");
  auto t = static_cast<std::uint32_t>(tasks_.size());
  if (t > kTaskMask) throw std::length_error("CollSchedule: too many tasks");
  tasks_.push_back(CollTask{edge, wire_bytes, latency_ps, cap_Bps});
  for (auto d : deps) add_dep(t, d);
  final_ = false;
  return t;
}

std::uint32_t CollSchedule::add_join(std::uint32_t node, const std::vector<std::uint32_t>& deps) {
  return add_task(add_edge(node, node, 0), 0, 0, 0, deps);
}

void CollSchedule::add_dep(std::uint32_t task, std::uint32_t dep) {
  if (dep == kNone) return;
  if (dep >= task) throw std::logic_error("CollSchedule: a task may only depend on earlier tasks");
  deps_.emplace_back(dep, task);
  final_ = false;
}

void CollSchedule::add_order_dep(std::uint32_t task, std::uint32_t dep) {
  if (dep == kNone) return;
  if (dep >= task) throw std::logic_error("CollSchedule: a task may only depend on earlier tasks");
  deps_.emplace_back(dep, task | kOrderBit);
  final_ = false;
}

void CollSchedule::add_start_dep(std::uint32_t task, std::uint32_t dep) {
  if (dep == kNone) return;
  if (dep >= task) throw std::logic_error("CollSchedule: a task may only depend on earlier tasks");
  deps_.emplace_back(dep, task | kStartBit);
  final_ = false;
}

void CollSchedule::finalize() const {
  if (final_) return;
  const std::size_t n = tasks_.size();
  indeg_.assign(n, 0);
  succ_idx_.assign(n + 1, 0);
  for (auto& [d, t] : deps_) {
    ++indeg_[t & kTaskMask];
    ++succ_idx_[d + 1];
  }
  for (std::size_t i = 0; i < n; ++i) succ_idx_[i + 1] += succ_idx_[i];
  succ_.assign(deps_.size(), 0);
  std::vector<std::uint32_t> fill(succ_idx_.begin(), succ_idx_.end() - 1);
  for (auto& [d, t] : deps_) succ_[fill[d]++] = t;
  final_ = true;
}

const std::vector<std::uint32_t>& CollSchedule::indegree() const {
  finalize();
  return indeg_;
}
const std::vector<std::uint32_t>& CollSchedule::succ_index() const {
  finalize();
  return succ_idx_;
}
const std::vector<std::uint32_t>& CollSchedule::successors() const {
  finalize();
  return succ_;
}

}  // namespace knee
