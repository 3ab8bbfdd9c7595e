// The kernels of one transformer layer and of a model chunk, and the optimizer step.
#include "workloads/training/layer_model.hpp"

#include <algorithm>
#include <cmath>

#include "workloads/training/model_shape.hpp"
#include "workloads/training/params.hpp"

namespace knee::workload {

// ---------------------------------------------------------------------------------------------
// Kernels of one layer.

namespace {

struct Builder {
  const Scenario& s;
  const Profile& prof;
  const CommTimeFn& comm;
  std::vector<Kernel> k;
  std::string dtype;
  bool eager;
  int phase = kForward;

  void gemm(double m, double n, double kk) {
    k.push_back({prof.gemm_time_s(std::llround(m), std::llround(n), std::llround(kk), dtype), -1, 0, phase,
                 CollOp::allreduce, 0, true, 2 * m * n * kk, (m * kk + kk * n + m * n) * elt()});
  }
  void gemm_bwd(double m, double n, double kk) {  // dgrad and wgrad
    gemm(m, kk, n);
    gemm(kk, n, m);
  }
  // Strided-batched GEMM (attention scores and context: one product per head and sequence).
  void bgemm(double batch, double m, double n, double kk) {
    k.push_back(
        {prof.batched_gemm_time_s(std::llround(batch), std::llround(m), std::llround(n), std::llround(kk), dtype), -1,
         0, phase, CollOp::allreduce, 0, true, 2 * batch * m * n * kk, batch * (m * kk + kk * n + m * n) * elt()});
  }
  void bgemm_bwd(double batch, double m, double n, double kk) {
    bgemm(batch, m, kk, n);
    bgemm(batch, kk, n, m);
  }
  void mem(double bytes, const char* op) {
    k.push_back({prof.memory_bound_time_s(bytes, op), -1, 0, phase, CollOp::allreduce, 0, false, 0, bytes});
  }
  // Bytes of a GEMM operand element in the dtype its GEMMs are timed in.
  double elt() const { return elt_bytes(dtype); }
  // A fused single-pass elementwise kernel (Megatron's fused softmax and bias-dropout-add): its
  // own bytes at the rate of the profile's plain elementwise kernel ("add"), the op measured as
  // one pass over its operands. The eager op curves (torch.softmax, dropout + add) are not it.
  double fused_s(double bytes) const { return prof.memory_bound_time_s(bytes, "add"); }
  // What dropout costs beyond its memory traffic (the random numbers and the mask), for `el`
  // elements: the measured eager pair dropout_add (8 bytes per element as counted) less its add
  // kernel (6) and a single pass over dropout's own traffic (read 2, write 2, mask 1), per element
  // at the curves' asymptotic per-byte times (the fixed costs are the kernels', already charged).
  double per_byte_s(const char* op) const {
    return prof.memory_bound_time_s(2e9, op) - prof.memory_bound_time_s(1e9, op);  // per GB
  }
  double dropout_extra_s(double el) const {
    return std::max(0.0, el * (8 * per_byte_s("dropout_add") - 11 * per_byte_s("add")) / 1e9);
  }
  void fused(double bytes, double dropout_el = 0) {
    k.push_back({fused_s(bytes) + (dropout_el > 0 ? dropout_extra_s(dropout_el) : 0), -1, 0, phase, CollOp::allreduce,
                 0, false, 0, bytes});
  }
  // Without gradient-accumulation fusion (Megatron, training.gradient_accumulation_fusion false)
  // a DDP hook adds each weight's 16-bit gradient into its main-gradient buffer after every
  // microbatch's backward, main_grad.add_(grad): read the gradient and the buffer, write the
  // buffer, one elementwise pass at the "add" rate. With the fusion the weight-gradient GEMM
  // accumulates into the buffer itself and nothing is charged here.
  void grad_accumulate(double params) {
    if (eager || s.train.gradient_accumulation_fusion || params <= 0) return;
    mem(params * (kDt + 2 * grad_bytes_per_param(s)), "add");
  }
  void coll(int group, CollOp op, double bytes) {
    double t = comm(group, op, bytes);
    k.push_back({t, group, t, phase, op, bytes, false, 0, 2 * bytes});
  }
};

// Elementwise backward kernels read the saved input and the incoming gradient and write the
// outgoing gradient: 1.5x the forward's traffic.
constexpr double kBwdMem = 1.5;

// Megatron-Core's TP communication overlap (--tp-comm-overlap, Transformer Engine userbuffers;
// Megatron-Core 0.5 and later, sequence parallelism only): each all-gather runs with the GEMM
// that consumes it and each reduce-scatter with the GEMM that produces it, split into tp chunks
// and pipelined (max(G, C) + min(G, C) / tp), except the backward's data-gradient reduce-scatter,
// which TE overlaps in bulk with the weight-gradient GEMM (max(G, C)). Only the part of the
// collective the GEMM does not cover stays on the compute stream; the SMs the communication
// kernels take from the GEMM are not modelled.
void overlap_tp_comm(Builder& b) {
  const Scenario& s = b.s;
  if (!s.train.tp_comm_overlap || !(s.par.sequence_parallel && s.par.tp > 1) || b.eager) return;
  const double n = double(s.par.tp);
  for (std::size_t i = 0; i < b.k.size(); ++i) {
    Kernel& c = b.k[i];
    if (c.group != kTP || (c.op != CollOp::allgather && c.op != CollOp::reducescatter)) continue;
    const bool ag = c.op == CollOp::allgather;
    const Kernel* g = nullptr;
    if (ag) {
      for (std::size_t j = i + 1; j < b.k.size() && !g; ++j)
        if (b.k[j].group == kTP) break;
        else if (b.k[j].gemm) g = &b.k[j];
    } else {
      for (std::size_t j = i; j-- > 0 && !g;)
        if (b.k[j].group == kTP) break;
        else if (b.k[j].gemm) g = &b.k[j];
    }
    if (!g) continue;
    const double G = g->gpu_s, C = c.comm_s;
    const bool bulk = !ag && c.phase == kBackward;
    c.gpu_s = std::max(0.0, C - G) + (bulk ? 0 : std::min(G, C) / n);
  }
}

// One layer's kernels appended to a Builder: the shape of this rank's slice, and one member per
// part of the layer (TP boundaries, attention, layernorm, residual, linear, FFN or MoE).
struct LayerKernels {
  Builder& b;
  const Scenario& s;
  const ModelSpec& m;
  const double t, h, f, a, d, kvd, bsz, seq, cp;
  const double T;  // tokens of this rank's sequence slice
  const bool sp;
  const double Tsp, dt;
  const bool swiglu, drop;
  const int heads_local;

