// Shared by the python/bind_*.cpp files that make up the extension module knee._knee. Each file
// registers its part with KNEE_PY_BINDING, so a new part (the workload, say) is one new file:
// python/CMakeLists.txt compiles bind_<x>.cpp when the library knee_<x> exists and links it.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include <pybind11/pybind11.h>
#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace knee::python {

namespace py = pybind11;

// Adds the part `name` to the module; parts are added in name order when the module loads.
void register_binding(const char* name, std::function<void(py::module_&)> add);
struct BindingRegistrar {
  BindingRegistrar(const char* name, std::function<void(py::module_&)> add) { register_binding(name, std::move(add)); }
};

// JSON values as Python objects (dict, list, str, int, float, bool, None); key order is kept.
py::object json_to_py(const nlohmann::ordered_json& j);
py::object json_to_py(const nlohmann::json& j);

// The message of an InputError as Python shows it: CLI flags become keyword names
// ("knee.collective: --algo: ..." -> "knee.collective: algo: ...").
std::string python_message(const std::string& cli_message);

// Range check of an integer argument with the CLI's wording:
// "WHAT: expected an integer >= MIN [and <= MAX], got V".
std::int64_t checked_integer(std::int64_t v, const std::string& what, std::int64_t min, std::int64_t max = INT64_MAX);

// A result's field definitions (any struct with key, unit and meaning: the result schemas) as a
// list of dicts, which Python's dataclass fields and DataFrame columns are made from.
template <class Fields>
py::list field_list(const Fields& fields) {
  py::list out;
  for (const auto& f : fields) {
    py::dict d;
    d["key"] = f.key;
    d["unit"] = f.unit;
    d["meaning"] = f.meaning;
    out.append(d);
  }
  return out;
}

}  // namespace knee::python

#define KNEE_PY_CONCAT2(a, b) a##b
#define KNEE_PY_CONCAT(a, b) KNEE_PY_CONCAT2(a, b)
#define KNEE_PY_BINDING(name, fn) \
  static ::knee::python::BindingRegistrar KNEE_PY_CONCAT(knee_py_binding_, __LINE__)(name, fn)
