// The cluster result's fields, per-job and hot-link columns, and the JSON made from them.
#include "workloads/cluster/cluster_result_schema.hpp"

namespace knee::cluster {

using OJ = nlohmann::ordered_json;

const std::vector<JobColumn>& job_columns() {
  using J = JobResult;
  static const std::vector<JobColumn> c = {
      {"name", "", "the job's name", [](const J& j) { return OJ(j.name); }},
      {"placement", "", "its placement as written (packed, spread, random (seed N), nodes A-B)",
       [](const J& j) { return OJ(j.placement); }},
      {"nodes", "", "the cluster nodes it runs on, in rank order", [](const J& j) { return OJ(j.nodes); }},
      {"gpus", "", "its GPUs (tp x pp x dp x cp)", [](const J& j) { return OJ(j.gpus); }},
      {"fits", "", "its memory fits its GPUs (simulated either way)", [](const J& j) { return OJ(j.fits); }},
      {"alone_step_time_s", "s", "its step, every rank, alone on the cluster on its nodes",
       [](const J& j) { return OJ(j.alone_step_time_s); }},
      {"together_step_time_s", "s", "its step with every job on the one network",
       [](const J& j) { return OJ(j.together_step_time_s); }},
      {"slowdown", "x", "together / alone", [](const J& j) { return OJ(j.slowdown); }},
      {"alone_switch_link_bytes", "bytes", "bytes it sends alone over links between two switches (uplinks, spines)",
       [](const J& j) { return OJ(j.alone_switch_link_bytes); }},
      {"alone_busiest_link", "", "the directed link busiest in its alone run (from -> to)",
       [](const J& j) { return OJ(j.alone_busiest_link); }},
      {"profile", "", "the calibration profile its kernels are timed from", [](const J& j) { return OJ(j.profile); }},
      {"profile_origin", "", "how that profile was made: fitted, derived (from what, by what), edited",
       [](const J& j) { return OJ(j.profile_origin); }},
  };
  return c;
}

const std::vector<LinkColumn>& link_columns() {
  using L = HotLink;
  static const std::vector<LinkColumn> c = {
      {"from", "", "the topology node the link leaves", [](const L& l) { return OJ(l.from); }},
      {"to", "", "the node it enters", [](const L& l) { return OJ(l.to); }},
      {"bytes", "bytes", "bytes it carried over the shared run (every job)", [](const L& l) { return OJ(l.bytes); }},
      {"busy_s", "s", "bytes / capacity: time it was busy at full rate", [](const L& l) { return OJ(l.busy_s); }},
      {"capacity_GBps", "GB/s", "its capacity, one direction", [](const L& l) { return OJ(l.capacity_Bps * 1e-9); }},
      {"between_switches", "", "both ends are switches (a fabric uplink or spine link)",
       [](const L& l) { return OJ(l.between_switches); }},
      {"job_bytes", "bytes", "the bytes each job put on it, {job name: bytes} (they sum to bytes)",
       [](const L& l) {
         OJ o = OJ::object();
         for (const auto& [name, b] : l.bytes_by_job) o[name] = b;
         return o;
       }},
  };
  return c;
}

OJ faults_json(const Faults& f) {
  OJ d = OJ::array(), l = OJ::array(), n = OJ::array();
  for (const auto& x : f.degraded_links) d.push_back({{"between", {x.a, x.b}}, {"factor", x.factor}});
  for (const auto& x : f.failed_links) l.push_back({{"between", {x.a, x.b}}});
  for (const auto& x : f.failed_nics)
    n.push_back(
        {{"node", x.node}, {"gpu", x.gpu}, {"nic", "s" + std::to_string(x.node) + ".nic" + std::to_string(x.gpu)}});
  return OJ{{"degraded_links", d}, {"failed_links", l}, {"failed_nics", n}};
}

const std::vector<ClusterField>& cluster_result_fields() {
  using R = ClusterResult;
  static const std::vector<ClusterField> f = {
      {"cluster", "", "the cluster: system, nodes, gpus, fabric, oversubscription",
       [](const R& r) {
         return OJ{{"system", r.system},
                   {"nodes", r.nodes},
                   {"gpus", r.gpus},
                   {"fabric", r.fabric},
                   {"oversubscription", r.oversubscription}};
       }},
      {"faults", "",
       "the cluster file's faults applied to every run, alone and together: degraded_links [{between, factor}], "
       "failed_links [{between}], failed_nics [{node, gpu, nic}] (empty lists: none)",
       [](const R& r) { return faults_json(r.faults); }},
      {"jobs", "", "per job: placement, nodes, step alone and together, slowdown (keys: the schema's job columns)",
       [](const R& r) {
         OJ a = OJ::array();
         for (const JobResult& j : r.jobs) {
           OJ o;
           for (const JobColumn& c : job_columns()) o[c.key] = c.value(j);
           a.push_back(std::move(o));
         }
         return a;
       }},
      {"hot_links", "", "the shared run's busiest directed links, busiest first (keys: the schema's link columns)",
       [](const R& r) {
         OJ a = OJ::array();
         for (const HotLink& l : r.hot_links) {
           OJ o;
           for (const LinkColumn& c : link_columns()) o[c.key] = c.value(l);
           a.push_back(std::move(o));
         }
         return a;
       }},
      {"switch_link_bytes", "bytes", "the shared run's bytes over links between two switches (uplinks, spines)",
       [](const R& r) { return OJ(r.switch_link_bytes); }},
      {"events", "", "events of the shared run", [](const R& r) { return OJ(r.events); }},
      {"flows", "", "flows of the shared run", [](const R& r) { return OJ(r.flows); }},
      {"collectives", "", "collectives and pipeline sends launched in the shared run",
       [](const R& r) { return OJ(r.collectives); }},
      {"simulation", "", "how the jobs were simulated",
       [](const R&) {
         return OJ(
             "every rank of every job on one engine and one flow network (each job also alone); tp, cp and ep "
             "collectives in the op costs as every-rank mode does");
       }},
  };
  return f;
}

OJ to_json(const ClusterResult& r) {
  OJ j;
  for (const ClusterField& f : cluster_result_fields()) j[f.key] = f.value(r);
  return j;
}

}  // namespace knee::cluster
