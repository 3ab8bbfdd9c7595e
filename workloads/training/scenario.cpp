// Scenario files: strict reading and the consistency checks of a parallel layout.
#include <algorithm>
#include <numeric>

#include "common/json_reader.hpp"
#include "topologies/cluster_spec.hpp"
#include "workloads/training/scenario.hpp"

namespace knee {
namespace {

std::string str(std::int64_t v) { return std::to_string(v); }

[[noreturn]] void bad(const Scenario& s, const std::string& path, const std::string& expected, const std::string& got) {
  throw_input_error(s.source, path, expected, got);
}

void parse_model(JsonObject& root, Scenario& s) { s.model = parse_model_spec(root); }

void parse_parallelism(JsonObject& root, Scenario& s) {
  JsonObject p = root.object("parallelism");
  s.par.tp = p.integer_or("tp", 1, 1, 1 << 20);
  s.par.pp = p.integer_or("pp", 1, 1, 1 << 20);
  s.par.cp = p.integer_or("cp", 1, 1, 1 << 20);
  s.par.ep = p.integer_or("ep", 1, 1, 1 << 20);
  const std::int64_t model_par = s.par.tp * s.par.pp * s.par.cp;
  s.par.dp = p.integer_or("dp", s.gpus % model_par == 0 ? s.gpus / model_par : 1, 1, 1 << 22);
  s.par.micro_batch = p.integer_or("micro_batch", 1, 1, 1 << 20);
  s.par.global_batch = p.integer("global_batch", 1, 1LL << 40);
  s.par.schedule = parse_option<Schedule>(p.one_of_or("schedule", {"1f1b", "interleaved", "gpipe"}, "1f1b"), s.source);
  s.par.virtual_stages = p.integer_or("virtual_stages", 1, 1, 1 << 10);
  s.par.sequence_parallel = p.boolean_or("sequence_parallel", s.par.tp > 1);
  s.par.zero = static_cast<int>(p.integer_or("zero", 0, 0, 3));
  p.finish();
}

void parse_training(JsonObject& root, Scenario& s) {
  // Megatron-LM's gradient dtype (workload.hpp, TrainingSpec::grad_reduce_dtype).
  auto grad_default = [&]() -> GradDtype {
    return s.train.precision == Precision::bf16 ? GradDtype::bf16
           : s.model.dtype == "fp16"            ? GradDtype::fp16
                                                : GradDtype::fp32;
  };
  if (root.has("training")) {
    JsonObject t = root.object("training");
    s.train.precision = parse_option<Precision>(t.one_of_or("precision", {"bf16", "mixed"}, "mixed"), s.source);
    s.train.recompute =
        parse_option<Recompute>(t.one_of_or("recompute", {"none", "selective", "full"}, "none"), s.source);
    s.train.optimizer = parse_option<Optimizer>(t.one_of_or("optimizer", {"adamw", "sgd"}, "adamw"), s.source);
    s.train.framework = parse_option<Framework>(t.one_of_or("framework", {"eager", "megatron"}, "megatron"), s.source);
    // flash in both frameworks: eager PyTorch calls scaled_dot_product_attention, one op and one
    // fused kernel (what the H200 data measured); unfused is hand-written bmm/softmax attention.
    s.train.attention = parse_option<Attention>(t.one_of_or("attention", {"flash", "unfused"}, "flash"), s.source);
    s.train.overlap_grad_reduce = t.boolean_or("overlap_grad_reduce", true);
    s.train.tp_comm_overlap = t.boolean_or("tp_comm_overlap", false);
    s.train.overlap_param_gather = t.boolean_or("overlap_param_gather", true);
    if (t.has("ddp_bucket_params")) s.train.ddp_bucket_params = t.positive("ddp_bucket_params");
    s.train.gradient_accumulation_fusion = t.boolean_or("gradient_accumulation_fusion", true);
    s.train.grad_sync = parse_option<GradSync>(
        t.one_of_or("grad_sync", {"last_microbatch", "every_microbatch"}, "last_microbatch"), s.source);
    s.train.grad_reduce_dtype = parse_option<GradDtype>(
        t.one_of_or("grad_reduce_dtype", {"fp32", "bf16", "fp16"}, to_string(grad_default())), s.source);
    s.train.collective_selection =
        parse_coll_selection(t.one_of_or("collective_selection", {"simulated", "nccl"}, "simulated"),
                             s.source + ": $.training.collective_selection");
    t.finish();
  } else {
    s.train.grad_reduce_dtype = grad_default();
  }
}

void parse_placement(JsonObject& root, Scenario& s, const std::string& source) {
  if (root.has("placement")) {
    std::string order = root.string("placement");
    std::vector<std::string> parts;
    std::size_t a = 0;
    while (a <= order.size()) {
      std::size_t b = order.find('-', a);
      if (b == std::string::npos) b = order.size();
      parts.push_back(order.substr(a, b - a));
      a = b + 1;
    }
    std::vector<std::string> sorted = parts;
    std::sort(sorted.begin(), sorted.end());
    if (sorted != std::vector<std::string>{"cp", "dp", "pp", "tp"})
      throw_input_error(source, "$.placement", "an order of tp, cp, dp, pp such as \"tp-cp-dp-pp\"", "'" + order + "'");
    s.placement = parts;
  } else {
    s.placement = {"tp", "cp", "dp", "pp"};  // Megatron's default (ep lives inside dp)
  }
}

void parse_stragglers(JsonObject& root, Scenario& s) {
  if (root.has("stragglers")) {
    JsonObject g = root.object("stragglers");
    s.stragglers.from_profile = g.boolean_or("from_profile", false);
    s.stragglers.steps = static_cast<int>(g.integer_or("steps", 1, 1, 1000));
    s.stragglers.gpu_cv_given = g.has("gpu_cv");
    s.stragglers.op_cv_given = g.has("op_cv");
    s.stragglers.gpu_cv = g.non_negative_or("gpu_cv", 0);
    if (s.stragglers.gpu_cv >= 1) g.fail("gpu_cv", "a coefficient of variation in [0, 1)");
    s.stragglers.op_cv = g.non_negative_or("op_cv", 0);
    if (s.stragglers.op_cv >= 1) g.fail("op_cv", "a coefficient of variation in [0, 1)");
    if (g.has("slow_gpus")) {
      JsonArray a = g.array("slow_gpus");
      for (std::size_t i = 0; i < a.size(); ++i) {
        JsonObject e = a.object(i);
        StragglerSpec::Slow x{e.integer("gpu", 0), e.number("slowdown")};
        if (!(x.slowdown >= 1 && x.slowdown <= 100)) e.fail("slowdown", "a compute-time multiplier between 1 and 100");
        e.finish();
        s.stragglers.slow.push_back(x);
      }
    }
    g.finish();
  }
}

void parse_failures(JsonObject& root, Scenario& s) {
  if (root.has("failures")) {
    JsonObject f = root.object("failures");
    FailureSpec& F = s.failures;
    F.gpu_mtbf_hours = f.positive("gpu_mtbf_hours");
    F.restart_s = f.non_negative("restart_s");
    F.checkpoint_write_s = f.non_negative_or("checkpoint_write_s", 0);
    F.storage_write_GBps = f.non_negative_or("storage_write_GBps", 0);
    if ((F.checkpoint_write_s > 0) == (F.storage_write_GBps > 0))
      f.fail(F.checkpoint_write_s > 0 ? "storage_write_GBps" : "checkpoint_write_s",
             "exactly one of checkpoint_write_s and storage_write_GBps (> 0)");
    F.checkpoint_interval_s = f.non_negative_or("checkpoint_interval_s", 0);
    f.finish();
  }
}

// Prices and facility: the scenario's assumptions, echoed with every result.
void parse_cost(JsonObject& root, Scenario& s) {
  if (root.has("cost")) {
    JsonObject c = root.object("cost");
    parse_cost_prices(c, s.cost);
    s.cost.train_tokens = c.non_negative_or("train_tokens", 0);
    c.finish();
  }
}

}  // namespace

void parse_faults(JsonObject& o, Faults& f) {
  if (o.has("degraded_links")) {
    JsonArray a = o.array("degraded_links");
    for (std::size_t i = 0; i < a.size(); ++i) {
      JsonObject e = a.object(i);
      JsonArray ends = e.array("between");
      if (ends.size() != 2) ends.fail_here("two node names, e.g. [\"s0.nic0\", \"rail0.leaf0\"]");
      Faults::Degraded d{ends.string(0), ends.string(1), e.number("factor")};
      if (!(d.factor > 0 && d.factor <= 1)) e.fail("factor", "a fraction of the link's bandwidth in (0, 1]");
      e.finish();
      f.degraded_links.push_back(d);
    }
  }
  if (o.has("failed_links")) {
    JsonArray a = o.array("failed_links");
    for (std::size_t i = 0; i < a.size(); ++i) {
      JsonObject e = a.object(i);
      JsonArray ends = e.array("between");
      if (ends.size() != 2) ends.fail_here("two node names, e.g. [\"rail0.leaf0\", \"spine1\"]");
      f.failed_links.push_back({ends.string(0), ends.string(1)});
      e.finish();
    }
  }
  if (o.has("failed_nics")) {  // {"node": server, "gpu": local index}: the NIC sNODE.nicGPU
    JsonArray a = o.array("failed_nics");
    for (std::size_t i = 0; i < a.size(); ++i) {
      JsonObject e = a.object(i);
      Faults::FailedNic n{e.integer("node", 0, std::int64_t{1} << 30), e.integer("gpu", 0, 1 << 20)};
      e.finish();
      f.failed_nics.push_back(n);
    }
  }
}

Scenario parse_scenario(const nlohmann::json& j, const std::string& source) {
  Scenario s;
  s.source = source;
  JsonObject root = JsonObject::root(j, s.source);
  {
    ClusterSpec c = parse_cluster_spec(root, j, source);
    s.system_name = std::move(c.system_name);
    s.system = std::move(c.system);
    s.nodes = c.nodes;
    s.gpus = c.gpus;
    s.fabric = std::move(c.fabric);
  }

  parse_model(root, s);
  parse_parallelism(root, s);
  parse_training(root, s);
  s.profile = root.string_or("profile", s.system.gpu_model);
  parse_placement(root, s, s.source);
  if (root.has("stages")) {
    JsonArray st = root.array("stages");
    for (std::size_t i = 0; i < st.size(); ++i) s.stages.push_back(st.integer(i, 0, 1 << 20));
  }
  s.seed = static_cast<std::uint64_t>(root.integer_or("seed", 0, 0));
  if (root.has("simulation")) {  // folded (the default) or every rank on one network
    JsonObject sim = root.object("simulation");
    s.simulation.every_rank = sim.boolean_or("every_rank", false);
    parse_faults(sim, s.simulation);
    if (sim.has("slow_gpus")) {  // {"node": server, "gpu": local index, "factor": >= 1}; checked in validate_scenario
      JsonArray a = sim.array("slow_gpus");
      for (std::size_t i = 0; i < a.size(); ++i) {
        JsonObject e = a.object(i);
        SimulationSpec::SlowGpu g{e.integer("node", 0, std::int64_t{1} << 30), e.integer("gpu", 0, 1 << 20),
                                  e.number("factor")};
        if (!(g.factor >= 1 && g.factor <= 100)) e.fail("factor", "a kernel-time multiplier between 1 and 100");
        e.finish();
        s.simulation.slow_gpus.push_back(g);
      }
    }
    sim.finish();
  }
  parse_stragglers(root, s);
  parse_failures(root, s);
  parse_cost(root, s);
  root.ignore("comment");
  root.ignore("name");
  root.finish();
  validate_scenario(s);
  s.loaded_profile = load_scenario_profile(s);
  return s;
}

Profile load_scenario_profile(const Scenario& s) {
  if (s.loaded_profile) return *s.loaded_profile;
  const bool path = s.profile.find('/') != std::string::npos || s.profile.find(".json") != std::string::npos;
  Profile p = path ? Profile::load(s.profile) : Profile::builtin(s.profile);
  if (!p.measured_on_cpu()) return p;
  const auto names = Profile::builtin_names();
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  const std::string suggest =
      std::find(names.begin(), names.end(), s.system.gpu_model) != names.end() ? s.system.gpu_model : "h200";
  throw InputError(s.source + ": $.profile: expected a profile measured on a GPU, got '" + s.profile +
                   "', measured on a CPU, not a GPU (gpu '" + p.gpu() +
                   "', as knee calibrate --backend cpu writes), so its times say nothing about the GPUs of " +
                   s.system.name + "; use a shipped GPU profile (\"profile\": \"" + suggest + "\"; built in: " + list +
                   ") or calibrate on the GPU with knee calibrate --backend cuda --out my-gpu.json");
}

Scenario load_scenario(const std::string& path) { return parse_scenario(parse_json_file(path), path); }

void validate_scenario(const Scenario& s) {
  const auto& m = s.model;
  const auto& p = s.par;
  const std::int64_t gpn = s.system.gpus_per_node;
  if (s.gpus > s.nodes * gpn)
    bad(s, "$.gpus", "at most nodes x GPUs per node (" + str(s.nodes * gpn) + ")", str(s.gpus));
  if (p.tp * p.pp * p.dp * p.cp != s.gpus)
    bad(s, "$.parallelism", "tp x pp x dp x cp = gpus (" + str(s.gpus) + ")",
        str(p.tp) + " x " + str(p.pp) + " x " + str(p.dp) + " x " + str(p.cp) + " = " + str(p.tp * p.pp * p.dp * p.cp));
  if (m.hidden % m.heads != 0)
    bad(s, "$.model.hidden", "a multiple of model.heads (" + str(m.heads) + ")", str(m.hidden));
  if (m.kv_heads > m.heads || m.heads % m.kv_heads != 0)
    bad(s, "$.model.kv_heads", "a divisor of model.heads (" + str(m.heads) + ")", str(m.kv_heads));
  if (m.heads % p.tp != 0) bad(s, "$.model.heads", "divisible by parallelism.tp (" + str(p.tp) + ")", str(m.heads));
  if (m.kv_heads % p.tp != 0)
    bad(s, "$.model.kv_heads", "divisible by parallelism.tp (" + str(p.tp) + ")", str(m.kv_heads));
  if (m.ffn_hidden % p.tp != 0)
    bad(s, "$.model.ffn_hidden", "divisible by parallelism.tp (" + str(p.tp) + ")", str(m.ffn_hidden));
  if (m.seq_len % p.cp != 0)
    bad(s, "$.model.seq_len", "divisible by parallelism.cp (" + str(p.cp) + ")", str(m.seq_len));
  if (p.sequence_parallel && m.seq_len / p.cp % p.tp != 0)
    bad(s, "$.model.seq_len", "divisible by cp x tp with sequence_parallel (" + str(p.cp * p.tp) + ")", str(m.seq_len));
  if (p.global_batch % (p.micro_batch * p.dp) != 0)
    bad(s, "$.parallelism.global_batch",
        "divisible by micro_batch x dp (" + str(p.micro_batch) + " x " + str(p.dp) + ")", str(p.global_batch));
  if (p.schedule != Schedule::interleaved && p.virtual_stages != 1)
    bad(s, "$.parallelism.virtual_stages", "1 unless schedule is \"interleaved\"", str(p.virtual_stages));
  if (p.schedule == Schedule::interleaved) {
    if (p.pp < 2) bad(s, "$.parallelism.schedule", "\"interleaved\" only with pp >= 2", "pp = " + str(p.pp));
    if (p.virtual_stages < 2)
      bad(s, "$.parallelism.virtual_stages", "at least 2 with the interleaved schedule", str(p.virtual_stages));
    if (s.microbatches() % p.pp != 0)
      bad(s, "$.parallelism.global_batch",
          "a number of microbatches (global_batch / (micro_batch x dp)) divisible by pp (" + str(p.pp) +
              ") for the interleaved schedule",
          str(s.microbatches()));
  }
  const std::int64_t vstages = p.pp * p.virtual_stages;
  if (s.stages.empty() && m.layers < vstages)
    bad(s, "$.model.layers", "at least pp x virtual_stages (" + str(vstages) + ") layers", str(m.layers));
  if (!s.stages.empty()) {
    // An empty virtual stage is allowed only at either end, holding just the embedding or just the
    // output layer and loss (as Llama 3 405B: 126 layers in 128 one-layer chunks).
    for (std::size_t i = 0; i < s.stages.size(); ++i)
      if (s.stages[i] == 0 && !((i == 0 || i + 1 == s.stages.size()) && m.vocab > 0))
        bad(s, "$.stages[" + std::to_string(i) + "]",
            "at least 1 layer (0 only for the first or last stage of a model with a vocabulary)", "0");
    if (static_cast<std::int64_t>(s.stages.size()) != vstages)
      bad(s, "$.stages", "one layer count per stage (pp x virtual_stages = " + str(vstages) + ")",
          str(static_cast<std::int64_t>(s.stages.size())) + " entries");
    std::int64_t sum = std::accumulate(s.stages.begin(), s.stages.end(), std::int64_t{0});
    if (sum != m.layers) bad(s, "$.stages", "layer counts summing to model.layers (" + str(m.layers) + ")", str(sum));
  }
  if (m.experts == 0) {
    if (m.top_k != 0) bad(s, "$.model.moe.top_k", "0 without experts", str(m.top_k));
    if (p.ep != 1) bad(s, "$.parallelism.ep", "1 without model.moe.experts", str(p.ep));
  } else {
    if (m.top_k < 1 || m.top_k > m.experts)
      bad(s, "$.model.moe.top_k", "between 1 and model.moe.experts (" + str(m.experts) + ")", str(m.top_k));
    if (m.experts % p.ep != 0)
      bad(s, "$.parallelism.ep", "a divisor of model.moe.experts (" + str(m.experts) + ")", str(p.ep));
    if (p.dp % p.ep != 0)  // expert parallelism is carved out of data parallelism
      bad(s, "$.parallelism.ep", "a divisor of parallelism.dp (" + str(p.dp) + ")", str(p.ep));
  }
  if (s.gpus == 1 && s.nodes != 1) bad(s, "$.nodes", "1 for a single GPU", str(s.nodes));
  for (std::size_t i = 0; i < s.stragglers.slow.size(); ++i)
    if (s.stragglers.slow[i].gpu >= s.gpus)
      bad(s, "$.stragglers.slow_gpus[" + std::to_string(i) + "].gpu", "a GPU below gpus (" + str(s.gpus) + ")",
          str(s.stragglers.slow[i].gpu));
  const auto& sg = s.simulation.slow_gpus;
  for (std::size_t i = 0; i < sg.size(); ++i) {  // a GPU that holds a rank (rank r on server r / gpn, GPU r % gpn)
    const std::string at = "$.simulation.slow_gpus[" + std::to_string(i) + "]";
    const std::int64_t servers = (s.gpus + gpn - 1) / gpn;
    if (sg[i].node >= servers)
      bad(s, at + ".node", "a server holding ranks, in [0, " + str(servers) + ")", str(sg[i].node));
    const std::int64_t on_node = std::min(gpn, s.gpus - sg[i].node * gpn);
    if (sg[i].gpu >= on_node)
      bad(s, at + ".gpu", "a GPU of server " + str(sg[i].node) + " holding a rank, in [0, " + str(on_node) + ")",
          str(sg[i].gpu));
    for (std::size_t k = 0; k < i; ++k)
      if (sg[k].node == sg[i].node && sg[k].gpu == sg[i].gpu)
        bad(s, at, "a GPU no earlier entry names", "node " + str(sg[i].node) + ", gpu " + str(sg[i].gpu) + " again");
  }
  if (s.train.tp_comm_overlap && (!p.sequence_parallel || s.train.framework != Framework::megatron))
    bad(s, "$.training.tp_comm_overlap",
        "false unless parallelism.sequence_parallel and framework megatron (as Megatron-Core requires)", "true");
}

std::vector<std::int64_t> stage_layers(const Scenario& s) {
  if (!s.stages.empty()) return s.stages;
  const std::int64_t n = s.par.pp * s.par.virtual_stages, L = s.model.layers;
  const std::int64_t base = (L + n - 1) / n;
  std::vector<std::int64_t> out(static_cast<std::size_t>(n), base);
  // The remainder is taken from the ends first (first, last, second, second to last, ...): the
  // end stages also hold the embedding and the output layer (as Llama 3 spread 126 layers over
  // 16 stages as 7 + 14 x 8 + 7).
  std::int64_t deficit = base * n - L;
  for (std::int64_t i = 0; deficit > 0; ++i) {
    std::int64_t k = i / 2, idx = (i % 2 == 0) ? k : n - 1 - k;
    if (k >= n) {
      i = -1;
      continue;
    }
    if (out[static_cast<std::size_t>(idx)] > 1) {
      --out[static_cast<std::size_t>(idx)];
      --deficit;
    }
  }
  return out;
}

}  // namespace knee
