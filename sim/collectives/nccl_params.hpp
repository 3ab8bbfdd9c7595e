// Parameters of NCCL's cost model that the collective algorithms use: base and per-hop latencies
// by algorithm and protocol, per-channel bandwidth, protocol efficiencies, and the fraction of a
// link's wire rate NCCL's kernels achieve. Defaults are NCCL's published tuning tables
// (src/graph/tuning.cc) for the GPU generation; docs/collectives.md lists each value and its source.
#pragma once
#include <string>

#include "sim/collectives/collective_types.hpp"
#include "topologies/topology.hpp"

namespace knee {

struct NcclParams {
  std::string generation;  // "ampere", "hopper", "blackwell"
  std::string provenance;  // where the numbers come from
  // [algo][proto], microseconds. Index algo by latency_class(): 0 ring-like, 1 tree, 2 nvls, 3 collnet.
  double base_latency_us[4][3];
  double hop_latency_nvlink_us[4][3];
  double hop_latency_network_us[4][3];
  // Per-channel wire bandwidth of the Simple protocol, GB/s (ring-like algorithms, and tree).
  double channel_GBps_ring = 0, channel_GBps_tree = 0;
  // Payload bytes per wire byte: LL carries 8 bytes of data with 8 of flags, LL128 120 of 128.
  double proto_efficiency[3] = {0.5, 0.92, 1.0};
  // NVLink SHARP (NVLS): the NVSwitch reduces and multicasts; third-generation NVSwitch (Hopper)
  // and later only. Its rate per GPU port and direction, as a fraction of the NVLink wire rate, is
  // its own: one NVLink efficiency cannot give both the ring's and NVLS's busbw (docs/collectives.md).
  bool nvls_supported = false;
  double nvls_efficiency = 0;
  int nvls_channels = 16;  // NCCL_NVLS_NCHANNELS' default: NVLS runs on this many channels (CTAs)
  // Fraction of each link class's wire rate NCCL's copy kernels reach (applied to link capacity).
  double link_efficiency_nvlink = 0.8, link_efficiency_pcie = 0.86, link_efficiency_network = 0.94;
  int max_channels = 32;

  double link_efficiency(LinkClass c) const;
  static int latency_class(CollAlgo a);
  double base_latency_us_of(CollAlgo a, CollProto p) const;
  double hop_latency_us(CollAlgo a, CollProto p, bool network) const;
  double channel_Bps(CollAlgo a) const;  // wire bytes/s per channel
};

// Defaults for a GPU model name ("a100", "h100", "h200", "b200", "gb200").
NcclParams nccl_params_for_gpu(const std::string& gpu_model);

}  // namespace knee
