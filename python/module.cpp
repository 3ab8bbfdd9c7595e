// The extension module knee._knee: the exception translation, the helpers the bind_*.cpp parts
// share, and the parts themselves in name order. The pure-Python package knee wraps it.
#include <algorithm>
#include <map>
#include <new>
#include <regex>

#include <pybind11/stl.h>

#include "common/error.hpp"
#include "common/parse.hpp"
#include "python/bindings.hpp"

namespace knee::python {

namespace {
std::map<std::string, std::function<void(py::module_&)>>& parts() {
  static std::map<std::string, std::function<void(py::module_&)>> m;  // sorted: deterministic order
  return m;
}

template <class J>
py::object to_py(const J& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return py::none();
    case nlohmann::json::value_t::boolean:
      return py::bool_(j.template get<bool>());
    case nlohmann::json::value_t::number_integer:
      return py::int_(j.template get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned:
      return py::int_(j.template get<std::uint64_t>());
    case nlohmann::json::value_t::number_float:
      return py::float_(j.template get<double>());
    case nlohmann::json::value_t::string:
      return py::str(j.template get_ref<const std::string&>());
    case nlohmann::json::value_t::array: {
      py::list l;
      for (const auto& v : j) l.append(to_py(v));
      return l;
    }
    case nlohmann::json::value_t::object: {
      py::dict d;
      for (auto it = j.begin(); it != j.end(); ++it) d[py::str(it.key())] = to_py(it.value());
      return d;
    }
    default:  // binary and discarded values never come out of knee's writers
      throw std::runtime_error("knee: unexpected JSON value type");
  }
}
}  // namespace

void register_binding(const char* name, std::function<void(py::module_&)> add) { parts()[name] = std::move(add); }

py::object json_to_py(const nlohmann::ordered_json& j) { return to_py(j); }
py::object json_to_py(const nlohmann::json& j) { return to_py(j); }

std::string python_message(const std::string& cli_message) {
  // Only flags at the start, after a space or after '/' ("--system/--file"), ending in ':', '/' or ' '.
  static const std::regex flag(R"((^|[ /])--([a-z][a-z0-9-]*)(?=[:/ ]))");
  std::string out;
  auto begin = std::sregex_iterator(cli_message.begin(), cli_message.end(), flag);
  std::size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    out.append(cli_message, last, static_cast<std::size_t>(m.position(0)) - last);
    std::string key = m[2].str();
    std::replace(key.begin(), key.end(), '-', '_');
    out += m[1].str() + key;
    last = static_cast<std::size_t>(m.position(0) + m.length(0));
  }
  out.append(cli_message, last, std::string::npos);
  return out;
}

std::int64_t checked_integer(std::int64_t v, const std::string& what, std::int64_t min, std::int64_t max) {
  return parse_integer(std::to_string(v), what, min, max);  // same wording as a CLI flag
}

}  // namespace knee::python

PYBIND11_MODULE(_knee, m) {
  namespace py = pybind11;
  using namespace knee::python;
  m.doc() = "knee: calibrated discrete-event simulator of GPU clusters (compiled part; use the package knee)";

  // ValueError subclass, so `except ValueError` also catches bad input.
  static py::exception<knee::InputError> input_error(m, "InputError", PyExc_ValueError);
  input_error.attr("__module__") = "knee";  // shown and pickled as knee.InputError
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const knee::InputError& e) {
      input_error(python_message(e.what()).c_str());
    } catch (const std::bad_alloc&) {
      throw;  // pybind11 makes it MemoryError
    } catch (const py::builtin_exception&) {
      throw;  // pybind11's own TypeError, IndexError, ...
    } catch (const py::error_already_set&) { throw; } catch (const std::exception& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());  // a bug, not bad input: never a ValueError
    }
  });

  m.attr("__version__") = knee::knee_version();
  m.attr("git_revision") = knee::knee_git_revision();
  m.def("parse_bytes", &knee::parse_bytes, py::arg("text"), py::arg("what"),
        "'1GiB' -> 1073741824 (KB/MB/GB powers of ten, KiB/MiB/GiB of two); InputError otherwise.");
  m.def("parse_size_sweep", &knee::parse_size_sweep, py::arg("text"), py::arg("what"),
        "'8B:8GiB' -> every power of two from 8 B to 8 GiB.");
  m.def("format_bytes", &knee::format_bytes, py::arg("bytes"));
  m.def("_python_message", &python_message, py::arg("cli_message"));

  for (auto& [name, add] : parts()) add(m);
}
