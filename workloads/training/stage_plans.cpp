#include "workloads/training/stage_plans.hpp"

#include <algorithm>
#include <cmath>

#include "workloads/training/params.hpp"

namespace knee::workload {

StepPlan plan_step(const Scenario& s, const Profile& prof, CommTimer& timer, bool with_slices) {
  StepPlan out;
  CommTimeFn comm = [&](int g, CollOp op, double bytes) { return timer.time(g, op, bytes); };
  const int pp = static_cast<int>(s.par.pp), v = static_cast<int>(s.par.virtual_stages);
  const int m = static_cast<int>(s.microbatches());
  out.pp = pp;
  out.v = v;
  out.m = m;
  const auto& layers = out.layers = stage_layers(s);
  const int last = pp * v - 1;
  const double gb = grad_bytes_per_param(s);
  // Megatron-Core's DDP default bucket (distributed_data_parallel.py), or --ddp-bucket-size.
  const double bucket_params =
      s.train.ddp_bucket_params > 0 ? s.train.ddp_bucket_params : std::max(40e6, 1e6 * double(s.par.dp * s.par.cp));
  const bool dp_comm = out.dp_comm = s.par.dp * s.par.cp > 1;
  const CollOp reduce_op = out.reduce_op = s.par.zero == 0 ? CollOp::allreduce : CollOp::reducescatter;
  const bool tied = tied_embedding_across_stages(s);
  auto& slices = out.slices;
  slices.resize(static_cast<std::size_t>(pp));

  std::vector<StagePlan>& plans = out.stages;
  plans.resize(static_cast<std::size_t>(pp));
  for (int st = 0; st < pp; ++st) {
    StagePlan& P2 = plans[static_cast<std::size_t>(st)];
    StageParams tot;
    for (int c = 0; c < v; ++c) {
      const int vs = c * pp + st;
      const auto nl = layers[static_cast<std::size_t>(vs)];
      ChunkSlices tl(2);
      P2.fwd.push_back(chunk_cost(s, prof, nl, vs == 0, vs == last, false, comm, with_slices ? &tl[0] : nullptr));
      P2.bwd.push_back(chunk_cost(s, prof, nl, vs == 0, vs == last, true, comm, with_slices ? &tl[1] : nullptr));
      slices[static_cast<std::size_t>(st)].push_back(std::move(tl));
      const StageParams sp = stage_params(s, layers, vs);
      tot.dense += sp.dense;
      tot.experts += sp.experts;
      const double params = sp.dense + sp.experts;
      std::vector<Bucket> bk;
      if (dp_comm && s.par.zero < 3) {
        const int nb = std::max(1, static_cast<int>(std::ceil(params / bucket_params)));
        double done = 0;
        for (int k = 0; k < nb; ++k) {
          const double p = std::min(bucket_params, params - done);
          done += p;
          bk.push_back({done / params, timer.time(kDP, reduce_op, p * gb), p * gb, reduce_op});
        }
        if (s.par.zero >= 1) {
          // Bf16 parameters gathered per bucket, in forward order (the buckets reversed): a
          // bucket is first used where the backward finishes with it, counted from the other end
          // (forward time taken as proportional to parameters, an assumption).
          std::vector<Gather> gs;
          for (int k = nb - 1; k >= 0; --k) {
            const Bucket& b = bk[static_cast<std::size_t>(k)];
            gs.push_back({1 - b.ready_frac, timer.time(kDP, CollOp::allgather, b.bytes / gb * 2), b.bytes / gb * 2});
          }
          if (s.ablate.whole_chunk_param_gather) {  // one gate for the chunk (knee explain's "off")
            Gather all{0, 0, 0};
            for (const Gather& g : gs) all.dur_s += g.dur_s, all.bytes += g.bytes;
            gs = {all};
          }
          P2.gathers.push_back(std::move(gs));
        }
      }
      P2.buckets.push_back(bk);
      if (dp_comm && s.par.zero == 3) {
        const int n = static_cast<int>(std::max<std::int64_t>(1, nl));
        P2.z3_pieces.push_back(n);
        P2.z3_gather_s.push_back(timer.time(kDP, CollOp::allgather, params / n * 2));
        P2.z3_scatter_s.push_back(timer.time(kDP, CollOp::reducescatter, params / n * gb));
        P2.z3_gather_bytes.push_back(params / n * 2);
        P2.z3_scatter_bytes.push_back(params / n * gb);
      }
    }
    P2.optimizer_s = optimizer_time_s(s, prof, tot);
    P2.optimizer_J = optimizer_energy_J(s, prof, tot);
    P2.overlap = s.train.overlap_grad_reduce;
    P2.every_microbatch = s.train.grad_sync == GradSync::every_microbatch;
    P2.overlap_param_gather = s.train.overlap_param_gather;
  }
  if (tied) {
    const double bytes = embedding_params(s.model) / s.par.tp * gb;
    for (int st : {0, pp - 1}) {
      plans[static_cast<std::size_t>(st)].emb_s = timer.time(kEmbeddingGroup, CollOp::allreduce, bytes);
      plans[static_cast<std::size_t>(st)].emb_bytes = bytes;
    }
  }

  out.ops = pipeline_ops(pp, v, m, s.par.schedule);
  // Megatron scatters the activation over the TP ranks for the transfer (each sends 1/tp).
  const double act_bytes = out.act_bytes =
      double(s.par.micro_batch) * s.model.seq_len / s.par.cp * s.model.hidden * 2 / s.par.tp;
  out.p2p_s = pp > 1 ? timer.time(kPP, CollOp::sendrecv, act_bytes) : 0;
  return out;
}

}  // namespace knee::workload
