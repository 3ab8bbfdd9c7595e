// Profile::comm_interference(): $.interference when the profile has it, else the assumed costs
// (1, 1) with the GPU's SM count from the manifest or the datasheet; the strict reader of the
// section.
#include <gtest/gtest.h>

#include "common/json_reader.hpp"
#include "profile/profile.hpp"
#include "tests/common/error_of.hpp"

using namespace knee;
using knee::test::error_of;

namespace {
OrderedJson h200() { return Profile::builtin("h200").json(); }
OrderedJson with_section(double a, double b, int sms, const std::string& prov_b = "measured") {
  OrderedJson j = h200();
  j["interference"] = {{"held_sm_cost", {{"value", a}, {"provenance", "measured"}, {"ci95", {a * 0.9, a * 1.1}}}},
                       {"hbm_share_cost", {{"value", b}, {"provenance", prov_b}, {"note", "test"}}},
                       {"sm_count", sms}};
  return j;
}
}  // namespace

TEST(CommInterference, AbsentMeansAssumedCostsOfOne) {
  for (const char* name : {"h200", "h100", "a100", "b200"}) {
    SCOPED_TRACE(name);
    const CommInterference ci = Profile::builtin(name).comm_interference();
    EXPECT_EQ(ci.held_sm_cost, 1);
    EXPECT_EQ(ci.hbm_share_cost, 1);
    EXPECT_EQ(ci.provenance, "assumed");
    EXPECT_NE(ci.note.find("assumed 1"), std::string::npos) << ci.note;
  }
}

TEST(CommInterference, SmCountFromTheManifestElseTheDatasheet) {
  // h200 was measured: its manifest records the SM count; the derived ones fall back to the datasheet.
  const CommInterference h = Profile::builtin("h200").comm_interference();
  EXPECT_EQ(h.sm_count, 132);
  EXPECT_NE(h.note.find("$.manifest.extra.sm_count"), std::string::npos) << h.note;
  struct G {
    const char* profile;
    int sms;
  };
  for (G g : {G{"h100", 132}, G{"a100", 108}, G{"b200", 148}}) {
    SCOPED_TRACE(g.profile);
    const CommInterference ci = Profile::builtin(g.profile).comm_interference();
    EXPECT_EQ(ci.sm_count, g.sms);
    EXPECT_NE(ci.note.find("datasheet"), std::string::npos) << ci.note;
  }
  // Other models by $.gpu, without a manifest count.
  struct M {
    const char* gpu;
    int sms;
  };
  for (M m : {M{"NVIDIA GB200", 148}, M{"NVIDIA H100 PCIe", 114}, M{"NVIDIA H100 80GB HBM3", 132},
              M{"NVIDIA A100-SXM4-40GB", 108}, M{"NVIDIA H200 NVL", 132}}) {
    SCOPED_TRACE(m.gpu);
    OrderedJson j = h200();
    j["gpu"] = m.gpu;
    j["manifest"]["extra"].erase("sm_count");
    EXPECT_EQ(Profile::from_json(j, "p.json").comm_interference().sm_count, m.sms);
  }
  // A manifest count wins over the datasheet.
  OrderedJson j = Profile::builtin("h100").json();
  j["manifest"]["extra"]["sm_count"] = 114;
  EXPECT_EQ(Profile::from_json(j, "p.json").comm_interference().sm_count, 114);
}

TEST(CommInterference, UnknownGpuWithoutACountNamesTheProfile) {
  OrderedJson j = h200();
  j["gpu"] = "Mystery Accelerator";
  j["name"] = "mystery";
  j["manifest"]["extra"].erase("sm_count");
  const Profile p = Profile::from_json(j, "mystery.json");  // loading is fine; asking is not
  const std::string e = error_of([&] { p.comm_interference(); });
  EXPECT_NE(e.find("mystery.json: $.interference: expected an interference measurement"), std::string::npos) << e;
  EXPECT_NE(e.find("Mystery Accelerator"), std::string::npos) << e;
}

TEST(CommInterference, PresentSectionIsReturnedAsWritten) {
  const CommInterference ci = Profile::from_json(with_section(0.85, 1.25, 130), "p.json").comm_interference();
  EXPECT_DOUBLE_EQ(ci.held_sm_cost, 0.85);
  EXPECT_DOUBLE_EQ(ci.hbm_share_cost, 1.25);
  EXPECT_EQ(ci.sm_count, 130);  // the section's count, not the manifest's 132
  EXPECT_EQ(ci.provenance, "measured");
  // Mixed provenance: the less certain of the two.
  EXPECT_EQ(Profile::from_json(with_section(1, 1, 132, "assumed"), "p.json").comm_interference().provenance, "assumed");
  EXPECT_EQ(Profile::from_json(with_section(1, 1, 132, "derived"), "p.json").comm_interference().provenance, "derived");
}

TEST(CommInterference, MalformedSectionsAreOneClearLine) {
  auto err = [](OrderedJson j) { return error_of([&] { Profile::from_json(j, "p.json"); }); };
  OrderedJson j = with_section(-0.5, 1, 132);
  std::string e = err(j);
  EXPECT_NE(e.find("p.json: $.interference.held_sm_cost.value: expected a finite number >= 0, got -0.5"),
            std::string::npos)
      << e;
  j = with_section(1, 1, 0);
  e = err(j);
  EXPECT_NE(e.find("p.json: $.interference.sm_count: expected an integer"), std::string::npos) << e;
  j = with_section(1, 1, 132);
  j["interference"]["hbm_share_cost"]["provenance"] = "guessed";
  e = err(j);
  EXPECT_NE(e.find("p.json: $.interference.hbm_share_cost.provenance: expected one of"), std::string::npos) << e;
  j = with_section(1, 1, 132);
  j["interference"]["held_sm_costs"] = 1;  // typo
  e = err(j);
  EXPECT_NE(e.find("p.json: $.interference.held_sm_costs"), std::string::npos) << e;
  j = with_section(1, 1, 132);
  j["interference"].erase("hbm_share_cost");
  e = err(j);
  EXPECT_NE(e.find("p.json: $.interference.hbm_share_cost"), std::string::npos) << e;
  j = with_section(1, 1, 132);
  j["interference"]["samples"] = {{{"side_ctas", 8}, {"distinct_sms", 8}}};
  e = err(j);
  EXPECT_NE(e.find("p.json: $.interference.samples[0].gemm_alone_s"), std::string::npos) << e;
  j = h200();
  j["manifest"]["extra"]["sm_count"] = "many";
  e = err(j);
  EXPECT_NE(e.find("p.json: $.manifest.extra.sm_count: expected an integer"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;  // one line
}
