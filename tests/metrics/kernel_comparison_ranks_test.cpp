// knee analyze --trace on .json.gz files and on several ranks' traces: a gzipped trace gives the
// same comparison as the plain one; a corrupt one is one line; ranks are read from
// distributedInfo (else the position), pooled, and the planted slow rank is named with its factor.
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <zlib.h>

#include "common/error.hpp"
#include "metrics/kernel_comparison_ranks.hpp"
#include "metrics/kernel_comparison_schema.hpp"

namespace knee {
namespace {

using J = nlohmann::json;
namespace fs = std::filesystem;

const Profile& h200() {
  static const Profile p = Profile::builtin("h200");
  return p;
}

// One rank's step: two GEMMs of `gemm_ps` each, then an all-reduce of `nccl_ps`, in one window.
J rank_trace(std::int64_t gemm_ps, std::int64_t nccl_ps, J dist = nullptr) {
  J ev = J::array();
  double t = 100;
  for (int id = 1; id <= 3; ++id) {
    const bool nccl = id == 3;
    ev.push_back({{"ph", "X"},
                  {"cat", "cpu_op"},
                  {"name", nccl ? "record_param_comms" : "aten::mm"},
                  {"ts", t},
                  {"dur", 5.0},
                  {"args",
                   {{"External id", id},
                    {"Input Dims", {{4096, 4096}, {4096, 4096}}},
                    {"Input type", {"c10::BFloat16", "c10::BFloat16"}}}}});
    const std::int64_t ps = nccl ? nccl_ps : gemm_ps;
    ev.push_back({{"ph", "X"},
                  {"cat", "kernel"},
                  {"name", nccl ? "ncclDevKernel_AllReduce" : "sm90_gemm"},
                  {"ts", t + 1},
                  {"dur", double(ps) / 1e6},
                  {"args", {{"External id", id}, {"device", 0}, {"stream", nccl ? 20 : 7}}}});
    t += double(ps) / 1e6 + 10;
  }
  ev.push_back({{"ph", "X"}, {"cat", "user_annotation"}, {"name", "ProfilerStep#1"}, {"ts", 50.0}, {"dur", t}});
  J doc = {{"traceEvents", ev}, {"deviceProperties", {{{"name", "NVIDIA H200"}}}}};
  if (!dist.is_null()) doc["distributedInfo"] = dist;
  return doc;
}

std::string dir_for(const std::string& name) {
  const fs::path d = fs::path(KNEE_BINARY_DIR) / "kernel_comparison_ranks_test" / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

void write_plain(const std::string& path, const J& doc) { std::ofstream(path, std::ios::binary) << doc.dump(1); }

void write_gz(const std::string& path, const std::string& text) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, text.data(), static_cast<unsigned>(text.size())), static_cast<int>(text.size()));
  gzclose(f);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string load_error(const std::string& path) {
  try {
    load_kineto_trace(path);
  } catch (const InputError& e) { return e.what(); }
  return "no error";
}

std::string paths_error(const std::vector<std::string>& items) {
  try {
    analyze_trace_paths(items, "h200", "test", "knee analyze: --trace", "knee analyze: --profile", {});
  } catch (const InputError& e) { return e.what(); }
  return "no error";
}

const std::int64_t kGemmPs = 1234567890;  // 1.23 ms per GEMM kernel

TEST(KinetoGzip, SameComparisonAsThePlainFile) {
  const std::string d = dir_for("gzip");
  const J doc = rank_trace(kGemmPs, 700000000, {{"rank", 0}, {"world_size", 2}});
  write_plain(d + "/t.json", doc);
  // Told by the magic bytes, not the name: the gzipped copy is called .json too.
  write_gz(d + "/t-gz.json", doc.dump(1));
  const KinetoTrace plain = load_kineto_trace(d + "/t.json"), gz = load_kineto_trace(d + "/t-gz.json");
  EXPECT_EQ(gz.kernels.size(), 3u);
  EXPECT_EQ(gz.rank, 0);
  EXPECT_EQ(gz.world_size, 2);
  auto a = kernel_comparison_json(compare_kernels(plain, h200(), "test"));
  auto b = kernel_comparison_json(compare_kernels(gz, h200(), "test"));
  EXPECT_EQ(a["source"], d + "/t.json");
  a.erase("source"), b.erase("source");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a["gpu_time_s"].get<double>(), double(2 * kGemmPs + 700000000) / 1e12);
  // One trace: no rank rows, no skew.
  EXPECT_TRUE(a["ranks"].empty());
  EXPECT_TRUE(a["rank_skew"].is_null());
  EXPECT_EQ(a["streams"][0]["rank"], 0);
}

