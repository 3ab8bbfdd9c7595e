"""knee.Profile queries against the shipped profile's own numbers, knee.fit against `knee fit`,
and bad profiles as knee.InputError."""
import copy
import json
import pickle
import subprocess

import pytest

import knee

RAW = "calibrate/data/h200-2026-11-27"


@pytest.fixture(scope="module")
def h200_json(src_dir):
    return json.loads((src_dir / "profile/shipped/h200.json").read_text())


def test_builtin_is_the_shipped_file(src_dir, h200_json):
    assert {"h200", "h100", "a100", "b200"} <= set(knee.Profile.builtin_names())
    p = knee.Profile.builtin("h200")
    assert p.to_dict() == h200_json
    assert p.name == "h200" and p.gpu == h200_json["gpu"]
    loaded = knee.Profile.load(src_dir / "profile/shipped/h200.json")
    assert loaded.to_dict() == h200_json
    assert knee.Profile(h200_json).to_dict() == h200_json
    assert knee.Profile("h200").to_dict() == h200_json


def test_gemm_at_a_measured_shape_is_the_measurement(h200_json):
    p = knee.Profile.builtin("h200")
    for s in h200_json["compute"]["gemm"]["bf16"]["samples"]:
        if s["m"] == s["n"] == s["k"] == 6144:
            assert p.gemm_time_s(6144, 6144, 6144, "bf16") == s["median_s"]
            assert p.gemm_tflops(6144, 6144, 6144) == pytest.approx(2 * 6144 ** 3 / s["median_s"] / 1e12, rel=1e-12)
            break
    else:
        pytest.fail("the shipped h200 profile has no 6144^3 bf16 sample")
    # Compute-bound squares take longer as they grow; nothing is faster than the launch floor
    # (small shapes sit at the floor, give or take measurement noise, so they are not ordered).
    times = [p.gemm_time_s(n, n, n) for n in (2048, 4096, 8192, 16384)]
    assert times == sorted(times) and len(set(times)) == 4
    floor = h200_json["compute"]["gemm"]["bf16"]["floor_s"]["value"]
    assert min(p.gemm_time_s(n, n, n) for n in (8, 64, 256, 1024)) >= floor
    assert set(p.gemm_dtypes()) >= {"bf16", "fp16", "fp8", "tf32", "fp32"}


def test_links_power_and_memory_are_the_profile_values(h200_json):
    p = knee.Profile.builtin("h200")
    nv = h200_json["links"]["nvlink"]
    ab = p.link("nvlink")
    assert ab["alpha_s"] == nv["alpha_s"]["value"] and ab["beta_s_per_byte"] == nv["beta_s_per_byte"]["value"]
    assert p.link_time_s("nvlink", 1e6) == pytest.approx(ab["alpha_s"] + 1e6 * ab["beta_s_per_byte"], rel=1e-15)
    assert set(p.link_classes()) == set(h200_json["links"])
    pw = {k: h200_json["power"][k]["value"] for k in ("idle_W", "compute_W", "memory_W", "tdp_W")}
    assert p.power_W(0, 0) == pw["idle_W"]
    assert p.power_W(0.5, 0.25) == pytest.approx(
        pw["idle_W"] + (pw["compute_W"] - pw["idle_W"]) * 0.5 + (pw["memory_W"] - pw["idle_W"]) * 0.25, rel=1e-15)
    assert p.power_W(1, 1) == pw["tdp_W"]  # clamped
    assert p.hbm_capacity_bytes() == h200_json["memory"]["capacity_bytes"]["value"]
    assert p.launch_overhead_s() == h200_json["launch"]["host_launch_s"]["value"]
    t1, t2 = p.memory_bound_time_s(1e9), p.memory_bound_time_s(2e9)
    assert 0 < t1 < t2 and p.memory_bandwidth_Bps() > 1e12
    fwd = p.attention_time_s(1, 32, 4096, 128)
    assert 0 < fwd < p.attention_time_s(1, 32, 4096, 128, backward=True)


def test_pickle_roundtrip():
    p = knee.Profile.builtin("a100")
    q = pickle.loads(pickle.dumps(p))
    assert q.to_dict() == p.to_dict() and q.gemm_time_s(4096, 4096, 4096) == p.gemm_time_s(4096, 4096, 4096)


def test_bad_profiles(h200_json):
    with pytest.raises(knee.InputError, match="profile 'h900': expected a built-in profile"):
        knee.Profile.builtin("h900")
    bad = copy.deepcopy(h200_json)
    bad["memory"]["copy"]["bandwith_Bps"] = bad["memory"]["copy"].pop("bandwidth_Bps")
    with pytest.raises(knee.InputError, match=r"<dict>: \$\.memory\.copy\.bandwith_Bps"):
        knee.Profile.from_dict(bad)
    with pytest.raises(knee.InputError, match="warp"):
        knee.Profile.builtin("h200").link("warp")
    with pytest.raises(knee.InputError, match="gemm: m: expected an integer"):
        knee.Profile.builtin("h200").gemm_time_s("big", 1, 1)
    with pytest.raises(knee.InputError, match="/nonexistent/p.json"):
        knee.Profile.load("/nonexistent/p.json")


