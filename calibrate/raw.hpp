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
// attention, attention_unfused) are absent when unused, so older readers' files still read.
OrderedJson raw_to_json(const RawRun& run);
// nccl-tests output (all_reduce_perf and friends): the size/time table becomes links[cls], with
// bytes = size * busbw/algbw (bus bytes) and the out-of-place and in-place times as repetitions.
void import_nccl_tests(const std::string& text, const std::string& source, const std::string& cls, RawRun& into);
bool looks_like_nccl_tests(const std::string& text);

}  // namespace knee