  explicit LayerKernels(Builder& builder)
      : b(builder),
        s(builder.s),
        m(builder.s.model),
        t(double(s.par.tp)),
        h(double(m.hidden)),
        f(double(m.ffn_hidden)),
        a(double(m.heads)),
        d(h / a),
        kvd(kv_dim(m)),
        bsz(double(s.par.micro_batch)),
        seq(double(m.seq_len)),
        cp(double(s.par.cp)),
        T(bsz * seq / cp),
        sp(s.par.sequence_parallel && t > 1),
        Tsp(sp ? T / t : T),
        dt(kDt),
        swiglu(m.ffn == FfnKind::swiglu),
        drop(m.dropout > 0),
        heads_local(static_cast<int>(a / t)) {}

  // TP collective at a g/f boundary: forward AG (SP) or nothing, backward the dual.
  void tp_enter(bool backward) {  // before a column-parallel GEMM
    if (t <= 1) return;
    if (sp) b.coll(kTP, backward ? CollOp::reducescatter : CollOp::allgather, T * h * dt);
    else if (backward) b.coll(kTP, CollOp::allreduce, T * h * dt);
  }
  void tp_exit(bool backward) {  // after a row-parallel GEMM
    if (t <= 1) return;
    if (sp) b.coll(kTP, backward ? CollOp::allgather : CollOp::reducescatter, T * h * dt);
    else if (!backward) b.coll(kTP, CollOp::allreduce, T * h * dt);
  }
  // Ring attention over cp ranks: cp-1 K/V block exchanges, each hidden behind one block of
  // attention compute when it is shorter.
  void cp_ring(double attn_s, bool backward) {
    if (cp <= 1) return;
    const double bytes = 2 * bsz * (seq / cp) * (m.kv_heads / t) * d * dt * (backward ? 2 : 1);
    const double step = b.comm(kCP, CollOp::sendrecv, bytes);
    const double exposed = (cp - 1) * std::max(0.0, step - attn_s / cp);
    // Energy: the exposed part only (the hidden part runs beside the attention kernels).
    b.k.push_back({exposed, kCP, (cp - 1) * step, b.phase, CollOp::sendrecv, (cp - 1) * bytes, false, 0,
                   step > 0 ? 2 * (cp - 1) * bytes * exposed / ((cp - 1) * step) : 0});
  }

