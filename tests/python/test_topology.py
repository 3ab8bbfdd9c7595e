"""knee.topology / knee.Cluster against `knee topology --json`, and bad input as knee.InputError."""
import pickle

import pytest

import knee

CASES = [
    dict(system="dgx-h100", nodes=2),
    dict(system="dgx-a100", nodes=20, fabric="fat-tree", oversubscription=2.0),
    dict(system="dgx-h200", fabric="torus", dims=[2, 3]),
    dict(system="hgx-b200", nodes=40, radix=32),
    dict(system="gb200-nvl72", nodes=2),
    dict(system="dgx-h100"),
    dict(system="dgx-h100", nodes=64, pod_gpus=256, pod_oversubscription=7),
    dict(system="dgx-h100", nodes=16, fabric="fat-tree", pod_gpus=64, pod_oversubscription=4.0),
]


def cli_args(kw):
    args = []
    for k, v in kw.items():
        args += [f"--{k.replace('_', '-')}", ",".join(map(str, v)) if isinstance(v, list) else v]
    return args


@pytest.mark.parametrize("kw", CASES, ids=lambda kw: "-".join(str(v) for v in kw.values()))
def test_summary_equals_cli(cli_json, kw):
    expected = cli_json("topology", *cli_args(kw))
    del expected["build_time_s"]  # wall time, not part of the model
    got = knee.topology(**kw)
    assert got == expected
    assert list(got) == list(expected)  # same key order as the CLI


def test_default_system_is_dgx_h100_single_node(cli_json):
    expected = cli_json("topology", "--system", "dgx-h100")
    del expected["build_time_s"]
    assert knee.topology() == expected
    assert knee.topology()["gpus"] == 8


def test_file_and_dict_equal_cli(cli_json, topo_file, topo_dict):
    expected = cli_json("topology", "--file", topo_file)
    del expected["build_time_s"]
    assert knee.topology(file=str(topo_file)) == expected
    assert knee.topology(file=topo_file) == expected  # os.PathLike
    assert knee.topology(file=topo_dict) == expected
    assert expected["gpus"] == 4 and expected["switches"] == 3 and expected["links"] == 12


def test_system_dict_equals_builtin(src_dir):
    import json
    d = json.loads((src_dir / "topologies/systems/dgx-h100.json").read_text())
    a, b = knee.topology(system=d, nodes=4), knee.topology(system="dgx-h100", nodes=4)
    assert a == b and a["gpus"] == 32


def test_cluster_object_and_pickle():
    c = knee.Cluster("dgx-h100", nodes=2)
    assert c.num_gpus == 16 and c.system == "dgx-h100" and c.gpu_model == "h100"
    assert c.build_time_s >= 0
    c2 = pickle.loads(pickle.dumps(c))
    assert c2.summary() == c.summary() and c2.spec_key() == c.spec_key()
    assert "16 GPUs" in repr(c)


@pytest.mark.parametrize("kw, needle", [
    (dict(system="dgx-h900"), "knee.topology: system: expected one of dgx-a100"),
    (dict(system="dgx-h100", nodes=0), "knee.topology: nodes: expected an integer >= 1, got '0'"),
    (dict(system="dgx-h100", nodes="two"), "knee.topology: nodes: expected an integer, got 'two'"),
    (dict(system="dgx-h100", nodes=True), "knee.topology: nodes: expected an integer, got True"),
    (dict(system="dgx-h100", fabric="ring"), "knee.topology: fabric: expected one of single-node"),
    (dict(system="dgx-h100", oversubscription=0.5), "knee.topology: oversubscription: expected a number >= 1"),
    (dict(system="dgx-h100", nodes=64, pod_gpus=100), "knee.topology: pod_gpus: expected a multiple of 256"),
    (dict(system="dgx-h100", nodes=64, pod_gpus=256, pod_oversubscription=0.5),
     "knee.topology: pod_oversubscription: expected a number >= 1"),
    (dict(system="dgx-h100", nodes=64, pod_oversubscription=7),
     "knee.topology: pod_oversubscription: expected 1 without pod_gpus"),
    (dict(system="dgx-h100", nodes=64, pod_gpus="many"), "knee.topology: pod_gpus: expected an integer"),
    (dict(file="x.json", pod_gpus=256), "knee.topology: pod_gpus: expected no fabric options with file"),
    (dict(system="dgx-h100", nodes=3, fabric="torus", dims=[2, 2]), "knee.topology: nodes: expected the product of dims (4), got 3"),
    (dict(system="dgx-h100", file="x.json"), "knee.topology: system/file: expected exactly one"),
    (dict(file="/nonexistent/topo.json"), "/nonexistent/topo.json"),
    (dict(file={"nodes": [{"id": "g0", "kind": "gpu"}]}), "<dict>: $.links: expected"),
    (dict(file={"nodes": [{"id": "g0", "kind": "gpu", "colour": 1}], "links": []}), "<dict>: $.nodes[0].colour"),
    (dict(file={"nodes": [], "links": [], "x": float("nan")}), "knee.topology: file: expected a JSON-serializable dict"),
    (dict(file=42), "knee.topology: file: expected a file path or a dict, got 42"),
    (dict(system={"name": "x"}), "<dict>: $."),
])
def test_bad_input_raises_input_error(kw, needle):
    with pytest.raises(knee.InputError) as e:
        knee.topology(**kw)
    assert needle in str(e.value)
    assert isinstance(e.value, ValueError)
    assert "\n" not in str(e.value)
