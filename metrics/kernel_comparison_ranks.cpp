// Several ranks' Kineto traces: the paths, each trace's rank, the pooled comparison, the skew.
#include "metrics/kernel_comparison_ranks.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "common/error.hpp"

namespace knee {
namespace {

namespace fs = std::filesystem;

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

double median_of(std::vector<std::int64_t> ps) {
  if (ps.empty()) return 0;
  std::sort(ps.begin(), ps.end());
  const std::size_t n = ps.size();
  return (n % 2 ? double(ps[n / 2]) : (double(ps[n / 2 - 1]) + double(ps[n / 2])) / 2) / 1e12;
}

RankRow rank_row(std::int64_t rank, const KinetoTrace& t, const KernelComparison& c) {
  RankRow r;
  r.rank = rank;
  r.source = t.source;
  r.device_name = t.device_name;
  r.gpu_time_ps = c.gpu_time_ps;
  r.nccl_ps = c.nccl_ps;
  r.compute_ps = c.gpu_time_ps - c.nccl_ps;
  r.steps = static_cast<std::int64_t>(c.steps.size());
  std::vector<std::int64_t> d;
  for (const auto& s : c.steps) d.push_back(s.duration_ps);
  r.step_median_s = median_of(d);
  r.step_max_s = d.empty() ? 0 : double(*std::max_element(d.begin(), d.end())) / 1e12;
  r.ratio = c.ratio;
  r.predicted_share = c.predicted_share;
  return r;
}

RankSkew rank_skew(const std::vector<RankRow>& rows) {
  RankSkew k;
  if (rows.size() < 2) return k;
  k.valid = true;
  // Ties go to the lowest rank (rows are in rank order; stable sorts keep it).
  std::vector<const RankRow*> by_compute;
  for (const auto& r : rows) by_compute.push_back(&r);
  std::stable_sort(by_compute.begin(), by_compute.end(),
                   [](const RankRow* a, const RankRow* b) { return a->compute_ps < b->compute_ps; });
  const RankRow* slow = rows.data();
  for (const auto& r : rows)
    if (r.compute_ps > slow->compute_ps) slow = &r;
  // The median rank is a rank: the lower median, so with two ranks it is the faster one.
  const RankRow* med = by_compute[(by_compute.size() - 1) / 2];
  k.slowest_rank = slow->rank, k.slowest_compute_ps = slow->compute_ps;
  k.median_rank = med->rank, k.median_compute_ps = med->compute_ps;
  k.straggler_factor = med->compute_ps > 0 ? double(slow->compute_ps) / double(med->compute_ps) : -1;
  const RankRow *most = rows.data(), *least = rows.data();
  for (const auto& r : rows) {
    if (r.nccl_ps > most->nccl_ps) most = &r;
    if (r.nccl_ps < least->nccl_ps) least = &r;
  }
  k.most_nccl_rank = most->rank, k.most_nccl_ps = most->nccl_ps;
  k.least_nccl_rank = least->rank, k.least_nccl_ps = least->nccl_ps;
  return k;
}

}  // namespace

std::string unlinked_note(std::int64_t n) {
  return std::to_string(n) + " GPU activities have no cpu_op with their External id: counted as unlinked, not guessed";
}

std::vector<std::string> split_trace_list(const std::string& spec) {
  std::vector<std::string> out;
  std::size_t from = 0;
  for (;;) {
    const std::size_t comma = spec.find(',', from);
    out.push_back(spec.substr(from, comma == std::string::npos ? std::string::npos : comma - from));
    if (comma == std::string::npos) return out;
    from = comma + 1;
  }
}

std::vector<std::string> expand_trace_paths(const std::vector<std::string>& items, const std::string& what) {
  std::vector<std::string> files;
  if (items.empty()) throw InputError(what + ": expected a trace file or a directory of traces, got none");
  for (const auto& item : items) {
    if (item.empty())
      throw InputError(what + ": expected trace files or directories separated by commas, got an empty item");
    std::error_code ec;
    if (!fs::is_directory(item, ec)) {
      files.push_back(item);
      continue;
    }
    std::vector<std::string> in;
    for (const auto& e : fs::directory_iterator(item, ec)) {
      const std::string name = e.path().filename().string();
      if ((ends_with(name, ".json") || ends_with(name, ".json.gz")) && e.is_regular_file(ec))
        in.push_back(e.path().string());
    }
    if (ec) throw InputError(what + ": " + item + ": expected a readable directory, got " + ec.message());
    if (in.empty())
      throw InputError(what + ": " + item +
                       ": expected a directory of Kineto traces (*.json, *.json.gz; one per rank), got none in it");
    std::sort(in.begin(), in.end());
    files.insert(files.end(), in.begin(), in.end());
  }
  std::set<std::string> seen;
  for (const auto& f : files)
    if (!seen.insert(fs::path(f).lexically_normal().string()).second)
      throw InputError(what + ": " + f + ": expected each trace once (one per rank), got it twice");
  return files;
}

std::vector<std::int64_t> assign_ranks(const std::vector<KinetoTrace>& traces, std::vector<std::string>& notes) {
  const KinetoTrace* sized = nullptr;  // the first trace that gives world_size
  for (const auto& t : traces) {
    if (t.world_size < 0) continue;
    if (!sized) sized = &t;
    else if (t.world_size != sized->world_size)
      throw_input_error(t.source, "distributedInfo.world_size",
                        "the world_size of " + sized->source + ", " + std::to_string(sized->world_size),
                        std::to_string(t.world_size));
  }
  std::vector<std::int64_t> ranks;
  std::map<std::int64_t, std::size_t> of_rank;
  std::size_t by_position = 0;
  for (std::size_t i = 0; i < traces.size(); ++i) {
    const auto& t = traces[i];
    const std::int64_t r = t.rank >= 0 ? t.rank : static_cast<std::int64_t>(i);
    const std::string field = t.rank >= 0 ? "distributedInfo.rank" : "rank (its position in the list)";
    if (t.rank < 0) ++by_position;
    if (sized && r >= sized->world_size)
      throw_input_error(t.source, field, "a rank below world_size " + std::to_string(sized->world_size),
                        std::to_string(r));
    auto [it, fresh] = of_rank.emplace(r, i);
    if (!fresh)
      throw_input_error(t.source, field, "a rank no other trace has",
                        std::to_string(r) + ", the rank of " + traces[it->second].source);
    ranks.push_back(r);
  }
  if (by_position == traces.size())
    notes.push_back(
        "no trace has distributedInfo.rank: each trace's rank is its position in the list (a directory's "
        "sorted by name)");
  else
    for (std::size_t i = 0; i < traces.size(); ++i)
      if (traces[i].rank < 0)
        notes.push_back(traces[i].source + " has no distributedInfo.rank: its rank, " + std::to_string(ranks[i]) +
                        ", is its position in the list");
  if (sized && static_cast<std::int64_t>(traces.size()) < sized->world_size)
    notes.push_back(std::to_string(traces.size()) + " of world_size " + std::to_string(sized->world_size) +
                    " ranks given: the skew is among these only");
  return ranks;
}

KernelComparison compare_kernel_ranks(const std::vector<KinetoTrace>& traces, const Profile& profile,
                                      const std::string& profile_basis, const std::string& source,
                                      const ComparisonOptions& opt) {
  if (traces.size() == 1) return compare_kernels(traces[0], profile, profile_basis, opt);
  std::vector<std::string> rank_notes;
  const std::vector<std::int64_t> ranks = assign_ranks(traces, rank_notes);
  std::vector<std::size_t> order(traces.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return ranks[a] < ranks[b]; });

