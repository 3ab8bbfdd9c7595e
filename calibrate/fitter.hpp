// Turns raw measurements into a profile (profile/profile.hpp documents the schema), and derives
// profiles of other GPUs from a measured one by datasheet ratios.
#pragma once
#include <string>
#include <vector>

#include "calibrate/raw.hpp"

namespace knee {

struct FitOptions {
  std::string name;  // profile name, e.g. "h200"
  std::string command_line, git_revision;
  double power_settle_s = 1.0;  // samples this soon after a phase change are excluded
};

// `second` (may be null) is another run of the same kind of machine: it never changes a value,
// it only adds run_to_run to each parameter it also measured.
OrderedJson fit_profile(const RawRun& primary, const RawRun* second, const FitOptions& opt);

// Datasheet figures of the GPUs knee knows (dense tensor-core TFLOP/s, HBM, NVLink, TDP).
struct Datasheet {
  std::string key, gpu;
  double bf16, fp16, fp8, tf32, fp32;  // TFLOP/s, 0 = not supported / not published
  double hbm_Bps, capacity_bytes, l2_bytes, nvlink_total_Bps, nic_bps, tdp_W, pcie_gen;
  int sm_count = 0;  // streaming multiprocessors (SXM parts)
};
const Datasheet* find_datasheet(const std::string& key_or_gpu_name);
std::vector<std::string> datasheet_keys();

// A profile of GPU `target` from `base` (a measured profile whose GPU has a datasheet): GEMM and
// attention times scale by the peak ratio above the launch floor, memory by the HBM ratio, links
// and power from the datasheet. Every parameter is marked "derived" or "datasheet".
OrderedJson derive_profile(const OrderedJson& base, const std::string& target, const FitOptions& opt);

}  // namespace knee