def test_gemm_role(h200_json):
    """A role at a shape it measured is that role's median (docs/calibration.md, "GEMM roles")."""
    p = knee.Profile.builtin("h200")
    for s in h200_json["compute"]["gemm"]["bf16"]["samples"]:
        if s["label"].startswith("fc1.fwd hidden=2048 tokens=8192"):
            assert p.gemm_time_s(s["m"], s["n"], s["k"], "bf16", role="fwd") == pytest.approx(s["median_s"], rel=1e-12)
    assert p.gemm_time_s(4096, 4096, 4096, "fp16", role="bwd_weight") == p.gemm_time_s(4096, 4096, 4096, "fp16")
    with pytest.raises(knee.InputError, match="role: expected one of none, fwd, bwd_data, bwd_weight, got 'dgrad'"):
        p.gemm_time_s(8192, 8192, 2048, "bf16", role="dgrad")


def test_fit_equals_cli(src_dir, knee_bin, tmp_path):
    raw1, raw2 = src_dir / RAW / "micro.json", src_dir / RAW / "run2/micro.json"
    out = tmp_path / "h200.json"
    subprocess.run([knee_bin, "fit", raw1, raw2, "--name", "h200", "--out", out], check=True)
    expected = json.loads(out.read_text())
    got = knee.fit([str(raw1), str(raw2)], name="h200")
    assert got["manifest"]["command_line"].startswith("knee.fit(")
    strip = [copy.deepcopy(d) for d in (expected, got)]
    for d in strip:
        d["manifest"].pop("command_line")  # how it was invoked differs, nothing else
    assert strip[0] == strip[1]
    p = knee.Profile(got)
    assert p.gemm_time_s(4096, 4096, 4096) > 0
    derived = knee.derive(p, "a100")
    assert derived["gpu"] == "NVIDIA A100 SXM 80GB"


def test_fit_from_dict_and_errors(src_dir):
    raw = json.loads((src_dir / RAW / "micro.json").read_text())
    from_dict = knee.fit(raw)  # name from the GPU: h200
    assert from_dict["name"] == "h200" and from_dict["schema_version"] == 1
    raw["gemm"][0]["m"] = "64"
    with pytest.raises(knee.InputError, match=r"<dict 0>: \$\.gemm\[0\]\.m: expected an integer >= 1"):
        knee.fit(raw)
    with pytest.raises(knee.InputError, match="knee.fit: raw: expected a raw measurement"):
        knee.fit([])
    with pytest.raises(knee.InputError, match="/nonexistent/raw.json"):
        knee.fit("/nonexistent/raw.json")


def test_batched_gemm_falls_back_to_one_folded_gemm():
    # The shipped h200 has no batched samples: batch products of m x n x k are timed as one
    # (batch*m) x n x k GEMM, but no faster than every product's own operands moved through HBM
    # (docs/calibration.md).
    p = knee.Profile("h200")
    assert not p.has_batched_gemm("bf16")
    for b, m, n, k in [(64, 2048, 2048, 128), (8, 4096, 4096, 4096), (4096, 1, 4096, 4096)]:
        traffic = b * (m * k + k * n + m * n) * 2 / p.memory_bandwidth_Bps()
        assert p.batched_gemm_time_s(b, m, n, k) == max(p.gemm_time_s(b * m, n, k), traffic)
    assert p.batched_gemm_time_s(4096, 1, 4096, 4096) > 10 * p.gemm_time_s(4096, 4096, 4096)
    assert not p.has_attention_unfused()
    with pytest.raises(knee.InputError, match="unfused_samples"):
        p.attention_unfused_time_s(1, 16, 2048, 128)


def test_power_reference_and_variability():
    # The measured h200 carries its power phases' rates and the variability knee fit measured; a
    # profile without variability says None.
    p = knee.Profile("h200")
    assert p.has_power()
    d = p.to_dict()
    assert p.power_reference()["flops_per_s"] == d["power"]["calibration_rates"]["compute_tflops"] * 1e12
    assert p.power_W(1, 0) == d["power"]["compute_W"]["value"]
    assert p.variability_cv("op_cv") == d["variability"]["op_cv"]["value"]
    assert 0 < p.variability_cv("gpu_cv") < 0.02
    del d["variability"]
    assert knee.Profile.from_dict(d).variability_cv("op_cv") is None


def test_derive_with_a_datasheet_file(src_dir, knee_bin, tmp_path):
    sheet = src_dir / "profile/datasheets/h100.json"
    got = knee.derive(knee.Profile.builtin("h200"), datasheet=sheet)
    assert got["derivation"]["datasheet"] == str(sheet)
    out = tmp_path / "h100.json"
    subprocess.run([knee_bin, "fit", "--derive", src_dir / "profile/shipped/h200.json", "--datasheet", sheet,
                    "--out", out], check=True)
    cli = json.loads(out.read_text())
    strip = [copy.deepcopy(d) for d in (got, cli)]
    for d in strip:
        d["manifest"].pop("command_line")  # how it was invoked differs, nothing else
    assert strip[0] == strip[1]
    assert got["manifest"]["parameters_digest"] == cli["manifest"]["parameters_digest"]
    assert knee.Profile(got).parameters_state == "unedited"
    hypo = knee.derive("h200", datasheet=src_dir / "examples/datasheets/h200-2x-hbm.json")
    assert hypo["memory"]["copy"]["bandwidth_Bps"]["value"] == 2 * knee.Profile("h200").memory_bandwidth_Bps()
    edited = copy.deepcopy(got)
    edited["power"]["idle_W"]["value"] += 1
    assert knee.Profile(edited).parameters_state == "edited"
    bad = json.loads(sheet.read_text())
    bad["tdp_W"] = "700 W"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(knee.InputError, match=r"bad\.json: \$\.tdp_W: expected a number > 0"):
        knee.derive("h200", datasheet=path)
    with pytest.raises(knee.InputError, match="expected exactly one of them"):
        knee.derive("h200", "h100", datasheet=sheet)
