// The op order of each pipeline stage under a schedule (1f1b, interleaved, gpipe).
#pragma once
#include <string>

#include <vector>
#include "workloads/training/options.hpp"

namespace knee::workload {

// One compute-stream operation of a pipeline stage: forward or backward of a microbatch through
// one model chunk (virtual stage chunk * pp + stage).
struct PipeOp {
  bool fwd;
  int mb;
  int chunk;
};
// Op order of every stage for 1f1b, interleaved (Megatron's order) and gpipe.
std::vector<std::vector<PipeOp>> pipeline_ops(int pp, int v, int m, Schedule schedule);

}  // namespace knee::workload
