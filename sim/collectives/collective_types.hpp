// Names of collective operations, algorithms and protocols, and their parsing.
#pragma once
#include <string>
#include <vector>

namespace knee {

enum class CollOp { allreduce, reducescatter, allgather, broadcast, reduce, alltoall, sendrecv, barrier };
// ring, tree (double binary tree), rhd (recursive halving-doubling), hierarchical (intra-node
// reduce-scatter, inter-node ring all-reduce, intra-node all-gather), nvls (NVSwitch reduction),
// collnet (SHARP-style in-network reduction), pat (log-step all-gather / reduce-scatter),
// pairwise and hierarchical all-to-all (a2a_pairwise, a2a_hierarchical), direct (send/recv).
enum class CollAlgo { ring, tree, rhd, hierarchical, nvls, collnet, pat, pairwise, a2a_hierarchical, direct };
enum class CollProto { ll, ll128, simple };
// How automatic selection picks the algorithm, protocol and channels (docs/collectives.md, "Auto
// selection"). simulated: the closed form shortlists each algorithm's best protocol and channel
// count, the flow network runs the shortlist and the fastest simulated wins, so the collective
// that runs is the one that was chosen. nccl: NCCL's tuner, its own cost model and refinements
// with no simulation: what NCCL would pick, even where this fabric runs it slower.
enum class CollSelection { simulated, nccl };

const char* to_string(CollOp);
const char* to_string(CollAlgo);
const char* to_string(CollProto);
const char* to_string(CollSelection);
// Throw InputError "WHAT: expected one of ..., got 'TEXT'".
CollOp parse_coll_op(const std::string& text, const std::string& what);
CollAlgo parse_coll_algo(const std::string& text, const std::string& what);
CollProto parse_coll_proto(const std::string& text, const std::string& what);
CollSelection parse_coll_selection(const std::string& text, const std::string& what);

// nccl-tests' bus-bandwidth factor: busbw = algbw * factor(n).
double busbw_factor(CollOp op, int nranks);

}  // namespace knee
