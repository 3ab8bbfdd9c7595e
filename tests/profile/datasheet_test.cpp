// Datasheet files (profile/datasheet.hpp): the built-ins are the shipped files, values carry their
// sources, bad files name the file and the field; and the parameters digest that marks a
// hand-edited profile "edited".
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "common/json_reader.hpp"
#include "profile/datasheet.hpp"
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

void expect_same_figures(const Datasheet& a, const Datasheet& b) {
  EXPECT_EQ(a.key, b.key);
  EXPECT_EQ(a.gpu, b.gpu);
  EXPECT_EQ(a.sm_count, b.sm_count);
  EXPECT_EQ(a.pcie_gen, b.pcie_gen);
  EXPECT_EQ(a.boost_clock_MHz, b.boost_clock_MHz);
  EXPECT_EQ(a.base_clock_MHz, b.base_clock_MHz);
  EXPECT_EQ(a.dense_TFLOPs, b.dense_TFLOPs);
  EXPECT_EQ(a.hbm_capacity_bytes, b.hbm_capacity_bytes);
  EXPECT_EQ(a.hbm_bandwidth_Bps, b.hbm_bandwidth_Bps);
  EXPECT_EQ(a.l2_bytes, b.l2_bytes);
  EXPECT_EQ(a.nvlink_total_Bps, b.nvlink_total_Bps);
  EXPECT_EQ(a.nic_bps, b.nic_bps);
  EXPECT_EQ(a.tdp_W, b.tdp_W);
  EXPECT_EQ(a.sources, b.sources);
  EXPECT_EQ(a.source, b.source);
}

// The H100 file with one top-level field replaced (or removed when `value` is null).
std::string h100_with(const std::string& field, const Json& value) {
  Json j = parse_json_file(kSheets + "h100.json");
  if (value.is_null()) j.erase(field);
  else j[field] = value;
  return write_tmp("sheet-" + field + ".json", j.dump());
}
}  // namespace

TEST(Datasheet, BuiltinsAreTheShippedFiles) {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(kSheets)) files.push_back(e.path().stem().string());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(datasheet_keys(), files);
  EXPECT_EQ(files, (std::vector<std::string>{"a100", "b200", "gb200", "h100", "h100-pcie", "h200"}));
  for (const auto& k : files) {
    SCOPED_TRACE(k);
    const Datasheet* b = find_datasheet(k);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->origin, "builtin:" + k);
    const Datasheet f = load_datasheet(kSheets + k + ".json");
    EXPECT_EQ(f.origin, kSheets + k + ".json");
    expect_same_figures(*b, f);
  }
  // The figures the shipped profiles were derived with (docs/calibration.md).
  const Datasheet* h100 = find_datasheet("h100");
  EXPECT_EQ(h100->peak("bf16"), 989);
  EXPECT_EQ(h100->peak("fp8"), 1979);
  EXPECT_EQ(h100->hbm_bandwidth_Bps, 3.35e12);
  EXPECT_EQ(h100->sm_count, 132);
  EXPECT_EQ(find_datasheet("a100")->peak("fp8"), 0);
  EXPECT_TRUE(find_datasheet("a100")->gives_peak("fp8"));
  EXPECT_EQ(find_datasheet("a100")->pcie_gen, 4);
  EXPECT_EQ(find_datasheet("b200")->l2_bytes, 0);  // not given
}

TEST(Datasheet, FoundByGpuNameLongestKeyFirst) {
  struct C {
    const char* name;
    const char* key;
  };
  for (C c : {C{"NVIDIA GB200", "gb200"}, C{"NVIDIA B200", "b200"}, C{"NVIDIA H100 PCIe", "h100-pcie"},
              C{"NVIDIA H100 80GB HBM3", "h100"}, C{"NVIDIA H200", "h200"}, C{"NVIDIA A100-SXM4-40GB", "a100"},
              C{"H100-PCIE", "h100-pcie"}}) {
    SCOPED_TRACE(c.name);
    const Datasheet* d = find_datasheet(c.name);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->key, c.key);
  }
  EXPECT_EQ(find_datasheet("Tesla V100-SXM2-32GB"), nullptr);
  EXPECT_EQ(find_datasheet("h100-pcie")->sm_count, 114);
  EXPECT_EQ(find_datasheet("gb200")->sm_count, 148);
}

