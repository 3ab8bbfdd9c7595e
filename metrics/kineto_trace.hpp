// A PyTorch profiler (Kineto) trace read: the Chrome trace-event JSON that
// torch.profiler.profile(...).export_chrome_trace(PATH) writes ({"traceEvents": [...]}). Only
// complete events ("ph": "X") of the categories below are kept; every other event and every
// other key is ignored (a trace carries many), but a field that is read must have the type
// expected, else an InputError "FILE: traceEvents[I].FIELD: expected ..., got ...".
//
//   KinetoTrace t = load_kineto_trace("step.json");   // or step.json.gz (gzip by its magic bytes)
//   for (const auto& k : t.kernels) ...   // GPU activity, its cpu_op by External id
//
// Times: ts and dur are microseconds (floats) in the file; here they are integer picoseconds
// (llround(us x 1e6)), so sums are exact.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace knee {

// A GPU activity: cat "kernel", "gpu_memcpy" or "gpu_memset".
struct KinetoKernel {
  std::size_t event = 0;  // index in traceEvents
  std::string name, cat;
  std::int64_t ts_ps = 0, dur_ps = 0;
  std::int64_t device = -1, stream = -1;  // -1: not in the event's args
  std::int64_t external_id = -1;          // args "External id"; -1: none
  std::int64_t correlation = -1;          // args "correlation"
  std::string grid, block;                // args "grid", "block" as written ("[128, 1, 1]"), "" if absent
};

// A host op: cat "cpu_op" (aten::mm, ...). With record_shapes=True it has "Input Dims" (one
// entry per argument: a tensor's sizes, [] for a non-tensor) and "Input type" ("c10::BFloat16",
// "float", "Scalar", ""); "Concrete Inputs" (PyTorch >= 2.1) the values of scalar arguments.
struct KinetoCpuOp {
  std::size_t event = 0;
  std::string name;
  std::int64_t ts_ps = 0, dur_ps = 0;
  std::int64_t external_id = -1;
  bool has_dims = false;                        // "Input Dims" present
  std::vector<std::vector<std::int64_t>> dims;  // a TensorList argument (a list of shapes) is kept as []
  std::vector<bool> dims_is_list;               // that argument was a TensorList
  std::vector<std::string> types;               // "Input type"; [] when absent
  std::vector<std::string> concrete;            // "Concrete Inputs" as strings; [] when absent
};

// A ProfilerStep#N window (cat "user_annotation", or "cpu_op" in older traces).
struct KinetoStep {
  std::size_t event = 0;
  std::string name;
  std::int64_t step = -1;  // N of ProfilerStep#N
  std::int64_t ts_ps = 0, dur_ps = 0;
};

struct KinetoTrace {
  std::string source;
  std::size_t events = 0;         // traceEvents' length
  std::size_t runtime_calls = 0;  // cat "cuda_runtime" (cudaLaunchKernel, ...): counted only
  std::string device_name;        // deviceProperties[0].name when present, else ""
  // distributedInfo (Kineto writes it for a torch.distributed job): -1 / "" when absent.
  std::int64_t rank = -1, world_size = -1;
  std::string backend;
  std::vector<KinetoKernel> kernels;
  std::vector<KinetoCpuOp> cpu_ops;
  std::vector<KinetoStep> steps;  // in ts order
};

// From parsed JSON; `source` names the file in errors.
KinetoTrace parse_kineto_trace(const nlohmann::json& doc, const std::string& source);
// Reads and parses the file, gzip-compressed (told by its magic bytes 1f 8b, not its name) or
// not: unreadable, a corrupt or truncated gzip stream, or malformed JSON is an InputError naming it.
KinetoTrace load_kineto_trace(const std::string& path);

// A Kineto "Input type" as a knee dtype: c10::BFloat16 bf16, c10::Half fp16, float fp32, double
// fp64, c10::Float8_e4m3fn / _e5m2 fp8; "" for anything else (integers, bool, Scalar, "").
std::string kineto_dtype(const std::string& input_type);
// Bytes of one element of an "Input type": the float types as above, long int 8, int 4, short
// int 2, bool / unsigned char / signed char 1; 0 when unknown.
double kineto_element_bytes(const std::string& input_type);

}  // namespace knee
