// knee analyze --trace: a synthetic Kineto trace with planted kernels (GEMMs at exactly 1.25x the
// h200 profile's prediction, memory ops of known bytes, an NCCL kernel, an unlinked kernel, a
// memcpy, an op knee has no model for, two ProfilerStep windows), and every bad-input case.
#include <cmath>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "common/error.hpp"
#include "metrics/kernel_comparison.hpp"
#include "metrics/kernel_comparison_schema.hpp"
#include "metrics/kineto_trace.hpp"

namespace knee {
namespace {

using J = nlohmann::json;
const J E = J::array();  // [] (a bare {} in an initializer list is null)

struct Planted {
  J events = J::array();
  double t_us = 2000;  // next kernel start
  std::int64_t ext = 0;
  // Each planted kernel's duration, in integer picoseconds (written as us = ps / 1e6, read back exactly).
  std::int64_t gemm_ps = 0, memory_ps = 0, nccl_ps = 0, unlinked_ps = 0, other_ps = 0;
  double gemm_pred_s = 0;

  std::int64_t op(const std::string& name, J dims, J types, J concrete = nullptr) {
    ++ext;
    J args = {{"External id", ext}, {"Input Dims", dims}, {"Input type", types}};
    if (!concrete.is_null()) args["Concrete Inputs"] = concrete;
    events.push_back({{"ph", "X"}, {"cat", "cpu_op"}, {"name", name}, {"ts", t_us}, {"dur", 10.0}, {"args", args}});
    events.push_back({{"ph", "X"},
                      {"cat", "cuda_runtime"},
                      {"name", "cudaLaunchKernel"},
                      {"ts", t_us + 1},
                      {"dur", 2.0},
                      {"args", {{"External id", ext}, {"correlation", ext + 1000}}}});
    return ext;
  }
  std::int64_t kernel(const std::string& name, std::int64_t id, std::int64_t ps, std::int64_t stream = 7,
                      const std::string& cat = "kernel") {
    J args = {
        {"device", 0}, {"stream", stream}, {"correlation", id + 1000}, {"grid", {128, 1, 1}}, {"block", {256, 1, 1}}};
    if (id >= 0) args["External id"] = id;
    events.push_back(
        {{"ph", "X"}, {"cat", cat}, {"name", name}, {"ts", t_us}, {"dur", double(ps) / 1e6}, {"args", args}});
    t_us += double(ps) / 1e6 + 1;  // one microsecond apart: no overlap on a stream
    return ps;
  }
  std::int64_t gemm_kernels(const std::string& op_name, J dims, double pred, int parts = 1) {
    const std::int64_t id = op(op_name, dims, {"c10::BFloat16", "c10::BFloat16", "c10::BFloat16", "Scalar", "Scalar"});
    const std::int64_t total = std::llround(1.25 * pred * 1e12);
    std::int64_t sum = 0;
    for (int i = 0; i < parts; ++i) {
      const std::int64_t ps = i + 1 < parts ? total / parts : total - sum;
      sum += kernel("sm90_xmma_gemm_bf16bf16_bf16f32", id, ps);
    }
    gemm_ps += total;
    gemm_pred_s += pred;
    return total;
  }
};

const Profile& h200() {
  static const Profile p = Profile::builtin("h200");
  return p;
}

struct Fixture {
  Planted p;
  double add_bytes = 0, ln_bytes = 0;
  KinetoTrace trace;
  KernelComparison c;
  Fixture() {
    const Profile& prof = h200();
    // GEMMs: two calls of one mm shape, an addmm split into two kernels, a bmm.
    const double mm = prof.gemm_time_s(16384, 8192, 8192, "bf16");
    p.gemm_kernels("aten::mm", {{16384, 8192}, {8192, 8192}}, mm);
    p.gemm_kernels("aten::mm", {{16384, 8192}, {8192, 8192}}, mm);
    p.gemm_kernels("aten::addmm", {{8192}, {8192, 8192}, {8192, 8192}, E, E},
                   prof.gemm_time_s(8192, 8192, 8192, "bf16"), 2);
    p.gemm_kernels("aten::bmm", {{64, 4096, 4096}, {64, 4096, 4096}},
                   prof.batched_gemm_time_s(64, 4096, 4096, 4096, "bf16"));
    // Memory-bound ops of known bytes.
    add_bytes = 3.0 * 4096 * 8192 * 2;
    const std::int64_t add =
        p.op("aten::add", {{4096, 8192}, {4096, 8192}, E}, {"c10::BFloat16", "c10::BFloat16", "Scalar"});
    p.memory_ps += p.kernel("vectorized_elementwise_kernel<add>", add, 150500000);
    ln_bytes = 2.0 * 4096 * 8192 * 2 + 2.0 * 8192 * 2;
    const std::int64_t ln = p.op("aten::native_layer_norm", {{4096, 8192}, E, {8192}, {8192}, E},
                                 {"c10::BFloat16", "", "c10::BFloat16", "c10::BFloat16", "Scalar"});
    p.memory_ps += p.kernel("vectorized_layer_norm_kernel", ln, 99250000);
    // NCCL (linked to its c10d op), an unlinked kernel, a memcpy, an op with no model.
    const std::int64_t ar = p.op("c10d::allreduce_", {{4096, 4096}}, {"c10::BFloat16"});
    p.nccl_ps += p.kernel("ncclDevKernel_AllReduce_Sum_bf16_RING_LL", ar, 812000000, 20);
    p.unlinked_ps += p.kernel("void at::native::unrolled_elementwise_kernel", 999, 33125000);
    const std::int64_t cp = p.op("aten::copy_", {{1024}, {1024}, E}, {"float", "float", "Scalar"});
    p.other_ps += p.kernel("Memcpy HtoD (Pageable -> Device)", cp, 7500000, 7, "gpu_memcpy");
    const std::int64_t emb = p.op("aten::embedding", {{50304, 8192}, {8, 2048}}, {"c10::BFloat16", "long int"});
    p.other_ps += p.kernel("indexSelectLargeIndex", emb, 41000000);
    // Two ProfilerStep windows.
    p.events.push_back({{"ph", "X"},
                        {"cat", "user_annotation"},
                        {"name", "ProfilerStep#3"},
                        {"ts", 1000.0},
                        {"dur", 50000.5},
                        {"args", J::object()}});
    p.events.push_back({{"ph", "X"},
                        {"cat", "user_annotation"},
                        {"name", "ProfilerStep#4"},
                        {"ts", 51000.5},
                        {"dur", 49999.25},
                        {"args", J::object()}});
    p.events.push_back({{"ph", "i"}, {"name", "ignored instant"}, {"ts", 5.0}});
    trace =
        parse_kineto_trace(J{{"traceEvents", p.events}, {"deviceProperties", {{{"name", "NVIDIA H200"}}}}}, "t.json");
    c = compare_kernels(trace, prof, "test", ComparisonOptions{});
  }
};

const ComparisonRow& cls(const KernelComparison& c, KernelClass k) {
  for (const auto& r : c.classes)
    if (r.cls == k) return r;
  throw std::runtime_error("no class row");
}

TEST(KernelComparison, PlantedClassesCountsAndTotals) {
  Fixture f;
  const auto& c = f.c;
  EXPECT_EQ(f.trace.kernels.size(), 11u);
  EXPECT_EQ(f.trace.runtime_calls, 9u);
  EXPECT_EQ(c.activities, 11);
  EXPECT_EQ(c.unlinked, 1);
  EXPECT_EQ(c.linked, 10);
  const auto& g = cls(c, KernelClass::gemm);
  EXPECT_EQ(g.calls, 4);
  EXPECT_EQ(g.kernels, 5);
  EXPECT_EQ(g.measured_total_ps, f.p.gemm_ps);
  EXPECT_NEAR(g.ratio, 1.25, 1e-9);
  EXPECT_NEAR(g.predicted_total_s, f.p.gemm_pred_s, 1e-15);
  const auto& m = cls(c, KernelClass::memory);
  EXPECT_EQ(m.calls, 2);
  EXPECT_EQ(m.measured_total_ps, f.p.memory_ps);
  const double mem_pred =
      h200().memory_bound_time_s(f.add_bytes, "add") + h200().memory_bound_time_s(f.ln_bytes, "layernorm");
  EXPECT_NEAR(m.predicted_total_s, mem_pred, 1e-15);
  EXPECT_EQ(cls(c, KernelClass::nccl).measured_total_ps, f.p.nccl_ps);
  EXPECT_LT(cls(c, KernelClass::nccl).predicted_total_s, 0);  // measured only
  EXPECT_EQ(cls(c, KernelClass::unlinked).calls, 1);
  EXPECT_EQ(cls(c, KernelClass::unlinked).measured_total_ps, f.p.unlinked_ps);
  EXPECT_EQ(cls(c, KernelClass::not_predicted).calls, 2);
  EXPECT_EQ(cls(c, KernelClass::not_predicted).measured_total_ps, f.p.other_ps);
  EXPECT_EQ(cls(c, KernelClass::attention).calls, 0);
  // Coverage: the predicted calls' measured time over all GPU time, exactly.
  const std::int64_t all = f.p.gemm_ps + f.p.memory_ps + f.p.nccl_ps + f.p.unlinked_ps + f.p.other_ps;
  EXPECT_EQ(c.gpu_time_ps, all);
  EXPECT_EQ(c.predicted_measured_ps, f.p.gemm_ps + f.p.memory_ps);
  EXPECT_EQ(c.predicted_share, double(f.p.gemm_ps + f.p.memory_ps) / double(all));
  EXPECT_EQ(c.nccl_ps, f.p.nccl_ps);
  EXPECT_EQ(c.unlinked_ps, f.p.unlinked_ps);
  const double ratio = (double(f.p.gemm_ps + f.p.memory_ps) / 1e12) / (f.p.gemm_pred_s + mem_pred);
  EXPECT_NEAR(c.ratio, ratio, 1e-12);
  EXPECT_LE(c.ratio_p10, c.ratio_p50);
  EXPECT_LE(c.ratio_p50, c.ratio_p90);
}

TEST(KernelComparison, ShapesStepsAndStreams) {
  Fixture f;
  const auto& c = f.c;
  bool mm = false, bmm = false, add = false;
  for (const auto& r : c.shapes) {
    if (r.op == "aten::mm") {
      mm = true;
      EXPECT_EQ(r.shape, "m=16384 n=8192 k=8192");
      EXPECT_EQ(r.calls, 2);
      EXPECT_EQ(r.predicted_per_call_s, h200().gemm_time_s(16384, 8192, 8192, "bf16"));
      EXPECT_NEAR(r.ratio, 1.25, 1e-9);
    }
    if (r.op == "aten::bmm") {
      bmm = true;
      EXPECT_EQ(r.shape, "b=64 m=4096 n=4096 k=4096");
      EXPECT_NEAR(r.ratio, 1.25, 1e-9);
    }
    if (r.op == "aten::add") {
      add = true;
      EXPECT_NE(r.shape.find("bytes=201326592"), std::string::npos) << r.shape;
      EXPECT_EQ(r.predicted_per_call_s, h200().memory_bound_time_s(f.add_bytes, "add"));
    }
    if (r.op == "aten::embedding") { EXPECT_EQ(r.reason, "no model for this op"); }
  }
  EXPECT_TRUE(mm && bmm && add);
  ASSERT_EQ(c.steps.size(), 2u);
  EXPECT_EQ(c.steps[0].name, "ProfilerStep#3");
  EXPECT_EQ(c.steps[0].step, 3);
  EXPECT_EQ(c.steps[0].duration_ps, 50000500000);
  EXPECT_EQ(c.steps[1].duration_ps, 49999250000);
  EXPECT_EQ(c.steps[1].start_ps, 50000500000);
  // Device 0: its row (all streams), stream 7, stream 20 (the NCCL kernel alone).
  ASSERT_EQ(c.streams.size(), 3u);
  EXPECT_EQ(c.streams[0].stream, -1);
  EXPECT_EQ(c.streams[0].kernels, 11);
  EXPECT_EQ(c.streams[0].busy_ps, c.gpu_time_ps);  // planted one after another
  EXPECT_EQ(c.streams[2].stream, 20);
  EXPECT_EQ(c.streams[2].busy_ps, f.p.nccl_ps);
  const auto j = kernel_comparison_json(c);
  EXPECT_EQ(j["unlinked"], 1);
  EXPECT_EQ(j["classes"].size(), 6u);
  EXPECT_EQ(j["steps"][1]["duration_s"].get<double>(), 49999250000 / 1e12);
  EXPECT_TRUE(j["classes"][3]["ratio"].is_null());  // nccl
  EXPECT_EQ(compare_kernels(f.trace, h200(), "test", ComparisonOptions{2}).shapes.size(), 2u);
}

TEST(KernelComparison, AttentionNeedsTheCausalFlag) {
  KinetoCpuOp op;
  op.name = "aten::_scaled_dot_product_flash_attention";
  op.has_dims = true;
  op.dims = {{4, 32, 4096, 128}, {4, 32, 4096, 128}, {4, 32, 4096, 128}, {}, {}};
  op.dims_is_list.assign(5, false);
  op.types = {"c10::BFloat16", "c10::BFloat16", "c10::BFloat16", "Scalar", "Scalar"};
  EXPECT_EQ(classify_op(op, h200()).cls, KernelClass::not_predicted);
  op.concrete = {"", "", "", "0.", "True"};
  const KernelCall c = classify_op(op, h200());
  EXPECT_EQ(c.cls, KernelClass::attention);
  EXPECT_EQ(c.shape, "b=4 h=32 s=4096 d=128 causal");
  EXPECT_EQ(c.predicted_s, h200().attention_time_s(4, 32, 4096, 128, true, false));
  op.name = "aten::_scaled_dot_product_flash_attention_backward";
  op.dims.insert(op.dims.begin(), {4, 32, 4096, 128});
  op.dims_is_list.push_back(false);
  op.types.insert(op.types.begin(), "c10::BFloat16");
  op.concrete = std::vector<std::string>(12, "");
  op.concrete[11] = "False";
  const KernelCall b = classify_op(op, h200());
  EXPECT_EQ(b.cls, KernelClass::attention);
  EXPECT_DOUBLE_EQ(b.predicted_s, h200().attention_time_s(4, 32, 4096, 128, false, true) -
                                      h200().attention_time_s(4, 32, 4096, 128, false, false));
}

TEST(KernelComparison, NoShapesMeansNotPredicted) {
  KinetoCpuOp op;
  op.name = "aten::mm";
  const KernelCall c = classify_op(op, h200());
  EXPECT_EQ(c.cls, KernelClass::not_predicted);
  EXPECT_NE(c.reason.find("record_shapes"), std::string::npos);
}

std::string error_of(const J& doc) {
  try {
    parse_kineto_trace(doc, "bad.json");
  } catch (const InputError& e) { return e.what(); }
  return "no error";
}

TEST(KinetoTrace, BadInputNamesTheFileEventAndField) {
  EXPECT_NE(error_of(J{{"events", J::array()}}).find("bad.json: traceEvents: expected a list of trace events"),
            std::string::npos);
  EXPECT_NE(error_of(J::array()).find("bad.json: $: expected a Kineto trace object"), std::string::npos);
  const J neg = {{"traceEvents",
                  {{{"ph", "X"}, {"cat", "cpu_op"}, {"name", "aten::mm"}, {"ts", 1.0}, {"dur", 1.0}},
                   {{"ph", "X"}, {"cat", "kernel"}, {"name", "k"}, {"ts", 1.0}, {"dur", -3.5}}}}};
  EXPECT_NE(error_of(neg).find("bad.json: traceEvents[1].dur: expected a duration >= 0 microseconds, got -3.5"),
            std::string::npos)
      << error_of(neg);
  const J dims = {{"traceEvents",
                   {{{"ph", "X"},
                     {"cat", "cpu_op"},
                     {"name", "aten::mm"},
                     {"ts", 1.0},
                     {"dur", 1.0},
                     {"args", {{"External id", 1}, {"Input Dims", {{4, "x"}, {4, 4}}}}}}}}};
  EXPECT_NE(error_of(dims).find("bad.json: traceEvents[0].args.Input Dims[0]: expected a list of int lists"),
            std::string::npos)
      << error_of(dims);
  const J notlist = {{"traceEvents",
                      {{{"ph", "X"},
                        {"cat", "cpu_op"},
                        {"name", "aten::mm"},
                        {"ts", 1.0},
                        {"dur", 1.0},
                        {"args", {{"Input Dims", "[[4, 4]]"}}}}}}};
  EXPECT_NE(error_of(notlist).find("traceEvents[0].args.Input Dims: expected a list of int lists"), std::string::npos);
  const J ext = {
      {"traceEvents",
       {{{"ph", "X"}, {"cat", "kernel"}, {"name", "k"}, {"ts", 1.0}, {"dur", 1.0}, {"args", {{"External id", "7"}}}}}}};
  EXPECT_NE(error_of(ext).find("traceEvents[0].args.External id: expected an integer"), std::string::npos);
  // A TensorList argument (a list of shapes) is accepted and kept as no shape.
  const J list = {{"traceEvents",
                   {{{"ph", "X"},
                     {"cat", "cpu_op"},
                     {"name", "aten::cat"},
                     {"ts", 1.0},
                     {"dur", 1.0},
                     {"args", {{"Input Dims", {{{2, 3}, {2, 3}}, E}}}}}}}};
  EXPECT_EQ(error_of(list), "no error");
}

TEST(KinetoTrace, MalformedFileAndUnknownProfile) {
  const std::string path = std::string(KNEE_BINARY_DIR) + "/kineto_malformed_test.json";
  std::ofstream(path) << "{\"traceEvents\": [ {\"ph\": \"X\", ";
  try {
    load_kineto_trace(path);
    FAIL() << "malformed JSON accepted";
  } catch (const InputError& e) { EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what(); }
  try {
    load_profile_arg("nope", "knee analyze: --profile");
    FAIL() << "unknown profile accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("knee analyze: --profile: profile 'nope'"), std::string::npos) << e.what();
  }
  std::string basis;
  EXPECT_EQ(default_profile_for("NVIDIA H100 80GB HBM3", basis), "h100");
  EXPECT_EQ(default_profile_for("", basis), "h200");
}

}  // namespace
}  // namespace knee