  KernelComparison pooled;
  pooled.source = source;
  pooled.profile = profile.name();
  pooled.profile_basis = profile_basis;
  pooled.device_name = traces[order.front()].device_name;
  std::vector<std::vector<std::string>> notes_of;
  for (std::size_t i : order) {
    KernelComparison c = compare_kernels(traces[i], profile, profile_basis, opt);
    // The unlinked count is said once, pooled (below), not per rank.
    c.notes.erase(std::remove(c.notes.begin(), c.notes.end(), unlinked_note(c.unlinked)), c.notes.end());
    pooled.ranks.push_back(rank_row(ranks[i], traces[i], c));
    pooled.events += c.events, pooled.cpu_ops += c.cpu_ops, pooled.activities += c.activities;
    pooled.linked += c.linked, pooled.unlinked += c.unlinked, pooled.gpu_time_ps += c.gpu_time_ps;
    for (auto& s : c.streams) s.rank = ranks[i], pooled.streams.push_back(s);
    for (auto& s : c.steps) s.rank = ranks[i], pooled.steps.push_back(s);
    pooled.calls.insert(pooled.calls.end(), std::make_move_iterator(c.calls.begin()),
                        std::make_move_iterator(c.calls.end()));
    notes_of.push_back(std::move(c.notes));
  }
  summarize_calls(pooled, opt);
  pooled.rank_skew = rank_skew(pooled.ranks);

