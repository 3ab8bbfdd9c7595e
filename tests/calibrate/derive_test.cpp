// Deriving profiles from datasheet files (knee fit --derive BASE.json --datasheet GPU.json):
// identity, the built-in path, a hypothetical datasheet, provenance notes, and bad datasheets.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>

#include "calibrate/derive_profile.hpp"
#include "calibrate/fitter.hpp"
#include "common/json_reader.hpp"
#include "profile/profile.hpp"
#include "tests/common/error_of.hpp"
#include "tests/common/source_path.hpp"
#include "tests/common/write_tmp.hpp"

using namespace knee;
using knee::test::error_of;
using knee::test::kExample;
using knee::test::kSheets;
using knee::test::write_tmp;

namespace {
const FitOptions kOpt{"", "test", "test", 1.0};

const OrderedJson& h200() {
  static const OrderedJson j = Profile::builtin("h200").json();
  return j;
}

// Every parameter ({"value", "provenance", ...}) by its JSON path, and every GEMM sample's median.
void collect(const OrderedJson& j, const std::string& path, std::map<std::string, const OrderedJson*>& out) {
  if (j.is_object()) {
    if (j.contains("value") && j.contains("provenance")) {
      out[path] = &j;
      return;
    }
    for (auto it = j.begin(); it != j.end(); ++it)
      if (it.key() != "manifest") collect(it.value(), path + "." + it.key(), out);
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) collect(j[i], path + "[" + std::to_string(i) + "]", out);
  }
}
std::map<std::string, const OrderedJson*> params(const OrderedJson& p) {
  std::map<std::string, const OrderedJson*> out;
  collect(p, "$", out);
  return out;
}
OrderedJson without(OrderedJson j, std::initializer_list<const char*> keys) {
  for (const char* k : keys) j.erase(k);
  return j;
}
}  // namespace

// Deriving the calibrated h200 from itself with the h200 datasheet file: every ratio is 1, so
// every parameter and every GEMM sample comes back. Exactly, but for floor + (t - floor) x 1,
// which can round t by an ulp: the test allows 1e-12 relative and counts the exact ones.
TEST(Derive, TheH200FromItselfGivesItsParametersBack) {
  const Datasheet sheet = load_datasheet(kSheets + "h200.json");
  const OrderedJson d = derive_profile(h200(), sheet, kOpt);
  const auto base = params(h200()), got = params(d);
  ASSERT_GT(base.size(), 100u);
  std::size_t exact = 0;
  for (const auto& [path, b] : base) {
    SCOPED_TRACE(path);
    auto it = got.find(path);
    ASSERT_NE(it, got.end()) << "the derived profile lacks " << path;
    const double want = (*b)["value"].get<double>(), have = (*it->second)["value"].get<double>();
    EXPECT_LE(std::fabs(have - want), 1e-12 * std::fabs(want));
    exact += have == want;
  }
  EXPECT_GE(exact, base.size() - 5) << "most values are exact";
  for (auto it = h200()["compute"]["gemm"].begin(); it != h200()["compute"]["gemm"].end(); ++it) {
    const auto& bs = it.value()["samples"];
    const auto& ds = d["compute"]["gemm"][it.key()]["samples"];
    ASSERT_EQ(bs.size(), ds.size()) << it.key();
    for (std::size_t i = 0; i < bs.size(); ++i) {
      const double want = bs[i]["median_s"].get<double>(), have = ds[i]["median_s"].get<double>();
      EXPECT_LE(std::fabs(have - want), 1e-12 * want) << it.key() << " sample " << i;
    }
  }
  EXPECT_EQ(Profile::from_json(d, "identity").parameters_state(), "unedited");
}

// The shipped h100 datasheet file gives the profile the built-in --derive h100 gives; only the
// record of where the datasheet came from differs.
TEST(Derive, TheShippedH100FileGivesTheBuiltinProfile) {
  const std::string file = kSheets + "h100.json";
  const OrderedJson a = derive_profile(h200(), load_datasheet(file), kOpt);
  const OrderedJson b = derive_profile(h200(), "h100", kOpt);
  EXPECT_EQ(without(a, {"manifest", "description", "derivation"}),
            without(b, {"manifest", "description", "derivation"}));
  EXPECT_EQ(a["derivation"]["datasheet"], file);
  EXPECT_EQ(b["derivation"]["datasheet"], "builtin:h100");
  EXPECT_EQ(b["derivation"]["base_datasheet"], "builtin:h200");
  EXPECT_EQ(b["derivation"]["base_state"], "unedited");
  // And the shipped profile is that derivation.
  EXPECT_EQ(without(Profile::builtin("h100").json(), {"manifest", "description"}),
            without(b, {"manifest", "description"}));
  // Same inputs, bit-identical output.
  EXPECT_EQ(derive_profile(h200(), "h100", kOpt).dump(), b.dump());
}

