// knee collective: one collective (or a size sweep) on a simulated cluster, printed as
// nccl-tests prints it.
#include <chrono>
#include <cstdio>
#include <iostream>

#include "cli/cluster_args.hpp"
#include "common/json_reader.hpp"
#include "metrics/trace.hpp"
#include "profile/profile.hpp"
#include "sim/collectives/collective.hpp"
#include "sim/collectives/collective_draws.hpp"

namespace knee::cli {
namespace {

int run_collective(const Args& args) {
  if (!args.positional().empty())
    throw InputError("knee collective: expected only flags, got '" + args.positional().front() + "'");
  SystemSpec sys;
  Topology topo = topology_from_args(args, &sys);
  NcclParams params = nccl_params_for_gpu(sys.gpu_model.empty() ? "h100" : sys.gpu_model);

  CollOptions o;
  o.op = parse_coll_op(args.value_or("op", "allreduce"), args.what("op"));
  std::string algo = args.value_or("algo", "auto");
  if (algo != "auto") o.algo = parse_coll_algo(algo, args.what("algo"));
  if (o.algo) require_algo_supports(*o.algo, o.op, args.what("algo"));
  std::string proto = args.value_or("proto", "auto");
  if (proto != "auto") o.proto = parse_coll_proto(proto, args.what("proto"));
  o.channels = static_cast<int>(args.integer_or("channels", 0, 1, params.max_channels));
  o.root = static_cast<int>(args.integer_or("root", 0, 0));
  o.in_network_reduction = args.flag("sharp");
  o.selection = parse_coll_selection(args.value_or("selection", "simulated"), args.what("selection"));
  o.slices = static_cast<int>(args.integer_or("slices", 0, 1, 1 << 20));
  std::int64_t gpus = args.integer_or("gpus", static_cast<std::int64_t>(topo.num_gpus()), 1,
                                      static_cast<std::int64_t>(topo.num_gpus()));
  for (std::int64_t r = 0; r < gpus; ++r) o.ranks.push_back(static_cast<std::uint32_t>(r));

  std::vector<Bytes> sizes;
  if (auto sw = args.value("sweep")) {
    if (args.value("bytes")) throw InputError("knee collective: --bytes/--sweep: expected one of them, got both");
    sizes = parse_size_sweep(*sw, args.what("sweep"));
  } else {
    sizes.push_back(parse_bytes(args.value_or("bytes", "1GiB"), args.what("bytes")));
  }

  auto trace_path = args.value("trace");
  if (trace_path && sizes.size() != 1)
    throw InputError("knee collective: --trace: expected a single --bytes size, got a --sweep");
  o.record_transfers = trace_path.has_value();
  const std::string what = "knee collective";
  std::vector<CollResult> results;
  auto t0 = std::chrono::steady_clock::now();
  for (Bytes b : sizes) {
    o.bytes = b;
    results.push_back(simulate_collective(topo, params, o, what));
  }
  // Intervals from draws of the profile's link parameters (docs/uncertainty.md, "Collectives").
  const int samples = static_cast<int>(args.integer_or("samples", 0, 0, 10000));
  if (samples == 1) throw InputError("knee collective: --samples: expected 0 (no intervals) or an integer >= 2, got 1");
  if (!samples && args.value("profile"))
    throw InputError("knee collective: --profile: expected --samples N with it (the profile is only drawn), got none");
  std::vector<OrderedJson> intervals;
  if (samples) {
    const std::string pname = args.value_or("profile", sys.gpu_model.empty() ? std::string("h100") : sys.gpu_model);
    const bool path = pname.find('/') != std::string::npos || pname.find(".json") != std::string::npos;
    const Profile profile = path ? Profile::load(pname) : Profile::builtin(pname);
    CollectiveDrawOptions d;
    d.samples = samples;
    intervals = collective_intervals(topo, params, o, results, profile, d, what);
  }
  double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (trace_path) {
    // One process per traced GPU, one thread per channel; a transfer spans first to last byte.
    auto ranks = parse_rank_set(args.value_or("trace-ranks", "0-7"), args.what("trace-ranks"),
                                static_cast<std::uint32_t>(topo.num_gpus()));
    std::vector<int> traced(topo.num_nodes(), -1);
    for (auto r : ranks) traced[topo.gpu_node(r)] = static_cast<int>(r);
    ChromeTrace trace;
    for (auto r : ranks) trace.name_process(static_cast<int>(r), "GPU " + std::to_string(r));
    for (const auto& t : results[0].transfers) {
      if (t.src >= traced.size() || traced[t.src] < 0) continue;
      int pid = traced[t.src], tid = static_cast<int>(t.channel);
      trace.name_thread(pid, tid, "channel " + std::to_string(t.channel));
      // Sends on one channel overlap their predecessors' latency tails, so the tail goes in args
      // (Chrome's "X" events on one track must nest).
      std::string args_json = "{\"to\":" + Json(topo.name(t.dst)).dump() +
                              ",\"wire_bytes\":" + std::to_string(t.wire_bytes) +
                              ",\"latency_after_us\":" + std::to_string(ps_to_us(t.arrived_ps - t.sent_ps)) + "}";
      trace.complete(pid, tid, "send", "transfer", t.start_ps, t.sent_ps - t.start_ps, args_json);
    }
    trace.write_file(*trace_path);
  }

  OrderedJson meta;
  meta["system"] = sys.name.empty() ? "file" : sys.name;
  meta["topology"] = topo.summary();
  meta["nccl_params"] = params.provenance;
  meta["simulated_wall_s"] = wall_s;

  if (args.flag("json")) {
    if (results.size() == 1 && !args.value("sweep")) {
      OrderedJson j = results[0].to_json();
      if (!intervals.empty()) j["intervals"] = intervals[0];
      for (auto it = meta.begin(); it != meta.end(); ++it) j[it.key()] = it.value();
      std::cout << j.dump(2) << "\n";
    } else {
      OrderedJson j = meta;
      j["results"] = OrderedJson::array();
      for (std::size_t i = 0; i < results.size(); ++i) {
        j["results"].push_back(results[i].to_json());
        if (!intervals.empty()) j["results"].back()["intervals"] = intervals[i];
      }
      std::cout << j.dump(2) << "\n";
    }
    return 0;
  }
  std::printf("# knee collective: %s on %d GPUs (%s, %s), NCCL model: %s\n", to_string(o.op), results[0].nranks,
              meta["system"].get<std::string>().c_str(), meta["topology"].value("fabric", std::string("file")).c_str(),
              params.provenance.c_str());
  std::printf(
      "# simulated, not measured: time is the flow-level simulation; algbw = size / time; busbw as nccl-tests;\n"
      "# bound = alpha-beta lower bound of the links and latencies the schedule used\n");
  const int tw = intervals.empty() ? 14 : 28, bw = intervals.empty() ? 10 : 26;  // "value (lo-hi)" is wider
  std::printf("%14s %12s %*s %14s %10s %*s  %-14s %-7s %s\n", "size(B)", "count(fp32)", tw, "time(us)", "bound(us)",
              "algbw(GB/s)", bw, "busbw(GB/s)", "algorithm", "proto", "channels");
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    if (intervals.empty()) {
      std::printf("%14lld %12lld %14.2f %14.2f %10.2f %10.2f  %-14s %-7s %d\n", static_cast<long long>(r.bytes),
                  static_cast<long long>(r.bytes / 4), r.time_s * 1e6, r.lower_bound_s * 1e6, r.algbw_GBps,
                  r.busbw_GBps, to_string(r.choice.algo), to_string(r.choice.proto), r.choice.channels);
      continue;
    }
    // With --samples: time and busbw as "value (lo-hi)", the 95% intervals over the draws.
    const auto& iv = intervals[i];
    char t[96], b[96];
    std::snprintf(t, sizeof t, "%.2f (%.2f-%.2f)", r.time_s * 1e6, iv["time_s"][0].get<double>() * 1e6,
                  iv["time_s"][1].get<double>() * 1e6);
    std::snprintf(b, sizeof b, "%.2f (%.2f-%.2f)", r.busbw_GBps, iv["busbw_GBps"][0].get<double>(),
                  iv["busbw_GBps"][1].get<double>());
    std::printf("%14lld %12lld %*s %14.2f %10.2f %*s  %-14s %-7s %d\n", static_cast<long long>(r.bytes),
                static_cast<long long>(r.bytes / 4), tw, t, r.lower_bound_s * 1e6, r.algbw_GBps, bw, b,
                to_string(r.choice.algo), to_string(r.choice.proto), r.choice.channels);
  }
  if (!intervals.empty()) {
    std::string src, exc;
    for (const auto& x : intervals[0]["sources"]) src += (src.empty() ? "" : "; ") + x.get<std::string>();
    for (const auto& x : intervals[0]["excluded"]) exc += (exc.empty() ? "" : "; ") + x.get<std::string>();
    std::printf(
        "# (lo-hi): 95%% intervals over %d draws of profile %s's link parameters (%s); not included: %s "
        "(docs/uncertainty.md)\n",
        samples, intervals[0]["profile"].get<std::string>().c_str(), src.empty() ? "none" : src.c_str(), exc.c_str());
  }
  // The bound is the alpha-beta floor of the links the schedule used (docs/collectives.md); a
  // note says why a size is more than the tolerance above it.
  for (auto& r : results)
    if (!r.bound_note.empty())
      std::printf("# %lld B above the bound: %s\n", static_cast<long long>(r.bytes), r.bound_note.c_str());
  if (results.size() == 1 && results[0].choice.candidates.size() > 1) {
    std::string line;
    for (const CollCandidate& c : results[0].choice.candidates) {
      char buf[160];
      std::snprintf(
          buf, sizeof buf, "%s%s/%s x%d %.2f us %s", line.empty() ? "" : "; ", to_string(c.algo), to_string(c.proto),
          c.channels, (c.simulated_s >= 0 ? c.simulated_s : c.scored_s) * 1e6,
          c.simulated_s >= 0 ? "simulated" : (o.selection == CollSelection::nccl ? "NCCL model" : "scored, not run"));
      line += buf;
    }
    std::printf("# auto selection (%s): %s\n", to_string(o.selection), line.c_str());
  }
  std::printf("# simulated in %.3f s wall\n", wall_s);
  return 0;
}

std::vector<FlagSpec> collective_flags() {
  auto f = cluster_flags();
  std::vector<FlagSpec> own = {
      {"op", true, "allreduce, reducescatter, allgather, broadcast, reduce, alltoall, sendrecv, barrier"},
      {"bytes", true, "size as nccl-tests counts it: 8B, 4KiB, 1GB ... (default 1GiB)"},
      {"sweep", true, "a size range MIN:MAX, every power of two (like nccl-tests -b MIN -e MAX -f 2)"},
      {"algo", true, "auto, ring, tree, rhd, hierarchical, nvls, collnet, pat, pairwise, a2a-hierarchical, direct"},
      {"proto", true, "auto, LL, LL128, Simple"},
      {"channels", true, "channel count (default: chosen with the algorithm)"},
      {"root", true, "root rank for broadcast and reduce (default 0)"},
      {"gpus", true, "communicator: the first N GPUs (default: all)"},
      {"slices", true,
       "pipeline slices per channel (default: one per algorithm step, folded to stay within 2^18 flows)"},
      {"trace", true, "write a Chrome trace-event JSON timeline (Perfetto, chrome://tracing) of the transfers"},
      {"trace-ranks", true, "GPUs to trace, e.g. 0-7,64 (default 0-7): keeps traces of large runs small"},
      {"sharp", false, "let auto choose in-network reduction (collnet) on switches that support it"},
      {"selection", true,
       "how auto decides: simulated (default: the shortlist runs on the flow network, the fastest wins) or "
       "nccl (NCCL's tuner model, what NCCL would pick)"},
      {"samples", true,
       "N >= 2 draws of the profile's nvlink and network alpha/beta for 95% intervals on time, algbw, busbw "
       "(docs/uncertainty.md; default 0: none)"},
      {"profile", true, "the profile drawn with --samples: a shipped name or a file (default: the system's GPU)"},
      {"json", false, "print JSON instead of a table"}};
  f.insert(f.end(), own.begin(), own.end());
  return f;
}

KNEE_COMMAND("collective", "simulate one collective or a size sweep, reported as nccl-tests does",
             "(--system NAME --nodes N [--fabric F] | --file TOPO.json) --op OP (--bytes SIZE | --sweep MIN:MAX) "
             "[--algo A] [--proto P] [--channels C] [--samples N [--profile P]] [--json]",
             collective_flags(), run_collective);

}  // namespace
}  // namespace knee::cli
