#!/usr/bin/python3
"""Compare a newly fitted knee profile with a reference profile, quantity by quantity, and flag the
differences that exceed the reference's run-to-run variation.

    scripts/compare-profiles.py NEW.json REF.json [--ref2 REF2.json] [--floor 0.03] [--strict]

Quantities: bf16 GEMM time at every shape the reference measured (squares and transformer
shapes), device-copy bandwidth, the bandwidth of each memory-bound op (add, gelu, layernorm,
softmax, dropout_add: bytes are the least traffic, the same count in every profile), host-link
(pinned/pageable, h2d/d2h) bandwidth and latency alpha, and launch overhead (host launch, tiny
kernel, graph replay per kernel).

Memory-bound ops measured by different implementations (knee's CUDA backend runs its own kernels,
the shared H200 data PyTorch eager's) are compared but never flagged, and a note says so; for
dropout_add the difference is structural: knee runs one fused kernel (reads x and y, writes the
output and a 1-byte mask: 7 bytes per element), PyTorch eager two (dropout: read x, write the
output and the mask; add: read both, write: 11 bytes), both counted as 8, so knee's is expected
faster at the same memory bandwidth (about 11/7).

Tolerance of one quantity: the largest of
  - its run-to-run variation: |second run - first| / first, from REF's run_to_run entries
    (other_run_median_s for GEMM samples), or from REF2 (a second fitted run) when given;
  - the relative half-widths of both 95% intervals added (a fit whose interval is wide says so);
  - --floor (default 3%): nothing is flagged for less.
A quantity is flagged when |new - ref| / ref exceeds its tolerance. Exit 0, or 1 with --strict
when anything was flagged; exit 2 on unreadable input.
"""
import argparse
import json
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print(f"compare-profiles: {path}: expected a readable profile JSON, got {e}", file=sys.stderr)
        sys.exit(2)


def half_width(p):
    """Relative half-width of a parameter's ci95, 0 when it has none."""
    ci, v = p.get("ci95"), p.get("value", 0)
    if not ci or not v:
        return 0.0
    return abs(ci[1] - ci[0]) / 2 / abs(v)


def run_to_run(p):
    r = p.get("run_to_run")
    return r["rel_diff"] if r else None


def get(d, *keys):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def quantities(prof):
    """name -> (value, relative CI half-width, run-to-run relative difference or None, unit)."""
    q = {}
    for s in get(prof, "compute", "gemm", "bf16", "samples") or []:
        name = f"gemm bf16 {s['m']}x{s['n']}x{s['k']}"
        if name in q:  # the same shape under two labels: keep the first
            continue
        med = s["median_s"]
        ci = s.get("ci95_s", [med, med])
        rr = abs(s["other_run_median_s"] - med) / med if "other_run_median_s" in s else None
        q[name] = (med, abs(ci[1] - ci[0]) / 2 / med, rr, "s")
    bw = get(prof, "memory", "copy", "bandwidth_Bps")
    if bw:
        q["device copy bandwidth"] = (bw["value"], half_width(bw), run_to_run(bw), "B/s")
    for op, curve in sorted((get(prof, "memory", "ops") or {}).items()):
        p = curve.get("bandwidth_Bps")
        if p:
            q[f"memory op {op} bandwidth"] = (p["value"], half_width(p), run_to_run(p), "B/s")
    for cls in ("host_pinned_h2d", "host_pinned_d2h", "host_pageable_h2d", "host_pageable_d2h"):
        link = get(prof, "links", cls)
        if not link:
            continue
        for key, label, unit in (("bandwidth_Bps", "bandwidth", "B/s"), ("alpha_s", "latency alpha", "s")):
            p = link.get(key)
            if p:
                q[f"{cls} {label}"] = (p["value"], half_width(p), run_to_run(p), unit)
    for key in ("host_launch_s", "tiny_kernel_s", "graph_per_kernel_s"):
        p = get(prof, "launch", key)
        if p:
            q[f"launch {key}"] = (p["value"], half_width(p), run_to_run(p), "s")
    return q


