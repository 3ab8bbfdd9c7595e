#include "sim/collectives/nccl_params.hpp"

#include <cstring>

namespace knee {

int NcclParams::latency_class(CollAlgo a) {
  switch (a) {
    case CollAlgo::tree:
      return 1;
    case CollAlgo::nvls:
      return 2;
    case CollAlgo::collnet:
      return 3;
    default:
      return 0;  // ring, rhd, hierarchical, pat, all-to-all and p2p use ring latencies
  }
}

double NcclParams::base_latency_us_of(CollAlgo a, CollProto p) const {
  return base_latency_us[latency_class(a)][static_cast<int>(p)];
}
double NcclParams::hop_latency_us(CollAlgo a, CollProto p, bool network) const {
  int c = latency_class(a), q = static_cast<int>(p);
  return network ? hop_latency_network_us[c][q] : hop_latency_nvlink_us[c][q];
}
double NcclParams::channel_Bps(CollAlgo a) const {
  return GBps_to_Bps(a == CollAlgo::tree ? channel_GBps_tree : channel_GBps_ring);
}
double NcclParams::link_efficiency(LinkClass c) const {
  switch (c) {
    case LinkClass::nvlink:
      return link_efficiency_nvlink;
    case LinkClass::pcie:
      return link_efficiency_pcie;
    default:
      return link_efficiency_network;
  }
}

namespace {
// NVLS all-reduce moves S (1 + 1/n) per GPU port and direction; nccl-tests reports about 480 GB/s
// busbw for it on a DGX H100 at large sizes (recalled, NCCL 2.18-2.21; the ring gives about 360,
// which knee's NVLink efficiency 0.8 reproduces), so the port sustains
// 480 x (1 + 1/8) / (2 x 7/8) = 308.6 GB/s = 0.686 of the 450 GB/s NVLink rate.
constexpr double kHopperNvlsEfficiency = 480.0 * (1 + 1.0 / 8) / (2 * 7.0 / 8) / 450.0;
}  // namespace

NcclParams nccl_params_for_gpu(const std::string& gpu_model) {
  NcclParams p{};
  // NCCL tuning.cc: baseLat {LL, LL128, Simple}; hwLat for NVLink and network paths.
  const double base[4][3] = {{6.6, 14.0, 8.4}, {6.8, 14.0, 8.4}, {0, 0, 25.0}, {0, 0, 8.4}};
  const double nvl[4][3] = {{0.6, 1.9, 3.4}, {0.6, 1.25, 4.0}, {0, 0, 25.0}, {0, 0, 3.7}};
  const double net[4][3] = {{2.7, 4.0, 14.0}, {5.0, 8.5, 14.0}, {0, 0, 18.0}, {0, 0, 31.0}};
  std::memcpy(p.base_latency_us, base, sizeof base);
  std::memcpy(p.hop_latency_nvlink_us, nvl, sizeof nvl);
  std::memcpy(p.hop_latency_network_us, net, sizeof net);
  // Per-channel LL128 maxima (ring 36.7, tree 38.7 GB/s on Hopper) divided by LL128's efficiency
  // give Simple's per-channel wire rate.
  if (gpu_model == "a100") {
    p.generation = "ampere";
    p.channel_GBps_ring = 20.0 / 0.92;
    p.channel_GBps_tree = 24.0 / 0.92;
    p.max_channels = 32;
    p.provenance = "published: NCCL tuning.cc tables for Ampere (SM80)";
  } else if (gpu_model == "b200" || gpu_model == "gb200") {
    p.generation = "blackwell";
    p.channel_GBps_ring = 2 * 36.7 / 0.92;
    p.channel_GBps_tree = 2 * 38.7 / 0.92;
    p.max_channels = 64;
    p.provenance = "derived: Hopper tables with per-channel bandwidth scaled by the NVLink ratio (900/450)";
    p.nvls_supported = true;
    p.nvls_efficiency = kHopperNvlsEfficiency;  // assumed: Hopper's, until measured
    p.nvls_channels = 32;
  } else {
    p.generation = "hopper";
    p.channel_GBps_ring = 36.7 / 0.92;
    p.channel_GBps_tree = 38.7 / 0.92;
    p.max_channels = 32;
    p.provenance = "published: NCCL tuning.cc tables for Hopper (SM90)";
    p.nvls_supported = true;
    p.nvls_efficiency = kHopperNvlsEfficiency;
  }
  return p;
}

}  // namespace knee
