// Which op a Kineto cpu_op is, and what the profile predicts for it from its shapes.
#include "metrics/kernel_classify.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <functional>
#include <sstream>

#include "common/error.hpp"

namespace knee {

namespace {

using Dims = std::vector<std::int64_t>;

std::string dims_text(const KinetoCpuOp& op) {
  std::ostringstream s;
  s << "[";
  for (std::size_t i = 0; i < op.dims.size(); ++i) {
    if (i) s << ", ";
    if (op.dims_is_list[i]) {
      s << "[...]";
      continue;
    }
    s << "[";
    for (std::size_t j = 0; j < op.dims[i].size(); ++j) s << (j ? ", " : "") << op.dims[i][j];
    s << "]";
  }
  s << "]";
  return s.str();
}

double numel(const Dims& d) {
  double n = 1;
  for (auto x : d) n *= static_cast<double>(x);
  return n;
}

// What classify_op needs of one op: its argument shapes and types, with the reasons it fails.
struct OpView {
  const KinetoCpuOp& op;
  std::string reason;
  bool has(std::size_t i) const { return i < op.dims.size() && !op.dims_is_list[i]; }
  const Dims& dims(std::size_t i) const { return op.dims[i]; }
  std::string type(std::size_t i) const { return i < op.types.size() ? op.types[i] : ""; }
  double elt(std::size_t i) const { return kineto_element_bytes(type(i)); }
  // A tensor argument's bytes (0 for a non-tensor or an absent argument).
  double bytes(std::size_t i) const { return has(i) ? numel(dims(i)) * elt(i) : 0; }
  bool tensor(std::size_t i) const { return has(i) && elt(i) > 0; }
};

KernelCall not_predicted(const KinetoCpuOp& op, const std::string& why) {
  KernelCall c;
  c.cls = KernelClass::not_predicted;
  c.op = op.name;
  c.shape = op.has_dims ? dims_text(op) : "";
  c.reason = why;
  return c;
}

std::int64_t prod_but_last(const Dims& d) {
  std::int64_t p = 1;
  for (std::size_t i = 0; i + 1 < d.size(); ++i) p *= d[i];
  return p;
}

// GEMM ops: which arguments are A and B and how their shapes give (batch, m, n, k).
struct GemmShape {
  std::int64_t batch = 1, m = 0, n = 0, k = 0;
  bool batched = false;
  std::string error;
};

GemmShape gemm_shape(const std::string& name, const OpView& v) {
  GemmShape g;
  auto need = [&](std::size_t a, std::size_t b) {
    if (!v.has(a) || !v.has(b))
      g.error = "Input Dims lack the matrices (arguments " + std::to_string(a) + ", " + std::to_string(b) + ")";
    return g.error.empty();
  };
  auto two_d = [&](const Dims& a, const Dims& b) {
    if (a.size() != 2 || b.size() != 2 || a[1] != b[0]) {
      g.error = "expected matrices [m, k] and [k, n]";
      return;
    }
    g.m = a[0], g.k = a[1], g.n = b[1];
  };
  auto three_d = [&](const Dims& a, const Dims& b) {
    if (a.size() != 3 || b.size() != 3 || a[0] != b[0] || a[2] != b[1]) {
      g.error = "expected batches [b, m, k] and [b, k, n]";
      return;
    }
    g.batched = true, g.batch = a[0], g.m = a[1], g.k = a[2], g.n = b[2];
  };
  if (name == "aten::mm") {
    if (need(0, 1)) two_d(v.dims(0), v.dims(1));
  } else if (name == "aten::addmm") {
    if (need(1, 2)) two_d(v.dims(1), v.dims(2));
  } else if (name == "aten::bmm") {
    if (need(0, 1)) three_d(v.dims(0), v.dims(1));
  } else if (name == "aten::baddbmm") {
    if (need(1, 2)) three_d(v.dims(1), v.dims(2));
  } else if (name == "aten::matmul") {
    if (!need(0, 1)) return g;
    const Dims &a = v.dims(0), &b = v.dims(1);
    if (a.size() >= 2 && b.size() == 2 && a.back() == b[0]) {
      g.m = prod_but_last(a), g.k = a.back(), g.n = b[1];
    } else if (a.size() == 3 && b.size() == 3) {
      three_d(a, b);
    } else {
      g.error = "expected [..., m, k] x [k, n] or [b, m, k] x [b, k, n]";
    }
  } else if (name == "aten::linear") {
    if (!need(0, 1)) return g;
    const Dims &a = v.dims(0), &w = v.dims(1);
    if (a.empty() || w.size() != 2 || a.back() != w[1]) {
      g.error = "expected input [..., k] and weight [n, k]";
      return g;
    }
    g.m = prod_but_last(a), g.k = a.back(), g.n = w[0];
  }
  return g;
}

// The first matrix argument, whose type is the GEMM's dtype.
std::size_t gemm_a(const std::string& name) { return name == "aten::addmm" || name == "aten::baddbmm" ? 1 : 0; }

bool is_gemm(const std::string& n) {
  return n == "aten::mm" || n == "aten::addmm" || n == "aten::bmm" || n == "aten::baddbmm" || n == "aten::matmul" ||
         n == "aten::linear";
}

// Memory-bound ops: the profile curve and the bytes moved (read + write) from the shapes.
struct MemoryOp {
  const char* name;
  const char* curve;
  std::size_t x;  // the argument whose dtype names the op's dtype
  std::function<double(const OpView&)> bytes;
};

double broadcast_numel(const OpView& v, std::size_t a, std::size_t b) {
  if (!v.tensor(b)) return numel(v.dims(a));
  Dims x = v.dims(a), y = v.dims(b);
  if (x.size() < y.size()) std::swap(x, y);
  double n = 1;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::size_t j = i + y.size();
    const std::int64_t dy = j >= x.size() ? y[j - x.size()] : 1;
    n *= static_cast<double>(std::max(x[i], dy));
  }
  return n;
}

double binary_bytes(const OpView& v) { return v.bytes(0) + v.bytes(1) + broadcast_numel(v, 0, 1) * v.elt(0); }

const std::vector<MemoryOp>& memory_ops() {
  static const std::vector<MemoryOp> t = {
      {"aten::add", "add", 0, binary_bytes},
      {"aten::add_", "add", 0, binary_bytes},
      {"aten::mul", "add", 0, binary_bytes},
      {"aten::mul_", "add", 0, binary_bytes},
      {"aten::copy_", "copy", 1, [](const OpView& v) { return v.bytes(0) + v.bytes(1); }},
      {"aten::layer_norm", "layernorm", 0, [](const OpView& v) { return 2 * v.bytes(0) + v.bytes(2) + v.bytes(3); }},
      {"aten::native_layer_norm", "layernorm", 0,
       [](const OpView& v) { return 2 * v.bytes(0) + v.bytes(2) + v.bytes(3); }},
      {"aten::native_layer_norm_backward", "layernorm", 1,
       [](const OpView& v) { return 3 * v.bytes(1) + v.bytes(3) + v.bytes(4) + 2 * v.bytes(5) + v.bytes(6); }},
      {"aten::softmax", "softmax", 0, [](const OpView& v) { return 2 * v.bytes(0); }},
      {"aten::_softmax", "softmax", 0, [](const OpView& v) { return 2 * v.bytes(0); }},
      {"aten::_softmax_backward_data", "softmax", 0, [](const OpView& v) { return 3 * v.bytes(0); }},
      {"aten::gelu", "gelu", 0, [](const OpView& v) { return 2 * v.bytes(0); }},
      {"aten::gelu_backward", "gelu", 0, [](const OpView& v) { return 3 * v.bytes(0); }},
      {"aten::dropout", "dropout_add", 0, [](const OpView& v) { return 2 * v.bytes(0) + numel(v.dims(0)); }},
      {"aten::native_dropout", "dropout_add", 0, [](const OpView& v) { return 2 * v.bytes(0) + numel(v.dims(0)); }},
      {"aten::native_dropout_backward", "dropout_add", 0, [](const OpView& v) { return 2 * v.bytes(0) + v.bytes(1); }},
  };
  return t;
}

// Fused attention ops: where q and k are, their layout and where is_causal is among the
// Concrete Inputs.
struct AttentionOp {
  const char* name;
  std::size_t q;
  bool bhsd;  // [batch, heads, seq, head_dim]; else [batch, seq, heads, head_dim]
  std::size_t causal;
  bool backward;
};

const std::vector<AttentionOp>& attention_ops() {
  static const std::vector<AttentionOp> t = {
      {"aten::_scaled_dot_product_flash_attention", 0, true, 4, false},
      {"aten::_scaled_dot_product_efficient_attention", 0, true, 6, false},
      {"aten::_scaled_dot_product_flash_attention_backward", 1, true, 11, true},
      {"aten::_scaled_dot_product_efficient_attention_backward", 1, true, 11, true},
      {"aten::_flash_attention_forward", 0, false, 8, false},
      {"aten::_flash_attention_backward", 1, false, 11, true},
  };
  return t;
}

bool profile_has_curve(const Profile& p, const std::string& curve) {
  if (curve == "copy") return true;
  const auto& doc = p.json();
  return doc.contains("memory") && doc["memory"].contains("ops") && doc["memory"]["ops"].contains(curve);
}

KernelCall classify_gemm(const KinetoCpuOp& op, const OpView& v, const Profile& profile) {
  const GemmShape g = gemm_shape(op.name, v);
  if (!g.error.empty()) return not_predicted(op, op.name + ": " + g.error);
  const std::string dtype = kineto_dtype(v.type(gemm_a(op.name)));
  if (dtype.empty()) return not_predicted(op, "no GEMM dtype for Input type '" + v.type(gemm_a(op.name)) + "'");
  const auto dts = profile.gemm_dtypes();
  if (std::find(dts.begin(), dts.end(), dtype) == dts.end())
    return not_predicted(op, "the profile has no " + dtype + " GEMM table");
  if (g.m < 1 || g.n < 1 || g.k < 1 || g.batch < 1) return not_predicted(op, "an empty GEMM");
  KernelCall c;
  c.cls = KernelClass::gemm;
  c.op = op.name;
  c.dtype = dtype;
  c.dims.kind = g.batched ? KernelKind::batched_gemm : KernelKind::gemm;
  c.dims.dtype = dtype;
  c.dims.batch = g.batch, c.dims.m = g.m, c.dims.n = g.n, c.dims.k = g.k;
  c.shape = (g.batched ? "b=" + std::to_string(g.batch) + " " : std::string()) + "m=" + std::to_string(g.m) +
            " n=" + std::to_string(g.n) + " k=" + std::to_string(g.k);
  c.predicted_s = predict_s(profile, c.dims);
  return c;
}

KernelCall classify_attention(const KinetoCpuOp& op, const OpView& v, const AttentionOp& a, const Profile& profile) {
  if (!v.has(a.q) || !v.has(a.q + 1) || v.dims(a.q).size() != 4 || v.dims(a.q + 1).size() != 4)
    return not_predicted(op, "expected 4-d query and key in Input Dims");
  const Dims &q = v.dims(a.q), &k = v.dims(a.q + 1);
  const std::int64_t b = q[0], h = a.bhsd ? q[1] : q[2], s = a.bhsd ? q[2] : q[1], d = q[3];
  const std::int64_t sk = a.bhsd ? k[2] : k[1];
  if (sk != s) return not_predicted(op, "key length differs from query length (the profile times self-attention)");
  const std::string dtype = kineto_dtype(v.type(a.q));
  if (dtype != "bf16" && dtype != "fp16")
    return not_predicted(op, "attention in '" + v.type(a.q) + "' (the profile times bf16)");
  if (a.causal >= op.concrete.size() || (op.concrete[a.causal] != "True" && op.concrete[a.causal] != "False"))
    return not_predicted(op, "is_causal not recorded (Concrete Inputs, PyTorch >= 2.1 with record_shapes=True)");
  for (auto x : {b, h, s, d})
    if (x < 1 || x > INT_MAX) return not_predicted(op, "attention dimensions outside 1..2^31-1");
  const bool causal = op.concrete[a.causal] == "True";
  KernelCall c;
  c.cls = KernelClass::attention;
  c.op = op.name;
  c.dtype = dtype;
  c.shape = "b=" + std::to_string(b) + " h=" + std::to_string(h) + " s=" + std::to_string(s) +
            " d=" + std::to_string(d) + (causal ? " causal" : "");
  c.dims.kind = KernelKind::attention;
  c.dims.dtype = dtype;
  c.dims.batch = b, c.dims.heads = int(h), c.dims.seq = int(s), c.dims.head_dim = int(d);
  c.dims.causal = causal, c.dims.backward = a.backward;
  c.predicted_s = predict_s(profile, c.dims);
  return c;
}

KernelCall classify_known_op(const KinetoCpuOp& op, const Profile& profile);

}  // namespace

