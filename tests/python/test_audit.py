"""knee.audit against `knee audit --json`: the same dict, the checks as a DataFrame with the
schema's columns, a dict claim like the file, and bad input raising knee.InputError naming the
field."""
import dataclasses
import importlib
import json
import subprocess

import pytest

import knee


@pytest.fixture(scope="module")
def path(src_dir):
    return str(src_dir / "examples" / "claims" / "linear-to-1024.json")


def test_audit_equals_cli(knee_bin, path):
    cli = json.loads(subprocess.run([knee_bin, "audit", path, "--json"], check=True, capture_output=True,
                                    text=True).stdout)
    a = knee.audit(path)
    assert a.to_dict() == cli
    assert a.verdict == "not supported"
    assert list(a.checks.columns) == ["item", "status", "detail"]
    assert list(a.checks["item"]) == [c["item"] for c in cli["checks"]]
    assert a.checks.set_index("item").loc["measured efficiency", "status"] == "contradicted"
    assert a.analysis.baseline_gpus == 8 and len(a.analysis.counts) == 4
    # The fields are the schema's (metrics/claim_audit_schema.cpp), in the JSON's order.
    audit_module = importlib.import_module("knee.audit")  # knee.audit is the function
    assert list(cli) == list(audit_module.CLAIM_AUDIT_KEYS)
    assert [f.name for f in dataclasses.fields(a)][:len(cli)] == list(cli)
    assert a.source == path and a.mode == cli["mode"] and a.baseline_gpus == cli["baseline_gpus"]
    assert "verdict_basis" in knee.ClaimAudit.__doc__


def test_a_dict_claim_reads_as_the_file(src_dir, path):
    with open(path) as f:
        d = json.load(f)
    d["runs"] = str(src_dir / "examples" / "runs" / "synthetic-strong.csv")
    a, b = knee.audit(d), knee.audit(path)
    assert a.verdict == b.verdict
    assert a.checks.equals(b.checks)


def test_bad_claims_raise_naming_the_field(path):
    with pytest.raises(knee.InputError, match=r"\$\.extrapolation: expected"):
        knee.audit({"claim": "x", "runs": []})
    with pytest.raises(knee.InputError, match="samples: expected 0"):
        knee.audit(path, samples=1)
    with pytest.raises(knee.InputError, match="expected a readable claim file"):
        knee.audit("no/such/claim.json")
