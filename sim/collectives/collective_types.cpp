#include "sim/collectives/collective_types.hpp"

#include "common/error.hpp"

namespace knee {

namespace {
const std::vector<std::pair<CollOp, const char*>> kOps = {
    {CollOp::allreduce, "allreduce"}, {CollOp::reducescatter, "reducescatter"},
    {CollOp::allgather, "allgather"}, {CollOp::broadcast, "broadcast"},
    {CollOp::reduce, "reduce"},       {CollOp::alltoall, "alltoall"},
    {CollOp::sendrecv, "sendrecv"},   {CollOp::barrier, "barrier"}};
const std::vector<std::pair<CollAlgo, const char*>> kAlgos = {{CollAlgo::ring, "ring"},
                                                              {CollAlgo::tree, "tree"},
                                                              {CollAlgo::rhd, "rhd"},
                                                              {CollAlgo::hierarchical, "hierarchical"},
                                                              {CollAlgo::nvls, "nvls"},
                                                              {CollAlgo::collnet, "collnet"},
                                                              {CollAlgo::pat, "pat"},
                                                              {CollAlgo::pairwise, "pairwise"},
                                                              {CollAlgo::a2a_hierarchical, "a2a-hierarchical"},
                                                              {CollAlgo::direct, "direct"}};
const std::vector<std::pair<CollProto, const char*>> kProtos = {
    {CollProto::ll, "LL"}, {CollProto::ll128, "LL128"}, {CollProto::simple, "Simple"}};
const std::vector<std::pair<CollSelection, const char*>> kSelections = {{CollSelection::simulated, "simulated"},
                                                                        {CollSelection::nccl, "nccl"}};

template <class E>
const char* name_of(const std::vector<std::pair<E, const char*>>& t, E e) {
  for (auto& [k, n] : t)
    if (k == e) return n;
  return "?";
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

template <class E>
E parse_of(const std::vector<std::pair<E, const char*>>& t, const std::string& text, const std::string& what,
           const std::vector<std::string>& aliases_from = {}, const std::vector<E>& aliases_to = {}) {
  std::string l = lower(text);
  for (auto& [k, n] : t)
    if (lower(n) == l) return k;
  for (std::size_t i = 0; i < aliases_from.size(); ++i)
    if (aliases_from[i] == l) return aliases_to[i];
  std::string choices;
  for (auto& [k, n] : t) choices += (choices.empty() ? "" : ", ") + std::string(n);
  throw InputError(what + ": expected one of " + choices + ", got '" + text + "'");
}
}  // namespace

const char* to_string(CollOp o) { return name_of(kOps, o); }
const char* to_string(CollAlgo a) { return name_of(kAlgos, a); }
const char* to_string(CollProto p) { return name_of(kProtos, p); }
const char* to_string(CollSelection s) { return name_of(kSelections, s); }

CollOp parse_coll_op(const std::string& text, const std::string& what) {
  return parse_of(kOps, text, what, {"all_reduce", "reduce_scatter", "all_gather", "all_to_all", "alltoallv"},
                  {CollOp::allreduce, CollOp::reducescatter, CollOp::allgather, CollOp::alltoall, CollOp::alltoall});
}
CollAlgo parse_coll_algo(const std::string& text, const std::string& what) {
  return parse_of(kAlgos, text, what, {"sharp", "halving-doubling", "a2a_hierarchical"},
                  {CollAlgo::collnet, CollAlgo::rhd, CollAlgo::a2a_hierarchical});
}
CollProto parse_coll_proto(const std::string& text, const std::string& what) { return parse_of(kProtos, text, what); }
CollSelection parse_coll_selection(const std::string& text, const std::string& what) {
  return parse_of(kSelections, text, what);
}

double busbw_factor(CollOp op, int n) {
  if (n <= 1) return 1.0;
  switch (op) {
    case CollOp::allreduce:
      return 2.0 * (n - 1) / n;
    case CollOp::reducescatter:
    case CollOp::allgather:
    case CollOp::alltoall:
      return static_cast<double>(n - 1) / n;
    default:
      return 1.0;
  }
}

}  // namespace knee