  void flash_attention(bool backward) {
    // Eager code hands SDPA [b, heads, s, d] views and lays its output back out as [b, s, heads d]
    // with transpose(1, 2).contiguous(): a copy; backward copies that gradient back and
    // concatenates dQ, dK, dV into the QKV gradient (the split's backward). Megatron's fused
    // attention takes and gives the sequence-major layout itself.
    if (b.eager && backward) b.mem(2 * T * h / t * dt, "copy");
    const double fwd = b.prof.attention_time_s(int(bsz), heads_local, int(seq), int(d), true, false) / cp;
    double tm = fwd;
    if (backward) tm = b.prof.attention_time_s(int(bsz), heads_local, int(seq), int(d), true, true) / cp - fwd;
    // Work: causal QK^T and PV over this rank's queries (backward 2.5x: five products for two);
    // HBM: Q, K, V read and O written (backward: those, dO, and dQ, dK, dV written).
    const double fl = 2 * bsz * heads_local * seq * seq * d / cp, io = 4 * T * heads_local * d * dt;
    b.k.push_back({tm, -1, 0, b.phase, CollOp::allreduce, 0, false, backward ? 2.5 * fl : fl, backward ? 2 * io : io});
    if (b.eager) b.mem(2 * T * (backward ? h + 2 * kvd : h) / t * dt, "copy");
    cp_ring(tm, backward);
  }
  void unfused_attention(bool backward) {
    // Unfused attention: batched GEMMs for scores and context, elementwise scale/mask, softmax
    // and dropout over the full s x s scores.
    const double B = bsz * heads_local, sq = seq / cp, sk = seq, sc = B * sq * sk;
    const double before = static_cast<double>(b.k.size());
    // Eager scales and masks in its own kernel; Megatron fuses scale, mask and softmax.
    // Attention dropout is one kernel in both (read, write, 1-byte mask); its backward multiplies
    // the gradient by the saved mask, a plain elementwise pass.
    auto softmax = [&](double mul) {
      if (b.eager) b.mem(2 * sc * dt * mul, "softmax");
      else b.fused(2 * sc * dt * mul);  // Megatron's fused scale-mask-softmax kernel
    };
    if (!backward) {
      b.bgemm(B, sq, sk, d);
      if (b.eager) b.mem(2 * sc * dt, "add");
      softmax(1);
      if (drop) b.fused(2.5 * sc * dt, sc);  // dropout: read, write, 1-byte mask
      b.bgemm(B, sq, d, sk);
      b.mem(2 * T * h / t * dt, "copy");
    } else {
      b.mem(2 * T * h / t * dt * kBwdMem, "copy");
      b.bgemm_bwd(B, sq, d, sk);
      if (drop) b.fused(2.5 * sc * dt);
      softmax(kBwdMem);
      if (b.eager) b.mem(2 * sc * dt * kBwdMem, "add");
      b.bgemm_bwd(B, sq, sk, d);
    }
    double tm = 0;
    for (std::size_t i = static_cast<std::size_t>(before); i < b.k.size(); ++i) tm += b.k[i].gpu_s;
    cp_ring(tm, backward);
  }
  void attention(bool backward) {
    s.train.attention == Attention::flash ? flash_attention(backward) : unfused_attention(backward);
  }