// Twice the HBM bandwidth: HBM-bound parameters change (beta halves), SM-bound ops, GEMM peaks and
// compute-bound samples do not.
TEST(Derive, TwiceTheHbmBandwidthChangesMemoryNotGemmPeaks) {
  const OrderedJson same = derive_profile(h200(), load_datasheet(kSheets + "h200.json"), kOpt);
  const OrderedJson x = derive_profile(h200(), load_datasheet(kExample), kOpt);
  EXPECT_EQ(x["name"], "h200-2x-hbm");
  for (auto it = same["compute"]["peak_tflops"].begin(); it != same["compute"]["peak_tflops"].end(); ++it)
    for (const char* k : {"achieved", "datasheet"})
      EXPECT_EQ(x["compute"]["peak_tflops"][it.key()][k]["value"], it.value()[k]["value"]) << it.key() << " " << k;
  // A GEMM sample slower than its operands at copy bandwidth is bound by its tensor cores and stays;
  // one at copy bandwidth (a skinny shape) gets faster, by at most the HBM ratio.
  const double copy_b = same["memory"]["copy"]["beta_s_per_byte"]["value"].get<double>();
  int hbm_bound = 0, faster = 0;
  for (auto it = same["compute"]["gemm"].begin(); it != same["compute"]["gemm"].end(); ++it) {
    const double floor = it.value()["floor_s"]["value"].get<double>();
    for (std::size_t i = 0; i < it.value()["samples"].size(); ++i) {
      const auto& b = it.value()["samples"][i];
      const double m = b["m"], n = b["n"], k = b["k"], t = b["median_s"];
      const double got = x["compute"]["gemm"][it.key()]["samples"][i]["median_s"];
      if (t - floor > (m * k + k * n + m * n) * elt_bytes(it.key()) * copy_b) {
        EXPECT_EQ(got, t) << it.key() << " sample " << i;
      } else {
        ++hbm_bound;
        // Not slower; no faster than its compute roofline (a tiny GEMM served from L2 stays).
        EXPECT_LE(got, t) << it.key() << " sample " << i;
        faster += got < t;
        EXPECT_GE(got - floor, 0.5 * (t - floor) * (1 - 1e-12)) << it.key() << " sample " << i;
      }
    }
  }
  EXPECT_GE(hbm_bound, 1);
  EXPECT_EQ(x["attention"]["samples"][0]["fwd"]["value"], same["attention"]["samples"][0]["fwd"]["value"]);
  const double bw = same["memory"]["copy"]["bandwidth_Bps"]["value"].get<double>();
  EXPECT_EQ(x["memory"]["copy"]["bandwidth_Bps"]["value"].get<double>(), 2 * bw);
  EXPECT_EQ(x["memory"]["datasheet_bandwidth_Bps"]["value"].get<double>(), 9.6e12);
  // An op at the copy's per-byte time or faster is HBM-bound and halves; one slower than the copy
  // was bound by its SMs on the H200, and twice the HBM does not speed it up (max(copy / 2, beta)).
  const double copy_beta = same["memory"]["copy"]["beta_s_per_byte"]["value"].get<double>();
  int halved = 0, kept = 0;
  for (auto it = same["memory"]["ops"].begin(); it != same["memory"]["ops"].end(); ++it) {
    SCOPED_TRACE(it.key());
    const auto& o = x["memory"]["ops"][it.key()];
    const double b = it.value()["beta_s_per_byte"]["value"].get<double>();
    const double want = b > copy_beta ? b : 0.5 * b;
    EXPECT_EQ(o["beta_s_per_byte"]["value"].get<double>(), want);
    (b > copy_beta ? kept : halved) += 1;
    EXPECT_EQ(o["alpha_s"]["value"], it.value()["alpha_s"]["value"]);
  }
  // What the H200 measured: add runs at copy bandwidth, gelu (tanh) and layernorm (a reduction) do not.
  EXPECT_LE(same["memory"]["ops"]["add"]["beta_s_per_byte"]["value"].get<double>(), copy_beta);
  EXPECT_GT(same["memory"]["ops"]["gelu"]["beta_s_per_byte"]["value"].get<double>(), 1.2 * copy_beta);
  EXPECT_GT(same["memory"]["ops"]["layernorm"]["beta_s_per_byte"]["value"].get<double>(), 1.5 * copy_beta);
  EXPECT_GE(halved, 1);
  EXPECT_GE(kept, 3);
  const auto xl = params(x["links"]), sl = params(same["links"]);  // host and datasheet links: not HBM
  ASSERT_EQ(xl.size(), sl.size());
  for (const auto& [path, q] : sl) EXPECT_EQ((*xl.at(path))["value"], (*q)["value"]) << path;
  const Profile px = Profile::from_json(x, "x"), ps = Profile::from_json(same, "same");
  EXPECT_LT(px.memory_bound_time_s(1 << 30, "add"), 0.6 * ps.memory_bound_time_s(1 << 30, "add"));
  EXPECT_EQ(px.memory_bound_time_s(1 << 30, "layernorm"), ps.memory_bound_time_s(1 << 30, "layernorm"));
  EXPECT_EQ(px.gemm_time_s(8192, 8192, 8192, "bf16"), ps.gemm_time_s(8192, 8192, 8192, "bf16"));
  EXPECT_EQ(px.peak_tflops("bf16"), ps.peak_tflops("bf16"));
}

