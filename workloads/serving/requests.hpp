// The requests a serving run sends: arrival times and lengths, drawn from the scenario's seeded
// distributions or read from a trace file (CSV or JSON rows of arrival_s, prompt_tokens,
// output_tokens); length distributions fitted to such a file.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "workloads/serving/serving_scenario.hpp"

namespace knee::serving {

struct Request {
  double arrival_s = 0;
  std::int32_t prompt_tokens = 0, output_tokens = 0;
  // A trace's session_id, numbered from 0 in order of first appearance; -1 without one. A
  // request of a session extends the context of the session's previous request (multi-turn chat,
  // as vLLM's and SGLang's benchmarks model it): its first prefix_tokens = min(prompt, previous
  // prompt + previous output) tokens are that context (0 for a session's first request).
  std::int32_t session = -1, prefix_tokens = 0;
};

// The requests of a scenario with its arrival rate multiplied by `rate_scale` (the goodput
// search): the i-th request keeps its lengths and its arrival time is divided by rate_scale
// (common random numbers), so runs at different rates differ only by the rate. Sorted by arrival.
std::vector<Request> make_requests(const ServingScenario& s, double rate_scale = 1);

// A trace's rows, checked: times non-decreasing, lengths >= 1, prompt + output <= seq_len. The
// path is taken relative to the scenario file's folder when not absolute.
std::vector<Request> read_trace(const std::string& path, std::int64_t seq_len, const std::string& what);

// Arrival rate the requests were made at: the arrivals' long-run rate, or a trace's requests per
// second of its arrival span.
double offered_rate_per_s(const ServingScenario& s);

// A length distribution fitted to one column ("prompt_tokens" or "output_tokens") of a trace file
// (`path` relative to the scenario `source`'s folder): lognormal by maximum likelihood on the log
// lengths, or empirical (the column's values, resampled). Kept in [1, max_tokens] when drawn;
// rows longer than the model are read (and clipped when drawn), not refused. `what` names the
// scenario field for messages.
LengthSpec fit_lengths(const std::string& path, const std::string& source, const std::string& column, bool lognormal,
                       std::int64_t max_tokens, const std::string& what);

// What a length distribution is, in one phrase, with a fit's file, rows, mean and cv.
std::string describe(const LengthSpec& L);

}  // namespace knee::serving
