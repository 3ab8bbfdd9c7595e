// Strict reading of a cluster file (cluster_file.hpp): the cluster keys as a training scenario
// reads them (topologies/cluster_spec.hpp), then each job: its scenario (an object or a path
// relative to the cluster file) given the cluster's system and fabric and its own node count.
#include "workloads/cluster/cluster_file.hpp"

#include <filesystem>

#include "common/json_reader.hpp"

namespace knee::cluster {
namespace {

std::string str(std::int64_t v) { return std::to_string(v); }

// The job's GPUs from its layout: tp x pp x dp x cp of $.parallelism (dp required).
std::int64_t layout_gpus(const Json& sj, const std::string& src, const std::string& at) {
  if (!sj.contains("parallelism") || !sj["parallelism"].is_object())
    throw_input_error(src, at + ".parallelism", "an object with tp, pp, dp, cp (a job's GPUs come from its layout)",
                      sj.contains("parallelism") ? describe_json(sj["parallelism"]) : "none");
  const Json& p = sj["parallelism"];
  std::int64_t g = 1;
  for (const char* k : {"tp", "pp", "dp", "cp"}) {
    if (!p.contains(k)) {
      if (std::string(k) == "dp")
        throw_input_error(src, at + ".parallelism.dp",
                          "an integer in a job (its GPUs are tp x pp x dp x cp, not the cluster's)", "none");
      continue;
    }
    if (!p[k].is_number_integer() || p[k].get<std::int64_t>() < 1 || p[k].get<std::int64_t>() > (1 << 22))
      throw_input_error(src, at + ".parallelism." + k, "an integer >= 1", describe_json(p[k]));
    g *= p[k].get<std::int64_t>();
  }
  return g;
}

// A key the job may repeat only with the cluster's value.
void agree(const Json& sj, const char* key, const Json& cluster_value, const std::string& what, const std::string& src,
           const std::string& at) {
  if (sj.contains(key) && sj[key] != cluster_value)
    throw_input_error(src, at + "." + key, what + " or none (a job runs on the cluster's)", describe_json(sj[key]));
}

PlacementSpec parse_placement(JsonObject& job, const Json& jj, const ClusterFile& c, const std::string& at) {
  PlacementSpec p;
  p.seed = static_cast<std::uint64_t>(job.integer_or("seed", 0, 0));
  if (!job.has("placement")) return p;
  const Json& v = jj["placement"];
  if (v.is_string()) {
    const std::string k = job.one_of("placement", {"packed", "spread", "random"});
    p.kind = k == "packed" ? PlacementKind::packed : k == "spread" ? PlacementKind::spread : PlacementKind::random;
    return p;
  }
  if (!v.is_object())
    throw_input_error(c.source, at + ".placement",
                      "\"packed\", \"spread\", \"random\" or {\"nodes\": [first, last]} (or a list of such ranges)",
                      describe_json(v));
  JsonObject po = job.object("placement");
  const Json& nv = po.raw("nodes");
  const std::string np = at + ".placement.nodes";
  const std::int64_t last_node = c.spec.nodes - 1;
  const std::string want = "node ranges [first, last] within 0-" + str(last_node) + " (the cluster's " +
                           str(c.spec.nodes) + " nodes), first <= last";
  auto range = [&](const Json& r) {
    if (!r.is_array() || r.size() != 2 || !r[0].is_number_integer() || !r[1].is_number_integer())
      throw_input_error(c.source, np, want, describe_json(nv));
    const std::int64_t a = r[0].get<std::int64_t>(), b = r[1].get<std::int64_t>();
    if (a < 0 || b > last_node || a > b) throw_input_error(c.source, np, want, "[" + str(a) + ", " + str(b) + "]");
    p.ranges.push_back({a, b});
  };
  if (nv.is_array() && !nv.empty() && nv[0].is_array())
    for (const Json& r : nv) range(r);
  else range(nv);
  po.finish();
  p.kind = PlacementKind::nodes;
  return p;
}

}  // namespace

bool is_cluster_file(const Json& j) { return j.is_object() && j.contains("jobs"); }

const char* to_string(PlacementKind k) {
  switch (k) {
    case PlacementKind::packed:
      return "packed";
    case PlacementKind::spread:
      return "spread";
    case PlacementKind::random:
      return "random";
    case PlacementKind::nodes:
      return "nodes";
  }
  return "?";
}

std::string describe(const PlacementSpec& p) {
  if (p.kind == PlacementKind::random) return "random (seed " + std::to_string(p.seed) + ")";
  if (p.kind != PlacementKind::nodes) return to_string(p.kind);
  std::string o = "nodes ";
  for (std::size_t i = 0; i < p.ranges.size(); ++i)
    o += (i ? "," : "") + str(p.ranges[i].first) +
         (p.ranges[i].second != p.ranges[i].first ? "-" + str(p.ranges[i].second) : "");
  return o;
}

ClusterFile parse_cluster_file(const Json& j, const std::string& source, const std::string& base_dir) {
  if (!j.is_object())
    throw_input_error(source, "$", "a cluster file (an object with system, nodes, jobs)", describe_json(j));
  ClusterFile c;
  c.source = source;
  JsonObject root = JsonObject::root(j, source);
  root.ignore("comment");
  c.spec = parse_cluster_spec(root, j, source);
  const std::int64_t gpn = c.spec.system.gpus_per_node;
  if (c.spec.gpus != c.spec.nodes * gpn)
    throw_input_error(source, "$.gpus",
                      "whole nodes in a cluster file (nodes x " + str(gpn) + " = " + str(c.spec.nodes * gpn) + ")",
                      str(c.spec.gpus));
  JsonArray jobs = root.array("jobs");
  if (root.has("faults")) {  // as a scenario's simulation keys, names resolved when simulated
    JsonObject f = root.object("faults");
    parse_faults(f, c.faults);
    f.finish();
  }
  root.finish();
  if (jobs.empty()) throw_input_error(source, "$.jobs", "at least one job", "an empty list");
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const std::string at = jobs.path_of(i);
    JsonObject job = jobs.object(i);
    const Json& jj = jobs.raw(i);
    job.ignore("comment");
    JobSpec J;
    J.path = at;
    J.name = job.string("name");
    if (J.name.empty()) throw_input_error(source, at + ".name", "a non-empty name", "\"\"");
    for (const JobSpec& o : c.jobs)
      if (o.name == J.name)
        throw_input_error(source, at + ".name", "a name no other job has", "\"" + J.name + "\" twice");
    // The scenario: an object here, or a file relative to the cluster file.
    const Json& sv = job.raw("scenario");
    Json sj;
    std::string src, sat;
    if (sv.is_string()) {
      std::filesystem::path p = sv.get<std::string>();
      if (p.is_relative() && !base_dir.empty()) p = std::filesystem::path(base_dir) / p;
      src = p.string();
      sat = "$";
      sj = parse_json_file(src);
    } else if (sv.is_object()) {
      src = source;
      sat = at + ".scenario";
      sj = sv;
    } else {
      throw_input_error(source, at + ".scenario", "a training scenario object or the path of a scenario file",
                        describe_json(sv));
    }
    if (!sj.is_object()) throw_input_error(src, sat, "a training scenario (an object)", describe_json(sj));
    if (sj.contains("jobs")) throw_input_error(src, sat + ".jobs", "a training scenario, not a cluster file", "jobs");
    if (sj.contains("serving"))
      throw_input_error(src, sat + ".serving", "a training scenario (serving jobs are not simulated on a cluster yet)",
                        "a serving object");
    const std::int64_t gpus = layout_gpus(sj, src, sat);
    if (gpus % gpn != 0)
      throw_input_error(src, sat + ".parallelism",
                        "tp x pp x dp x cp a multiple of the GPUs per node (" + str(gpn) + "): jobs hold whole nodes",
                        str(gpus));
    const std::int64_t nodes = gpus / gpn;
    agree(sj, "system", j["system"], "the cluster's system (" + describe_json(j["system"]) + ")", src, sat);
    agree(sj, "fabric", j.contains("fabric") ? j["fabric"] : Json(), "the cluster's fabric", src, sat);
    agree(sj, "nodes", Json(nodes), "the job's nodes from its layout (" + str(nodes) + ")", src, sat);
    agree(sj, "gpus", Json(gpus), "the job's GPUs from its layout (" + str(gpus) + ")", src, sat);
    sj["system"] = j["system"];
    sj["nodes"] = nodes;
    sj["gpus"] = gpus;
    sj.erase("fabric");
    // Messages about the job's own keys name where the scenario is: the file, or the cluster
    // file and the job's path.
    J.scenario = parse_scenario(sj, sv.is_string() ? src : source + ": " + sat);
    J.scenario.fabric = c.spec.fabric;  // the cluster's (the job's own topology is never built)
    J.placement = parse_placement(job, jj, c, at);
    job.finish();
    c.jobs.push_back(std::move(J));
  }
  return c;
}

ClusterFile load_cluster_file(const std::string& path) {
  return parse_cluster_file(parse_json_file(path), path, std::filesystem::path(path).parent_path().string());
}

}  // namespace knee::cluster