def op_kernels(prof):
    """Who ran the memory-bound ops: "knee" (the CUDA backend's own kernels) or "pytorch"."""
    m = get(prof, "manifest", "measurement") or ""
    return "knee" if m.startswith("knee-calibrate-cuda") else "pytorch" if "PyTorch" in m else "unknown"


def fmt(v, unit):
    if unit == "B/s":
        return f"{v / 1e9:10.3f} GB/s"
    return f"{v * 1e6:10.3f} us"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("new")
    ap.add_argument("ref")
    ap.add_argument("--ref2", help="a second fitted run of the reference machine (run-to-run variation)")
    ap.add_argument("--floor", type=float, default=0.03, help="smallest tolerance (default 0.03 = 3%%)")
    ap.add_argument("--strict", action="store_true", help="exit 1 when anything is flagged")
    a = ap.parse_args()
    new, ref = load(a.new), load(a.ref)
    qn, qr = quantities(new), quantities(ref)
    if a.ref2:
        q2 = quantities(load(a.ref2))
        qr = {k: (v, ci, abs(q2[k][0] - v) / v if k in q2 else rr, u) for k, (v, ci, rr, u) in qr.items()}
    print(f"new: {a.new} ({new.get('gpu', '?')}, {get(new, 'manifest', 'date')})")
    print(f"ref: {a.ref} ({ref.get('gpu', '?')}, {get(ref, 'manifest', 'date')})")
    if new.get("gpu") != ref.get("gpu"):
        print(f"note: different GPUs ({new.get('gpu')} vs {ref.get('gpu')}): differences are expected")
    kn, kr = op_kernels(new), op_kernels(ref)
    other_kernels = kn != kr
    if other_kernels:
        print(f"note: memory-bound ops ran different kernels (new: {kn}, reference: {kr}): compared, never flagged")
        if "knee" in (kn, kr) and any(n.startswith("memory op dropout_add") for n in qr):
            print("note: dropout_add: knee's is one fused kernel (x, y in; output and 1-byte mask out: 7 bytes per "
                  "element), PyTorch eager's two (dropout, then add: 11 bytes); both are counted as 8 bytes, so "
                  "knee's should be about 11/7 faster at the same bandwidth")
    print(f"{'quantity':44s} {'reference':>15s} {'new':>15s} {'diff':>8s} {'tol':>7s}  flag")
    flagged, compared, missing, unflagged = [], 0, [], []
    for name, (rv, rci, rr, unit) in qr.items():
        if name not in qn:
            missing.append(name)
            continue
        nv, nci, _, _ = qn[name]
        compared += 1
        diff = abs(nv - rv) / rv if rv else 0.0
        tol = max(a.floor, rci + nci, rr or 0.0)
        flag = diff > tol * (1 + 1e-9)
        why = "run-to-run" if rr is not None and rr >= max(a.floor, rci + nci) else "ci" if rci + nci > a.floor else "floor"
        if other_kernels and name.startswith("memory op "):
            unflagged.append(name)
            flag, why = False, "other kernels"
        tol_s = f"{tol * 100:6.1f}%" if tol < 10 else "  >999%"
        print(f"{name:44s} {fmt(rv, unit):>15s} {fmt(nv, unit):>15s} {diff * 100:7.1f}% {tol_s:>7s}"
              f"  {'FLAG ' if flag else ''}({why})")
        if flag:
            flagged.append(name)
    if missing:
        print(f"not in the new profile ({len(missing)}): " + ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else ""))
    print(f"summary: {compared} quantities compared, {len(flagged)} flagged beyond the run-to-run variation"
          + (": " + ", ".join(flagged) if flagged else "")
          + (f"; {len(unflagged)} memory ops ran other kernels, not flagged" if unflagged else ""))
    return 1 if a.strict and flagged else 0


if __name__ == "__main__":
    sys.exit(main())