// Every parameter of a derived profile says where it came from: a derived one names the base
// value and the ratio, a datasheet one the datasheet and its source.
TEST(Derive, EveryParameterSaysWhatItWasDerivedFromAndBy) {
  const OrderedJson d = derive_profile(h200(), "a100", kOpt);
  std::size_t derived = 0, sheet = 0;
  for (const auto& [path, p] : params(d)) {
    SCOPED_TRACE(path);
    const std::string prov = (*p)["provenance"], note = p->value("note", std::string());
    if (prov == "derived") {
      ++derived;
      const bool from_base = note.rfind("derived from 'h200' ", 0) == 0;
      const bool inverse = note.rfind("1 / beta_s_per_byte (derived from 'h200' ", 0) == 0;
      EXPECT_TRUE(from_base || inverse) << note;
      const bool ratio = note.find(" of datasheets ") != std::string::npos;
      EXPECT_TRUE(ratio || note.find("not scaled") != std::string::npos) << note;
    } else if (prov == "datasheet") {
      ++sheet;
      EXPECT_TRUE(note.find("of datasheet a100: ") != std::string::npos || note == "1 / bandwidth_Bps") << note;
    } else {
      EXPECT_EQ(prov, "assumed");
      EXPECT_FALSE(note.empty());
    }
  }
  EXPECT_GT(derived, 50u);
  EXPECT_GE(sheet, 8u);
  const std::string beta = d["memory"]["copy"]["beta_s_per_byte"]["note"];
  EXPECT_NE(beta.find("x 4.8e+12/2.04e+12 (hbm_bandwidth_Bps of datasheets h200 / a100)"), std::string::npos) << beta;
  const std::string host = d["links"]["host_pinned_h2d"]["beta_s_per_byte"]["note"];
  EXPECT_NE(host.find("x 2^(5 - 4) (pcie_gen of datasheets h200 / a100)"), std::string::npos) << host;
  EXPECT_FALSE(d["compute"]["gemm"].contains("fp8"));  // the A100 has none: dropped, not scaled
  EXPECT_EQ(d["derivation"]["datasheet"], "builtin:a100");
}

TEST(Derive, BadDatasheetsNameTheFileAndTheField) {
  Json j = parse_json_file(kSheets + "h100.json");
  j["dense_TFLOPs"].erase("fp16");
  std::string f = write_tmp("no-fp16.json", j.dump());
  std::string e = error_of([&] { derive_profile(h200(), load_datasheet(f), kOpt); });
  EXPECT_NE(e.find(f + ": $.dense_TFLOPs.fp16: expected the dense fp16 TFLOP/s"), std::string::npos) << e;
  EXPECT_NE(e.find("got no such field"), std::string::npos) << e;
  // A dtype the base profile never measured: the A100 profile has no fp8 table.
  const OrderedJson a100 = Profile::builtin("a100").json();
  e = error_of([&] { derive_profile(a100, load_datasheet(kSheets + "h100.json"), kOpt); });
  EXPECT_NE(e.find(kSheets + "h100.json: $.dense_TFLOPs.fp8: expected a dtype base profile 'a100' measured"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("never measured"), std::string::npos) << e;
  // ... and with fp8 0 it derives.
  j = parse_json_file(kSheets + "h100.json");
  j["dense_TFLOPs"]["fp8"] = 0;
  f = write_tmp("no-fp8.json", j.dump());
  EXPECT_FALSE(derive_profile(a100, load_datasheet(f), kOpt)["compute"]["gemm"].contains("fp8"));
  // A base without a datasheet, and an unknown built-in key.
  OrderedJson odd = h200();
  odd["gpu"] = "Tesla V100";
  e = error_of([&] { derive_profile(odd, "h100", kOpt); });
  EXPECT_NE(e.find("$.gpu: expected a GPU with a built-in datasheet"), std::string::npos) << e;
  // Given the base GPU's datasheet (--base-datasheet), it derives.
  const OrderedJson ok = derive_profile(odd, *find_datasheet("h100"), kOpt, find_datasheet("h200"));
  EXPECT_EQ(ok["derivation"]["base_datasheet"], "builtin:h200");
  e = error_of([&] { derive_profile(h200(), "h100-sxm", kOpt); });
  EXPECT_NE(e.find("--derive: expected a built-in datasheet (a100, b200, gb200, h100, h100-pcie, h200)"),
            std::string::npos)
      << e;
}
