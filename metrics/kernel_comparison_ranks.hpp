// Several Kineto traces, one per rank of a torch.distributed job (knee analyze --trace A.json,B.json
// or --trace DIR; docs/analyze.md "Multi-rank traces"): the comparison pooled over every rank's
// calls (the same fields as one trace's), a row per rank, and which rank the others wait for.
//
//   KernelComparison c = analyze_trace_paths({"traces/"}, "", "--profile", what, {});
//   c.ranks[i].compute_ps, c.rank_skew.straggler_factor
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "metrics/kernel_comparison.hpp"
#include "metrics/kineto_trace.hpp"
#include "profile/profile.hpp"

namespace knee {

// Each item a trace file, or a directory whose *.json and *.json.gz files (sorted by name) are
// traces. An empty item, a directory with none, or one file twice is an InputError naming `what`.
std::vector<std::string> expand_trace_paths(const std::vector<std::string>& items, const std::string& what);
// The note on `n` unlinked activities (compare_kernels's; pooled, the ranks' sum).
std::string unlinked_note(std::int64_t n);

// "A.json,B.json.gz,DIR" -> its items (a lone path -> itself).
std::vector<std::string> split_trace_list(const std::string& spec);

// Every trace's rank: its distributedInfo.rank, else its position in the list (a note in `notes`
// says so). Two traces of one rank, a rank not below world_size, or world_size disagreeing between
// traces is an InputError naming both files.
std::vector<std::int64_t> assign_ranks(const std::vector<KinetoTrace>& traces, std::vector<std::string>& notes);

// One trace: compare_kernels's result (ranks empty, rank_skew not valid). Several: the top level
// pooled over every rank's calls (counts and times summed, ratios over all calls), streams and
// steps each rank's with its rank, `ranks` one row per rank in rank order, and `rank_skew`.
KernelComparison compare_kernel_ranks(const std::vector<KinetoTrace>& traces, const Profile& profile,
                                      const std::string& profile_basis, const std::string& source,
                                      const ComparisonOptions& opt = {});

// The whole of `knee analyze --trace` (and knee.analyze_trace): `items` expanded, each file loaded,
// the profile (a name or file; "" chooses by the lowest rank's GPU, basis in words, else the basis
// is `given_basis`), the comparison. `what` names the paths' argument, `profile_what` the profile's.
KernelComparison analyze_trace_paths(const std::vector<std::string>& items, const std::string& profile,
                                     const std::string& given_basis, const std::string& what,
                                     const std::string& profile_what, const ComparisonOptions& opt);

}  // namespace knee
