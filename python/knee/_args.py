"""Checks of Python arguments before they reach C++: a wrong type is a knee.InputError naming
the argument (never a bare TypeError from the binding layer)."""
import json
import numbers
import os

from ._knee import InputError, parse_bytes


def integer(what, key, v):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise InputError(f"{what}: {key}: expected an integer, got {v!r}")
    return int(v)


def optional_integer(what, key, v):
    return None if v is None else integer(what, key, v)


def number(what, key, v):
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise InputError(f"{what}: {key}: expected a number, got {v!r}")
    return float(v)


def string(what, key, v):
    if not isinstance(v, str):
        raise InputError(f"{what}: {key}: expected a string, got {v!r}")
    return v


def boolean(what, key, v):
    if not isinstance(v, bool):
        raise InputError(f"{what}: {key}: expected True or False, got {v!r}")
    return v


def integer_list(what, key, v):
    if isinstance(v, (str, bytes)) or not hasattr(v, "__iter__"):
        raise InputError(f"{what}: {key}: expected a list of integers, got {v!r}")
    return [integer(what, key, x) for x in v]


def size(what, key, v):
    """8, "8B", "4KiB", "1GiB" -> bytes (int)."""
    if isinstance(v, str):
        return parse_bytes(v, f"{what}: {key}")
    n = integer(what, key, v)
    if n < 0:
        raise InputError(f"{what}: {key}: expected a non-negative size, got {n}")
    return n


def json_text(what, key, d):
    """A dict standing for a JSON file, as JSON text for the C++ loaders."""
    try:
        return json.dumps(d, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise InputError(f"{what}: {key}: expected a JSON-serializable dict, got {e}") from None


def path_or_json(what, key, v):
    """("path", PATH) for a str or os.PathLike, ("json", TEXT) for a dict."""
    if isinstance(v, dict):
        return "json", json_text(what, key, v)
    if isinstance(v, (str, os.PathLike)):
        return "path", os.fspath(v)
    raise InputError(f"{what}: {key}: expected a file path or a dict, got {v!r}")


def scenario_text(what, scenario):
    """(JSON text, source) of a scenario dict or file, the source naming it in messages."""
    kind, value = path_or_json(what, "scenario", scenario)
    if kind == "json":
        return value, "<dict>"
    try:
        with open(value, "rb") as f:
            return f.read().decode("utf-8", errors="replace"), value
    except OSError:
        # The wording of the CLI (common/json_reader.cpp).
        raise InputError(f"{value}: expected a readable JSON file, got no such file or no permission") from None


def field_docs(fields, indent="  "):
    """Docstring lines of a result's schema fields (dicts with key, unit, meaning, from C++):
    "  key [unit]: meaning", one per field."""
    return "\n".join(f"{indent}{f['key']}{' [' + f['unit'] + ']' if f['unit'] else ''}: {f['meaning']}"
                     for f in fields)