  // Notes: each rank's, once where every rank has it, else with its rank; then the set's own.
  for (std::size_t k = 0; k < notes_of.size(); ++k)
    for (const auto& n : notes_of[k]) {
      const bool everyone = std::all_of(notes_of.begin(), notes_of.end(), [&](const std::vector<std::string>& v) {
        return std::find(v.begin(), v.end(), n) != v.end();
      });
      if (!everyone) pooled.notes.push_back("rank " + std::to_string(pooled.ranks[k].rank) + ": " + n);
      else if (k == 0) pooled.notes.push_back(n);
    }
  if (pooled.unlinked > 0) pooled.notes.insert(pooled.notes.begin(), unlinked_note(pooled.unlinked) + " (all ranks)");
  pooled.notes.insert(pooled.notes.end(), rank_notes.begin(), rank_notes.end());
  for (const auto& r : pooled.ranks)
    if (r.device_name != pooled.device_name) {
      pooled.notes.push_back("the ranks' GPUs differ (rank " + std::to_string(r.rank) + ": '" + r.device_name +
                             "'): every rank is predicted with one profile, " + profile.name());
      break;
    }
  pooled.notes.push_back(
      "the top level pools every rank's calls; ranks: compute_s = GPU activity time that is not NCCL; "
      "a rank slow at compute makes the others wait inside NCCL kernels, so it has the least NCCL time");
  return pooled;
}

KernelComparison analyze_trace_paths(const std::vector<std::string>& items, const std::string& profile,
                                     const std::string& given_basis, const std::string& what,
                                     const std::string& profile_what, const ComparisonOptions& opt) {
  const std::vector<std::string> files = expand_trace_paths(items, what);
  std::vector<KinetoTrace> traces;
  for (const auto& f : files) traces.push_back(load_kineto_trace(f));
  // The default profile follows the lowest rank's GPU (the first trace when no rank is given).
  const KinetoTrace* first = &traces.front();
  for (const auto& t : traces)
    if (t.rank >= 0 && (first->rank < 0 || t.rank < first->rank)) first = &t;
  std::string basis = given_basis;
  const std::string name = profile.empty() ? default_profile_for(first->device_name, basis) : profile;
  const Profile p = load_profile_arg(name, profile_what);
  std::string source = files.size() == 1 ? files.front() : "";
  if (files.size() > 1)
    for (std::size_t i = 0; i < items.size(); ++i) source += (i ? "," : "") + items[i];
  return compare_kernel_ranks(traces, p, basis, source, opt);
}

}  // namespace knee
