#include "metrics/report_html.hpp"

#include "common/parse.hpp"
#include "metrics/svg_chart.hpp"

namespace knee::report_html {

std::string page_head(const std::string& title, const std::string& heading) {
  return R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>)" +
         html_escape(title) + R"(</title>
<style>
body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f4f4f4}table.kv td,table.kv th{text-align:left}.bad{color:#999}.knee{background:#fde2e2}
.note{background:#f7f7e8;padding:.6em 1em;border-left:4px solid #cc9}code{font-size:90%}figure{margin:1em 0}
figure svg{display:block;width:100%;height:auto}
</style></head><body>
<h1>)" + html_escape(heading) +
         "</h1>\n";
}

std::string kv_table(const Json& j) {
  std::string o = "<table class=\"kv\">";
  for (auto it = j.begin(); it != j.end(); ++it) {
    std::string v = it.value().is_string() ? it.value().get<std::string>() : it.value().dump();
    if (it.value().is_object()) v = it.value().dump(1);
    o += "<tr><th>" + html_escape(it.key()) + "</th><td><code>" + html_escape(v) + "</code></td></tr>";
  }
  return o + "</table>";
}

std::string made_by() { return std::string("knee ") + knee_version() + " (" + knee_git_revision() + ")"; }

std::string reproducibility(const Reproducibility& r) {
  const std::string h = "<h2>Reproducibility</h2>\n";
  if (!r.made_with.empty())
    return h + "<p>Made by " + html_escape(made_by()) + " from <code>" + html_escape(r.file) + "</code> (" +
           html_escape(r.made_with) + "): <code>" + html_escape(r.command_line) + "</code></p>\n";
  Json repro = r.input;
  repro["report_made_by"] = made_by();
  repro["report_command"] = r.command_line;
  repro[r.file_key] = r.file;
  return h + kv_table(repro);
}

}  // namespace knee::report_html
