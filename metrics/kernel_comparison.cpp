// Kernels of a Kineto trace beside the profile's predictions: linking, the rows, the totals.
#include "metrics/kernel_comparison.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <map>
#include <tuple>

#include "common/error.hpp"
#include "common/weighted_quantile.hpp"
#include "metrics/kernel_comparison_ranks.hpp"

namespace knee {
namespace {

double median_s(std::vector<std::int64_t> ps) {
  if (ps.empty()) return 0;
  std::sort(ps.begin(), ps.end());
  const std::size_t n = ps.size();
  const double m = n % 2 ? double(ps[n / 2]) : (double(ps[n / 2 - 1]) + double(ps[n / 2])) / 2;
  return m / 1e12;
}

std::int64_t union_ps(std::vector<std::pair<std::int64_t, std::int64_t>> iv) {
  std::sort(iv.begin(), iv.end());
  std::int64_t total = 0, cur_s = 0, cur_e = 0;
  bool open = false;
  for (const auto& [s, e] : iv) {
    if (!open || s > cur_e) {
      if (open) total += cur_e - cur_s;
      cur_s = s, cur_e = e, open = true;
    } else {
      cur_e = std::max(cur_e, e);
    }
  }
  if (open) total += cur_e - cur_s;
  return total;
}

StreamRow stream_row(std::int64_t device, std::int64_t stream,
                     const std::vector<std::pair<std::int64_t, std::int64_t>>& iv) {
  StreamRow r;
  r.device = device, r.stream = stream;
  r.kernels = static_cast<std::int64_t>(iv.size());
  std::int64_t first = INT64_MAX, last = INT64_MIN;
  for (const auto& [s, e] : iv) {
    r.kernel_time_ps += e - s;
    first = std::min(first, s), last = std::max(last, e);
  }
  r.busy_ps = union_ps(iv);
  r.span_ps = iv.empty() ? 0 : last - first;
  return r;
}

ComparisonRow summarize(KernelClass cls, const std::vector<const KernelCall*>& calls, std::int64_t gpu_ps) {
  ComparisonRow r;
  r.cls = cls;
  std::vector<std::int64_t> ps;
  std::int64_t pred_measured = 0;
  double pred = 0;
  bool any = false;
  for (const KernelCall* c : calls) {
    ++r.calls;
    r.kernels += c->kernels;
    r.measured_total_ps += c->measured_ps;
    ps.push_back(c->measured_ps);
    if (c->predicted_s >= 0) {
      any = true;
      pred += c->predicted_s;
      pred_measured += c->measured_ps;
    }
  }
  r.measured_median_s = median_s(ps);
  if (any) {
    r.predicted_total_s = pred;
    r.ratio = pred > 0 ? (double(pred_measured) / 1e12) / pred : -1;
  }
  r.share = gpu_ps > 0 ? double(r.measured_total_ps) / double(gpu_ps) : 0;
  return r;
}

}  // namespace

KernelComparison compare_kernels(const KinetoTrace& trace, const Profile& profile, const std::string& profile_basis,
                                 const ComparisonOptions& opt) {
  KernelComparison r;
  r.source = trace.source;
  r.profile = profile.name();
  r.profile_basis = profile_basis;
  r.device_name = trace.device_name;
  r.events = static_cast<std::int64_t>(trace.events);
  r.cpu_ops = static_cast<std::int64_t>(trace.cpu_ops.size());
  r.activities = static_cast<std::int64_t>(trace.kernels.size());

  // External id -> the innermost cpu_op (shortest; on a tie the later one).
  std::map<std::int64_t, std::size_t> by_id;
  for (std::size_t i = 0; i < trace.cpu_ops.size(); ++i) {
    const auto& op = trace.cpu_ops[i];
    if (op.external_id < 0) continue;
    auto [it, fresh] = by_id.emplace(op.external_id, i);
    if (!fresh && op.dur_ps <= trace.cpu_ops[it->second].dur_ps) it->second = i;
  }
  std::map<std::pair<std::int64_t, std::string>, std::size_t> call_of;  // (External id, cat) -> call
  for (const auto& k : trace.kernels) {
    r.gpu_time_ps += k.dur_ps;
    auto op = k.external_id >= 0 ? by_id.find(k.external_id) : by_id.end();
    const bool linked = op != by_id.end();
    linked ? ++r.linked : ++r.unlinked;
    if (k.name.rfind("nccl", 0) == 0 || !linked) {
      KernelCall c;
      c.cls = linked ? KernelClass::nccl : (k.name.rfind("nccl", 0) == 0 ? KernelClass::nccl : KernelClass::unlinked);
      c.op = k.name;
      c.kernels = 1;
      c.measured_ps = k.dur_ps;
      r.calls.push_back(std::move(c));
      continue;
    }
    auto [it, fresh] = call_of.emplace(std::make_pair(k.external_id, k.cat), r.calls.size());
    if (fresh) {
      const auto& cop = trace.cpu_ops[op->second];
      r.calls.push_back(k.cat == "kernel" ? classify_op(cop, profile)
                                          : not_predicted_call(cop, k.cat + ": host-device copies and memsets are not "
                                                                            "predicted"));
    }
    KernelCall& c = r.calls[it->second];
    ++c.kernels;
    c.measured_ps += k.dur_ps;
  }
  summarize_calls(r, opt);

  // GPU busy time per device and stream.
  std::map<std::int64_t, std::map<std::int64_t, std::vector<std::pair<std::int64_t, std::int64_t>>>> iv;
  for (const auto& k : trace.kernels) iv[k.device][k.stream].emplace_back(k.ts_ps, k.ts_ps + k.dur_ps);
  for (const auto& [dev, streams] : iv) {
    std::vector<std::pair<std::int64_t, std::int64_t>> all;
    for (const auto& [s, v] : streams) all.insert(all.end(), v.begin(), v.end());
    r.streams.push_back(stream_row(dev, -1, all));
    for (const auto& [s, v] : streams) r.streams.push_back(stream_row(dev, s, v));
  }
  for (auto& s : r.streams) s.rank = trace.rank;

  // ProfilerStep windows.
  for (const auto& s : trace.steps) {
    StepRow row;
    row.rank = trace.rank;
    row.name = s.name, row.step = s.step;
    row.start_ps = s.ts_ps - trace.steps.front().ts_ps;
    row.duration_ps = s.dur_ps;
    for (const auto& k : trace.kernels)
      if (k.ts_ps >= s.ts_ps && k.ts_ps < s.ts_ps + s.dur_ps) ++row.kernels, row.kernel_time_ps += k.dur_ps;
    r.steps.push_back(std::move(row));
  }

  // Notes: what limits the comparison.
  if (std::none_of(trace.cpu_ops.begin(), trace.cpu_ops.end(), [](const KinetoCpuOp& o) { return o.has_dims; }))
    r.notes.push_back("no cpu_op has Input Dims: the profiler ran without record_shapes=True, so nothing is predicted");
  if (r.unlinked > 0) r.notes.push_back(unlinked_note(r.unlinked));
  if (trace.steps.empty())
    r.notes.push_back("no ProfilerStep#N windows (the profiler was not stepped with prof.step())");
  if (r.nccl_ps > 0)
    r.notes.push_back(
        "NCCL kernels are measured only: knee times collectives on the simulated network, "
        "not from one trace's kernels");
  if (profile.measured_on_cpu())
    r.notes.push_back("the profile was measured on a CPU: its times say nothing about a GPU");
  r.notes.push_back(
      "ratio = measured / predicted; ProfilerStep windows are host times, and a step's kernels are those "
      "starting inside its window (GPU work lags the host)");
  return r;
}

void summarize_calls(KernelComparison& r, const ComparisonOptions& opt) {
  r.nccl_ps = r.unlinked_ps = r.not_predicted_ps = r.predicted_measured_ps = 0;
  r.predicted_total_s = 0;
  r.ratio = r.ratio_p10 = r.ratio_p50 = r.ratio_p90 = -1;
  r.classes.clear(), r.shapes.clear();
  // Totals, the overall ratio and its spread.
  std::vector<std::pair<double, double>> ratios;
  for (const auto& c : r.calls) {
    if (c.cls == KernelClass::nccl) r.nccl_ps += c.measured_ps;
    if (c.cls == KernelClass::unlinked) r.unlinked_ps += c.measured_ps;
    if (c.cls == KernelClass::not_predicted) r.not_predicted_ps += c.measured_ps;
    if (c.predicted_s < 0) continue;
    r.predicted_measured_ps += c.measured_ps;
    r.predicted_total_s += c.predicted_s;
    if (c.predicted_s > 0) ratios.emplace_back((double(c.measured_ps) / 1e12) / c.predicted_s, double(c.measured_ps));
  }
  r.predicted_share = r.gpu_time_ps > 0 ? double(r.predicted_measured_ps) / double(r.gpu_time_ps) : 0;
  if (r.predicted_total_s > 0) {
    r.ratio = (double(r.predicted_measured_ps) / 1e12) / r.predicted_total_s;
    std::sort(ratios.begin(), ratios.end());
    const double w = double(r.predicted_measured_ps);
    // Against all predicted calls' time, a call predicted at 0 s (no ratio) included.
    r.ratio_p10 = weighted_quantile_sorted(ratios, w, 0.1, -1);
    r.ratio_p50 = weighted_quantile_sorted(ratios, w, 0.5, -1);
    r.ratio_p90 = weighted_quantile_sorted(ratios, w, 0.9, -1);
  }

  // Per class, then per distinct shape (top N by measured time; ties: first seen).
  for (KernelClass cls : {KernelClass::gemm, KernelClass::memory, KernelClass::attention, KernelClass::nccl,
                          KernelClass::not_predicted, KernelClass::unlinked}) {
    std::vector<const KernelCall*> in;
    for (const auto& c : r.calls)
      if (c.cls == cls) in.push_back(&c);
    r.classes.push_back(summarize(cls, in, r.gpu_time_ps));
  }
  std::map<std::tuple<int, std::string, std::string, std::string, std::string>, std::size_t> group_of;
  std::vector<std::vector<const KernelCall*>> groups;
  for (const auto& c : r.calls) {
    auto [it, fresh] = group_of.emplace(std::make_tuple(int(c.cls), c.op, c.shape, c.dtype, c.reason), groups.size());
    if (fresh) groups.emplace_back();
    groups[it->second].push_back(&c);
  }
  for (const auto& g : groups) {
    ComparisonRow row = summarize(g.front()->cls, g, r.gpu_time_ps);
    row.op = g.front()->op, row.shape = g.front()->shape, row.dtype = g.front()->dtype;
    row.reason = g.front()->reason;
    row.predicted_per_call_s = g.front()->predicted_s;
    r.shapes.push_back(std::move(row));
  }
  r.shapes_total = static_cast<std::int64_t>(r.shapes.size());
  std::stable_sort(r.shapes.begin(), r.shapes.end(), [](const ComparisonRow& a, const ComparisonRow& b) {
    return a.measured_total_ps > b.measured_total_ps;
  });
  if (opt.top >= 0 && r.shapes.size() > static_cast<std::size_t>(opt.top)) r.shapes.resize(opt.top);
}

Profile load_profile_arg(const std::string& name, const std::string& what) {
  const bool path = name.find('/') != std::string::npos || name.find(".json") != std::string::npos;
  if (path) return Profile::load(name);
  try {
    return Profile::builtin(name);
  } catch (const InputError& e) { throw InputError(what + ": " + e.what()); }
}

std::string default_profile_for(const std::string& device, std::string& basis) {
  for (const auto& [key, prof] : std::vector<std::pair<std::string, std::string>>{
           {"H100", "h100"}, {"A100", "a100"}, {"B200", "b200"}, {"H200", "h200"}}) {
    if (device.find(key) != std::string::npos) {
      basis = "the trace's device, " + device;
      return prof;
    }
  }
  basis = device.empty() ? "default (the trace names no device; --profile to choose)"
                         : "default (no built-in profile for '" + device + "'; --profile to choose)";
  return "h200";
}

}  // namespace knee
