#include "calibrate/raw.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

namespace knee {

Reps Reps::of(std::vector<double> times) {
  Reps r;
  r.summary = summarize(times);
  r.times_s = std::move(times);
  return r;
}

namespace {

std::vector<double> positive_array(JsonObject& o, const std::string& key) {
  JsonArray a = o.array(key);
  if (a.empty()) a.fail_here("a non-empty array of times in seconds");
  std::vector<double> v(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) v[i] = a.positive(i);
  return v;
}

// The summary keys the PyTorch script writes next to (or instead of) the repetitions. With
// repetitions the summary is recomputed from them; without, the median is kept and [p10, p90]
// stands in for the CI (wider than the order-statistic interval of the median: conservative).
Reps summary_reps(JsonObject& o, bool has_times) {
  Reps r;
  if (has_times) r = Reps::of(positive_array(o, "times_s"));
  const double med = o.positive("median_s");
  o.positive("min_s");
  o.positive("max_s");
  const double p10 = o.positive("p10_s"), p90 = o.positive("p90_s");
  // "n" is the repetition count in this format (it overwrote the GEMM's n dimension; see
  // calibrate/data/h200-2026-11-27/PROVENANCE.md).
  const std::int64_t n = o.integer("n", 1);
  if (has_times) {
    if (n != static_cast<std::int64_t>(r.times_s.size()))
      o.fail("n", "the number of entries in times_s (" + std::to_string(r.times_s.size()) + ")");
    return r;
  }
  if (p10 > med || med > p90) o.fail("median_s", "a value between p10_s and p90_s");
  r.summary.median = med;
  r.summary.ci_lo = p10;
  r.summary.ci_hi = p90;
  r.summary.reps = static_cast<int>(n);
  r.summary.ci_method = "p10-p90 (repetitions not kept; wider than the CI of the median)";
  return r;
}

std::string csv_field(const std::string& csv, int index) {
  std::istringstream in(csv);
  std::string line, header, values;
  std::getline(in, header);
  std::getline(in, values);
  std::istringstream vs(values);
  std::string f;
  for (int i = 0; std::getline(vs, f, ','); ++i)
    if (i == index) {
      auto b = f.find_first_not_of(' ');
      return b == std::string::npos ? "" : f.substr(b);
    }
  return "";
}

double leading_number(const std::string& s) {
  try {
    return std::stod(s);
  } catch (...) { return 0; }
}

void read_torch_env(JsonObject env, RawRun& run) {
  OrderedJson& m = run.manifest;
  m["gpu_name"] = env.string("name");
  m["gpu_count"] = 1;
  m["capability"] = env.string("capability");
  m["sm_count"] = env.integer("sm_count", 1);
  m["cuda"] = env.string("cuda");
  m["torch"] = env.string("torch");
  m["python"] = env.string("python");
  m["platform"] = env.string("platform");
  m["cudnn"] = env.integer("cudnn", 0);
  m["date"] = env.string("date_utc");
  env.one_of("device", {"cuda"});
  run.capacity_bytes = static_cast<double>(env.integer("total_mem_bytes", 1));
  run.l2_bytes = static_cast<double>(env.integer_or("l2_bytes", 0, 0));
  if (env.has("nvidia_smi_error")) m["nvidia_smi_error"] = env.string("nvidia_smi_error");
  if (env.has("nvidia_smi_query")) {
    // name, driver, sm clock, sm max, mem clock, mem max, power limit, power draw, temp, pcie gen, width
    const std::string q = env.string("nvidia_smi_query");
    m["driver"] = csv_field(q, 1);
    m["clocks"] = {{"sm_max_MHz", leading_number(csv_field(q, 3))}, {"mem_max_MHz", leading_number(csv_field(q, 5))}};
    run.power_limit_W = leading_number(csv_field(q, 6));
    m["power_limit_W"] = run.power_limit_W;
    m["pcie"] = "gen " + csv_field(q, 9) + " x" + csv_field(q, 10);
  }
  env.finish();
}

std::string torch_dtype(JsonObject& c) {
  std::string d = c.one_of("dtype", {"bf16", "fp16", "fp32", "fp8_e4m3"});
  bool tf32 = c.boolean_or("tf32", true);
  if (d == "fp8_e4m3") return "fp8";
  if (d == "fp32") return tf32 ? "tf32" : "fp32";
  return d;
}

void read_torch_gemm(JsonArray arr, RawRun& run) {
  for (std::size_t i = 0; i < arr.size(); ++i) {
    JsonObject c = arr.object(i);
    if (c.has("error")) {  // the script records a failed case and stops that sweep
      run.manifest["errors"].push_back("gemm: " + c.string("error"));
      c.ignore("dtype");
      c.ignore("n");
      c.finish();
      continue;
    }
    GemmCase g;
    g.m = c.integer("m", 1);
    g.k = c.integer("k", 1);
    const double flops = c.positive("flops");
    // The n dimension is recovered from flops = 2 m n k ("n" holds the repetition count).
    const double n = flops / (2.0 * static_cast<double>(g.m) * static_cast<double>(g.k));
    if (n < 1 || n != std::floor(n)) c.fail("flops", "2*m*n*k for a whole n >= 1");
    g.n = static_cast<std::int64_t>(n);
    g.dtype = torch_dtype(c);
    c.integer("inner", 1);
    g.r = summary_reps(c, c.has("times_s"));
    c.positive("tflops_median");
    if (c.has("layer")) {
      g.label =
          c.one_of("layer", {"qkv", "proj", "fc1", "fc2"}) + "." + c.one_of("role", {"fwd", "bwd_data", "bwd_weight"}) +
          " hidden=" + std::to_string(c.integer("hidden", 1)) + " tokens=" + std::to_string(c.integer("tokens", 1));
    } else {
      g.label = "square";
    }
    c.finish();
    run.gemm.push_back(std::move(g));
  }
}

void read_torch_memory(JsonArray arr, RawRun& run) {
  for (std::size_t i = 0; i < arr.size(); ++i) {
    JsonObject c = arr.object(i);
    std::string op = c.one_of("op", {"d2d_copy", "add", "gelu_4h", "layernorm", "softmax", "dropout_add"});
    SizeCase s;
    c.integer("inner", 1);
    s.r = summary_reps(c, true);
    if (op == "d2d_copy") {
      const std::int64_t b = c.integer("bytes", 1);
      s.bytes = static_cast<double>(c.integer("bytes_moved", 1));
      if (s.bytes != 2.0 * static_cast<double>(b)) c.fail("bytes_moved", "2 * bytes (read + write)");
      c.positive("gbps_moved_median");
      run.copy.push_back(std::move(s));
    } else {
      c.integer("tokens", 1);
      c.integer("hidden", 1);
      c.one_of("dtype", {"bf16"});
      s.bytes = static_cast<double>(c.integer("bytes_moved_min", 1));
      c.positive("gbps_effective_median");
      run.ops[op == "gelu_4h" ? "gelu" : op].push_back(std::move(s));
    }
    c.finish();
  }
}

void read_torch_launch(JsonObject l, RawRun& run) {
  run.host_launch = Reps::of({l.positive("host_launch_throughput_s_per_kernel")});
  run.host_launch.summary.ci_method = "single measurement (20000 back-to-back launches)";
  run.tiny_kernel = Reps::of(positive_array(l, "tiny_kernel_event_times_s"));
  // The summary keys repeat tiny_kernel_event_times_s; read them so typos still fail.
  for (const char* k : {"median_s", "min_s", "max_s", "p10_s", "p90_s"}) l.positive(k);
  l.integer("n", 1);
  if (l.has("graph_100_tiny_kernels")) {
    JsonObject g = l.object("graph_100_tiny_kernels");
    Reps r = summary_reps(g, false);
    g.finish();
    r.summary.median /= 100;  // one graph holds 100 kernels
    r.summary.ci_lo /= 100;
    r.summary.ci_hi /= 100;
    run.graph_per_kernel = r;
  }
  l.finish();
}

void read_torch_attention(JsonArray arr, RawRun& run) {
  for (std::size_t i = 0; i < arr.size(); ++i) {
    JsonObject c = arr.object(i);
    AttentionCase a;
    a.batch = static_cast<int>(c.integer("batch", 1, 1 << 30));
    a.heads = static_cast<int>(c.integer("heads", 1, 1 << 30));
    a.seq = static_cast<int>(c.integer("seq", 1, 1 << 30));
    a.head_dim = static_cast<int>(c.integer("head_dim", 1, 1 << 20));
    a.causal = c.boolean("causal");
    c.one_of("dtype", {"bf16"});
    c.positive("flops_fwd");
    JsonObject f = c.object("fwd");
    a.fwd = summary_reps(f, false);
    f.finish();
    JsonObject fb = c.object("fwd_bwd");
    a.fwd_bwd = summary_reps(fb, false);
    fb.finish();
    c.positive("tflops_fwd_median");
    c.positive("tflops_fwd_bwd_median");
    c.finish();
    run.attention.push_back(a);
  }
}

void read_torch_host_link(JsonArray arr, RawRun& run) {
  for (std::size_t i = 0; i < arr.size(); ++i) {
    JsonObject c = arr.object(i);
    std::string dir = c.one_of("direction", {"h2d", "d2h"});
    bool pinned = c.boolean("pinned");
    SizeCase s;
    s.bytes = static_cast<double>(c.integer("bytes", 1));
    c.integer("inner", 1);
    s.r = summary_reps(c, true);
    c.positive("gbps_median");
    c.finish();
    run.links[std::string("host_") + (pinned ? "pinned_" : "pageable_") + dir].push_back(std::move(s));
  }
}

void read_torch_power(JsonObject p, RawRun& run) {
  if (p.has("error")) {
    run.manifest["errors"].push_back("power: " + p.string("error"));
    p.finish();
    return;
  }
  JsonArray s = p.array("samples");
  for (std::size_t i = 0; i < s.size(); ++i) {
    JsonObject o = s.object(i);
    PowerSample ps;
    ps.t_s = o.number("t");
    std::string ph = o.one_of("phase", {"idle", "gemm_bf16_8192", "copy_2GiB", "idle_after"});
    ps.phase = ph == "gemm_bf16_8192" ? "compute" : ph == "copy_2GiB" ? "memory" : ph;
    std::string raw = o.string("raw");  // "W, sm MHz, mem MHz, C, %"
    char* end = nullptr;
    ps.watts = std::strtod(raw.c_str(), &end);
    if (end == raw.c_str() || !(ps.watts > 0) || !std::isfinite(ps.watts))
      o.fail("raw", "a CSV line starting with the power draw in W");
    o.finish();
    run.power.push_back(ps);
  }
  run.power_gemm_tflops = p.positive("gemm_tflops_during");
  run.power_copy_Bps = p.positive("copy_gbps_moved_during") * 1e9;
  p.string("columns");
  p.finish();
}

RawRun read_torch_micro(const Json& j, const std::string& source) {
  RawRun run;
  run.source = source;
  run.format = "torch-micro";
  JsonObject root = JsonObject::root(j, source);
  read_torch_env(root.object("env"), run);
  read_torch_gemm(root.array("gemm"), run);
  if (root.has("gemm_noise")) {
    JsonObject g = root.object("gemm_noise");
    GemmCase c;
    c.m = g.integer("m", 1);
    c.k = g.integer("k", 1);
    c.dtype = g.one_of("dtype", {"bf16"});
    c.label = "noise";
    c.r = Reps::of(positive_array(g, "times_s"));
    // As in the gemm cases, the summary's "n" (the repetition count) overwrote the dimension;
    // the script times a square GEMM, so n = m.
    if (g.integer("n", 1) != static_cast<std::int64_t>(c.r.times_s.size()))
      g.fail("n", "the number of entries in times_s");
    c.n = c.m;
    for (const char* k : {"median_s", "min_s", "max_s", "p10_s", "p90_s"}) g.positive(k);
    g.finish();
    run.noise = c;
    run.manifest["gemm_noise"] = {{"m", c.m},
                                  {"n", c.n},
                                  {"k", c.k},
                                  {"dtype", c.dtype},
                                  {"reps", c.r.summary.reps},
                                  {"median_s", c.r.summary.median},
                                  {"ci95_s", {c.r.summary.ci_lo, c.r.summary.ci_hi}},
                                  {"outliers", c.r.summary.outliers}};
  }
  if (root.has("memory")) read_torch_memory(root.array("memory"), run);
  if (root.has("launch")) read_torch_launch(root.object("launch"), run);
  if (root.has("attention")) read_torch_attention(root.array("attention"), run);
  if (root.has("host_link")) read_torch_host_link(root.array("host_link"), run);
  if (root.has("power")) read_torch_power(root.object("power"), run);
  if (root.has("errors")) {
    JsonArray e = root.array("errors");
    for (std::size_t i = 0; i < e.size(); ++i) run.manifest["errors"].push_back(e.string(i));
  }
  run.manifest["measurement_elapsed_s"] = root.positive("elapsed_s");
  run.manifest["method"] = "PyTorch eager, CUDA events around each repetition, warm-up excluded, ~0.1-0.25 s per case";
  root.finish();
  return run;
}

// ---- knee-raw/1 --------------------------------------------------------------------------------
std::vector<SizeCase> read_size_cases(JsonArray a, const std::string& size_key) {
  std::vector<SizeCase> out;
  for (std::size_t i = 0; i < a.size(); ++i) {
    JsonObject c = a.object(i);
    SizeCase s;
    s.bytes = c.positive(size_key);
    s.r = Reps::of(positive_array(c, "times_s"));
    c.finish();
    out.push_back(std::move(s));
  }
  return out;
}

// The "interference" section (optional; the CUDA backend's communication-beside-compute
// measurement). Every field is required and checked: the fitter divides by these.
InterferenceRun read_interference(JsonObject o) {
  InterferenceRun r;
  r.sm_count = static_cast<int>(o.integer("sm_count", 2, 1 << 20));
  r.side_threads = static_cast<int>(o.integer("side_threads", 32, 1024));
  r.side_buffer_bytes = o.positive("side_buffer_bytes");
  JsonObject g = o.object("gemm");
  r.gemm_m = g.integer("m", 1);
  r.gemm_n = g.integer("n", 1);
  r.gemm_k = g.integer("k", 1);
  r.gemm_dtype = g.one_of("dtype", {"bf16", "fp16", "fp8", "tf32", "fp32", "fp64"});
  g.finish();
  JsonObject c = o.object("copy");
  r.copy_kernel = c.one_of("kernel", {"add", "copy"});
  r.copy_bytes_moved = c.positive("bytes_moved");
  c.finish();
  JsonArray a = o.array("cases");
  if (a.empty()) a.fail_here("at least one case (side_ctas and its timings)");
  for (std::size_t i = 0; i < a.size(); ++i) {
    JsonObject e = a.object(i);
    InterferenceCase k;
    k.side_ctas = static_cast<int>(e.integer("side_ctas", 1, r.sm_count - 1));  // fewer than every SM
    k.distinct_sms = static_cast<int>(e.integer("distinct_sms", 1, k.side_ctas));
    k.gemm_alone = Reps::of(positive_array(e, "gemm_alone_s"));
    k.gemm_beside = Reps::of(positive_array(e, "gemm_beside_s"));
    k.copy_alone = Reps::of(positive_array(e, "copy_alone_s"));
    k.copy_beside = Reps::of(positive_array(e, "copy_beside_s"));
    k.side_alone_Bps = Reps::of(positive_array(e, "side_alone_Bps"));
    k.side_beside_gemm_Bps = Reps::of(positive_array(e, "side_beside_gemm_Bps"));
    k.side_beside_copy_Bps = Reps::of(positive_array(e, "side_beside_copy_Bps"));
    e.finish();
    r.cases.push_back(std::move(k));
  }
  o.finish();
  return r;
}

RawRun read_knee_raw(const Json& j, const std::string& source) {
  RawRun run;
  run.source = source;
  JsonObject root = JsonObject::root(j, source);
  run.format = root.one_of("format", {"knee-raw/1"});
  const Json& man = root.raw("manifest");
  if (!man.is_object()) root.fail("manifest", "an object");
  for (auto it = man.begin(); it != man.end(); ++it) run.manifest[it.key()] = it.value();
  JsonObject dev = root.object("device");
  run.device_kind = dev.one_of("kind", {"gpu", "cpu"});
  run.capacity_bytes = dev.non_negative_or("capacity_bytes", 0);
  run.l2_bytes = dev.non_negative_or("l2_bytes", 0);
  run.power_limit_W = dev.non_negative_or("power_limit_W", 0);
  dev.finish();
  if (root.has("gemm")) {
    JsonArray a = root.array("gemm");
    for (std::size_t i = 0; i < a.size(); ++i) {
      JsonObject c = a.object(i);
      GemmCase g;
      g.m = c.integer("m", 1);
      g.n = c.integer("n", 1);
      g.k = c.integer("k", 1);
      g.batch = c.integer_or("batch", 1, 1);
      g.dtype = c.one_of("dtype", {"bf16", "fp16", "fp8", "tf32", "fp32", "fp64"});
      g.label = c.string_or("label", "square");
      g.r = Reps::of(positive_array(c, "times_s"));
      c.finish();
      run.gemm.push_back(std::move(g));
    }
  }
  for (const char* key : {"attention", "attention_unfused"}) {
    if (!root.has(key)) continue;
    const bool fused = std::string(key) == "attention";
    JsonArray a = root.array(key);
    for (std::size_t i = 0; i < a.size(); ++i) {
      JsonObject c = a.object(i);
      AttentionCase at;
      at.batch = static_cast<int>(c.integer("batch", 1, 1 << 30));
      at.heads = static_cast<int>(c.integer("heads", 1, 1 << 30));
      at.seq = static_cast<int>(c.integer("seq", 1, 1 << 30));
      at.head_dim = static_cast<int>(c.integer("head_dim", 1, 1 << 20));
      at.causal = c.boolean("causal");
      at.fwd = Reps::of(positive_array(c, "fwd_times_s"));
      if (fused) at.fwd_bwd = Reps::of(positive_array(c, "fwd_bwd_times_s"));
      c.finish();
      (fused ? run.attention : run.attention_unfused).push_back(std::move(at));
    }
  }
  if (root.has("copy")) run.copy = read_size_cases(root.array("copy"), "bytes_moved");
  for (const char* sec : {"ops", "links"}) {
    if (!root.has(sec)) continue;
    JsonObject o = root.object(sec);
    const Json& raw = root.raw(sec);
    for (auto it = raw.begin(); it != raw.end(); ++it) {
      auto cases = read_size_cases(o.array(it.key()), std::string(sec) == "ops" ? "bytes_moved" : "bytes");
      (std::string(sec) == "ops" ? run.ops : run.links)[it.key()] = std::move(cases);
    }
    o.finish();
  }
  if (root.has("link_notes")) {
    JsonObject o = root.object("link_notes");
    const Json& raw = root.raw("link_notes");
    for (auto it = raw.begin(); it != raw.end(); ++it) run.link_notes[it.key()] = o.string(it.key());
    o.finish();
  }
  if (root.has("launch")) {
    JsonObject l = root.object("launch");
    if (l.has("host_launch_s")) run.host_launch = Reps::of(positive_array(l, "host_launch_s"));
    if (l.has("tiny_kernel_s")) run.tiny_kernel = Reps::of(positive_array(l, "tiny_kernel_s"));
    if (l.has("graph_per_kernel_s")) run.graph_per_kernel = Reps::of(positive_array(l, "graph_per_kernel_s"));
    l.finish();
  }
  if (root.has("gemm_noise")) {  // optional: later than the first knee-raw/1 files
    JsonObject c = root.object("gemm_noise");
    GemmCase& g = run.noise;
    g.m = c.integer("m", 1);
    g.n = c.integer("n", 1);
    g.k = c.integer("k", 1);
    g.dtype = c.one_of("dtype", {"bf16", "fp16", "fp8", "tf32", "fp32", "fp64"});
    g.label = "noise";
    g.r = Reps::of(positive_array(c, "times_s"));
    if (g.r.times_s.size() < 20) c.fail("times_s", "at least 20 repetitions in order");
    c.finish();
  }
  if (root.has("power")) {
    JsonObject p = root.object("power");
    JsonArray s = p.array("samples");
    for (std::size_t i = 0; i < s.size(); ++i) {
      JsonObject o = s.object(i);
      run.power.push_back(
          {o.number("t_s"), o.one_of("phase", {"idle", "compute", "memory", "idle_after"}), o.positive("W")});
      o.finish();
    }
    run.power_gemm_tflops = p.positive("gemm_tflops_during");
    run.power_copy_Bps = p.positive("copy_Bps_during");
    p.finish();
  }
  if (root.has("interference")) run.interference = read_interference(root.object("interference"));
  root.finish();
  return run;
}

OrderedJson size_cases_json(const std::vector<SizeCase>& v, const char* key) {
  OrderedJson a = OrderedJson::array();
  for (const auto& s : v) a.push_back({{key, s.bytes}, {"times_s", s.r.times_s}});
  return a;
}

}  // namespace

RawRun read_raw_json(const Json& j, const std::string& source) {
  if (j.is_object() && j.contains("format")) return read_knee_raw(j, source);
  if (j.is_object() && j.contains("env") && j.contains("gemm")) return read_torch_micro(j, source);
  throw_input_error(source, "$",
                    "a raw calibration file (knee-raw/1 with \"format\", or the PyTorch "
                    "microbenchmark format with \"env\" and \"gemm\")",
                    describe_json(j));
}

RawRun read_raw_file(const std::string& path) { return read_raw_json(parse_json_file(path), path); }

double op_bytes_min(const std::string& op, std::int64_t tokens, std::int64_t hidden) {
  if (tokens < 1 || hidden < 1) throw InputError("op_bytes_min: tokens, hidden: expected integers >= 1");
  const double x = 2.0 * static_cast<double>(tokens) * static_cast<double>(hidden);  // one bf16 tensor
  if (op == "add") return 3 * x;
  if (op == "gelu") return 8 * x;
  if (op == "layernorm" || op == "softmax") return 2 * x;
  if (op == "dropout_add") return 4 * x;
  throw InputError("op_bytes_min: op: expected add, gelu, layernorm, softmax or dropout_add, got '" + op + "'");
}

OrderedJson raw_to_json(const RawRun& run) {
  OrderedJson j;
  j["format"] = "knee-raw/1";
  j["manifest"] = run.manifest;
  j["device"] = {{"kind", run.device_kind},
                 {"capacity_bytes", run.capacity_bytes},
                 {"l2_bytes", run.l2_bytes},
                 {"power_limit_W", run.power_limit_W}};
  OrderedJson g = OrderedJson::array();
  for (const auto& c : run.gemm) {
    OrderedJson e = {{"m", c.m}, {"n", c.n}, {"k", c.k}};
    if (c.batch > 1) e["batch"] = c.batch;
    e["dtype"] = c.dtype;
    e["label"] = c.label;
    e["times_s"] = c.r.times_s;
    g.push_back(e);
  }
  j["gemm"] = g;
  auto attention_json = [](const std::vector<AttentionCase>& v, bool fused) {
    OrderedJson a = OrderedJson::array();
    for (const auto& c : v) {
      OrderedJson e = {{"batch", c.batch},       {"heads", c.heads},   {"seq", c.seq},
                       {"head_dim", c.head_dim}, {"causal", c.causal}, {"fwd_times_s", c.fwd.times_s}};
      if (fused) e["fwd_bwd_times_s"] = c.fwd_bwd.times_s;
      a.push_back(e);
    }
    return a;
  };
  // Only cases with every repetition kept: summaries (the PyTorch import) have none to write.
  if (!run.attention.empty() && !run.attention[0].fwd.times_s.empty())
    j["attention"] = attention_json(run.attention, true);
  if (!run.attention_unfused.empty()) j["attention_unfused"] = attention_json(run.attention_unfused, false);
  j["copy"] = size_cases_json(run.copy, "bytes_moved");
  j["ops"] = OrderedJson::object();
  for (const auto& [k, v] : run.ops) j["ops"][k] = size_cases_json(v, "bytes_moved");
  j["links"] = OrderedJson::object();
  for (const auto& [k, v] : run.links) j["links"][k] = size_cases_json(v, "bytes");
  if (!run.link_notes.empty()) j["link_notes"] = run.link_notes;
  OrderedJson l = OrderedJson::object();
  if (!run.host_launch.times_s.empty()) l["host_launch_s"] = run.host_launch.times_s;
  if (!run.tiny_kernel.times_s.empty()) l["tiny_kernel_s"] = run.tiny_kernel.times_s;
  if (!run.graph_per_kernel.times_s.empty()) l["graph_per_kernel_s"] = run.graph_per_kernel.times_s;
  j["launch"] = l;
  if (run.noise.m > 0)
    j["gemm_noise"] = {{"m", run.noise.m},
                       {"n", run.noise.n},
                       {"k", run.noise.k},
                       {"dtype", run.noise.dtype},
                       {"times_s", run.noise.r.times_s}};
  if (!run.power.empty()) {
    OrderedJson s = OrderedJson::array();
    for (const auto& p : run.power) s.push_back({{"t_s", p.t_s}, {"phase", p.phase}, {"W", p.watts}});
    j["power"] = {
        {"samples", s}, {"gemm_tflops_during", run.power_gemm_tflops}, {"copy_Bps_during", run.power_copy_Bps}};
  }
  if (run.interference.sm_count > 0) {
    const InterferenceRun& r = run.interference;
    OrderedJson cases = OrderedJson::array();
    for (const auto& c : r.cases)
      cases.push_back({{"side_ctas", c.side_ctas},
                       {"distinct_sms", c.distinct_sms},
                       {"gemm_alone_s", c.gemm_alone.times_s},
                       {"gemm_beside_s", c.gemm_beside.times_s},
                       {"copy_alone_s", c.copy_alone.times_s},
                       {"copy_beside_s", c.copy_beside.times_s},
                       {"side_alone_Bps", c.side_alone_Bps.times_s},
                       {"side_beside_gemm_Bps", c.side_beside_gemm_Bps.times_s},
                       {"side_beside_copy_Bps", c.side_beside_copy_Bps.times_s}});
    j["interference"] = {{"sm_count", r.sm_count},
                         {"side_threads", r.side_threads},
                         {"side_buffer_bytes", r.side_buffer_bytes},
                         {"gemm", {{"m", r.gemm_m}, {"n", r.gemm_n}, {"k", r.gemm_k}, {"dtype", r.gemm_dtype}}},
                         {"copy", {{"kernel", r.copy_kernel}, {"bytes_moved", r.copy_bytes_moved}}},
                         {"cases", cases}};
  }
  return j;
}

bool looks_like_nccl_tests(const std::string& text) {
  return text.find("out-of-place") != std::string::npos && text.find("busbw") != std::string::npos;
}

void import_nccl_tests(const std::string& text, const std::string& source, const std::string& cls, RawRun& into) {
  if (!looks_like_nccl_tests(text))
    throw InputError(source +
                     ": expected nccl-tests output (a table with out-of-place and busbw "
                     "columns), got something else");
  std::istringstream in(text);
  std::string line, op = "unknown";
  struct Row {
    double size, t_oop, t_ip;
  };
  std::vector<Row> rows;
  std::vector<double> factors;  // busbw / algbw: constant per collective (2(n-1)/n for all-reduce)
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (auto p = line.find("Collective test starting: "); p != std::string::npos) op = line.substr(p + 26);
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::vector<std::string> tok;
    for (std::string t; ls >> t;) tok.push_back(t);
    if (tok.empty()) continue;
    // size count type redop root | time algbw busbw #wrong | time algbw busbw #wrong
    if (tok.size() != 13)
      throw InputError(source + ": line " + std::to_string(lineno) +
                       ": expected 13 columns (size count type redop root, then time algbw busbw "
                       "#wrong out-of-place and in-place), got " +
                       std::to_string(tok.size()));
    auto num = [&](int i, const char* what) {
      char* end = nullptr;
      double v = std::strtod(tok[i].c_str(), &end);
      if (*end || !std::isfinite(v) || v < 0)
        throw InputError(source + ": line " + std::to_string(lineno) + ": column " + std::to_string(i + 1) + " (" +
                         what + "): expected a number >= 0, got '" + tok[i] + "'");
      return v;
    };
    const double size = num(0, "size");
    const double t_oop = num(5, "time") * 1e-6, algbw = num(6, "algbw"), busbw = num(7, "busbw");
    const double t_ip = num(9, "time") * 1e-6;
    if (algbw >= 1) factors.push_back(busbw / algbw);    // two decimals: only large values are exact enough
    if (size <= 0 || t_oop <= 0 || t_ip <= 0) continue;  // 0-byte rows carry no information
    rows.push_back({size, t_oop, t_ip});
  }
  if (rows.size() < 2)
    throw InputError(source + ": expected at least 2 rows of results in the nccl-tests table, got " +
                     std::to_string(rows.size()));
  const double factor = factors.empty() ? 1.0 : median_of(factors);
  std::vector<SizeCase> cases;
  for (const auto& r : rows) cases.push_back({r.size * factor, Reps::of({r.t_oop, r.t_ip})});
  auto& dst = into.links[cls];
  dst.insert(dst.end(), cases.begin(), cases.end());
  into.link_notes[cls] = "fitted from nccl-tests " + op + " output (" + source +
                         "): bytes are bus bytes (size * busbw/algbw), alpha is the collective's latency";
}

}  // namespace knee