const char* to_string(KernelClass c) {
  switch (c) {
    case KernelClass::gemm:
      return "gemm";
    case KernelClass::memory:
      return "memory";
    case KernelClass::attention:
      return "attention";
    case KernelClass::nccl:
      return "nccl";
    case KernelClass::not_predicted:
      return "not_predicted";
    case KernelClass::unlinked:
      return "unlinked";
  }
  return "?";
}

KernelCall classify_op(const KinetoCpuOp& op, const Profile& profile) {
  // A profile that cannot time a shape (no attention samples, a CPU profile) leaves it not
  // predicted, with the profile's words, rather than failing the whole trace.
  try {
    return classify_known_op(op, profile);
  } catch (const InputError& e) { return not_predicted(op, std::string("the profile cannot time it: ") + e.what()); }
}

namespace {

KernelCall classify_known_op(const KinetoCpuOp& op, const Profile& profile) {
  const bool known =
      is_gemm(op.name) ||
      std::any_of(memory_ops().begin(), memory_ops().end(), [&](const MemoryOp& m) { return op.name == m.name; }) ||
      std::any_of(attention_ops().begin(), attention_ops().end(),
                  [&](const AttentionOp& a) { return op.name == a.name; });
  if (!known) return not_predicted(op, "no model for this op");
  if (!op.has_dims) return not_predicted(op, "no Input Dims (the profiler ran without record_shapes=True)");
  if (op.types.empty()) return not_predicted(op, "no Input type");
  const OpView v{op, ""};
  if (is_gemm(op.name)) return classify_gemm(op, v, profile);
  for (const auto& a : attention_ops())
    if (op.name == a.name) return classify_attention(op, v, a, profile);
  for (const auto& m : memory_ops()) {
    if (op.name != m.name) continue;
    if (!v.tensor(m.x)) return not_predicted(op, "argument " + std::to_string(m.x) + " is not a tensor of known dtype");
    if (!profile_has_curve(profile, m.curve))
      return not_predicted(op, std::string("the profile has no '") + m.curve + "' memory curve");
    const double bytes = m.bytes(v);
    KernelCall c;
    c.cls = KernelClass::memory;
    c.op = op.name;
    c.dtype = kineto_dtype(v.type(m.x));
    std::ostringstream s;
    s << dims_text(op) << " bytes=" << std::llround(bytes);
    c.shape = s.str();
    c.dims.kind = KernelKind::memory;
    c.dims.dtype = c.dtype;
    c.dims.curve = m.curve;
    c.dims.bytes = bytes;
    c.predicted_s = predict_s(profile, c.dims);
    return c;
  }
  return not_predicted(op, "no model for this op");
}

}  // namespace

KernelCall not_predicted_call(const KinetoCpuOp& op, const std::string& why) { return not_predicted(op, why); }

std::vector<MeasuredKernel> measured_kernels(const std::vector<KernelCall>& calls) {
  std::vector<MeasuredKernel> out;
  for (const auto& c : calls)
    if (c.dims.kind != KernelKind::none && c.predicted_s >= 0)
      out.push_back({c.dims, c.op, static_cast<double>(c.measured_ps) / 1e12});
  return out;
}

}  // namespace knee
