// Raw calibration measurements, before fitting: every repetition of every case, from any of the
// importers (the PyTorch microbenchmark format of the shared H200 data, knee's own "knee-raw/1"
// written by the CPU and CUDA backends, nccl-tests text output).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "calibrate/stats.hpp"
#include "common/json_reader.hpp"

namespace knee {

// One measured case: every repetition (seconds per call), or only a summary where the source kept
// no repetitions (then the CI is approximated and says so in ci_method).
struct Reps {
  std::vector<double> times_s;
  Summary summary;
  static Reps of(std::vector<double> times);
};

struct GemmCase {
  std::int64_t m = 0, n = 0, k = 0;
  std::string dtype;  // bf16, fp16, fp8, tf32 (fp32 storage, tf32 math), fp32 (strict), fp64
  std::string label;  // "square" or e.g. "qkv.fwd h=4096 t=8192"
  Reps r;
  std::int64_t batch = 1;  // > 1: a strided-batched GEMM, `batch` independent m x n x k products per call
};
struct SizeCase {
  double bytes = 0;  // bytes moved (copies: read + write) or bytes sent over a link
  Reps r;
};
struct AttentionCase {
  int batch = 0, heads = 0, seq = 0, head_dim = 0;
  bool causal = true;
  Reps fwd, fwd_bwd;
};
struct PowerSample {
  double t_s = 0;
  std::string phase;  // idle, compute, memory, idle_after
  double watts = 0;
};

// Communication beside compute on one GPU (the CUDA backend's "interference" section): a side
// kernel imitating NCCL's copy loop holds `side_ctas` SMs (one CTA each, as NCCL runs one CTA per
// channel) and streams a large buffer through HBM, while the main stream runs a compute-bound
// GEMM and a memory-bound kernel, each timed alone and beside it. The side kernel's own rate
// (bytes read + written per second) is sampled alone and beside each main kernel.
struct InterferenceCase {
  int side_ctas = 0;     // CTAs of the side kernel, one per SM
  int distinct_sms = 0;  // SMs its CTAs were seen on (%smid): side_ctas when one per SM
  Reps gemm_alone, gemm_beside, copy_alone, copy_beside;            // seconds per call
  Reps side_alone_Bps, side_beside_gemm_Bps, side_beside_copy_Bps;  // bytes/s per window
};
struct InterferenceRun {
  int sm_count = 0;  // 0: not measured (no section)
  int side_threads = 0;
  double side_buffer_bytes = 0;  // bytes the side kernel reads per pass (and writes as many)
  std::int64_t gemm_m = 0, gemm_n = 0, gemm_k = 0;
  std::string gemm_dtype;
  std::string copy_kernel;      // the memory-bound kernel ("add": c = a + b, bf16)
  double copy_bytes_moved = 0;  // per call, read + write
  std::vector<InterferenceCase> cases;
};

struct RawRun {
  std::string source, format;
  std::string device_kind = "gpu";  // gpu or cpu
  OrderedJson manifest = OrderedJson::object();
  double capacity_bytes = 0, l2_bytes = 0, power_limit_W = 0;
  std::vector<GemmCase> gemm;
  std::vector<SizeCase> copy;
  std::map<std::string, std::vector<SizeCase>> ops;    // memory-bound kernels by name
  std::map<std::string, std::vector<SizeCase>> links;  // host_pinned_h2d, host_pipe, nvlink, ...
  std::map<std::string, std::string> link_notes;
  Reps host_launch, tiny_kernel, graph_per_kernel;
  std::vector<AttentionCase> attention;          // fused (flash) attention: fwd and fwd_bwd
  std::vector<AttentionCase> attention_unfused;  // S = QK^T, softmax, O = PV as separate kernels: fwd only
  std::vector<PowerSample> power;
  double power_gemm_tflops = 0, power_copy_Bps = 0;  // rates achieved during the power phases
  // One GEMM repeated back to back, every time kept in order (label "noise"; m = 0: not measured):
  // how kernel times vary over the duration of an op, for the straggler parameters.
  GemmCase noise;
  InterferenceRun interference;  // sm_count 0: not measured
};

// The least bytes a bf16 memory-bound op on a [tokens, hidden] tensor moves, as the shared H200
// data's measure.py counts it (its `bytes_moved_min`; x = 2 tokens hidden bytes): add 3x (read two,
// write one), gelu 8x (read and write the [tokens, 4 hidden] activation), layernorm and softmax 2x,
// dropout_add 4x. The CUDA backend records its ops by the same count so that profiles compare op by
// op. An unknown op is an InputError.
double op_bytes_min(const std::string& op, std::int64_t tokens, std::int64_t hidden);

// Reads a raw JSON file in either known format (detected by its keys). Bad content is an
// InputError naming the file and the JSON path.
RawRun read_raw_file(const std::string& path);
RawRun read_raw_json(const Json& j, const std::string& source);
// knee-raw/1, the format the backends write. Optional keys beyond the first version (gemm[].batch,
// attention, attention_unfused, gemm_noise, interference) are absent when unused, so older
// readers' files still read.
OrderedJson raw_to_json(const RawRun& run);
// nccl-tests output (all_reduce_perf and friends): the size/time table becomes links[cls], with
// bytes = size * busbw/algbw (bus bytes) and the out-of-place and in-place times as repetitions.
void import_nccl_tests(const std::string& text, const std::string& source, const std::string& cls, RawRun& into);
bool looks_like_nccl_tests(const std::string& text);

}  // namespace knee