  void ln(bool backward) { b.mem(2 * Tsp * h * dt * (backward ? kBwdMem : 1), "layernorm"); }
  // Residual branch: dropout then add. Eager runs PyTorch's pair, exactly the measured
  // "dropout_add" op (8 bytes per element as counted); Megatron one fused bias-dropout-add kernel
  // (read x and residual, write out and a 1-byte mask: 7 bytes per element). Backward in both: the
  // mask multiply (read gradient and mask, write) and autograd's add of the two gradients of the
  // residual stream.
  // Without dropout (model.dropout 0, as Llama) both run a plain add: PyTorch's dropout returns
  // its input when p is 0, and the backward has no mask to multiply by.
  void residual(bool backward) {
    const double el = Tsp * h;
    if (backward) {
      if (drop) b.fused(2.5 * el * dt);
      b.mem(3 * el * dt, "add");
    } else if (!drop) {
      b.eager ? b.mem(3 * el * dt, "add") : b.fused(3 * el * dt);
    } else if (b.eager) {
      b.mem(4 * el * dt, "dropout_add");
    } else {
      b.fused(3.5 * el * dt, el);
    }
  }
  // Eager forward bias: none of its own (F.linear calls addmm, which cuBLASLt runs with a bias
  // epilogue); backward: the bias gradient, a reduction over tokens reading the output gradient.
  void bias(double n, bool backward) {
    if (b.eager && backward) b.mem(T * n * dt, "add");
  }
  void linear(double mm, double n, double kk, bool backward) {
    if (backward) {
      bias(n, true);
      b.gemm_bwd(mm, n, kk);
      b.grad_accumulate(n * kk);
    } else {
      b.gemm(mm, n, kk);
      bias(n, false);
    }
  }

  void dense_ffn(bool backward) {
    const double n1 = (swiglu ? 2 : 1) * f / t;
    auto act = [&](bool bw) {
      const double mul = bw ? kBwdMem : 1;
      if (swiglu) {
        if (b.eager) {
          b.mem(2 * T * f / t * dt * mul, "gelu");  // silu
          b.mem(3 * T * f / t * dt * mul, "add");   // gate * up
        } else {
          b.mem(3 * T * f / t * dt * mul, "gelu");  // fused swiglu
        }
      } else {
        b.mem(2 * T * f / t * dt * mul, "gelu");
      }
    };
    if (!backward) {
      tp_enter(false);
      if (swiglu && b.eager) {
        linear(T, f / t, h, false);
        linear(T, f / t, h, false);
      } else linear(T, n1, h, false);
      act(false);
      linear(T, h, f / t, false);
      tp_exit(false);
    } else {
      tp_exit(true);
      linear(T, h, f / t, true);
      act(true);
      if (swiglu && b.eager) {
        linear(T, f / t, h, true);
        linear(T, f / t, h, true);
      } else linear(T, n1, h, true);
      tp_enter(true);
    }
  }
  void moe_ffn(bool backward) {
    // Mixture of experts (expert tensor parallelism 1): route, dispatch by all-to-all over the
    // ep group, grouped expert GEMMs, combine.
    const double Tl = T / t;  // tokens this rank routes (sequence-sharded)
    const double routed = Tl * m.top_k;
    const double ep = s.par.ep, local = m.experts / ep;
    const double m_e = routed / local;  // tokens per local expert (balanced routing)
    const double n1 = (swiglu ? 2 : 1) * f;
    auto experts_gemm = [&](double n, double kk, bool bw) {
      if (b.eager) {
        for (int i = 0; i < int(local); ++i) bw ? b.gemm_bwd(m_e, n, kk) : b.gemm(m_e, n, kk);
      } else {
        bw ? b.gemm_bwd(routed, n, kk) : b.gemm(routed, n, kk);  // grouped GEMM: one launch
        if (bw) b.grad_accumulate(local * n * kk);
      }
    };
    const double a2a = routed * h * dt;  // per-rank buffer of ep blocks, as nccl-tests counts
    const double mul = backward ? kBwdMem : 1;
    if (!sp && t > 1 && !backward) {}  // replicated tokens: each TP rank routes its 1/t share
    if (!backward) {
      b.gemm(Tl, m.experts, h);
      b.mem(2 * Tl * m.experts * 4, "softmax");
      b.mem(2 * routed * h * dt, "copy");  // permute
      if (ep > 1) b.coll(kEP, CollOp::alltoall, a2a);
      experts_gemm(n1, h, false);
      b.mem((swiglu ? 3 : 2) * routed * f * dt, "gelu");
      experts_gemm(h, f, false);
      if (ep > 1) b.coll(kEP, CollOp::alltoall, a2a);
      b.mem(2 * routed * h * dt, "copy");  // unpermute and weight
      if (!sp && t > 1) b.coll(kTP, CollOp::allgather, T * h * dt);
    } else {
      if (!sp && t > 1) b.coll(kTP, CollOp::reducescatter, T * h * dt);
      b.mem(2 * routed * h * dt * mul, "copy");
      if (ep > 1) b.coll(kEP, CollOp::alltoall, a2a);
      experts_gemm(h, f, true);
      b.mem((swiglu ? 3 : 2) * routed * f * dt * mul, "gelu");
      experts_gemm(n1, h, true);
      if (ep > 1) b.coll(kEP, CollOp::alltoall, a2a);
      b.mem(2 * routed * h * dt * mul, "copy");
      b.mem(2 * Tl * m.experts * 4 * mul, "softmax");
      b.gemm_bwd(Tl, m.experts, h);
    }
  }
  void ffn(bool backward) { moe(m) ? moe_ffn(backward) : dense_ffn(backward); }

