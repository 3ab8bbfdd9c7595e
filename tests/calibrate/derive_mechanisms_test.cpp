// The mechanisms a derived profile is made by (calibrate/derive_profile.hpp), each against its
// closed form: wave quantization of tensor tiles over the SMs, the HBM/SM roofline of a kernel,
// memory-bound ops that were SM-bound on the base, and HBM-bound GEMMs on a slower-HBM target.
#include <gtest/gtest.h>

#include <cmath>

#include "calibrate/derive_profile.hpp"
#include "profile/profile.hpp"

using namespace knee;

namespace {
const FitOptions kOpt{"", "test", "test", 1.0};

Datasheet sheet(const std::string& key, int sms, double bf16_TFLOPs, double hbm_Bps, double boost_MHz = 1980) {
  Datasheet d = *find_datasheet("h200");
  d.key = key;
  d.sm_count = sms;
  d.dense_TFLOPs["bf16"] = bf16_TFLOPs;
  d.hbm_bandwidth_Bps = hbm_Bps;
  d.boost_clock_MHz = boost_MHz;
  return d;
}
double v(const OrderedJson& p) { return p["value"].get<double>(); }
}  // namespace

// 140 tiles are two waves on 132 SMs and one on 148; at the same per-SM peak the target takes half
// the time. 132 tiles are one wave on both; 10,000 tiles are 76 and 68 waves.
TEST(DeriveMechanisms, TensorTimeScalesByWavesAndPerSmPeak) {
  const Datasheet a = sheet("a", 132, 990, 4e12), b = sheet("b", 148, 990.0 * 148 / 132, 4e12);
  const DeriveRatios r = derive_ratios(a, b);
  EXPECT_DOUBLE_EQ(r.tensor("bf16", 140), 0.5);
  EXPECT_DOUBLE_EQ(r.tensor("bf16", 132), 1.0);
  EXPECT_DOUBLE_EQ(r.tensor("bf16", 1), 1.0);
  EXPECT_DOUBLE_EQ(r.tensor("bf16", 10000), 68.0 / 76.0);
  // Twice the per-SM peak on as many SMs: exactly half, whatever the tiles.
  const DeriveRatios r2 = derive_ratios(a, sheet("c", 132, 1980, 4e12));
  for (double tiles : {1.0, 131.0, 133.0, 5000.0}) EXPECT_DOUBLE_EQ(r2.tensor("bf16", tiles), 0.5) << tiles;
  // The SM ratio: SM count x boost clock.
  EXPECT_DOUBLE_EQ(derive_ratios(a, sheet("d", 66, 990, 4e12, 990)).sm, 4.0);
  EXPECT_DOUBLE_EQ(derive_ratios(a, sheet("e", 132, 990, 2e12)).hbm, 2.0);
}

// floor + max(min(H, g) x hbm, S x tensor), g = t - floor: SM-bound (g > H), HBM-bound (g <= H, S
// from the compute roofline), and the identity.
TEST(DeriveMechanisms, KernelRooflineSplitsHbmAndSmParts) {
  // g = 10 us, H = 4 us (4e6 B at 1e12 B/s): SM-bound, S = g.
  EXPECT_DOUBLE_EQ(derive_tensor_time_s(12e-6, 2e-6, 4e6, 1e9, 1e12, 1e15, 2.0, 0.5), 2e-6 + 8e-6);  // H x 2 binds
  EXPECT_DOUBLE_EQ(derive_tensor_time_s(12e-6, 2e-6, 4e6, 1e9, 1e12, 1e15, 1.0, 0.5), 2e-6 + 5e-6);  // S x 0.5
  EXPECT_DOUBLE_EQ(derive_tensor_time_s(12e-6, 2e-6, 4e6, 1e9, 1e12, 1e15, 1.0, 1.0), 12e-6);        // identity
  // g = 10 us, H = 20 us: HBM-bound (faster than copy: the HBM part is g); S = 1e9 / 1e15 = 1 us.
  EXPECT_DOUBLE_EQ(derive_tensor_time_s(12e-6, 2e-6, 2e7, 1e9, 1e12, 1e15, 0.5, 3.0), 2e-6 + 5e-6);
  EXPECT_DOUBLE_EQ(derive_tensor_time_s(12e-6, 2e-6, 2e7, 1e9, 1e12, 1e15, 0.5, 8.0), 2e-6 + 8e-6);
  EXPECT_DOUBLE_EQ(derive_tensor_time_s(12e-6, 2e-6, 2e7, 1e9, 1e12, 1e15, 1.0, 1.0), 12e-6);
  // At the launch floor: nothing to scale.
  EXPECT_DOUBLE_EQ(derive_tensor_time_s(2e-6, 2e-6, 2e7, 1e9, 1e12, 1e15, 3.0, 3.0), 2e-6);
}

