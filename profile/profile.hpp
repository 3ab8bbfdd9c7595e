// A calibrated profile: what one GPU (or CPU) does, measured, fitted, derived or from a datasheet,
// as the simulator consumes it. Schema (schema_version 1) in docs/calibration.md; every parameter
// is {"value", "provenance", optional "ci95": [lo, hi], "run_to_run", "reps", "outliers", "note"}.
//
//   Profile p = Profile::builtin("h200");
//   double t = p.gemm_time_s(8192, 8192, 8192, "bf16");      // seconds, launch floor included
//   Profile::AlphaBeta nv = p.link("nvlink");
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace knee {

// How communication kernels slow the compute they overlap on one GPU (Profile::comm_interference):
// a compute-bound kernel beside a collective holding k of the n = sm_count SMs runs at
// (n - held_sm_cost k) / n of its rate; a memory-bound kernel beside communication moving H bytes/s
// through HBM runs at (1 - hbm_share_cost H / B) of its rate, B the device-copy bandwidth.
struct CommInterference {
  int sm_count = 0;
  double held_sm_cost = 1, hbm_share_cost = 1;
  // Of the two costs: "measured" (or as the profile writes them), "assumed" without a measurement;
  // when the two differ, the less certain (measured < fitted < derived < datasheet < assumed).
  std::string provenance;
  std::string note;  // where the costs and sm_count came from, in words
};

// Which GEMM of a linear layer a call is (docs/calibration.md, "GEMM roles"): the forward
// product (fwd: Y = X W^T), the input gradient (bwd_data: dX = dY W) or the weight gradient
// (bwd_weight: dW = dY^T X); none: a GEMM of no stated role, timed from every sample alike. A
// profile's sample carries a role when its label's first word is LAYER.ROLE ("fc2.bwd_weight
// hidden=12288 tokens=8192").
enum class GemmRole { none, fwd, bwd_data, bwd_weight };
const char* to_string(GemmRole);
// Throws InputError "WHAT: expected one of none, fwd, bwd_data, bwd_weight, got 'TEXT'".
GemmRole parse_gemm_role(const std::string& text, const std::string& what);

class Profile {
 public:
  // Strict: unknown keys, wrong types, negative times are InputErrors naming the file and $.path.
  static Profile load(const std::string& path);
  static Profile from_json(const nlohmann::ordered_json& j, const std::string& source);
  // Profiles shipped in profile/shipped, embedded in the binary: "h200", "h100", "a100", "b200".
  static Profile builtin(const std::string& name);
  static std::vector<std::string> builtin_names();

  const std::string& name() const;
  const std::string& gpu() const;
  const std::string& description() const;  // $.description, "" when absent
  // Whether the parameters are what knee fit wrote: "unedited" ($.manifest.parameters_digest
  // matches them), "edited" (it does not: something was changed after knee fit wrote the profile,
  // so its provenance words may no longer hold), "no digest" (none recorded). See
  // parameters_digest below and docs/calibration.md, "Edited profiles".
  const std::string& parameters_state() const;
  // $.derivation.datasheet of a derived profile (the datasheet file or "builtin:KEY"), else "".
  const std::string& derivation_datasheet() const;
  // Measured on a CPU, not a GPU (what knee calibrate --backend cpu writes: $.gpu "cpu: ..." or
  // $.manifest.gpu_count 0): its times say nothing about a GPU.
  bool measured_on_cpu() const;

  // GEMM C[m,n] = A[m,k] B[k,n]; dtype one of the profile's tables (bf16, fp16, fp8, tf32, fp32,
  // fp64). Inverse-distance interpolation of log TFLOP/s over the nearest measured shapes in
  // (log m, log n, log k), kept inside the monotone envelope of the samples (no faster than a
  // sample it contains, no slower than one containing it), never faster than the roofline, never
  // shorter than the launch floor; shapes far from every sample (> 4x) use roofline + floor.
  // With a role (GemmRole::none: exactly the above), a shape the role measured returns the role's
  // own median; elsewhere the estimate above times a correction, interpolated the same way over
  // the role's samples within 4x, of how each of them differs from all samples at its shape; kept
  // inside the envelope of the role's and the role-less samples, the roofline and the floor. A
  // table without samples of the role gives the role-less result (docs/calibration.md, "GEMM
  // roles").
  double gemm_time_s(std::int64_t m, std::int64_t n, std::int64_t k, const std::string& dtype,
                     GemmRole role = GemmRole::none) const;
  double gemm_tflops(std::int64_t m, std::int64_t n, std::int64_t k, const std::string& dtype,
                     GemmRole role = GemmRole::none) const;
  std::vector<std::string> gemm_dtypes() const;
  // The peak that MFU is measured against: the datasheet's tensor peak for `dtype` when the
  // profile records one ($.compute.peak_tflops.<dtype>.datasheet), else the achieved peak, else
  // the profile's own 8192^3 GEMM rate.
  double peak_tflops(const std::string& dtype) const;
  // `batch` independent GEMMs C[m,n] = A[m,k] B[k,n] in one strided-batched call. With samples in
  // $.compute.batched_gemm.<dtype>, the same interpolation as gemm_time_s in (log batch, log m,
  // log n, log k), its roofline counting batch x (mk + kn + mn) elements; without, the fallback
  // gemm_time_s(batch * m, n, k, dtype), one GEMM with the batch folded into m (same FLOPs and
  // A and C traffic), but no faster than those batch x (mk + kn + mn) elements at HBM bandwidth
  // (the folded GEMM reads B once). Dimensions < 1 are InputErrors.
  double batched_gemm_time_s(std::int64_t batch, std::int64_t m, std::int64_t n, std::int64_t k,
                             const std::string& dtype) const;
  bool has_batched_gemm(const std::string& dtype) const;
  // Time of a memory-bound kernel moving `bytes_moved` (read + write): "copy" (device copy) or one
  // of the measured ops (add, gelu, layernorm, softmax, dropout_add).
  double memory_bound_time_s(double bytes_moved, const std::string& op = "copy") const;
  // Fused (flash) attention, bf16; backward = forward plus backward.
  double attention_time_s(int batch, int heads, int seq, int head_dim, bool causal, bool backward) const;
  // The unfused reference path (S = QK^T, softmax, O = PV as separate kernels), bf16 forward, from
  // $.attention.unfused_samples: the rate in score elements per second (b h s^2 scores: the GEMMs
  // compute the whole matrix, causal or not), piecewise-linear in log-log between samples and
  // constant beyond them; never faster than the roofline (4 b h s^2 d FLOPs at the bf16 achieved
  // peak; the bf16 scores written once and read once at copy bandwidth) or the bf16 launch floor.
  // A profile without those samples throws an InputError naming $.attention.unfused_samples.
  double attention_unfused_time_s(int batch, int heads, int seq, int head_dim) const;
  bool has_attention_unfused() const;
  double launch_overhead_s() const;  // host time per kernel launch, back to back
  double hbm_capacity_bytes() const;
  double memory_bandwidth_Bps() const;  // asymptotic device-copy bandwidth (read + write)

  struct AlphaBeta {
    double alpha_s, beta_s_per_byte;
    std::string provenance;
  };
  // "nvlink", "network", "host_pinned_h2d", "host_pinned_d2h", "host_pageable_h2d", ... ;
  // an unknown class is an InputError listing the profile's classes.
  AlphaBeta link(const std::string& cls) const;
  std::vector<std::string> link_classes() const;
  // Time of `bytes` over a link class, using the fitted segments where the profile has them.
  double link_time_s(const std::string& cls, double bytes) const;
  // idle + (compute_W - idle) * compute_util + (memory_W - idle) * mem_util, clamped to [idle, tdp].
  double power_W(double compute_util, double mem_util) const;
  bool has_power() const;
  // Provenance of the power model ($.power.compute_W.provenance: measured, fitted, derived, ...);
  // "" without one.
  std::string power_provenance() const;
  // What utilization 1 means: the rates of the power calibration's workloads (a bf16 GEMM and a
  // device copy; $.power.calibration_rates when measured, else the profile's own bf16 8192^3 GEMM
  // rate and copy bandwidth, as for derived profiles).
  struct PowerReference {
    double flops_per_s, memory_Bps;
  };
  PowerReference power_reference() const;
  // $.variability.<which> ("op_cv", "gpu_cv": the straggler model's parameters); -1 when absent.
  double variability_cv(const std::string& which) const;
  // $.interference when present (held_sm_cost, hbm_share_cost, sm_count: measured by the CUDA
  // backend's "interference" section, or derived); else both costs assumed 1, provenance
  // "assumed", with sm_count from $.manifest.extra.sm_count, else the built-in datasheet of the
  // GPU model (profile/datasheets, find_datasheet of $.gpu, else of $.name), else an InputError
  // naming the profile (a CPU profile, an unknown GPU).
  CommInterference comm_interference() const;

  // The whole document, for writers of profiles (calibrate/) and for showing it (Python's
  // Profile.json()); the simulator asks the methods above instead.
  const nlohmann::ordered_json& json() const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

// The digest knee fit writes into $.manifest.parameters_digest: "fnv1a64:" and 16 hex digits of
// FNV-1a 64 over the compact JSON text (keys sorted) of the whole profile less $.name,
// $.description and, of $.manifest, parameters_digest, command_line and git_revision (how it was
// invoked). A check against accidental edits, not a signature: anyone can recompute it.
std::string parameters_digest(const nlohmann::ordered_json& profile);
// Sets $.manifest.parameters_digest of `profile` (as it will read back from its JSON text).
void stamp_parameters_digest(nlohmann::ordered_json& profile);
// "unedited", "edited" or "no digest" of a profile document, as Profile::parameters_state.
std::string parameters_state_of(const nlohmann::ordered_json& profile);

// Bytes of one element of a GEMM dtype: fp8 1, bf16 and fp16 2, fp64 8, the rest (tf32, fp32) 4.
double elt_bytes(const std::string& dtype);

}  // namespace knee
