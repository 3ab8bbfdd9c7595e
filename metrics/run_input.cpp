#include "metrics/run_input.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>

#include "common/error.hpp"
#include "common/json_reader.hpp"

namespace knee {
namespace {

const std::vector<std::string> kMeasures = {"step_time_s", "tokens_per_s", "samples_per_s"};
const std::vector<std::string> kColumns = {"gpus",         "run",           "iteration",    "step_time_s",
                                           "tokens_per_s", "samples_per_s", "global_batch", "micro_batch",
                                           "seq_len",      "note"};

RunMeasure measure_of(const std::string& name) {
  if (name == "tokens_per_s") return RunMeasure::kTokensPerS;
  if (name == "samples_per_s") return RunMeasure::kSamplesPerS;
  return RunMeasure::kStepTime;
}

std::string trim(const std::string& s) {
  std::size_t a = s.find_first_not_of(" \t\r"), b = s.find_last_not_of(" \t\r");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// One CSV line into cells; double quotes enclose cells with commas ("" is a quote inside).
std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> cells;
  std::string cur;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') cur += '"', ++i;
      else if (c == '"') quoted = false;
      else cur += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  cells.push_back(trim(cur));
  return cells;
}

double positive_cell(const std::string& text, const std::string& source, const std::string& where,
                     const std::string& col) {
  char* end = nullptr;
  errno = 0;
  const double v = text.empty() ? NAN : std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v) || v <= 0)
    throw_input_error(source, where + ", " + col, "a positive number", "'" + text + "'");
  return v;
}

std::int64_t integer_cell(const std::string& text, const std::string& source, const std::string& where,
                          const std::string& col, std::int64_t min) {
  char* end = nullptr;
  errno = 0;
  const long long v = text.empty() ? 0 : std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE || v < min)
    throw_input_error(source, where + ", " + col, "an integer >= " + std::to_string(min), "'" + text + "'");
  return v;
}

// Orders rows (GPU count, run in order of appearance, iteration) and checks what must hold within
// a count: no iteration twice in a run, one global batch, micro batch and sequence length.
void finish_table(RunTable& t) {
  if (t.rows.empty()) throw_input_error(t.source, "rows", "at least one measurement", "none");
  std::map<std::string, std::size_t> run_order;
  for (const auto& r : t.rows) run_order.emplace(r.run, run_order.size());
  std::stable_sort(t.rows.begin(), t.rows.end(), [&](const RunRow& a, const RunRow& b) {
    if (a.gpus != b.gpus) return a.gpus < b.gpus;
    if (a.run != b.run) return run_order[a.run] < run_order[b.run];
    return a.iteration < b.iteration;
  });
  for (std::size_t i = 1; i < t.rows.size(); ++i) {
    const auto &a = t.rows[i - 1], &b = t.rows[i];
    if (a.gpus == b.gpus && a.run == b.run && a.iteration == b.iteration)
      throw_input_error(t.source, b.where + ", iteration",
                        "each iteration once per run (" + a.where + " has the same gpus, run and iteration)",
                        std::to_string(b.iteration) + " twice");
  }
  for (std::size_t i = 1; i < t.rows.size(); ++i) {
    const auto &a = t.rows[i - 1], &b = t.rows[i];
    if (a.gpus != b.gpus) continue;
    auto same = [&](std::int64_t x, std::int64_t y, const char* col) {
      if (x != y)
        throw_input_error(t.source, b.where + ", " + col,
                          "the same " + std::string(col) + " in every row of " + std::to_string(b.gpus) + " GPUs (" +
                              a.where + " has " + (x ? std::to_string(x) : "none") + ")",
                          y ? std::to_string(y) : "none");
    };
    same(a.global_batch, b.global_batch, "global_batch");
    same(a.micro_batch, b.micro_batch, "micro_batch");
    same(a.seq_len, b.seq_len, "seq_len");
  }
}

}  // namespace

const char* run_measure_name(RunMeasure m) {
  switch (m) {
    case RunMeasure::kTokensPerS:
      return "tokens_per_s";
    case RunMeasure::kSamplesPerS:
      return "samples_per_s";
    default:
      return "step_time_s";
  }
}