// The H100 has the H200's SMs and clocks and 3.35 of its 4.8 TB/s: add (HBM-bound on the H200)
// slows by the HBM ratio; gelu, layernorm, softmax and dropout (SM-bound there) keep their time
// unless the slower HBM now binds them: max(copy x 4.8/3.35, beta).
TEST(DeriveMechanisms, MemoryOpsAreHbmOrSmBoundAsTheBaseMeasured) {
  const OrderedJson base = Profile::builtin("h200").json();
  const OrderedJson d = derive_profile(base, *find_datasheet("h100"), kOpt);
  const double hbm = 4.8e12 / 3.35e12;
  ASSERT_DOUBLE_EQ(find_datasheet("h200")->hbm_bandwidth_Bps, 4.8e12);
  ASSERT_DOUBLE_EQ(find_datasheet("h100")->hbm_bandwidth_Bps, 3.35e12);
  const double copy = v(base["memory"]["copy"]["beta_s_per_byte"]);
  EXPECT_DOUBLE_EQ(v(d["memory"]["copy"]["beta_s_per_byte"]), copy * hbm);
  int sm_bound_kept = 0;
  for (auto it = base["memory"]["ops"].begin(); it != base["memory"]["ops"].end(); ++it) {
    SCOPED_TRACE(it.key());
    const double b = v(it.value()["beta_s_per_byte"]), got = v(d["memory"]["ops"][it.key()]["beta_s_per_byte"]);
    const double want = b <= copy ? b * hbm : std::max(copy * hbm, b);
    EXPECT_DOUBLE_EQ(got, want);
    sm_bound_kept += got == b;
    const std::string note = d["memory"]["ops"][it.key()]["beta_s_per_byte"]["note"];
    EXPECT_NE(note.find(b <= copy ? "HBM-bound there" : "SM-bound there"), std::string::npos) << note;
    for (std::size_t i = 0; i < it.value()["segments"].size(); ++i) {
      const double sb = v(it.value()["segments"][i]["beta_s_per_byte"]);
      EXPECT_DOUBLE_EQ(v(d["memory"]["ops"][it.key()]["segments"][i]["beta_s_per_byte"]),
                       sb <= copy ? sb * hbm : std::max(copy * hbm, sb));
    }
  }
  EXPECT_GE(sm_bound_kept, 2);  // layernorm and softmax stay as slow as on the H200
  const Profile h100 = Profile::from_json(d, "h100"), h200 = Profile::builtin("h200");
  EXPECT_GT(h100.memory_bound_time_s(1e9, "add"), 1.4 * h200.memory_bound_time_s(1e9, "add"));
  EXPECT_LT(h100.memory_bound_time_s(1e9, "layernorm"), 1.01 * h200.memory_bound_time_s(1e9, "layernorm"));
}

// On the H100 (same SMs, clocks and bf16 peak as the H200) a big square GEMM keeps its time, and
// a sample that ran at copy bandwidth on the H200 slows by exactly the HBM ratio above the floor.
TEST(DeriveMechanisms, HbmBoundGemmsSlowWithHbmOnlyTensorBoundOnesDoNot) {
  const OrderedJson base = Profile::builtin("h200").json();
  const OrderedJson d = derive_profile(base, *find_datasheet("h100"), kOpt);
  const double hbm = 4.8e12 / 3.35e12, copy = v(base["memory"]["copy"]["beta_s_per_byte"]);
  const auto& bs = base["compute"]["gemm"]["bf16"]["samples"];
  const auto& ds = d["compute"]["gemm"]["bf16"]["samples"];
  const double floor = v(base["compute"]["gemm"]["bf16"]["floor_s"]);
  int hbm_bound = 0, square = 0;
  for (std::size_t i = 0; i < bs.size(); ++i) {
    const double m = bs[i]["m"], n = bs[i]["n"], k = bs[i]["k"], t = bs[i]["median_s"], got = ds[i]["median_s"];
    if (t - floor <= (m * k + k * n + m * n) * 2 * copy) {
      ++hbm_bound;
      EXPECT_NEAR(got, floor + (t - floor) * hbm, 1e-12 * t) << i;
    } else if (m == n && n == k && m >= 4096) {
      ++square;
      EXPECT_NEAR(got, t, 1e-12 * t) << m;
    }
  }
  EXPECT_GE(hbm_bound, 1);
  EXPECT_GE(square, 3);
}

// Twice the bf16 peak per SM, nothing else: each flash-attention sample's time above the floor
// halves, unless its bytes at copy bandwidth bind it first (floor + max(H, g / 2)).
TEST(DeriveMechanisms, AttentionSplitsLikeAGemm) {
  const OrderedJson base = Profile::builtin("h200").json();
  const Datasheet from = *find_datasheet("h200");
  Datasheet to = from;
  to.key = "h200-2x-bf16";
  to.dense_TFLOPs["bf16"] = 2 * from.peak("bf16");
  const OrderedJson d = derive_profile(base, to, kOpt);
  const double floor = v(base["compute"]["gemm"]["bf16"]["floor_s"]),
               copy = v(base["memory"]["copy"]["beta_s_per_byte"]);
  const auto& bs = base["attention"]["samples"];
  ASSERT_GE(bs.size(), 3u);
  for (std::size_t i = 0; i < bs.size(); ++i) {
    const double b = bs[i]["batch"], h = bs[i]["heads"], s = bs[i]["seq"], hd = bs[i]["head_dim"];
    for (const char* k : {"fwd", "fwd_bwd"}) {
      const double t = v(bs[i][k]), g = t - floor;
      const double H = (std::string(k) == "fwd" ? 4 : 12) * b * h * s * hd * 2 * copy;
      ASSERT_GT(g, H) << "flash attention is tensor-bound on the H200: sample " << i << " " << k;
      EXPECT_NEAR(v(d["attention"]["samples"][i][k]), floor + std::max(H, g / 2), 1e-12 * t) << i << " " << k;
    }
  }
}
