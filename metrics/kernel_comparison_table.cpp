#include "metrics/kernel_comparison_table.hpp"

#include <algorithm>
#include <sstream>
#include <vector>

#include "metrics/format.hpp"

namespace knee {
namespace {

std::string ms(double s) { return s >= 0 ? format_sig(s * 1e3, 4) : "-"; }
std::string ms_ps(std::int64_t ps) { return ms(double(ps) / 1e12); }
std::string x(double r) { return r >= 0 ? format_sig(r, 4) : "-"; }
std::string pct(double share) { return format_sig(share * 100, 3) + "%"; }

std::string render(const std::vector<std::vector<std::string>>& rows) {
  // The per-shape table (more than 8 columns) keeps class, op and shape left-aligned.
  return format_columns(rows, rows.empty() || rows.front().size() <= 8 ? 1 : 3);
}

std::string cut(const std::string& s, std::size_t n) { return s.size() <= n ? s : s.substr(0, n - 3) + "..."; }

}  // namespace

std::string kernel_comparison_table(const KernelComparison& c) {
  std::ostringstream o;
  o << "# knee analyze --trace " << c.source << ": measured kernels (PyTorch profiler) against profile " << c.profile
    << " (" << c.profile_basis << ")\n";
  o << "# " << c.activities << " GPU activities, " << c.linked << " linked to a cpu_op by External id, " << c.unlinked
    << " unlinked; GPU time " << ms_ps(c.gpu_time_ps) << " ms, " << pct(c.predicted_share) << " of it predicted\n";
  o << "# ratio measured / predicted (time-weighted): " << x(c.ratio) << "; per call, weighted: p10 " << x(c.ratio_p10)
    << ", median " << x(c.ratio_p50) << ", p90 " << x(c.ratio_p90) << "\n\n";
  std::vector<std::vector<std::string>> t = {
      {"class", "calls", "kernels", "measured ms", "median ms", "predicted ms", "ratio", "share"}};
  for (const auto& r : c.classes)
    t.push_back({to_string(r.cls), std::to_string(r.calls), std::to_string(r.kernels), ms_ps(r.measured_total_ps),
                 ms(r.measured_median_s), ms(r.predicted_total_s), x(r.ratio), pct(r.share)});
  o << render(t) << "\n";
  o << "# top " << c.shapes.size() << " of " << c.shapes_total << " shapes by measured time\n";
  t = {{"class", "op", "shape", "dtype", "calls", "measured ms", "median ms", "pred/call ms", "ratio", "share"}};
  for (const auto& r : c.shapes)
    t.push_back({to_string(r.cls), cut(r.op, 48), cut(r.shape.empty() ? r.reason : r.shape, 48), r.dtype,
                 std::to_string(r.calls), ms_ps(r.measured_total_ps), ms(r.measured_median_s),
                 ms(r.predicted_per_call_s), x(r.ratio), pct(r.share)});
  o << render(t);
  std::vector<std::string> reasons;  // each op and reason once
  for (const auto& r : c.shapes) {
    const std::string line = cut(r.op, 48) + ": " + r.reason;
    if (r.reason.empty() || std::find(reasons.begin(), reasons.end(), line) != reasons.end()) continue;
    if (reasons.empty()) o << "# not predicted, why:\n";
    reasons.push_back(line);
    o << "#   " << line << "\n";
  }
  o << "\n";
  // Several ranks: each row says its rank.
  const bool ranked = !c.ranks.empty();
  auto with_rank = [&](std::int64_t rank, std::vector<std::string> row) {
    if (ranked) row.insert(row.begin(), std::to_string(rank));
    return row;
  };
  t = {with_rank(0, {"device", "stream", "kernels", "kernel ms", "busy ms", "span ms"})};
  if (ranked) t[0][0] = "rank";
  for (const auto& s : c.streams)
    t.push_back(
        with_rank(s.rank, {std::to_string(s.device), s.stream < 0 ? "all" : std::to_string(s.stream),
                           std::to_string(s.kernels), ms_ps(s.kernel_time_ps), ms_ps(s.busy_ps), ms_ps(s.span_ps)}));
  o << render(t) << "\n";
  if (!c.steps.empty()) {
    t = {with_rank(0, {"step", "start ms", "step ms", "kernels", "kernel ms"})};
    if (ranked) t[0][0] = "rank";
    for (const auto& s : c.steps)
      t.push_back(with_rank(s.rank, {s.name, ms_ps(s.start_ps), ms_ps(s.duration_ps), std::to_string(s.kernels),
                                     ms_ps(s.kernel_time_ps)}));
    o << format_columns(t, ranked ? 2 : 1) << "\n";  // rank and step name left-aligned
  }
  if (!c.ranks.empty()) {
    o << "# per rank (" << c.ranks.size() << " traces; the tables above pool them)\n";
    t = {{"rank", "compute ms", "nccl ms", "gpu ms", "step median ms", "step max ms", "ratio", "predicted"}};
    for (const auto& r : c.ranks)
      t.push_back({std::to_string(r.rank), ms_ps(r.compute_ps), ms_ps(r.nccl_ps), ms_ps(r.gpu_time_ps),
                   r.steps ? ms(r.step_median_s) : "-", r.steps ? ms(r.step_max_s) : "-", x(r.ratio),
                   pct(r.predicted_share)});
    o << render(t);
    const RankSkew& k = c.rank_skew;
    o << "# slowest rank " << k.slowest_rank << ": compute " << ms_ps(k.slowest_compute_ps) << " ms, "
      << x(k.straggler_factor) << "x the median rank's (" << k.median_rank << ", " << ms_ps(k.median_compute_ps)
      << " ms); most NCCL time: rank " << k.most_nccl_rank << " (" << ms_ps(k.most_nccl_ps)
      << " ms, waiting), least: rank " << k.least_nccl_rank << " (" << ms_ps(k.least_nccl_ps) << " ms)\n\n";
  }
  for (const auto& n : c.notes) o << "# note: " << n << "\n";
  return o.str();
}

}  // namespace knee
