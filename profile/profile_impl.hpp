// Internal to profile/: the parsed profile (Profile::Impl), shared by its parser
// (profile_parse.cpp: the JSON read strictly once) and its queries (profile.cpp).
#pragma once
#include <array>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "profile/profile.hpp"

namespace knee {

struct Profile::Impl {
  struct Segment {
    double from, to, alpha, beta;
  };
  struct Curve {
    double alpha = 0, beta = 0;
    std::string provenance;
    std::vector<Segment> segs;
    // Each segment's line inside its own size range; between two segments, log-log interpolation
    // from the end of one line to the start of the next (continuous); beyond the ends, the end
    // segments' lines.
    double time(double x) const {
      double t = alpha + beta * x;
      if (!segs.empty()) {
        auto at = [](const Segment& s, double b) { return s.alpha + s.beta * b; };
        std::size_t i = 0;
        while (i + 1 < segs.size() && x > segs[i].to) ++i;
        t = at(segs[i], x);
        if (i > 0 && x < segs[i].from) {  // in the gap after segment i-1
          const Segment &a = segs[i - 1], &b = segs[i];
          const double ta = std::max(at(a, a.to), 1e-12), tb = std::max(at(b, b.from), 1e-12);
          const double u = std::log(x / a.to) / std::log(b.from / a.to);
          t = std::exp(std::log(ta) + u * (std::log(tb) - std::log(ta)));
        }
      }
      return std::max(t, alpha);  // never under the small-size latency
    }
  };
  // x = (log batch, log m, log n, log k); single GEMMs have batch 1 (log 0), so one interpolation
  // serves both tables.
  struct GemmSample {
    std::array<double, 4> x;
    double median_s, log_tflops;
    GemmRole role = GemmRole::none;  // from the label's first word LAYER.ROLE; batched: none
    // log(median_s) less the mean log median of every sample at this shape (all roles): how this
    // role's kernel differs from the shape's estimate without roles; 0 for role-less samples.
    double log_role_ratio = 0;
  };
  struct GemmTable {
    double floor_s = 0, peak_tflops = 0;
    std::vector<GemmSample> samples;
    bool has_role[4] = {false, false, false, false};  // indexed by GemmRole
  };
  // Fused: x = FLOPs of the forward pass, rates in TFLOP/s (forward; forward + backward).
  // Unfused: x = score elements b h s^2, rate in scores per second (forward; fb unused).
  struct AttSample {
    double log_x, log_rate_fwd, log_rate_fb;
  };

  nlohmann::ordered_json doc;
  std::string description;
  std::string name, gpu, source;
  std::string state = "no digest";  // parameters_state()
  std::string derivation_datasheet;
  std::map<std::string, GemmTable> gemm, batched;  // batched: floor and peak filled after parsing
  Curve copy;
  std::map<std::string, Curve> ops, links;
  std::vector<AttSample> attention, attention_unfused;
  double launch_s = 0, capacity = 0;
  bool has_power = false;
  double idle_W = 0, compute_W = 0, memory_W = 0, tdp_W = 0;
  double calib_flops_per_s = 0, calib_memory_Bps = 0;  // 0: not measured
  std::map<std::string, double> variability;           // op_cv, gpu_cv when present
  bool has_interference = false;                       // $.interference present
  CommInterference interference;                       // its values when present
  int manifest_sm_count = 0;                           // $.manifest.extra.sm_count; 0: absent
  Profile::PowerReference power_ref{0, 0};             // filled once the profile is built

  [[noreturn]] void fail(const std::string& path, const std::string& expected, const std::string& got) const {
    throw_input_error(source, path, expected, got);
  }
};

namespace profile_detail {

// Reads a profile document; InputErrors name `source` and the JSON path.
Profile::Impl parse_profile(const nlohmann::ordered_json& doc, const std::string& source);
// "a, b, c": names in an error message.
std::string key_list(const std::vector<std::string>& v);

}  // namespace profile_detail
}  // namespace knee
