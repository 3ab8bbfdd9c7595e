// Measured runs as users bring them to `knee analyze` (docs/analyze.md): step times or throughputs
// per iteration at one or more GPU counts, read strictly from a CSV with a header or from JSON.
//
//   gpus,run,iteration,step_time_s,global_batch
//   8,a,0,1.92,512
//
// JSON is either {"runs": [{"gpus": 8, "run": "a", "step_time_s": [1.92, ...], "global_batch": 512}]}
// or a list of row objects with the CSV's column names as keys. Bad input is an InputError naming
// the file, the row (or JSON path) and the field.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace knee {

// What each row measures: the time of one step, or a throughput over it.
enum class RunMeasure { kStepTime, kTokensPerS, kSamplesPerS };
const char* run_measure_name(RunMeasure m);  // "step_time_s", "tokens_per_s", "samples_per_s"

struct RunRow {
  std::int64_t gpus = 0;
  std::string run;                // repetition id; "" when the input has no run column
  std::int64_t iteration = 0;     // order within the run (file order, from 0, when not given)
  double value = 0;               // in the unit of the measure; finite, > 0
  std::int64_t global_batch = 0;  // samples per step; 0 = not given
  std::int64_t micro_batch = 0;   // 0 = not given
  std::int64_t seq_len = 0;       // 0 = not given
  std::string note;
  std::string where;  // "row 3" or "$.runs[1].step_time_s[4]", for messages
};

struct RunTable {
  std::string source;  // the file name (or "<records>")
  RunMeasure measure = RunMeasure::kStepTime;
  std::vector<RunRow> rows;                  // as read, ordered within each run by iteration
  std::vector<std::string> ignored_columns;  // unknown CSV columns (an error in strict mode)
};

// CSV text with a header. `strict`: unknown columns are an error rather than ignored.
RunTable parse_runs_csv(const std::string& text, const std::string& source, bool strict);
// JSON text in either shape above; unknown keys are always an error.
RunTable parse_runs_json(const std::string& text, const std::string& source);
// By the file's content: JSON when its first non-blank character is '{' or '[', CSV otherwise.
RunTable load_runs(const std::string& path, bool strict);
RunTable parse_runs_text(const std::string& text, const std::string& source, bool strict);

}  // namespace knee
