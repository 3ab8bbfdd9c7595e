// knee explain (docs/explain.md): the table of mechanisms, each with when it applies, how to turn
// it off, and where its parameters come from; explain() runs the baseline and one step per row.
// A new mechanism is one more entry in mechanisms().
#include "workloads/training/explain.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/printf.hpp"
#include "sim/collectives/nccl_params.hpp"
#include "workloads/training/params.hpp"
#include "workloads/training/training.hpp"

namespace knee {
namespace {

struct Provenance {
  std::string word;   // measured, fitted, derived, datasheet, assumed
  std::string basis;  // the parameters, one line
};

struct Mechanism {
  const char* id;
  const char* name;
  const char* off;  // what "off" means
  bool (*applies)(const Scenario&);
  void (*switch_off)(Scenario&);
  Provenance (*provenance)(const Scenario&, const Profile&);
};

// A parameter's provenance in the profile ($.section.key.provenance), "" when absent.
std::string profile_provenance(const Profile& prof, const char* section, const char* key) {
  const auto& j = prof.json();
  if (!j.contains(section) || !j.at(section).contains(key)) return "";
  return j.at(section).at(key).value("provenance", std::string());
}

// Collective times come from the flow network over the system's links and NCCL's tuner tables.
std::string network_basis(const Scenario& s) {
  return "flow network over " + s.system.name + "'s links (" + s.system.provenance +
         "); NCCL parameters: " + nccl_params_for_gpu(s.system.gpu_model).provenance;
}

std::int64_t dp_cp(const Scenario& s) { return s.par.dp * s.par.cp; }

const std::vector<Mechanism>& mechanisms() {
  static const std::vector<Mechanism> table = {
      {"dp_overlap", "data-parallel overlap",
       "gradient buckets reduced after the whole backward (training.overlap_grad_reduce false)",
       [](const Scenario& s) { return s.train.overlap_grad_reduce && dp_cp(s) > 1; },
       [](Scenario& s) { s.train.overlap_grad_reduce = false; },
       [](const Scenario& s, const Profile&) {
         return Provenance{"assumed",
                           "Megatron's bucketing (max(40M, 1M x dp) parameters), each bucket reduced as "
                           "the last backward of its chunk produces it; times from the " +
                               network_basis(s)};
       }},
      {"tp_comm_overlap", "TP communication overlap",
       "TP all-gathers and reduce-scatters blocking (training.tp_comm_overlap false)",
       [](const Scenario& s) { return s.train.tp_comm_overlap && s.par.tp > 1; },
       [](Scenario& s) { s.train.tp_comm_overlap = false; },
       [](const Scenario&, const Profile&) {
         return Provenance{"assumed",
                           "Megatron-Core userbuffers: collectives split into tp chunks and pipelined with "
                           "the adjacent GEMMs; SMs taken by the communication kernels not modelled"};
       }},
      {"stragglers", "stragglers", "every GPU at the profile's speed (stragglers off)",
       [](const Scenario& s) { return s.stragglers.enabled(); }, [](Scenario& s) { s.stragglers = StragglerSpec{}; },
       [](const Scenario& s, const Profile& prof) {
         const StragglerSpec& g = s.stragglers;
         std::vector<std::string> words;  // distinct, in the order the parameters come
         std::string basis;
         auto note = [&](const std::string& word, const std::string& what) {
           if (std::find(words.begin(), words.end(), word) == words.end()) words.push_back(word);
           basis += (basis.empty() ? "" : ", ") + what;
         };
         for (const char* key : {"gpu_cv", "op_cv"}) {
           const bool gpu = std::string(key) == "gpu_cv";
           const bool given = gpu ? g.gpu_cv_given : g.op_cv_given;
           if (given || !g.from_profile) {
             const double v = gpu ? g.gpu_cv : g.op_cv;
             if (v > 0) note("assumed", std::string(key) + " " + printf_double("%.3g", v) + " from the scenario");
           } else {
             const std::string w = profile_provenance(prof, "variability", key);
             note(w.empty() ? "assumed" : w, std::string(key) + " " + printf_double("%.3g", prof.variability_cv(key)) +
                                                 " from profile " + prof.name());
           }
         }
         if (!g.slow.empty()) note("assumed", std::to_string(g.slow.size()) + " slow GPU(s) named in the scenario");
         std::string word;
         for (const auto& w : words) word += (word.empty() ? "" : ", ") + w;
         return Provenance{word.empty() ? "assumed" : word, basis + "; seed " + std::to_string(s.seed)};
       }},
      {"group_contention", "contention among a kind's groups",
       "each collective timed for one group alone on the fabric (concurrent groups of its kind do not slow it)",
       [](const Scenario& s) {
         const auto& p = s.par;
         // Kinds timed by CommTimer::groups with more than one group at once (PP and CP are
         // point-to-point, all pairs on the network together: not this mechanism).
         return (dp_cp(s) > 1 && p.tp > 1) || (p.ep > 1 && p.tp * p.cp * (p.dp / p.ep) > 1) ||
                (workload::tied_embedding_across_stages(s) && p.tp * dp_cp(s) > 1);
       },
       [](Scenario& s) { s.ablate.no_group_contention = true; },
       [](const Scenario& s, const Profile&) {
         return Provenance{"derived",
                           "slowdown of all groups of a kind together against one, measured with unsliced "
                           "schedules on the " +
                               network_basis(s)};
       }},
      {"traffic_contention", "contention between kinds of traffic",
       "DP reductions and pipeline sends do not slow each other (dp/dp, dp/pp, pp/dp factors 1)",
       [](const Scenario& s) { return s.par.pp > 1 && dp_cp(s) > 1; },
       [](Scenario& s) { s.ablate.no_traffic_contention = true; },
       [](const Scenario& s, const Profile&) {
         return Provenance{"derived",
                           "factors weighted by the overlap in time of pass 1 (one pass, not iterated), "
                           "measured on the " +
                               network_basis(s)};
       }},
      {"grad_accumulation", "weight-gradient accumulation pass",
       "each weight-gradient GEMM accumulates into the main gradients itself "
       "(training.gradient_accumulation_fusion true)",
       [](const Scenario& s) {
         return s.train.framework == Framework::megatron && !s.train.gradient_accumulation_fusion;
       },
       [](Scenario& s) { s.train.gradient_accumulation_fusion = true; },
       [](const Scenario&, const Profile& prof) {
         return Provenance{"derived",
                           "Megatron-LM's DDP hook main_grad.add_(grad) after every microbatch: (2 + 2 x "
                           "gradient bytes) per weight at the profile's add rate (profile " +
                               prof.name() + ")"};
       }},
      {"launch_gaps", "host launch gaps", "the host issues kernels in no time (GPU never waits for a launch)",
       [](const Scenario&) { return true; }, [](Scenario& s) { s.ablate.no_launch_gaps = true; },
       [](const Scenario&, const Profile& prof) {
         const std::string w = profile_provenance(prof, "launch", "host_launch_s");
         return Provenance{w.empty() ? "assumed" : w, "host_launch_s " +
                                                          printf_double("%.3g", prof.launch_overhead_s() * 1e6) +
                                                          " us per kernel (profile " + prof.name() + ")"};
       }},
      {"collective_selection", "collectives chosen by simulation",
       "collectives as NCCL's tuner would pick them (training.collective_selection nccl)",
       [](const Scenario& s) { return s.train.collective_selection == CollSelection::simulated && s.gpus > 1; },
       [](Scenario& s) { s.train.collective_selection = CollSelection::nccl; },
       [](const Scenario& s, const Profile&) {
         return Provenance{"derived",
                           "each group's candidates shortlisted by closed form and simulated alone, the "
                           "fastest kept (docs/collectives.md); NCCL's PAT and ppn=1 refinements recalled "
                           "from tuning.cc; " +
                               network_basis(s)};
       }},
      {"param_gather_buckets", "parameter all-gather per bucket",
       "the first forward of each chunk waits for all of its parameters (one gather per chunk)",
       [](const Scenario& s) {
         return (s.par.zero == 1 || s.par.zero == 2) && s.train.overlap_param_gather && dp_cp(s) > 1;
       },
       [](Scenario& s) { s.ablate.whole_chunk_param_gather = true; },
       [](const Scenario& s, const Profile&) {
         return Provenance{"assumed",
                           "Megatron-Core --overlap-param-gather: buckets gathered in forward order, each "
                           "waited for before its layers (forward progress taken proportional to "
                           "parameters); times from the " +
                               network_basis(s)};
       }},
      {"sm_sharing", "communication kernels sharing the GPU",
       "overlapped communication takes no SMs or HBM bandwidth from the compute beside it",
       [](const Scenario& s) { return s.gpus > 1; }, [](Scenario& s) { s.ablate.no_sm_sharing = true; },
       [](const Scenario&, const Profile& prof) {
         const CommInterference ci = prof.comm_interference();
         return Provenance{ci.provenance, "one CTA per channel on " + std::to_string(ci.sm_count) +
                                              " SMs: compute-bound kernels at (n - " +
                                              printf_double("%.3g", ci.held_sm_cost) + " k)/n, memory-bound at (1 - " +
                                              printf_double("%.3g", ci.hbm_share_cost) +
                                              " H/B) while communication overlaps them (profile " + prof.name() + ")"};
       }},
      {"oversubscription", "fabric oversubscription",
       "a full-bisection fabric (fabric.oversubscription and pod_oversubscription 1)",
       [](const Scenario& s) {
         return (s.fabric.oversubscription > 1 || s.fabric.pod_oversubscription > 1) && s.nodes > 1;
       },
       [](Scenario& s) { s.fabric.oversubscription = s.fabric.pod_oversubscription = 1; },
       [](const Scenario& s, const Profile&) {
         return Provenance{"assumed", "the scenario's fabric.oversubscription " +
                                          printf_double("%g", s.fabric.oversubscription) + ", pod_oversubscription " +
                                          printf_double("%g", s.fabric.pod_oversubscription) + " between pods of " +
                                          std::to_string(s.fabric.pod_gpus) + " GPUs"};
       }},
  };
  return table;
}

}  // namespace

ExplainResult explain(const Scenario& s) {
  ExplainResult out;
  out.scenario = s.source;
  SimOptions opt;
  opt.simulate_if_not_fits = true;  // the budget of a layout that does not fit is still worth reading
  out.baseline = simulate(s, opt);
  const Profile prof = load_scenario_profile(s);
  const double base = out.baseline.step_time_s;
  for (const Mechanism& m : mechanisms()) {
    if (!m.applies(s)) continue;
    Scenario off = s;
    m.switch_off(off);
    ExplainRow row;
    row.id = m.id;
    row.mechanism = m.name;
    row.off = m.off;
    row.step_time_s = simulate(off, opt).step_time_s;
    row.delta_s = row.step_time_s - base;
    row.delta_pct = base > 0 ? 100 * row.delta_s / base : 0;
    const Provenance p = m.provenance(s, prof);
    row.provenance = p.word;
    row.basis = p.basis;
    out.rows.push_back(row);
  }
  std::stable_sort(out.rows.begin(), out.rows.end(), [](const ExplainRow& a, const ExplainRow& b) {
    return std::fabs(a.delta_s) > std::fabs(b.delta_s);
  });
  return out;
}

const std::vector<ExplainRowField>& explain_row_fields() {
  using J = nlohmann::ordered_json;
  using R = const ExplainRow&;
  static const std::vector<ExplainRowField> fields = {
      {"id", "", "stable key of the mechanism", true, [](R r) { return J(r.id); }},
      {"mechanism", "", "the mechanism turned off", true, [](R r) { return J(r.mechanism); }},
      {"step_time_s", "s", "simulated step time with it off, every other mechanism on", true,
       [](R r) { return J(r.step_time_s); }},
      {"delta_s", "s", "step_time_s less the baseline's (negative: the mechanism costs time)", true,
       [](R r) { return J(r.delta_s); }},
      {"delta_pct", "%", "delta_s as a percentage of the baseline's step time", true,
       [](R r) { return J(r.delta_pct); }},
      {"provenance", "", "of the mechanism's parameters: measured, fitted, derived, datasheet or assumed", true,
       [](R r) { return J(r.provenance); }},
      {"off", "", "what turning it off means", false, [](R r) { return J(r.off); }},
      {"basis", "", "the parameters it rests on and where they come from", false, [](R r) { return J(r.basis); }},
  };
  return fields;
}

const std::vector<ExplainField>& explain_fields() {
  using J = nlohmann::ordered_json;
  using R = const ExplainResult&;
  static const std::vector<ExplainField> fields = {
      {"scenario", "", "the scenario file's path, or \"<dict>\" from Python", [](R r) { return J(r.scenario); }},
      {"step_time_s", "s", "the baseline: simulated step time with every mechanism on",
       [](R r) { return J(r.baseline.step_time_s); }},
      {"fits", "", "the layout fits in GPU memory (explained either way)",
       [](R r) { return J(r.baseline.memory.fits); }},
      {"rows", "", "one per mechanism that applies, sorted by |delta_s|, largest first",
       [](R r) {
         J rows = J::array();
         for (const auto& row : r.rows) {
           J o = J::object();
           for (const auto& f : explain_row_fields()) o[f.key] = f.value(row);
           rows.push_back(o);
         }
         return rows;
       }},
      {"reading", "", "how to read the budget", [](R) { return J(explain_reading()); }},
      {"baseline", "", "the baseline step as `knee simulate --json` gives it",
       [](R r) { return r.baseline.to_json(); }},
  };
  return fields;
}

nlohmann::ordered_json explain_json(const ExplainResult& r) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& f : explain_fields()) j[f.key] = f.value(r);
  return j;
}

const char* explain_reading() {
  return "each row turns one mechanism off and keeps every other on, so rows do not add up; a large |delta| "
         "means the prediction rests on that mechanism, and its provenance says how far to trust it";
}

}  // namespace knee