TEST(Datasheet, AValueCarriesItsSourceElseTheFiles) {
  const Datasheet* h100 = find_datasheet("h100");
  EXPECT_NE(h100->cite("hbm_capacity_bytes").find("what CUDA reports"), std::string::npos);
  EXPECT_EQ(h100->cite("hbm_bandwidth_Bps"), h100->source);  // a plain number: the file's $.source
  EXPECT_NE(h100->source.find("H100 SXM"), std::string::npos);
  EXPECT_NE(find_datasheet("b200")->cite("dense_TFLOPs.tf32").find("18 PFLOPS"), std::string::npos);
  EXPECT_EQ(find_datasheet("b200")->cite("dense_TFLOPs.bf16"), find_datasheet("b200")->source);
}

TEST(Datasheet, ExtendsTakesTheBuiltinsFiguresAndTheirSources) {
  const Datasheet x = load_datasheet(kExample);
  const Datasheet* h200 = find_datasheet("h200");
  EXPECT_EQ(x.key, "h200-2x-hbm");
  EXPECT_EQ(x.extends, "h200");
  EXPECT_EQ(x.hbm_bandwidth_Bps, 2 * h200->hbm_bandwidth_Bps);
  EXPECT_EQ(x.dense_TFLOPs, h200->dense_TFLOPs);
  EXPECT_EQ(x.sm_count, h200->sm_count);
  EXPECT_EQ(x.hbm_capacity_bytes, h200->hbm_capacity_bytes);
  EXPECT_EQ(x.tdp_W, h200->tdp_W);
  EXPECT_NE(x.cite("hbm_bandwidth_Bps").find("hypothetical"), std::string::npos);
  EXPECT_NE(x.cite("tdp_W").find("builtin:h200"), std::string::npos) << x.cite("tdp_W");
  EXPECT_EQ(x.cite("tdp_W").find("hypothetical"), std::string::npos) << x.cite("tdp_W");
}

TEST(Datasheet, BadFilesNameTheFileAndTheField) {
  std::string f = h100_with("nic_bps", nullptr);
  EXPECT_NE(error_of([&] { load_datasheet(f); }).find(f + ": $.nic_bps: expected the network bandwidth per GPU"),
            std::string::npos)
      << error_of([&] { load_datasheet(f); });
  f = h100_with("tdp_W", -700);
  EXPECT_NE(error_of([&] { load_datasheet(f); }).find(f + ": $.tdp_W: expected a number > 0"), std::string::npos);
  f = h100_with("sm_count", "132");
  EXPECT_NE(error_of([&] { load_datasheet(f); }).find(f + ": $.sm_count: expected an integer >= 1"), std::string::npos);
  f = h100_with("sm_count", 132.5);
  EXPECT_NE(error_of([&] { load_datasheet(f); }).find("$.sm_count: expected an integer >= 1"), std::string::npos);
  f = h100_with("hbm_bandwith_Bps", 3e12);
  EXPECT_NE(error_of([&] { load_datasheet(f); }).find(f + ": $.hbm_bandwith_Bps: expected one of the known keys"),
            std::string::npos)
      << error_of([&] { load_datasheet(f); });
  f = h100_with("dense_TFLOPs", Json{{"bf16", 989}, {"fp4", 3958}});
  EXPECT_NE(error_of([&] { load_datasheet(f); }).find(f + ": $.dense_TFLOPs.fp4: expected a dtype"), std::string::npos);
  f = h100_with("dense_TFLOPs", Json{{"bf16", -1}});
  EXPECT_NE(error_of([&] { load_datasheet(f); }).find("$.dense_TFLOPs.bf16: expected a number >= 0"),
            std::string::npos);
  f = h100_with("tdp_W", Json{{"value", 700}});  // the object form needs its source
  EXPECT_NE(error_of([&] { load_datasheet(f); }).find(f + ": $.tdp_W.source"), std::string::npos);
  f = h100_with("tdp_W", Json{{"source", "x"}});
  EXPECT_NE(error_of([&] { load_datasheet(f); }).find(f + ": $.tdp_W.value: expected a number > 0"), std::string::npos);
  f = h100_with("extends", "v100");
  EXPECT_NE(error_of([&] { load_datasheet(f); }).find(f + ": $.extends: expected a built-in datasheet"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              datasheet_arg("v100", "knee fit: --datasheet");
            }).find("knee fit: --datasheet: expected a datasheet file (*.json) or a built-in datasheet (a100, "),
            std::string::npos);
  EXPECT_NE(error_of([] { load_datasheet("/nonexistent/x.json"); }).find("/nonexistent/x.json"), std::string::npos);
}

