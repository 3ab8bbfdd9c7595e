// knee._knee.render_report: the HTML capacity-planning report of `knee report` (metrics).
#include "common/json_reader.hpp"
#include "metrics/report.hpp"
#include "python/bindings.hpp"

namespace knee::python {
namespace {

// Bytes, as the CLI writes them (no decoding on the way).
py::bytes render_report(const std::string& sweep_text, const std::string& source, const std::string& command_line,
                        const std::string& question) {
  std::string html;
  {
    py::gil_scoped_release release;
    html = render_report_html(parse_json_text(sweep_text, source), ReportContext{source, command_line, question});
  }
  return py::bytes(html);
}

void add_metrics(py::module_& m) {
  m.def("render_report", &render_report, py::arg("sweep_text"), py::arg("source"), py::arg("command_line"),
        py::arg("question"), "The HTML of `knee report` for sweep JSON text.");
}

}  // namespace

KNEE_PY_BINDING("metrics", add_metrics);

}  // namespace knee::python