RunTable parse_runs_csv(const std::string& text, const std::string& source, bool strict) {
  RunTable t;
  t.source = source;
  std::vector<std::string> header;
  std::map<std::string, std::size_t> col;
  std::string measure;
  std::map<std::string, std::int64_t> next_iteration;  // per (gpus, run) when there is no iteration column
  std::size_t pos = 0, line_no = 0, row_no = 0;
  while (pos <= text.size()) {
    std::size_t nl = std::min(text.find('\n', pos), text.size());
    const std::string line = trim(text.substr(pos, nl - pos));
    pos = nl + 1;
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cells = split_csv(line);
    if (header.empty()) {
      header = cells;
      for (std::size_t i = 0; i < header.size(); ++i) {
        const std::string& h = header[i];
        if (col.count(h)) throw_input_error(source, "header, column " + h, "each column once", "it twice");
        if (std::find(kColumns.begin(), kColumns.end(), h) == kColumns.end()) {
          if (strict)
            throw_input_error(source, "header, column '" + h + "'",
                              "one of gpus, run, iteration, step_time_s, tokens_per_s, samples_per_s, global_batch, "
                              "micro_batch, seq_len, note",
                              "an unknown column");
          t.ignored_columns.push_back(h);
        }
        col[h] = i;
      }
      if (!col.count("gpus")) throw_input_error(source, "header", "a column gpus", "none");
      for (const auto& m : kMeasures) {
        if (!col.count(m)) continue;
        if (!measure.empty())
          throw_input_error(source, "header", "one of step_time_s, tokens_per_s or samples_per_s",
                            measure + " and " + m);
        measure = m;
      }
      if (measure.empty())
        throw_input_error(source, "header", "a column step_time_s, tokens_per_s or samples_per_s", "none of them");
      t.measure = measure_of(measure);
      continue;
    }
    ++row_no;
    const std::string where = "row " + std::to_string(row_no) + " (line " + std::to_string(line_no) + ")";
    if (cells.size() != header.size())
      throw_input_error(source, where, std::to_string(header.size()) + " cells as in the header",
                        std::to_string(cells.size()));
    auto cell = [&](const char* name) -> std::string { return col.count(name) ? cells[col[name]] : ""; };
    RunRow r;
    r.where = where;
    r.gpus = integer_cell(cell("gpus"), source, where, "gpus", 1);
    r.run = cell("run");
    r.value = positive_cell(cell(measure.c_str()), source, where, measure);
    const std::string key = std::to_string(r.gpus) + "\n" + r.run;
    if (col.count("iteration")) r.iteration = integer_cell(cell("iteration"), source, where, "iteration", 0);
    else r.iteration = next_iteration[key]++;
    if (!cell("global_batch").empty())
      r.global_batch = integer_cell(cell("global_batch"), source, where, "global_batch", 1);
    if (!cell("micro_batch").empty())
      r.micro_batch = integer_cell(cell("micro_batch"), source, where, "micro_batch", 1);
    if (!cell("seq_len").empty()) r.seq_len = integer_cell(cell("seq_len"), source, where, "seq_len", 1);
    r.note = cell("note");
    t.rows.push_back(std::move(r));
  }
  if (header.empty()) throw_input_error(source, "header", "a CSV header such as gpus,step_time_s", "an empty file");
  finish_table(t);
  return t;
}

RunTable parse_runs_json(const std::string& text, const std::string& source) {
  const Json j = parse_json_text(text, source);
  RunTable t;
  t.source = source;
  std::string measure;
  auto pick_measure = [&](JsonObject& o) {
    std::string found;
    for (const auto& m : kMeasures) {
      if (!o.has(m)) continue;
      if (!found.empty()) o.fail(m, "one of step_time_s, tokens_per_s or samples_per_s, not both " + found);
      found = m;
    }
    if (found.empty()) o.fail_here("a key step_time_s, tokens_per_s or samples_per_s");
    if (!measure.empty() && found != measure) o.fail(found, "the measure of the other entries, " + measure);
    measure = found;
    return found;
  };
  auto optional_int = [](JsonObject& o, const char* key) { return o.integer_or(key, 0, 1); };
  auto read_common = [&](JsonObject& o, RunRow& r) {
    r.gpus = o.integer("gpus", 1);
    r.run = o.has("run") ? (o.raw("run").is_number_integer() ? std::to_string(o.raw("run").get<std::int64_t>())
                                                             : o.string("run"))
                         : "";
    r.global_batch = optional_int(o, "global_batch");
    r.micro_batch = optional_int(o, "micro_batch");
    r.seq_len = optional_int(o, "seq_len");
    r.note = o.string_or("note", "");
  };
  if (j.is_array()) {  // a list of row objects
    JsonArray rows(j, source, "$");
    std::map<std::string, std::int64_t> next_iteration;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      JsonObject o = rows.object(i);
      RunRow r;
      r.where = rows.path_of(i);
      read_common(o, r);
      const std::string m = pick_measure(o);
      r.value = o.positive(m);
      const std::string key = std::to_string(r.gpus) + "\n" + r.run;
      r.iteration = o.has("iteration") ? o.integer("iteration", 0) : next_iteration[key]++;
      o.finish();
      t.rows.push_back(std::move(r));
    }
  } else {
    JsonObject root = JsonObject::root(j, source);
    JsonArray runs = root.array("runs");
    root.ignore("comment");
    root.finish();
    for (std::size_t i = 0; i < runs.size(); ++i) {
      JsonObject o = runs.object(i);
      RunRow base;
      read_common(o, base);
      const std::string m = pick_measure(o);
      JsonArray values = o.array(m);
      const std::int64_t first = o.integer_or("first_iteration", 0, 0);
      o.finish();
      if (values.empty()) values.fail_here("at least one measurement");
      for (std::size_t k = 0; k < values.size(); ++k) {
        RunRow r = base;
        r.where = values.path_of(k);
        r.value = values.positive(k);
        r.iteration = first + static_cast<std::int64_t>(k);
        t.rows.push_back(std::move(r));
      }
    }
  }
  t.measure = measure_of(measure);
  finish_table(t);
  return t;
}

RunTable parse_runs_text(const std::string& text, const std::string& source, bool strict) {
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && (text[first] == '{' || text[first] == '[')) return parse_runs_json(text, source);
  return parse_runs_csv(text, source, strict);
}

RunTable load_runs(const std::string& path, bool strict) {
  return parse_runs_text(read_text_file(path, "CSV or JSON file of runs"), path, strict);
}

}  // namespace knee
