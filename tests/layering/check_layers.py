#!/usr/bin/env python3
"""The house's rules, checked on the code as it is (docs/architecture.md draws them).

1. Includes run down the layers only: a file includes knee headers of its own room, or of the
   rooms its layer may use (LAYERS below). Tests may use everything and are not checked.
2. sim/ (the core) never names a command-line flag in its messages: it does not know who called it.
3. The Python package has no import circles.

Usage: check_layers.py SOURCE_DIR. Prints every violation, one line each, and exits 1 if any.
       check_layers.py --self-test: the checker against a small made-up tree whose violations are
       known (so a checker that finds nothing fails).
"""
import re
import sys
from pathlib import Path

# Room -> the rooms it may include (besides itself). Bottom up; the ground floor (common, profile)
# is usable by every room above it.
GROUND = ["common", "profile"]
SIM = ["sim/engine", "sim/network", "sim/collectives"]
LAYERS = {
    "common": [],
    "profile": ["common"],
    "topologies": GROUND,
    "calibrate": GROUND,
    "sim/engine": GROUND,
    "sim/network": GROUND + ["sim/engine"],
    "sim/collectives": GROUND + ["topologies", "sim/engine", "sim/network"],
    # One room per kind of job; a kind never reaches into another kind's room.
    # The model description every kind of job shares (ModelSpec, its parsing, shape facts).
    "workloads/model": GROUND,
    "workloads/training": GROUND + ["topologies"] + SIM + ["workloads/model"],
    "workloads/serving": GROUND + ["topologies"] + SIM + ["workloads/model"],
    # Jobs sharing a cluster: training jobs' every-rank steps on one network (through training's
    # public every_rank_jobs.hpp).
    "workloads/cluster": GROUND + ["topologies"] + SIM + ["workloads/model", "workloads/training"],
    "metrics": GROUND + ["topologies"] + SIM + ["workloads/model", "workloads/training", "workloads/serving",
                                                "workloads/cluster"],
    "cli": GROUND + ["topologies", "calibrate"] + SIM + ["workloads/model", "workloads/training", "workloads/serving",
                                                        "workloads/cluster", "metrics"],
    "python": GROUND + ["topologies", "calibrate"] + SIM + ["workloads/model", "workloads/training",
                                                           "workloads/serving", "workloads/cluster", "metrics"],
}
SOURCE_SUFFIXES = {".cpp", ".hpp", ".cu", ".h"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
FLAG_IN_STRING = re.compile(r'"[^"\n]*(?<![\w-])--[a-z][a-z-]+[^"\n]*"')


def room_of(path: str):
    """The room a repository path belongs to (longest matching prefix), or None."""
    best = None
    for room in LAYERS:
        if path == room or path.startswith(room + "/"):
            if best is None or len(room) > len(best):
                best = room
    return best


def check_includes(src: Path):
    errors = []
    for f in sorted(src.rglob("*")):
        rel = f.relative_to(src).as_posix()
        if f.suffix not in SOURCE_SUFFIXES or rel.startswith(("tests/", "build")):
            continue
        room = room_of(rel)
        if room is None:
            continue
        for lineno, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            inc = m.group(1)
            target = room_of(inc)
            if target is None:
                if "/" in inc and not (src / inc).exists():
                    errors.append(f"{rel}:{lineno}: includes \"{inc}\", which is in no room of the house")
                continue
            if target != room and target not in LAYERS[room]:
                errors.append(f"{rel}:{lineno}: {room}/ includes {inc}: {room}/ may use only "
                              f"{', '.join(LAYERS[room]) or 'nothing of knee'}")
    return errors


def check_no_flags_in_core(src: Path):
    errors = []
    for f in sorted((src / "sim").rglob("*")):
        if f.suffix not in SOURCE_SUFFIXES:
            continue
        for lineno, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
            code = line.split("//", 1)[0]
            if FLAG_IN_STRING.search(code):
                errors.append(f"{f.relative_to(src).as_posix()}:{lineno}: sim/ names a command-line flag in a "
                              f"message; say what is wrong in the library's own terms (the caller adds its flag)")
    return errors


def check_python_imports(src: Path):
    pkg = src / "python" / "knee"
    mods = {p.stem: p for p in pkg.glob("*.py")}
    graph = {}
    imp = re.compile(r"^\s*(?:from\s+\.(\w*)\s+import\s+([\w, ()]+)|from\s+knee(?:\.(\w+))?\s+import\s+([\w, ()]+)"
                     r"|import\s+knee\.(\w+))", re.M)
    for name, p in mods.items():
        deps = set()
        text = p.read_text()
        for m in imp.finditer(text):
            mod = m.group(1) if m.group(1) is not None else m.group(3) if m.group(3) is not None else m.group(5)
            names = m.group(2) or m.group(4) or ""
            if mod:  # from .x import ... / from knee.x import ...
                deps.add(mod)
            else:    # from . import a, b
                deps.update(n.strip("() ") for n in names.split(","))
        graph[name] = sorted(d for d in deps if d in mods and d != name)
    errors, state = [], {}

    def visit(n, stack):
        state[n] = 1
        for d in graph[n]:
            if state.get(d) == 1:
                cyc = stack[stack.index(d):] + [d]
                errors.append("python/knee: import circle " + " -> ".join(f"{c}.py" for c in cyc))
            elif d not in state:
                visit(d, stack + [d])
        state[n] = 2

    for n in sorted(graph):
        if n not in state and n != "__init__":
            visit(n, [n])
    return errors


def check(src: Path):
    return check_includes(src) + check_no_flags_in_core(src) + check_python_imports(src)


def self_test():
    import tempfile
    files = {
        "common/units.hpp": '#include <cstdint>\n',
        "profile/profile.hpp": '#include "common/units.hpp"\n',
        "sim/engine/engine.hpp": '#include "common/units.hpp"\n#include "profile/profile.hpp"\n',
        # Reaches up: the core into a workload, the ground floor into the core.
        "sim/network/net.cpp": '#include "sim/engine/engine.hpp"\n#include "workloads/training/step.hpp"\n',
        "common/bad.cpp": '#include "sim/engine/engine.hpp"\n',
        "workloads/training/step.hpp": '#include "sim/network/net.hpp"\n#include "calibrate/fitter.hpp"\n',
        "sim/network/net.hpp": '',
        "calibrate/fitter.hpp": '',
        "sim/collectives/c.cpp": 'auto m = "size: expected >= 0";  // --bytes in a comment is fine\n'
                                 'auto e = "knee collective: --bytes: expected";\n',
        "python/knee/a.py": "from .b import x\n",
        "python/knee/b.py": "from . import c\n",
        "python/knee/c.py": "from .a import y\n",
        "python/knee/d.py": "from .a import y\n",
    }
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        got = check(root)
    expected = [
        "sim/network/net.cpp:2: sim/network/ includes workloads/training/step.hpp",
        "common/bad.cpp:1: common/ includes sim/engine/engine.hpp",
        "workloads/training/step.hpp:2: workloads/training/ includes calibrate/fitter.hpp",
        "sim/collectives/c.cpp:2: sim/ names a command-line flag",
        "python/knee: import circle a.py -> b.py -> c.py -> a.py",
    ]
    missing = [e for e in expected if not any(g.startswith(e) for g in got)]
    extra = [g for g in got if not any(g.startswith(e) for e in expected)]
    for m in missing:
        print("self-test: not found:", m)
    for x in extra:
        print("self-test: found but not a violation:", x)
    return 1 if missing or extra else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    src = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    errors = check(src)
    for e in errors:
        print(e)
    if errors:
        print(f"{len(errors)} violation(s) of the layering (docs/architecture.md)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
