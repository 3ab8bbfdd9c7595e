// The raw keys the CUDA backend writes (fp8 and batched GEMM, unfused attention, bf16 ops, NCCL
// all-to-all / send-recv / multi-node classes), on synthetic knee-raw/1 files with exact curves:
// no real CUDA raw file exists yet, so these pin the format and the fit.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "calibrate/fitter.hpp"
#include "calibrate/raw.hpp"
#include "profile/profile.hpp"

using namespace knee;

namespace {

// Every repetition equals the model: the fits must recover alpha and beta to rounding.
Reps exact(double t) { return Reps::of({t, t, t, t, t}); }
std::vector<SizeCase> line(double alpha, double Bps, double from, double to, double step) {
  std::vector<SizeCase> v;
  for (double x = from; x <= to; x *= step) v.push_back({x, exact(alpha + x / Bps)});
  return v;
}

RawRun synthetic_cuda_run() {
  RawRun r;
  r.source = "synthetic";
  r.device_kind = "gpu";
  r.manifest["gpu_name"] = "NVIDIA H100 80GB HBM3";
  r.manifest["gpu_count"] = 16;
  r.capacity_bytes = 80e9;
  r.l2_bytes = 50.0 * 1024 * 1024;
  for (long n : {1024L, 4096L, 8192L}) {
    r.gemm.push_back({n, n, n, "bf16", "square", exact(5e-6 + 2.0 * n * n * n / 700e12)});
    r.gemm.push_back({n, n, n, "fp8", "square", exact(5e-6 + 2.0 * n * n * n / 1400e12)});
  }
  GemmCase b{1024, 1024, 128, "bf16", "batched", exact(40e-6)};
  b.batch = 64;
  r.gemm.push_back(b);
  r.copy = line(2e-6, 3e12, 2048, 8e9, 2);
  r.ops["layernorm"] = line(3e-6, 2.5e12, 1e5, 1e9, 4);
  r.ops["softmax"] = line(3e-6, 2e12, 1e5, 1e9, 4);
  r.links["nccl_all_to_all"] = line(20e-6, 300e9, 1024, 1e9, 4);
  r.links["nccl_send_recv"] = line(10e-6, 350e9, 1024, 1e9, 4);
  r.links["network"] = line(8e-6, 45e9, 1024, 1e9, 4);
  r.links["net_all_reduce"] = line(30e-6, 40e9, 1024, 1e9, 4);
  r.link_notes["network"] = "NCCL send/recv across hosts";
  r.host_launch = exact(3e-6);
  r.graph_per_kernel = exact(1e-6);
  AttentionCase a;
  a.batch = 8;
  a.heads = 16;
  a.seq = 1024;
  a.head_dim = 64;
  a.causal = true;
  a.fwd = exact(150e-6);
  r.attention_unfused.push_back(a);
  return r;
}

std::string write_temp(const OrderedJson& j, const std::string& name) {
  const std::string path = std::string(KNEE_BINARY_DIR) + "/" + name;
  std::ofstream(path) << j.dump(1);
  return path;
}

}  // namespace

TEST(CudaRaw, NewKeysRoundTripThroughAFileAndFitExactly) {
  const std::string path = write_temp(raw_to_json(synthetic_cuda_run()), "synthetic-cuda-raw.json");
  RawRun back = read_raw_file(path);
  std::remove(path.c_str());
  ASSERT_EQ(back.gemm.size(), 7u);
  EXPECT_EQ(back.gemm.back().batch, 64);
  EXPECT_EQ(back.gemm.front().batch, 1);
  ASSERT_EQ(back.attention_unfused.size(), 1u);
  EXPECT_EQ(back.attention_unfused[0].seq, 1024);
  EXPECT_TRUE(back.attention.empty());

  OrderedJson pj = fit_profile(back, nullptr, FitOptions{"h100-test", "test", "test", 1.0});
  Profile p = Profile::from_json(pj, "synthetic profile");
  // Batched GEMMs have their own table and leave the single-GEMM table alone.
  EXPECT_EQ(pj["compute"]["gemm"]["bf16"]["samples"].size(), 3u);
  const auto& bs = pj["compute"]["batched_gemm"]["bf16"]["samples"];
  ASSERT_EQ(bs.size(), 1u);
  EXPECT_DOUBLE_EQ(bs[0]["tflops"].get<double>(), 2.0 * 64 * 1024 * 1024 * 128 / 40e-6 / 1e12);
  // fp8 is a GEMM table like any other: the measured shape returns its median.
  EXPECT_NEAR(p.gemm_time_s(8192, 8192, 8192, "fp8"), 5e-6 + 2.0 * 8192.0 * 8192 * 8192 / 1400e12, 1e-12);
  // Unfused attention is data; attention_time_s falls back to the bf16 GEMM rate and says so.
  EXPECT_EQ(pj["attention"]["unfused_samples"].size(), 1u);
  EXPECT_NE(pj["attention"]["note"].get<std::string>().find("fused attention not measured"), std::string::npos);
  EXPECT_GT(p.attention_time_s(8, 16, 1024, 64, true, false), 0);
  // Exact lines: alpha and beta come back to rounding (relative 1e-6).
  struct L {
    const char* cls;
    double alpha, Bps;
  };
  for (L l : {L{"nccl_all_to_all", 20e-6, 300e9}, L{"nccl_send_recv", 10e-6, 350e9}, L{"network", 8e-6, 45e9},
              L{"net_all_reduce", 30e-6, 40e9}}) {
    SCOPED_TRACE(l.cls);
    auto ab = p.link(l.cls);
    EXPECT_NEAR(ab.alpha_s, l.alpha, l.alpha * 1e-6);
    EXPECT_NEAR(1 / ab.beta_s_per_byte, l.Bps, l.Bps * 1e-6);
    EXPECT_EQ(ab.provenance, "fitted");
  }
  EXPECT_NEAR(p.memory_bandwidth_Bps(), 3e12, 3e12 * 1e-6);
  EXPECT_NEAR(p.memory_bound_time_s(4e8, "layernorm"), 3e-6 + 4e8 / 2.5e12, 1e-12);
  // A fitted "network" replaces the datasheet one; nvlink (not measured here) stays datasheet.
  EXPECT_EQ(pj["links"]["nvlink"]["provenance"], "datasheet");
  EXPECT_EQ(pj["links"]["network"]["note"], "NCCL send/recv across hosts");
}

