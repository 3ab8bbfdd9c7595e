// Internal: coordinates of a built fabric. Node and link ids are laid out arithmetically by the
// builder (fabric.cpp) so that routing computes a path from two ranks in O(path length).
#pragma once
#include <cstdint>
#include <vector>

#include "topologies/fabric.hpp"

namespace knee::detail {

struct FabricLayout {
  FabricKind kind = FabricKind::single_node;
  std::uint32_t servers = 1, gpn = 1;                      // N servers of G GPUs; GPU node id == rank
  bool nvswitch = false;                                   // one NVSwitch node per server when G > 1
  std::uint32_t nvsw_base = 0, nic_base = 0, sw_base = 0;  // first node id of each group
  // First link id of each group: link (l_gpu_nvsw + g) joins GPU g (a) to its NVSwitch (b),
  // (l_gpu_nic + g) GPU g (a) to NIC g (b), (l_nic_sw + g) NIC g (a) to its first switch (b).
  std::uint32_t l_gpu_nvsw = 0, l_gpu_nic = 0, l_nic_sw = 0, l_fabric = 0;

  // rail-fat-tree: leaf (rail r, index l) = sw_base + r * leaves_per_rail + l, then the spines
  // of pod p (index k < spines) = sw_base + G * leaves_per_rail + p * spines + k, then (pods > 1)
  // core k = ... + pods * spines + k. Link (l_fabric + leaf * spines + k) joins leaf (a) to spine
  // k of its pod (b); link (l_core + p * spines + k) joins spine (p, k) (a) to core k (b). Without
  // a pod tier pods == 1: one set of spines shared by all leaves, no core.
  std::uint32_t per_leaf = 0, leaves_per_rail = 0, spines = 0, leaves_per_pod = 0, l_core = 0;

  // fat-tree: edges, then aggregation (pod p, index j) = sw_base + edges + p * half + j, then
  // cores (group j, index m) = ... + j * half + m. Link (l_fabric + e * half + j): edge e (a) to
  // aggregation j of its pod e / edges_per_pod (b); link (l_agg_core + (p * half + j) * half + m):
  // aggregation (p, j) (a) to core (j, m) (b). edges_per_pod == half without a pod tier.
  std::uint32_t per_edge = 0, edges = 0, half = 0, pods = 0, l_agg_core = 0, edges_per_pod = 0;
  bool has_aggs = false, has_cores = false;

  // Pod tier (both fat-trees): servers per pod (0: no pod tier) and its oversubscription.
  std::uint32_t pod_servers = 0;
  double pod_oversubscription = 1.0;

  // torus: router of server s = sw_base + s; torus_link[s * D + d] is the link from s (a) to its
  // +1 neighbour along dimension d (b), or kNone (dimension of size 1, or size 2 seen from 1).
  std::vector<std::uint32_t> dims, torus_link;

  std::uint32_t bisection_split = 0;  // GPU ranks below it are the "first half"

  static constexpr std::uint32_t kNone = 0xffffffffu;
};

}  // namespace knee::detail