TEST(KinetoGzip, CorruptOrTruncatedIsOneLine) {
  const std::string d = dir_for("corrupt");
  write_gz(d + "/ok.json.gz", rank_trace(kGemmPs, 1).dump());
  const std::string gz = slurp(d + "/ok.json.gz");
  std::ofstream(d + "/cut.json.gz", std::ios::binary) << gz.substr(0, gz.size() / 2);
  std::string bad = gz;
  for (std::size_t i = 12; i < 40 && i < bad.size(); ++i) bad[i] = char(0xff);  // inside the deflate data
  std::ofstream(d + "/bad.json.gz", std::ios::binary) << bad;
  const std::string cut = load_error(d + "/cut.json.gz");
  EXPECT_EQ(cut.rfind(d + "/cut.json.gz: expected a gzip-compressed JSON trace, got a stream cut off after ", 0), 0u)
      << cut;
  EXPECT_NE(cut.find("(zlib: "), std::string::npos) << cut;
  const std::string corrupt = load_error(d + "/bad.json.gz");
  EXPECT_EQ(corrupt.rfind(d + "/bad.json.gz: expected a gzip-compressed JSON trace, got corrupt data", 0), 0u)
      << corrupt;
  EXPECT_NE(corrupt.find("(zlib: "), std::string::npos) << corrupt;
  for (const auto& m : {cut, corrupt}) EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  // Gzip that holds no JSON: the JSON error, naming the file.
  write_gz(d + "/text.gz", "not json");
  EXPECT_NE(load_error(d + "/text.gz").find(d + "/text.gz"), std::string::npos);
}

TEST(KernelComparisonRanks, PlantedSlowRankIsNamedWithItsFactor) {
  // Rank 1 of 3 computes 1.5x longer; ranks 0 and 2 wait for it inside their all-reduce.
  const std::string d = dir_for("planted");
  const std::int64_t base_nccl = 500000000, slow_gemm = kGemmPs * 3 / 2;
  const std::int64_t wait = 2 * (slow_gemm - kGemmPs);
  for (int r = 0; r < 3; ++r)
    write_plain(d + "/r" + std::to_string(r) + ".json",
                rank_trace(r == 1 ? slow_gemm : kGemmPs, r == 1 ? base_nccl : base_nccl + wait,
                           {{"rank", 2 - r}, {"world_size", 3}, {"backend", "nccl"}}));
  // Files r0, r1, r2 hold ranks 2, 1, 0: the rows come back in rank order.
  const KernelComparison c = analyze_trace_paths({d}, "", "test", "knee analyze: --trace", "p", {});
  ASSERT_EQ(c.ranks.size(), 3u);
  EXPECT_EQ(c.ranks[0].rank, 0);
  EXPECT_EQ(c.ranks[0].source, d + "/r2.json");
  EXPECT_EQ(c.ranks[1].compute_ps, 2 * slow_gemm);
  EXPECT_EQ(c.ranks[0].compute_ps, 2 * kGemmPs);
  EXPECT_EQ(c.ranks[2].nccl_ps, base_nccl + wait);
  EXPECT_EQ(c.ranks[1].steps, 1);
  EXPECT_TRUE(c.rank_skew.valid);
  EXPECT_EQ(c.rank_skew.slowest_rank, 1);
  EXPECT_NEAR(c.rank_skew.straggler_factor, 1.5, 1e-9);
  EXPECT_EQ(c.rank_skew.least_nccl_rank, 1);
  EXPECT_EQ(c.rank_skew.most_nccl_rank, 0);  // ranks 0 and 2 wait equally: the lowest
  EXPECT_EQ(c.rank_skew.median_rank, 2);     // ranks 0 and 2 tie; sorted stably, the lower median is 2
  // Pooled: every rank's calls, counts and times summed.
  EXPECT_EQ(c.activities, 9);
  EXPECT_EQ(c.calls.size(), 9u);
  EXPECT_EQ(c.gpu_time_ps, 4 * kGemmPs + 2 * slow_gemm + 3 * base_nccl + 2 * wait);
  EXPECT_EQ(c.nccl_ps, 3 * base_nccl + 2 * wait);
  EXPECT_EQ(c.streams.size(), 9u);  // per rank: device row, streams 7 and 20
  EXPECT_EQ(c.steps.size(), 3u);
  EXPECT_EQ(c.profile, "h200");  // by the lowest rank's GPU
  EXPECT_EQ(c.source, d);
  const double pred = h200().gemm_time_s(4096, 4096, 4096, "bf16");
  EXPECT_NEAR(c.ranks[1].ratio, double(slow_gemm) / 1e12 / pred, 1e-9);
  EXPECT_NEAR(c.ratio, double(4 * kGemmPs + 2 * slow_gemm) / 1e12 / (6 * pred), 1e-9);
  // The JSON: the single trace's keys, plus the rank rows and the skew.
  const auto j = kernel_comparison_json(c);
  EXPECT_EQ(j["ranks"].size(), 3u);
  EXPECT_EQ(j["ranks"][1]["compute_s"].get<double>(), double(2 * slow_gemm) / 1e12);
  EXPECT_EQ(j["rank_skew"]["slowest_rank"], 1);
  EXPECT_EQ(j["steps"][2]["rank"], 2);
  ASSERT_EQ(j.size(), trace_fields().size());
  auto it = j.begin();
  for (const auto& f : trace_fields()) EXPECT_EQ(it++.key(), f.key);
}

