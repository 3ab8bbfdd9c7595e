// knee simulate: one training step of a scenario (docs/scenarios.md, docs/workloads.md).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "cli/command.hpp"
#include "common/json_reader.hpp"
#include "common/printf.hpp"
#include "metrics/format.hpp"
#include "metrics/trace.hpp"
#include "workloads/cluster/cluster_file.hpp"
#include "workloads/serving/serving_scenario.hpp"
#include "workloads/training/prediction_intervals.hpp"
#include "workloads/training/training.hpp"

namespace knee::cli {
int run_simulate_serving(const Args& args);  // cli/cmd_simulate_serving.cpp
int run_simulate_cluster(const Args& args);  // cli/cmd_simulate_cluster.cpp
namespace {

void print_memory(const MemoryReport& m) {
  const double G = 1024.0 * 1024 * 1024;
  std::printf(
      "memory per GPU   %.2f GiB of %.2f GiB (%s; worst stage %d: weights %.2f, grads %.2f, "
      "optimizer %.2f, activations %.2f (%d microbatches in flight), buffers %.2f GiB)\n",
      m.per_gpu_bytes / G, m.capacity_bytes / G, m.fits ? "fits" : "DOES NOT FIT", m.worst_stage, m.weights_bytes / G,
      m.gradients_bytes / G, m.optimizer_bytes / G, m.activations_bytes / G, m.inflight_microbatches,
      m.buffers_bytes / G);
}

// Joules with an SI prefix that keeps 1-3 digits before the point.
std::string joules(double j) {
  const char* unit[] = {"J", "kJ", "MJ", "GJ", "TJ"};
  int u = 0;
  while (std::fabs(j) >= 1000 && u < 4) {
    j /= 1000;
    ++u;
  }
  char b[48];
  std::snprintf(b, sizeof b, "%.4g %s", j, unit[u]);
  return b;
}

// Energy and cost lines: every figure with the assumptions it rests on.
void print_energy_and_cost(const Scenario& s, const SimResult& r) {
  const auto& e = r.energy;
  const auto& in = r.cost_inputs;
  if (!e.available) {
    std::printf("energy           not estimated: the profile has no power model\n");
  } else {
    std::printf(
        "energy           %s per step on the GPUs, %.0f W per GPU on average (power model: %s); "
        "facility %s per step, %.4g J per token (PUE %.2f, other IT %.0f W per GPU)\n",
        joules(e.gpu_J_per_step).c_str(), e.avg_power_per_gpu_W, e.power_provenance.c_str(),
        joules(e.facility_J_per_step).c_str(), e.facility_J_per_token, in.pue, in.other_W_per_gpu);
  }
  const auto& f = r.failures;
  if (f.enabled)
    std::printf(
        "failures         goodput %.1f %% (system MTBF %.3g h from %g h per GPU; a %.3g TB checkpoint "
        "written in %.3g s every %.4g s of training (%s); restart %g s)\n",
        100 * f.goodput, f.system_mtbf_s / 3600, s.failures.gpu_mtbf_hours, f.checkpoint_bytes / 1e12,
        f.checkpoint_write_s, f.checkpoint_interval_s, f.interval_optimal ? "Daly's optimum" : "given",
        s.failures.restart_s);
  const auto& c = r.cost;
  if (c.priced) {
    char at[128] = "", kwh[64] = "";
    if (in.usd_per_gpu_hour >= 0) std::snprintf(at, sizeof at, "$%g per GPU-hour", in.usd_per_gpu_hour);
    if (in.usd_per_kWh >= 0) std::snprintf(kwh, sizeof kwh, "%s$%g per kWh", at[0] ? ", " : "", in.usd_per_kWh);
    std::printf("cost             %s per step, %s per million tokens (at the scenario's %s)\n",
                format_usd(c.usd_per_step).c_str(), format_usd(c.usd_per_million_tokens).c_str(),
                (std::string(at) + kwh).c_str());
  }
  if (c.run) {
    std::printf("run              %s: %s steps, %.2f days, %s GPU-hours", format_tokens(in.train_tokens).c_str(),
                format_count(c.run_steps).c_str(), c.run_days, format_count(c.run_gpu_hours).c_str());
    if (e.available) std::printf(", %s MWh facility energy", format_sig(c.run_facility_MWh, 4).c_str());
    if (c.priced) std::printf(", %s", format_usd(c.run_usd).c_str());
    if (f.enabled) std::printf(" (with failures)");
    std::printf("\n");
  }
}

// " (lo-hi)" of a top-level figure's interval (x scale; format "count": grouped thousands), or ""
// without intervals.
std::string interval_text(const SimResult& r, const char* key, const char* format, double scale = 1) {
  if (r.intervals.is_null() || !r.intervals.contains(key)) return "";
  const auto& iv = r.intervals[key];
  auto f = [&](double v) {
    return std::string(format) == "count" ? format_count(v * scale) : printf_double(format, v * scale);
  };
  return " (" + f(iv[0].get<double>()) + "-" + f(iv[1].get<double>()) + ")";
}

int run_simulate(const Args& args) {
  if (args.positional().size() != 1)
    throw InputError("knee simulate: expected one scenario file, got " + std::to_string(args.positional().size()) +
                     " arguments");
  // A file with a "serving" object is a serving scenario (docs/scenarios.md, "Serving scenarios").
  const Json file = parse_json_file(args.positional()[0]);
  if (serving::is_serving_scenario(file)) return run_simulate_serving(args);
  // A file with "jobs" is a cluster file: jobs sharing one network (docs/workloads.md).
  if (cluster::is_cluster_file(file)) return run_simulate_cluster(args);
  const Scenario s = load_scenario(args.positional()[0]);
  SimOptions opt;
  opt.simulate_if_not_fits = args.flag("force");
  opt.every_rank = args.flag("every-rank");
  // Intervals by default (docs/uncertainty.md), none in every-rank mode.
  opt.interval_samples = static_cast<int>(args.integer_or("samples", default_interval_samples(s, opt), 0, 10000));
  if (opt.interval_samples == 1)
    throw InputError("knee simulate: --samples: expected 0 (no intervals) or an integer >= 2, got 1");
  if (args.value("seeds")) {  // the stochastic parts only: straggler seeds, the profile at its medians
    if (args.value("samples"))
      throw InputError("knee simulate: --seeds: expected it without --samples (one source of draws), got both");
    opt.interval_samples = static_cast<int>(args.integer_or("seeds", 0, 2, 10000));
    opt.interval_seeds_only = true;
  }
  const auto trace_path = args.value("trace");
  if (!trace_path && (args.value("trace-ranks") || args.value("trace-max-events")))
    throw InputError(
        "knee simulate: --trace-ranks/--trace-max-events: expected --trace FILE with them, got no --trace");
  ChromeTrace trace(static_cast<std::size_t>(args.integer_or("trace-max-events", 1'000'000, 1, 100'000'000)));
  if (trace_path) {
    opt.trace = &trace;
    if (auto rs = args.value("trace-ranks"))
      opt.trace_ranks = parse_rank_set(*rs, args.what("trace-ranks"), static_cast<std::uint32_t>(s.gpus));
  }
  auto t0 = std::chrono::steady_clock::now();
  const SimResult r = simulate(s, opt);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (trace_path && r.simulated) {
    trace.write_file(*trace_path, r.trace_metadata);
    // Progress on stderr keeps --json output parseable.
    std::fprintf(stderr, "knee simulate: trace %s: %zu events of %zu GPUs written, %zu dropped (limit %s)\n",
                 trace_path->c_str(), trace.events(),
                 static_cast<std::size_t>(r.trace_metadata.value("traced_ranks", 0)), trace.dropped(),
                 args.value_or("trace-max-events", "1000000").c_str());
  }
  if (args.flag("json")) {
    auto j = r.to_json();
    j["scenario"] = args.positional()[0];
    j["simulated_wall_s"] = wall;
    std::cout << j.dump(2) << "\n";
  } else {
    const auto& p = s.par;
    std::printf(
        "# knee simulate %s: %s, %lld GPUs, tp %lld pp %lld dp %lld cp %lld ep %lld, %s schedule, "
        "%lld microbatches of %lld, global batch %lld\n",
        args.positional()[0].c_str(), s.system.name.c_str(), static_cast<long long>(s.gpus),
        static_cast<long long>(p.tp), static_cast<long long>(p.pp), static_cast<long long>(p.dp),
        static_cast<long long>(p.cp), static_cast<long long>(p.ep), to_string(p.schedule),
        static_cast<long long>(s.microbatches()), static_cast<long long>(p.micro_batch),
        static_cast<long long>(p.global_batch));
    std::printf("# simulated, not measured; profile %s (%s)\n", r.provenance.value("profile", std::string()).c_str(),
                r.provenance.value("profile_description", std::string()).c_str());
    if (r.provenance.value("profile_parameters", std::string()) == "edited")
      std::printf(
          "# profile EDITED: its parameters differ from what knee fit wrote ($.manifest.parameters_digest), so their "
          "provenance (measured, fitted, derived) may no longer hold\n");
    print_memory(r.memory);
    if (r.simulated && !r.folded)
      std::printf(
          "# every rank (%s): %s units (tp GPUs in lockstep) on one network, %s collectives and sends, %s flows, %s "
          "events; tp, cp and ep collectives inside op costs as folded; %+.2f %% against the folded step (%.4f s)\n",
          r.every_rank.value("why", std::string()).c_str(),
          format_count(static_cast<double>(r.every_rank.value("units", 0))).c_str(),
          format_count(static_cast<double>(r.every_rank.value("collectives_launched", 0))).c_str(),
          format_count(static_cast<double>(r.flows)).c_str(), format_count(static_cast<double>(r.events)).c_str(),
          100 * r.every_rank.value("vs_folded", 0.0), r.every_rank.value("folded_step_time_s", 0.0));
    if (r.simulated && !r.folded && r.every_rank.contains("critical_unit")) {  // slow GPUs: the one that paced it
      const auto& c = r.every_rank["critical_unit"];
      const auto& g = c.value("slow_gpu", nlohmann::ordered_json());
      if (g.is_object())
        std::printf(
            "# critical unit: stage %d, dp %d, cp %d, paced by slow GPU s%lld.gpu%lld (rank %lld, x%.3g, via %s)\n",
            c.value("stage", 0), c.value("dp", 0), c.value("cp", 0), g.value("node", 0LL), g.value("gpu", 0LL),
            g.value("rank", 0LL), g.value("factor", 1.0), g.value("via", std::string()).c_str());
    }
    if (r.simulated) {
      const auto& b = r.breakdown;
      std::printf("step time        %.4f s%s\n", r.step_time_s, interval_text(r, "step_time_s", "%.4f").c_str());
      if (r.stragglers.enabled) {
        const auto& g = r.stragglers;
        std::printf(
            "stragglers       %+.2f %% against %.4f s with every GPU as the profile: slowest GPU %lld (x%.3f); "
            "the step ended on stage %d of replica %d (gpu_cv %.3g from the %s, op_cv %.3g from the %s, %zu "
            "named, seed %llu; %d replicas simulated)\n",
            100 * (r.step_time_s / g.nominal_step_time_s - 1), g.nominal_step_time_s,
            static_cast<long long>(g.slowest_gpu), g.slowest_gpu_factor, g.slowest_stage, g.slowest_replica, g.gpu_cv,
            g.gpu_cv_from.c_str(), g.op_cv, g.op_cv_from.c_str(), s.stragglers.slow.size(),
            static_cast<unsigned long long>(s.seed), g.replicas);
        if (g.steps > 1)
          std::printf(
              "step spread      over %d steps (the same GPUs, new op draws): mean %.4f s, sd %.4f s, "
              "p5 %.4f, p50 %.4f, p95 %.4f, min %.4f, max %.4f s\n",
              g.steps, r.step_time_s, g.step_sd_s, g.step_p5_s, g.step_p50_s, g.step_p95_s, g.step_min_s, g.step_max_s);
      }
      std::printf("throughput       %s%s, %.2f samples/s\n", format_tokens_per_s(r.tokens_per_s).c_str(),
                  interval_text(r, "tokens_per_s", "count").c_str(), r.samples_per_s);
      std::printf("TFLOP/s per GPU  %.1f (with recompute), MFU %.1f %%%s\n", r.tflops_per_gpu, 100 * r.mfu,
                  interval_text(r, "mfu", "%.1f", 100).c_str());
      std::printf("comm/compute     %.3f\n", r.comm_to_compute);
      print_energy_and_cost(s, r);
      std::printf(
          "breakdown (stage %d): compute %.4f s (forward %.4f, backward %.4f; launch gaps %.4f, SM sharing %.4f), "
          "exposed comm %.4f s "
          "[tp %.4f pp %.4f dp %.4f cp %.4f ep %.4f], bubble %.4f s, optimizer %.4f s",
          r.critical_stage, b.compute_s, b.forward_s, b.backward_s, b.launch_gap_s, b.sm_sharing_s, b.exposed_comm_s(),
          b.tp_s, b.pp_s, b.dp_s, b.cp_s, b.ep_s, b.bubble_s, b.optimizer_s);
      if (r.stragglers.enabled) std::printf(", stragglers %+.4f s", b.straggler_s);
      std::printf("\n");
      if (!r.intervals.is_null()) {
        std::string sources, excluded;
        for (const auto& x : r.intervals["sources"]) sources += (sources.empty() ? "" : "; ") + x.get<std::string>();
        for (const auto& x : r.intervals["excluded"]) excluded += (excluded.empty() ? "" : "; ") + x.get<std::string>();
        std::printf("# (lo-hi): 95%% intervals over %d %s (%s); not included: %s (docs/uncertainty.md)\n",
                    r.intervals["samples"].get<int>(), opt.interval_seeds_only ? "straggler seeds" : "profile draws",
                    sources.empty() ? "none" : sources.c_str(), excluded.c_str());
      }
      std::printf("# simulated in %.3f s wall (%llu events, %llu collective timings)\n", wall,
                  static_cast<unsigned long long>(r.events), static_cast<unsigned long long>(r.comm_timings));
    }
  }
  if (!r.memory.fits) {  // --force simulates anyway, but the status still says it does not fit
    if (!args.flag("json"))
      std::fprintf(stderr, "knee simulate: the layout does not fit in GPU memory (%.1f GiB > %.1f GiB); %s\n",
                   r.memory.per_gpu_bytes / 1073741824.0, r.memory.capacity_bytes / 1073741824.0,
                   opt.simulate_if_not_fits ? "simulated anyway (--force)" : "not simulated");
    return kExitDoesNotFit;
  }
  return 0;
}

KNEE_COMMAND(
    "simulate",
    "simulate one training step of a scenario (step time, throughput, MFU, memory, breakdown; energy, cost, stragglers "
    "and failures when the scenario asks); a serving scenario (one with a \"serving\" object) is served request by "
    "request and summarized as vllm bench serve does (docs/serving.md); a cluster file (one with \"jobs\") runs every "
    "job alone and all together on one network: per job its slowdown, and the hot links",
    "SCENARIO.json [--json] [--force] [--every-rank] [--samples N | --seeds N] [--trace FILE [--trace-ranks SET] "
    "[--trace-max-events N]]",
    {{"json", false, "print JSON"},
     {"samples", true,
      "profile draws for the 95% intervals (docs/uncertainty.md; default 8, 0 with every-rank or serving; 0: none)"},
     {"seeds", true,
      "N >= 2 straggler seeds for the 95% intervals instead, the profile at its medians (needs stragglers); "
      "serving: request seeds seed .. seed + N - 1 (arrivals and lengths)"},
     {"every-rank", false,
      "simulate every rank on one network (no folding, no cached timings; slower): as simulation.every_rank"},
     {"force", false, "simulate even when memory does not fit (still exits 3)"},
     {"trace", true, "write the step as a Chrome trace-event JSON timeline (Perfetto, chrome://tracing)"},
     {"trace-ranks", true, "GPUs to trace, e.g. 0-7,64 (default: one pipeline, tp/cp/dp index 0 of each stage)"},
     {"trace-max-events", true, "events kept in the trace; later ones are counted as dropped (default 1000000)"}},
    run_simulate);

}  // namespace
}  // namespace knee::cli
