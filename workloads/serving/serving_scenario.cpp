// Strict reading of a serving scenario and the checks that need the whole of it.
#include "workloads/serving/serving_scenario.hpp"

#include <algorithm>

#include "common/json_reader.hpp"
#include "workloads/serving/requests.hpp"

namespace knee::serving {
namespace {

std::string str(std::int64_t v) { return std::to_string(v); }

// A length: a bare integer (fixed) or {"kind": "fixed"|"uniform"|"lognormal"|"geometric"|"fitted", ...}.
LengthSpec parse_length(JsonObject& parent, const std::string& key, std::int64_t seq_len) {
  LengthSpec L;
  L.max = seq_len;
  const Json& raw = parent.raw(key);
  if (raw.is_number_integer()) {
    if (raw.get<std::int64_t>() < 1 || raw.get<std::int64_t>() > seq_len)
      parent.fail(key, "a token count between 1 and model.seq_len (" + str(seq_len) + ")");
    L.mean = double(raw.get<std::int64_t>());
    return L;
  }
  if (!raw.is_object())
    parent.fail(key,
                "a token count or an object {\"kind\": \"fixed\" | \"uniform\" | \"lognormal\" | \"geometric\" | "
                "\"fitted\", ...}");
  JsonObject o(raw, parent.source(), parent.path_of(key));
  const std::string kind = o.one_of("kind", {"fixed", "uniform", "lognormal", "geometric", "fitted"});
  if (kind == "fitted") {
    // The trace's column of the same name: its lognormal fit or its values (requests.cpp).
    const std::string file = o.string("file");
    const bool lognormal = o.one_of("family", {"lognormal", "empirical"}) == "lognormal";
    L = fit_lengths(file, parent.source(), key, lognormal, seq_len, parent.source() + ": " + o.path_of("file"));
  } else if (kind == "fixed") {
    L.mean = double(o.integer("value", 1, seq_len));
  } else if (kind == "uniform") {
    L.kind = LengthKind::uniform;
    L.min = o.integer("min", 1, seq_len);
    L.max = o.integer("max", L.min, seq_len);
    L.mean = 0.5 * double(L.min + L.max);
  } else if (kind == "geometric") {
    // P(n) = p (1 - p)^(n - 1), n >= 1, p = 1 / mean (requests.cpp draws it).
    L.kind = LengthKind::geometric;
    L.mean = o.number("mean");
    if (!(L.mean >= 1)) o.fail("mean", "a mean of at least 1 token (p = 1 / mean)");
    L.min = o.integer_or("min", 1, 1, seq_len);
    L.max = o.integer_or("max", seq_len, L.min, seq_len);
    if (L.mean < double(L.min) || L.mean > double(L.max)) o.fail("mean", "a mean within [min, max]");
  } else {
    L.kind = LengthKind::lognormal;
    L.mean = o.positive("mean");
    L.cv = o.positive("cv");
    L.min = o.integer_or("min", 1, 1, seq_len);
    L.max = o.integer_or("max", seq_len, L.min, seq_len);
    if (L.mean < double(L.min) || L.mean > double(L.max)) o.fail("mean", "a mean within [min, max]");
  }
  o.finish();
  return L;
}

void parse_arrivals(JsonObject& sv, ServingSpec& S) {
  JsonObject a = sv.object("arrivals");
  const std::string kind = a.one_of("kind", {"poisson", "gamma", "on_off", "trace"});
  S.arrivals.fanout = a.integer_or("fanout", 1, 1, 1 << 20);
  if (kind == "trace") {
    S.arrivals.kind = ArrivalKind::trace;
    S.arrivals.file = a.string("file");
    if (S.arrivals.fanout != 1) a.fail("fanout", "1 with a trace (its rows are the requests)");
  } else if (kind == "on_off") {
    S.arrivals.kind = ArrivalKind::on_off;
    S.arrivals.rate_per_s = a.positive("rate_per_s");
    S.arrivals.on_s = a.positive("on_s");
    S.arrivals.off_s = a.positive("off_s");
  } else {
    S.arrivals.kind = kind == "poisson" ? ArrivalKind::poisson : ArrivalKind::gamma;
    S.arrivals.rate_per_s = a.positive("rate_per_s");
    if (kind == "gamma") S.arrivals.cv = a.positive("cv");
  }
  a.finish();
}

void parse_layout(JsonObject& sv, const ServingScenario& s, ServingSpec& S) {
  S.tp = sv.integer_or("tp", 1, 1, 1 << 10);
  S.pp = sv.integer_or("pp", 1, 1, 1 << 10);
  if (S.pp != 1) sv.fail("pp", "1 (pipeline-parallel serving is not simulated yet)");
  const std::int64_t gpn = s.cluster.system.gpus_per_node;
  // TP groups live inside one server, as vLLM places them (over NVLink).
  if (S.tp > gpn || gpn % S.tp != 0)
    sv.fail("tp", "a divisor of the GPUs per server (" + str(gpn) + "): a TP group lives in one server");
  if (sv.has("disaggregated")) {
    if (sv.has("replicas")) sv.fail("replicas", "no replicas with disaggregated (its pools give them)");
    JsonObject d = sv.object("disaggregated");
    S.prefill_replicas = d.integer("prefill_replicas", 1, 1 << 20);
    S.decode_replicas = d.integer("decode_replicas", 1, 1 << 20);
    d.finish();
    S.replicas = S.prefill_replicas + S.decode_replicas;
  } else {
    S.replicas = sv.integer_or("replicas", std::max<std::int64_t>(1, s.cluster.gpus / S.tp), 1, 1 << 20);
  }
  if (S.replicas * S.tp > s.cluster.gpus)
    sv.fail(S.disaggregated() ? "disaggregated" : "replicas",
            "at most gpus / tp (" + str(s.cluster.gpus) + " / " + str(S.tp) + ") replicas");
  const ModelSpec& m = s.model;
  if (m.heads % S.tp != 0) sv.fail("tp", "a divisor of model.heads (" + str(m.heads) + ")");
  if (m.kv_heads % S.tp != 0) sv.fail("tp", "a divisor of model.kv_heads (" + str(m.kv_heads) + ")");
  if (m.ffn_hidden % S.tp != 0) sv.fail("tp", "a divisor of model.ffn_hidden (" + str(m.ffn_hidden) + ")");
}

void parse_batching(JsonObject& sv, ServingSpec& S) {
  if (sv.has("batching")) {
    JsonObject b = sv.object("batching");
    S.max_batch = b.integer_or("max_batch", 256, 1, 1 << 16);
    S.max_tokens_per_iter = b.integer_or("max_tokens_per_iter", 8192, 1, 1 << 22);
    S.chunked_prefill = b.boolean_or("chunked_prefill", true);
    // vLLM refuses a token budget below the batch: each running sequence needs one token a step.
    if (S.max_tokens_per_iter < S.max_batch)
      b.fail("max_tokens_per_iter", "at least max_batch (" + str(S.max_batch) + ") tokens");
    b.finish();
  }
  if (sv.has("kv_cache")) {
    JsonObject k = sv.object("kv_cache");
    S.block_tokens = k.integer_or("block_tokens", 16, 1, 1 << 12);
    S.gpu_memory_utilization = k.number_or("gpu_memory_utilization", 0.9);
    if (!(S.gpu_memory_utilization > 0 && S.gpu_memory_utilization <= 1))
      k.fail("gpu_memory_utilization", "a share of GPU memory in (0, 1]");
    S.num_blocks = k.integer_or("num_blocks", 0, 1, 1LL << 40);
    k.finish();
  }
}

void parse_slo(JsonObject& sv, ServingSpec& S) {
  if (sv.has("slo")) {
    JsonObject o = sv.object("slo");
    if (!o.has("ttft_s") && !o.has("tpot_s")) o.fail_here("ttft_s or tpot_s (or both), in seconds");
    S.slo_ttft_s = o.has("ttft_s") ? o.positive("ttft_s") : 0;
    S.slo_tpot_s = o.has("tpot_s") ? o.positive("tpot_s") : 0;
    o.finish();
  }
  if (sv.has("goodput")) {
    JsonObject g = sv.object("goodput");
    S.goodput_share = g.number_or("share", 0.9);
    if (!(S.goodput_share > 0 && S.goodput_share <= 1)) g.fail("share", "a share of requests in (0, 1]");
    S.goodput_runs = static_cast<int>(g.integer_or("runs", 8, 0, 64));
    g.finish();
  }
}

// As a training scenario's cost (workloads/training/scenario.cpp), less train_tokens.
void parse_cost(JsonObject& root, ServingCost& c) {
  if (!root.has("cost")) return;
  JsonObject o = root.object("cost");
  parse_cost_prices(o, c);
  if (o.has("train_tokens")) o.fail("train_tokens", "no train_tokens in a serving scenario (its tokens are served)");
  o.finish();
}

Profile load_profile(const ServingScenario& s, const std::string& name) {
  const bool path = name.find('/') != std::string::npos || name.find(".json") != std::string::npos;
  Profile p = path ? Profile::load(name) : Profile::builtin(name);
  if (p.measured_on_cpu())
    throw_input_error(s.source, "$.profile", "a profile measured on a GPU (a shipped one such as \"h200\")",
                      "'" + name + "', measured on a CPU");
  return p;
}

}  // namespace

bool is_serving_scenario(const nlohmann::json& j) { return j.is_object() && j.contains("serving"); }

ServingScenario parse_serving_scenario(const nlohmann::json& j, const std::string& source) {
  ServingScenario s;
  s.source = source;
  JsonObject root = JsonObject::root(j, source);
  s.cluster = parse_cluster_spec(root, j, source);
  s.model = parse_model_spec(root);
  if (s.model.experts > 0) root.fail("model", "a dense model (mixture-of-experts serving is not simulated yet)");
  if (s.model.hidden % s.model.heads != 0)
    throw_input_error(source, "$.model.hidden", "a multiple of model.heads (" + str(s.model.heads) + ")",
                      str(s.model.hidden));
  if (s.model.kv_heads > s.model.heads || s.model.heads % s.model.kv_heads != 0)
    throw_input_error(source, "$.model.kv_heads", "a divisor of model.heads (" + str(s.model.heads) + ")",
                      str(s.model.kv_heads));
  s.profile_name = root.string_or("profile", s.cluster.system.gpu_model);

  ServingSpec& S = s.serving;
  JsonObject sv = root.object("serving");
  parse_layout(sv, s, S);
  parse_batching(sv, S);
  parse_arrivals(sv, S);
  const bool trace = S.arrivals.kind == ArrivalKind::trace;
  if (sv.has("lengths")) {
    if (trace) sv.fail("lengths", "no lengths with a trace (its rows give prompt_tokens and output_tokens)");
    JsonObject l = sv.object("lengths");
    S.prompt = parse_length(l, "prompt_tokens", s.model.seq_len - 1);
    S.output = parse_length(l, "output_tokens", s.model.seq_len - 1);
    // vLLM refuses a request longer than max_model_len; drawn lengths are clipped to it instead.
    if (S.prompt.kind == LengthKind::fixed && S.output.kind == LengthKind::fixed &&
        S.prompt.mean + S.output.mean > double(s.model.seq_len))
      l.fail("output_tokens", "prompt_tokens + output_tokens <= model.seq_len (" + str(s.model.seq_len) + ")");
    l.finish();
  } else if (!trace) {
    sv.fail("lengths", "{\"prompt_tokens\": ..., \"output_tokens\": ...} (fixed counts or distributions)");
  }
  const std::string router = sv.one_of_or(
      "router", {"round_robin", "least_outstanding_tokens", "prefix_aware", "shared_queue"}, "round_robin");
  S.router = router == "round_robin"                ? RouterKind::round_robin
             : router == "least_outstanding_tokens" ? RouterKind::least_outstanding_tokens
             : router == "prefix_aware"             ? RouterKind::prefix_aware
                                                    : RouterKind::shared_queue;
  if (S.router == RouterKind::shared_queue) {
    S.max_ongoing = sv.integer_or("max_ongoing", S.max_batch, 1, 1 << 20);
    // One queue in front of co-located replicas; a disaggregated run has two pools to feed.
    if (S.disaggregated())
      sv.fail("router",
              "a router other than shared_queue with disaggregated (the shared queue feeds co-located "
              "replicas)");
  } else if (sv.has("max_ongoing")) {
    sv.fail("max_ongoing", "no max_ongoing with router " + router + " (it is the shared_queue router's)");
  }
  parse_slo(sv, S);
  S.requests = sv.integer_or("requests", 0, 1, 1LL << 31);
  if (S.requests % S.arrivals.fanout != 0)
    sv.fail("requests", "a multiple of arrivals.fanout (" + str(S.arrivals.fanout) + "): whole groups of calls");
  S.duration_s = sv.has("duration_s") ? sv.positive("duration_s") : 0;
  if (!trace && S.requests == 0 && S.duration_s == 0)
    sv.fail("requests", "requests (a count) or duration_s (seconds of arrivals)");
  S.seed = static_cast<std::uint64_t>(sv.integer_or("seed", 0, 0));
  S.cuda_graphs = sv.boolean_or("cuda_graphs", true);
  S.prefix_caching = sv.boolean_or("prefix_caching", false);
  // A disaggregated decode replica gets its KV cache over the fabric and prefills nothing.
  if (S.prefix_caching && S.disaggregated())
    sv.fail("prefix_caching", "false with disaggregated (prefix caching is simulated on co-located replicas)");
  S.preemption = sv.one_of_or("preemption", {"recompute", "swap"}, "recompute") == "swap" ? PreemptionMode::swap
                                                                                          : PreemptionMode::recompute;
  if (S.preemption == PreemptionMode::swap) {
    if (S.disaggregated())
      sv.fail("preemption", "\"recompute\" with disaggregated (swap is simulated on co-located replicas)");
    if (sv.has("swap_space_GiB")) {
      S.swap_space_GiB = sv.number("swap_space_GiB");
      if (!(S.swap_space_GiB >= 0 && S.swap_space_GiB <= 1 << 20))
        sv.fail("swap_space_GiB", "GiB of host memory per GPU, >= 0 (vLLM's --swap-space; default 4)");
    }
  } else if (sv.has("swap_space_GiB")) {
    sv.fail("swap_space_GiB", "no swap_space_GiB with preemption \"recompute\" (it is swap's host memory)");
  }
  sv.finish();
  parse_cost(root, s.cost);
  root.ignore("comment");
  root.ignore("name");
  root.finish();
  s.profile = load_profile(s, s.profile_name);
  if (s.cost.usd_per_kWh >= 0 && !s.profile.has_power())
    throw_input_error(source, "$.cost.usd_per_kWh",
                      "a profile with a power model (profile '" + s.profile.name() + "' has none)",
                      "an electricity price");
  // Swap copies KV blocks over the host link both ways (pinned host memory, as vLLM allocates its
  // swap space): the profile must have measured both directions (an InputError naming its field).
  if (S.preemption == PreemptionMode::swap) {
    (void)s.profile.link("host_pinned_d2h");
    (void)s.profile.link("host_pinned_h2d");
  }
  // A trace is read now, so a bad row is bad input of the scenario, before anything runs.
  if (trace) (void)make_requests(s, 1);
  return s;
}

ServingScenario load_serving_scenario(const std::string& path) {
  return parse_serving_scenario(parse_json_file(path), path);
}

const char* to_string(ArrivalKind k) {
  switch (k) {
    case ArrivalKind::poisson:
      return "poisson";
    case ArrivalKind::gamma:
      return "gamma";
    case ArrivalKind::on_off:
      return "on_off";
    case ArrivalKind::trace:
      return "trace";
  }
  return "";
}
const char* to_string(RouterKind k) {
  switch (k) {
    case RouterKind::round_robin:
      return "round_robin";
    case RouterKind::least_outstanding_tokens:
      return "least_outstanding_tokens";
    case RouterKind::prefix_aware:
      return "prefix_aware";
    case RouterKind::shared_queue:
      return "shared_queue";
  }
  return "";
}
const char* to_string(PreemptionMode m) { return m == PreemptionMode::swap ? "swap" : "recompute"; }

}  // namespace knee::serving