  void forward() {
    ln(false);
    tp_enter(false);
    linear(T, (h + 2 * kvd) / t, h, false);
    attention(false);
    linear(T, h, h / t, false);
    tp_exit(false);
    residual(false);
    ln(false);
    ffn(false);
    residual(false);
  }

  void run(bool bwd, bool recompute_fwd_inside) {
    if (!bwd) {
      b.phase = kForward;
      forward();
      overlap_tp_comm(b);
      return;
    }
    b.phase = kRecompute;
    if (recompute_fwd_inside) forward();
    else if (s.train.recompute == Recompute::selective && s.train.attention == Attention::unfused)
      attention(false);  // scores recomputed
    b.phase = kBackward;
    residual(true);
    ffn(true);
    ln(true);
    residual(true);
    tp_exit(true);
    linear(T, h, h / t, true);
    attention(true);
    linear(T, (h + 2 * kvd) / t, h, true);
    tp_enter(true);
    ln(true);
    overlap_tp_comm(b);
  }
};

void layer_kernels(Builder& b, bool bwd, bool recompute_fwd_inside) { LayerKernels(b).run(bwd, recompute_fwd_inside); }

void run_on_gpu(const Profile& prof, const std::vector<Kernel>& ks, double launch_s, double ridge, double& host,
                double& gpu, OpCost& c, std::vector<OpSlice>* tl, int layer) {
  const bool power = prof.has_power();
  const double idle_W = power ? prof.power_W(0, 0) : 0;
  for (const Kernel& k : ks) {
    host += launch_s;
    const double start = std::max(host, gpu);
    c.launch_gap_s += start - gpu;
    if (power) c.energy_J += (start - gpu) * idle_W + k.gpu_s * work_power_W(prof, k.flops, k.hbm_bytes, k.gpu_s);
    if (tl) {
      // The gap before a kernel belongs to the compute slice it extends (or opens); the last
      // slice always ends where the previous kernel ended.
      OpSlice* back = tl->empty() ? nullptr : &tl->back();
      const bool extend = back && back->group < 0 && back->layer == layer && back->phase == k.phase;
      if (start > gpu || k.group < 0) {
        if (extend) back->dur_s = start - back->start_s;
        else tl->push_back({gpu, start - gpu, -1, layer, k.phase});
      }
      if (k.group < 0) tl->back().dur_s = start + k.gpu_s - tl->back().start_s;
      else tl->push_back({start, k.gpu_s, k.group, layer, k.phase, k.op, k.bytes, k.comm_s});
    }
    gpu = start + k.gpu_s;
    if (k.group < 0) {
      c.compute_s += k.gpu_s;
      if (k.flops > ridge * k.hbm_bytes) c.compute_bound_s += k.gpu_s;
    } else {
      c.comm_exposed_s[k.group] += k.gpu_s;
      c.comm_busy_s[k.group] += k.comm_s;
    }
  }
}

}  // namespace

OpCost chunk_cost(const Scenario& s, const Profile& prof, std::int64_t layers, bool first, bool last, bool backward,
                  const CommTimeFn& comm, std::vector<OpSlice>* timeline) {
  // fp16 and bf16 run on the same tensor-core path at the same datasheet rate on every GPU knee
  // ships, and the calibrated layer-shaped GEMMs are bf16 (the fp16 table has squares only): 16-bit
  // GEMMs are timed from the bf16 table when the profile has one.
  const auto dts = prof.gemm_dtypes();
  const bool has_bf16 = std::find(dts.begin(), dts.end(), "bf16") != dts.end();
  const std::string gemm_dtype = s.model.dtype == "fp16" && has_bf16 ? "bf16" : s.model.dtype;
  Builder b{s, prof, comm, {}, gemm_dtype, s.train.framework == Framework::eager};
  const ModelSpec& m = s.model;
  const double t = s.par.tp, h = m.hidden, V = m.vocab;
  const double T = double(s.par.micro_batch) * m.seq_len / s.par.cp;
  const bool sp = s.par.sequence_parallel && t > 1;
  const double Tsp = sp ? T / t : T;
  const double dt = kDt;
  OpCost c;
  double host = 0, gpu = 0;
  // Ablated (knee explain): the host issues in no time, so the GPU never waits for a launch.
  const double launch = s.ablate.no_launch_gaps ? 0.0 : prof.launch_overhead_s();
  // FLOPs per HBM byte above which a kernel is limited by the SMs' math rate, not by memory.
  const double ridge = prof.peak_tflops(gemm_dtype) * 1e12 / prof.memory_bandwidth_Bps();

  // Embedding (first stage) and output layer + loss (last stage): vocabulary-parallel over tp.
  std::vector<Kernel> head, tail;
  if (V > 0 && first) {
    Builder e{s, prof, comm, {}, b.dtype, b.eager, backward ? kBackward : kForward};
    if (!backward) {
      e.mem(2 * Tsp * h * dt, "copy");  // lookup (+ position)
      if (t > 1 && !sp) e.coll(kTP, CollOp::allreduce, T * h * dt);
      if (t > 1 && sp) e.coll(kTP, CollOp::reducescatter, T * h * dt);
    } else {
      // PyTorch's embedding backward (embedding_dense_backward) zero-fills a dense gradient of the
      // whole (vocabulary-parallel) table, then scatter-adds the tokens' gradients into it.
      e.mem(V / t * h * dt, "copy");
      e.mem(3 * T * h * dt, "add");
      e.grad_accumulate(V / t * h);
    }
    (backward ? tail : head) = e.k;
  }
  if (V > 0 && last) {
    Builder o{s, prof, comm, {}, b.dtype, b.eager, backward ? kBackward : kForward};
    const double el = T * V / t;  // this rank's logits
    if (!backward) {
      o.mem(2 * Tsp * h * dt, "layernorm");
      if (t > 1 && sp) o.coll(kTP, CollOp::allgather, T * h * dt);
      o.gemm(T, V / t, h);
      if (o.eager) {
        o.mem(el * (dt + 4 + 4), "softmax");  // cross-entropy in fp32
      } else {
        // Megatron's vocab-parallel cross-entropy (tensor_parallel/cross_entropy.py), pass by pass
        // in fp32: logits.float(), max over the vocabulary, subtract it (in place), exp (in
        // place), sum, divide by the sum (the softmax kept for the backward). Casts and
        // reductions at the copy rate, elementwise passes at the add rate.
        o.mem(el * (dt + 4), "copy");
        o.mem(el * 4, "copy");
        o.mem(el * 8, "add");
        o.mem(el * 8, "add");
        o.mem(el * 4, "copy");
        o.mem(el * 8, "add");
      }
      if (t > 1) o.coll(kTP, CollOp::allreduce, T * 4 * 3);  // max, sum and target logit
    } else {
      if (o.eager) {
        o.mem(el * (4 + dt), "softmax");
      } else {
        // The saved softmax times the loss gradient (in place), then the cast's backward to 16 bits.
        o.mem(el * 8, "add");
        o.mem(el * (4 + dt), "copy");
      }
      o.gemm_bwd(T, V / t, h);
      o.grad_accumulate(V / t * h);
      if (t > 1 && sp) o.coll(kTP, CollOp::reducescatter, T * h * dt);
      if (t > 1 && !sp) o.coll(kTP, CollOp::allreduce, T * h * dt);
      o.mem(2 * Tsp * h * dt * kBwdMem, "layernorm");
    }
    (backward ? head : tail) = o.k;
  }
  run_on_gpu(prof, head, launch, ridge, host, gpu, c, timeline, -1);
  if (layers > 0) {
    layer_kernels(b, backward, backward && s.train.recompute == Recompute::full);
    // Backward walks the layers last to first.
    for (std::int64_t i = 0; i < layers; ++i)
      run_on_gpu(prof, b.k, launch, ridge, host, gpu, c, timeline, static_cast<int>(backward ? layers - 1 - i : i));
  }
  run_on_gpu(prof, tail, launch, ridge, host, gpu, c, timeline, -1);
  c.total_s = gpu;
  return c;
}

namespace {
double optimizer_bytes(const Scenario& s, const StageParams& p) {
  const bool mixed = s.train.precision == Precision::mixed;
  const bool adam = s.train.optimizer == Optimizer::adamw;
  // Bytes moved per parameter: read grad, master/param and moments, write them back (and the
  // bf16 copy in mixed precision), plus the gradient-norm pass.
  double per = adam ? (mixed ? 34 : 16) : (mixed ? 26 : 12);
  // Megatron's mixed-precision optimizer (optimizer/optimizer.py) adds passes of its own: the
  // fp32 main parameters are copied into the 16-bit model parameters by a separate kernel (read
  // 4 bytes; its write is counted above); 16-bit main gradients (grad_reduce_dtype fp16) are
  // first cast into fp32 ones (read 2, write 4); with fp16 loss scaling they are unscaled and
  // checked for inf/NaN (read 4, write 4). Clipping rescales only when the norm exceeds the
  // threshold (not charged), and the small all-reduces of the norm and the inf flag are latency.
  if (mixed && s.train.framework == Framework::megatron) {
    per += 4;
    if (s.train.grad_reduce_dtype != GradDtype::fp32) per += 6;
    if (s.model.dtype == "fp16") per += 8;
  }
  const double shard = s.par.zero >= 1 ? double(s.par.dp * s.par.cp) : 1;
  const double eshard = s.par.zero >= 1 ? double(s.par.dp * s.par.cp * s.par.tp) / s.par.ep : 1;
  double bytes = (p.dense / shard + p.experts / eshard) * per;
  // The gradient buffer is zeroed every step (zero_grad_buffer), whole unless it is sharded.
  if (s.train.framework == Framework::megatron) {
    const double gshard = s.par.zero >= 2 ? shard : 1, egshard = s.par.zero >= 2 ? eshard : 1;
    bytes += (p.dense / gshard + p.experts / egshard) * grad_bytes_per_param(s);
  }
  return bytes;
}
}  // namespace

double optimizer_time_s(const Scenario& s, const Profile& prof, const StageParams& p) {
  return prof.memory_bound_time_s(optimizer_bytes(s, p), "add");
}

double optimizer_energy_J(const Scenario& s, const Profile& prof, const StageParams& p) {
  if (!prof.has_power()) return 0;
  const double t = optimizer_time_s(s, prof, p), bytes = optimizer_bytes(s, p);
  return t * work_power_W(prof, 0, bytes, t);
}

}  // namespace knee::workload
