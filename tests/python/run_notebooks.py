#!/usr/bin/env python3
"""Executes every examples/*.ipynb (or the notebooks given) top to bottom with nbclient and fails
on the first cell that raises. The kernel is this interpreter (sys.executable, Debian's
/usr/bin/python3 under ctest) with this process's environment, so PYTHONPATH reaches it; a
private kernelspec and IPYTHONDIR keep user-level Jupyter settings out of the run.

    PYTHONPATH=build/python /usr/bin/python3 tests/python/run_notebooks.py examples
"""
import json
import os
import pathlib
import sys
import tempfile
import time

import nbclient
import nbformat

KERNEL = "knee-python3"
TIMEOUT_S = 120  # per cell


def notebooks(args):
    paths = []
    for a in args or [pathlib.Path(__file__).resolve().parents[2] / "examples"]:
        p = pathlib.Path(a)
        paths += sorted(p.glob("*.ipynb")) if p.is_dir() else [p]
    return paths


def main():
    paths = notebooks(sys.argv[1:])
    if not paths:
        print("run_notebooks: expected at least one notebook, got none", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        spec = pathlib.Path(tmp, "kernels", KERNEL)
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "knee (python3)", "language": "python"}))
        os.environ["JUPYTER_PATH"] = tmp
        os.environ["IPYTHONDIR"] = os.path.join(tmp, "ipython")
        os.environ.setdefault("MPLBACKEND", "Agg")
        # Kernels run in the notebook's folder: a relative PYTHONPATH (build/python) must not break.
        os.environ["PYTHONPATH"] = os.pathsep.join(
            os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)
        failed = 0
        for path in paths:
            nb = nbformat.read(path, as_version=4)
            t0 = time.perf_counter()
            try:
                nbclient.NotebookClient(nb, kernel_name=KERNEL, timeout=TIMEOUT_S,
                                        resources={"metadata": {"path": str(path.parent)}}).execute()
            except nbclient.exceptions.CellExecutionError as e:
                failed += 1
                print(f"FAIL {path}:\n{e}", file=sys.stderr)
                continue
            print(f"ok   {path} ({time.perf_counter() - t0:.1f} s, {len(nb.cells)} cells)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