// ---- the parameters digest ----------------------------------------------------------------------
TEST(ParametersDigest, ShippedProfilesAreUnedited) {
  for (const auto& n : Profile::builtin_names()) {
    SCOPED_TRACE(n);
    const Profile p = Profile::builtin(n);
    EXPECT_EQ(p.parameters_state(), "unedited");
    EXPECT_EQ(p.json()["manifest"]["parameters_digest"].get<std::string>(), parameters_digest(p.json()));
  }
  EXPECT_EQ(Profile::builtin("h100").derivation_datasheet(), "builtin:h100");
  EXPECT_EQ(Profile::builtin("h200").derivation_datasheet(), "");
}

TEST(ParametersDigest, AnEditedValueIsReportedAsEdited) {
  OrderedJson j = Profile::builtin("h200").json();
  j["memory"]["copy"]["beta_s_per_byte"]["value"] = j["memory"]["copy"]["beta_s_per_byte"]["value"].get<double>() * 0.9;
  EXPECT_EQ(Profile::from_json(j, "edited.json").parameters_state(), "edited");
  OrderedJson k = Profile::builtin("h200").json();
  k["manifest"]["extra"]["sm_count"] = 100;  // read by the simulator: an edit too
  EXPECT_EQ(Profile::from_json(k, "edited.json").parameters_state(), "edited");
  // The name and description are labels, not parameters; the file's key order does not matter.
  OrderedJson r = Profile::builtin("h200").json();
  r["name"] = "my-h200";
  r["description"] = "renamed";
  EXPECT_EQ(Profile::from_json(r, "renamed.json").parameters_state(), "unedited");
  OrderedJson reordered = OrderedJson::object();
  const OrderedJson orig = Profile::builtin("h200").json();
  for (auto it = orig.rbegin(); it != orig.rend(); ++it) reordered[it.key()] = it.value();
  EXPECT_EQ(Profile::from_json(reordered, "reordered.json").parameters_state(), "unedited");
  // Re-stamped: unedited again, with another digest.
  stamp_parameters_digest(j);
  EXPECT_EQ(Profile::from_json(j, "restamped.json").parameters_state(), "unedited");
  EXPECT_NE(j["manifest"]["parameters_digest"], orig["manifest"]["parameters_digest"]);
  // No digest at all; a malformed one.
  OrderedJson n = orig;
  n["manifest"].erase("parameters_digest");
  EXPECT_EQ(Profile::from_json(n, "old.json").parameters_state(), "no digest");
  n["manifest"]["parameters_digest"] = "md5:1234";
  EXPECT_NE(error_of([&] { Profile::from_json(n, "bad.json"); }).find("bad.json: $.manifest.parameters_digest"),
            std::string::npos);
}

TEST(ParametersDigest, ReadingTheFileBackKeepsTheDigest) {
  const OrderedJson orig = Profile::builtin("h100").json();
  const std::string path = write_tmp("h100-copy.json", orig.dump(1));
  EXPECT_EQ(Profile::load(path).parameters_state(), "unedited");
  const std::string compact = write_tmp("h100-compact.json", orig.dump());
  EXPECT_EQ(Profile::load(compact).parameters_state(), "unedited");
  EXPECT_EQ(parameters_digest(orig), parameters_digest(orig));  // deterministic
}