TEST(KernelComparisonRanks, ShippedFourRankSetNamesThePlantedRank) {
  // examples/traces/synthetic-4-ranks: rank 2's compute planted at 1.3x (make_synthetic_kineto.py).
  const std::string d = std::string(KNEE_SOURCE_DIR) + "/examples/traces/synthetic-4-ranks";
  const KernelComparison c = analyze_trace_paths({d}, "", "test", "t", "p", {});
  ASSERT_EQ(c.ranks.size(), 4u);
  EXPECT_EQ(c.ranks[2].source, d + "/rank-2.json.gz");
  EXPECT_EQ(c.rank_skew.slowest_rank, 2);
  EXPECT_NEAR(c.rank_skew.straggler_factor, 1.3, 1e-6);  // whole-picosecond rounding of each kernel
  EXPECT_EQ(c.rank_skew.least_nccl_rank, 2);
  EXPECT_NE(c.rank_skew.most_nccl_rank, 2);
  // Every rank's GEMMs at 1.25x the profile, the slow rank's at 1.3 x 1.25.
  EXPECT_NEAR(c.ranks[0].ratio / c.ranks[2].ratio, 1 / 1.3, 1e-6);
  // Each rank has 2 unlinked kernels: said once, pooled.
  EXPECT_EQ(c.unlinked, 8);
  EXPECT_EQ(c.notes.front(), unlinked_note(8) + " (all ranks)");
  for (const auto& n : c.notes) EXPECT_EQ(n.find(unlinked_note(2)), std::string::npos) << n;
}

TEST(KernelComparisonRanks, RanksByPositionAndBadSets) {
  const std::string d = dir_for("bad");
  write_plain(d + "/a.json", rank_trace(kGemmPs, 1, {{"rank", 1}, {"world_size", 4}}));
  write_plain(d + "/b.json", rank_trace(kGemmPs, 1, {{"rank", 1}, {"world_size", 4}}));
  write_plain(d + "/c.json", rank_trace(kGemmPs, 1, {{"rank", 0}, {"world_size", 8}}));
  write_plain(d + "/p0.json", rank_trace(kGemmPs, 1));
  write_plain(d + "/p1.json", rank_trace(2 * kGemmPs, 1));
  const std::string a = d + "/a.json", b = d + "/b.json", c = d + "/c.json";
  EXPECT_EQ(paths_error({a, b}),
            b + ": distributedInfo.rank: expected a rank no other trace has, got 1, the rank of " + a);
  EXPECT_EQ(paths_error({a, c}), c + ": distributedInfo.world_size: expected the world_size of " + a + ", 4, got 8");
  EXPECT_EQ(paths_error({a, a}),
            "knee analyze: --trace: " + a + ": expected each trace once (one per rank), got it twice");
  EXPECT_EQ(paths_error({a, ""}),
            "knee analyze: --trace: expected trace files or directories separated by commas, got an empty item");
  const std::string empty = dir_for("empty");
  std::ofstream(empty + "/notes.txt") << "no traces here";
  EXPECT_EQ(paths_error({empty}), "knee analyze: --trace: " + empty +
                                      ": expected a directory of Kineto traces (*.json, *.json.gz; one per rank), got "
                                      "none in it");
  write_plain(d + "/big.json", rank_trace(kGemmPs, 1, {{"rank", 4}, {"world_size", 4}}));
  EXPECT_EQ(paths_error({d + "/big.json"}),
            d + "/big.json: distributedInfo.rank: expected a rank below world_size 4, got 4");
  write_plain(d + "/str.json", rank_trace(kGemmPs, 1, {{"rank", "1"}}));
  EXPECT_EQ(paths_error({d + "/str.json"}), d + "/str.json: distributedInfo.rank: expected an integer >= 0, got \"1\"");
  write_plain(d + "/list.json", rank_trace(kGemmPs, 1, J::array()));
  EXPECT_NE(paths_error({d + "/list.json"}).find(d + "/list.json: distributedInfo: expected an object"),
            std::string::npos);
  // No distributedInfo: the position in the list, said so.
  const KernelComparison p = analyze_trace_paths({d + "/p1.json", d + "/p0.json"}, "h200", "test", "t", "p", {});
  ASSERT_EQ(p.ranks.size(), 2u);
  EXPECT_EQ(p.ranks[0].source, d + "/p1.json");
  EXPECT_EQ(p.rank_skew.slowest_rank, 0);
  EXPECT_NEAR(p.rank_skew.straggler_factor, 2.0, 1e-12);  // of two ranks the median is the faster
  EXPECT_EQ(p.source, d + "/p1.json," + d + "/p0.json");
  bool said = false;
  for (const auto& n : p.notes) said |= n.find("no trace has distributedInfo.rank") != std::string::npos;
  EXPECT_TRUE(said);
  EXPECT_EQ(split_trace_list("x.json,y.json.gz"), (std::vector<std::string>{"x.json", "y.json.gz"}));
}

}  // namespace
}  // namespace knee
