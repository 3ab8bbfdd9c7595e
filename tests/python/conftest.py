"""Shared fixtures: the CLI binary (KNEE_BIN) and the source tree (KNEE_SOURCE_DIR), both set by
ctest (tests/CMakeLists.txt); the module itself comes from PYTHONPATH=<build>/python."""
import json
import os
import pathlib
import subprocess

import pytest

HERE = pathlib.Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def src_dir():
    return pathlib.Path(os.environ.get("KNEE_SOURCE_DIR", HERE.parent.parent))


@pytest.fixture(scope="session")
def knee_bin():
    path = os.environ.get("KNEE_BIN")
    if not path or not os.access(path, os.X_OK):
        pytest.fail("KNEE_BIN must name the built knee CLI (ctest sets it)")
    return path


@pytest.fixture(scope="session")
def cli_json(knee_bin):
    """cli_json("topology", "--system", "dgx-h100", ...) -> the parsed output of ... --json."""
    def run(*args):
        out = subprocess.run([knee_bin, *map(str, args), "--json"], check=True, capture_output=True, text=True)
        return json.loads(out.stdout)
    return run


def small_topology():
    """Two servers of two GPUs (NVSwitch each, NIC per GPU) joined by one network switch."""
    nodes = [{"id": f"g{i}", "kind": "gpu"} for i in range(4)]
    nodes += [{"id": "nv0", "kind": "switch"}, {"id": "nv1", "kind": "switch"}, {"id": "leaf", "kind": "switch"}]
    nodes += [{"id": f"n{i}", "kind": "nic"} for i in range(4)]
    links = [{"a": f"g{i}", "b": f"nv{i // 2}", "bandwidth_GBps": 450, "latency_ns": 350} for i in range(4)]
    links += [{"a": f"g{i}", "b": f"n{i}", "bandwidth_GBps": 64, "latency_ns": 500} for i in range(4)]
    links += [{"a": f"n{i}", "b": "leaf", "bandwidth_GBps": 50, "latency_ns": 600} for i in range(4)]
    return {"name": "two-by-two", "nodes": nodes, "links": links}


@pytest.fixture()
def topo_dict():
    return small_topology()


@pytest.fixture()
def topo_file(tmp_path, topo_dict):
    p = tmp_path / "topo.json"
    p.write_text(json.dumps(topo_dict))
    return p
