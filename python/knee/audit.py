"""A scaling claim audited (knee.audit), as `knee audit --json` (docs/analyze.md, "Auditing a
scaling claim"): baseline, batch size, measurement window, warm-up, repetitions and variance
checked; the claimed efficiency against the measurements, the scaling laws fitted to them and,
when the claim names a scenario, knee's simulation with its 95% interval."""
import dataclasses
import json
import os

from . import _args
from . import _knee
from ._knee import InputError
from .analyze import frames

# The audit's fields and its checks' columns, defined once in C++ (metrics/claim_audit_schema.hpp).
CLAIM_AUDIT_FIELDS = tuple(_knee.claim_audit_fields())
CLAIM_AUDIT_KEYS = tuple(f["key"] for f in CLAIM_AUDIT_FIELDS)
CHECK_COLUMN_SPECS = tuple(_knee.audit_check_columns())
CHECK_COLUMNS = [c["key"] for c in CHECK_COLUMN_SPECS]


class _ClaimAuditMethods:
    def to_dict(self):
        """The dict of `knee audit --json`."""
        return self.audit_json


ClaimAudit = dataclasses.make_dataclass(
    "ClaimAudit",
    [(k, object, dataclasses.field(repr=k in ("claim", "gpus", "claimed_efficiency", "verdict"))) for k in CLAIM_AUDIT_KEYS]
    + [("audit_json", dict, dataclasses.field(repr=False, default=None))],
    bases=(_ClaimAuditMethods,), frozen=True)
ClaimAudit.__module__ = "knee"
ClaimAudit.__doc__ = (
    "A scaling claim audited, as `knee audit --json` (docs/analyze.md). Fields:\n"
    + _args.field_docs(CLAIM_AUDIT_FIELDS)
    + "\n  checks is a DataFrame with the columns:\n" + _args.field_docs([dict(c, unit="") for c in CHECK_COLUMN_SPECS], "    ")
    + "\n  analysis is knee.analyze's RunAnalysis of the claim's runs; audit_json the dict itself")


def audit(claim, *, samples=None, resamples=2000, seed=1):
    """A scaling claim checked item by item, as `knee audit --json`.

    claim: the path of a claim file (docs/analyze.md; its relative paths are read from its folder)
    or a dict of the same shape (relative paths from the working folder). samples: profile draws
    for the simulation's interval (None: the claim's $.samples, else 8); resamples, seed: of the
    measurements' bootstrap. Bad input raises knee.InputError naming the field.
    """
    import pandas as pd
    what = "knee.audit"
    if isinstance(claim, (str, os.PathLike)):
        path = os.fspath(claim)
        try:
            with open(path, "rb") as f:
                text = f.read().decode("utf-8", errors="replace")
        except OSError:
            raise InputError(f"{path}: expected a readable claim file, got no such file or no permission") from None
        source, folder = path, os.path.dirname(path)
    elif isinstance(claim, dict):
        text, source, folder = json.dumps(claim), "<claim>", "."
    else:
        raise InputError(f"{what}: claim: expected a path or a dict, got {claim!r}")
    samples = -1 if samples is None else _args.integer(what, "samples", samples)
    if samples == 1 or samples < -1:
        raise InputError(f"{what}: samples: expected 0 (no interval) or an integer >= 2, got {samples}")
    j = _knee.audit(text, source, folder, samples, _args.integer(what, "resamples", resamples),
                    _args.integer(what, "seed", seed))
    fields = dict(j)
    fields["checks"] = pd.DataFrame([{c: row[c] for c in CHECK_COLUMNS} for row in j["checks"]], columns=CHECK_COLUMNS)
    fields["analysis"] = frames(j["analysis"])
    return ClaimAudit(**{k: fields[k] for k in CLAIM_AUDIT_KEYS}, audit_json=j)