TEST(CudaRaw, BadNewKeysNameTheirPath) {
  OrderedJson j = raw_to_json(synthetic_cuda_run());
  j["gemm"].back()["batch"] = 0;
  try {
    read_raw_json(Json(j), "bad.json");
    FAIL() << "batch 0 accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json: $.gemm[6].batch: expected an integer >= 1"), std::string::npos)
        << e.what();
  }
  OrderedJson k = raw_to_json(synthetic_cuda_run());
  k["attention_unfused"][0].erase("fwd_times_s");
  try {
    read_raw_json(Json(k), "bad2.json");
    FAIL() << "missing fwd_times_s accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bad2.json: $.attention_unfused[0].fwd_times_s"), std::string::npos)
        << e.what();
  }
  // A typo in a profile's new section is rejected like any other key.
  OrderedJson pj = fit_profile(synthetic_cuda_run(), nullptr, FitOptions{"x", "t", "t", 1.0});
  pj["compute"]["batched_gemm"]["bf16"]["samples"][0]["bach"] = 1;
  EXPECT_THROW(Profile::from_json(pj, "typo"), InputError);
}

TEST(CudaRaw, OpBytesFollowTheSharedDataConvention) {
  // Every memory-bound op of the shared H200 data: bytes_moved_min is op_bytes_min's count, so the
  // CUDA backend (which records its ops with op_bytes_min) gives curves comparable byte for byte.
  const Json raw = parse_json_file(std::string(KNEE_SOURCE_DIR) + "/calibrate/data/h200-2026-11-27/micro.json");
  int checked = 0, dropout = 0;
  for (const auto& r : raw["memory"]) {
    if (!r.contains("tokens")) continue;
    std::string op = r["op"].get<std::string>();
    if (op == "gelu_4h") op = "gelu";
    const auto t = r["tokens"].get<std::int64_t>(), h = r["hidden"].get<std::int64_t>();
    EXPECT_EQ(op_bytes_min(op, t, h), r["bytes_moved_min"].get<double>()) << op << " " << t << "x" << h;
    ++checked;
    if (op == "dropout_add") {
      EXPECT_EQ(op_bytes_min(op, t, h), 8.0 * double(t) * double(h));  // 8 bytes per element
      ++dropout;
    }
  }
  EXPECT_EQ(checked, 20);
  EXPECT_EQ(dropout, 4);
  EXPECT_THROW(op_bytes_min("rmsnorm", 1, 1), InputError);
  EXPECT_THROW(op_bytes_min("add", 0, 1), InputError);
}

TEST(CudaRaw, DropoutAddFitsLikeTheH200Profile) {
  // The CUDA backend's dropout_add cases (bytes by op_bytes_min at its (tokens, hidden) shapes)
  // give memory.ops.dropout_add in the same form as the H200 profile's, with the same bytes at
  // the shapes both measured.
  RawRun r = synthetic_cuda_run();
  const std::vector<std::pair<long, long>> shapes = {{16, 4096},   {64, 4096},   {256, 4096},  {1024, 4096},
                                                     {2048, 1024}, {8192, 4096}, {8192, 8192}, {16384, 12288}};
  for (auto [t, h] : shapes) {
    const double b = op_bytes_min("dropout_add", t, h);
    r.ops["dropout_add"].push_back({b, exact(4e-6 + b / 2.8e12)});
  }
  OrderedJson pj = fit_profile(r, nullptr, FitOptions{"x", "t", "t", 1.0});
  Profile p = Profile::from_json(pj, "synthetic profile");
  const auto& mine = pj["memory"]["ops"]["dropout_add"];
  const Profile h200 = Profile::builtin("h200");
  const auto& ref = h200.json()["memory"]["ops"]["dropout_add"];
  for (auto it = ref.begin(); it != ref.end(); ++it) EXPECT_TRUE(mine.contains(it.key())) << it.key();
  EXPECT_EQ(mine["note"].get<std::string>().rfind(ref["note"].get<std::string>().substr(0, 40), 0), 0u);
  std::vector<double> mine_bytes, ref_bytes;
  for (const auto& s : mine["samples"]) mine_bytes.push_back(s["bytes"].get<double>());
  for (const auto& s : ref["samples"]) ref_bytes.push_back(s["bytes"].get<double>());
  ASSERT_EQ(ref_bytes.size(), 4u);
  for (double b : ref_bytes) EXPECT_NE(std::find(mine_bytes.begin(), mine_bytes.end(), b), mine_bytes.end()) << b;
  EXPECT_NEAR(p.memory_bound_time_s(1e9, "dropout_add"), 4e-6 + 1e9 / 2.8e12, 1e-12);
}
