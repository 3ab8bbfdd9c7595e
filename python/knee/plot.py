"""Matplotlib plots of knee sweeps: speedup and efficiency against ideal with the knee marked,
the step-time breakdown, the communication-to-computation ratio, energy and cost per token
(DataFrames of knee.sweep), and bus bandwidth (DataFrames of knee.collective_sweep). Each takes
an optional Axes, draws on it and returns it."""
import math

from ._knee import InputError

_KNEE_STYLE = dict(color="tab:red", linestyle=":", linewidth=1.2)


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots(figsize=(6.4, 4))
    return ax


def _sweep(what, df):
    attrs = getattr(df, "attrs", None)
    if not isinstance(attrs, dict) or "baseline_gpus" not in attrs or "gpus" not in getattr(df, "columns", ()):
        raise InputError(f"knee.plot.{what}: df: expected a DataFrame from knee.sweep, got {type(df).__name__}")
    return df[df["feasible"]], attrs


def _gpu_axis(ax, gpus):
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(gpus))
    ax.set_xticklabels([f"{g:,}" for g in gpus], rotation=45 if len(gpus) > 6 else 0)
    ax.minorticks_off()
    ax.set_xlabel("GPUs")


def _mark_knee(ax, attrs, ys=None, xs=None):
    knee = attrs.get("knee")
    if knee is None:
        return
    ax.axvline(knee, label=f"knee: {knee:,} GPUs", **_KNEE_STYLE)
    if xs is not None:
        for x, y in zip(xs, ys):
            if x == knee and not math.isnan(y):
                ax.plot([x], [y], "o", color="tab:red", markersize=8, fillstyle="none")


def _baseline_text(attrs):
    return f"{attrs['mode']} scaling, baseline {attrs['baseline_gpus']:,} GPUs"


def speedup(df, ax=None):
    """Speedup against the baseline point, with linear (ideal) speedup and the knee; the 95% interval
    shaded when the sweep has samples."""
    ok, attrs = _sweep("speedup", df)
    ax = _axes(ax)
    base = attrs["baseline_gpus"]
    ax.plot(ok["gpus"], ok["speedup"], "o-", label="simulated")
    _band(ax, ok, "speedup")
    ax.plot(ok["gpus"], ok["gpus"] / base if base else ok["gpus"] * math.nan, "--", color="gray", label="ideal (linear)")
    _mark_knee(ax, attrs, ok["speedup"], ok["gpus"])
    _gpu_axis(ax, ok["gpus"])
    ax.set_yscale("log", base=2)
    ax.set_ylabel("speedup")
    ax.set_title(f"Speedup ({_baseline_text(attrs)})")
    ax.legend()
    ax.grid(True, alpha=0.3)
    return ax


def _band(ax, ok, column):
    """The 95% interval of a sweep with samples (columns COLUMN_lo/_hi) shaded; nothing without."""
    lo, hi = f"{column}_lo", f"{column}_hi"
    if lo in ok and ok[lo].notna().all() and len(ok):
        ax.fill_between(ok["gpus"], ok[lo], ok[hi], alpha=0.2, label="95% interval (profile draws)")


def efficiency(df, ax=None):
    """Scaling efficiency (speedup / GPU ratio) with the ideal 1.0, the threshold and the knee; the
    95% interval shaded when the sweep has samples (knee.sweep(..., samples=N))."""
    ok, attrs = _sweep("efficiency", df)
    ax = _axes(ax)
    ax.plot(ok["gpus"], ok["efficiency"], "o-", label="simulated")
    _band(ax, ok, "efficiency")
    ax.axhline(1.0, linestyle="--", color="gray", label="ideal")
    ax.axhline(attrs["threshold"], linestyle="-.", color="tab:orange", label=f"threshold {attrs['threshold']:.2f}")
    _mark_knee(ax, attrs, ok["efficiency"], ok["gpus"])
    _gpu_axis(ax, ok["gpus"])
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("efficiency")
    ax.set_title(f"Scaling efficiency ({_baseline_text(attrs)})")
    ax.legend()
    ax.grid(True, alpha=0.3)
    return ax


_PARTS = [("compute_s", "compute")] + [(f"exposed_{g}_s", f"exposed {g} comm") for g in ("tp", "pp", "dp", "cp", "ep")] \
    + [("bubble_s", "pipeline bubble"), ("optimizer_s", "optimizer"), ("straggler_s", "stragglers")]


def breakdown(df, ax=None):
    """Stacked bars of each point's step time: compute, exposed communication per group, pipeline
    bubble and optimizer (they sum to the step time). Parts that are zero everywhere are left out."""
    ok, attrs = _sweep("breakdown", df)
    ax = _axes(ax)
    labels = [f"{g:,}" for g in ok["gpus"]]
    bottom = [0.0] * len(ok)
    for col, name in _PARTS:
        v = list(ok[col])
        if not any(x > 0 for x in v):
            continue
        ax.bar(labels, v, bottom=bottom, label=name)
        bottom = [b + x for b, x in zip(bottom, v)]
    ax.plot(labels, list(ok["step_time_s"]), "k_", markersize=18, label="step time")
    if attrs.get("knee") is not None and f"{attrs['knee']:,}" in labels:
        i = labels.index(f"{attrs['knee']:,}")
        ax.annotate("knee", (i, bottom[i]), textcoords="offset points", xytext=(0, 6), ha="center", color="tab:red")
    ax.set_xlabel("GPUs")
    ax.set_ylabel("seconds per step")
    ax.set_title(f"Where a step's time goes ({attrs['mode']} scaling)")
    ax.legend(fontsize="small")
    return ax


def comm_to_compute(df, ax=None):
    """Communication time (hidden or not) over compute time, with the knee."""
    ok, attrs = _sweep("comm_to_compute", df)
    ax = _axes(ax)
    ax.plot(ok["gpus"], ok["comm_to_compute"], "o-", label="simulated")
    _mark_knee(ax, attrs, ok["comm_to_compute"], ok["gpus"])
    _gpu_axis(ax, ok["gpus"])
    ax.set_ylabel("comm / compute")
    ax.set_title(f"Communication-to-computation ratio ({_baseline_text(attrs)})")
    ax.legend()
    ax.grid(True, alpha=0.3)
    return ax


def cost_energy(df, ax=None):
    """Facility energy per token (J) and, on a twin axis, dollars per million tokens where the
    scenario's cost gives a price, with the knee. The facility figures include the scenario's PUE
    and other IT power (docs/scenarios.md, "cost")."""
    ok, attrs = _sweep("cost_energy", df)
    if "facility_J_per_token" not in df.columns or not ok["facility_J_per_token"].notna().any():
        raise InputError("knee.plot.cost_energy: df: expected a sweep with energy (a profile with a power model), "
                         "got none")
    ok = ok[ok["facility_J_per_token"].notna()]
    e = next((p["energy"] for p in attrs.get("sweep_json", {}).get("points", ()) if p.get("energy")), None)
    ax = _axes(ax)
    ax.plot(ok["gpus"], ok["facility_J_per_token"], "o-", label="facility J per token")
    _mark_knee(ax, attrs, ok["facility_J_per_token"], ok["gpus"])
    _gpu_axis(ax, ok["gpus"])
    ax.set_ylim(bottom=0)
    ax.set_ylabel("facility energy per token (J)")
    handles, names = ax.get_legend_handles_labels()
    if ok["usd_per_million_tokens"].notna().any():
        twin = ax.twinx()
        twin.plot(ok["gpus"], ok["usd_per_million_tokens"], "s--", color="tab:green", label="$ per million tokens")
        twin.set_ylim(bottom=0)
        twin.set_ylabel("$ per million tokens")
        h, n = twin.get_legend_handles_labels()
        handles, names = handles + h, names + n
    facility = f"; PUE {e['pue']:g}, other IT {e['other_W_per_gpu']:g} W/GPU" if e else ""
    ax.set_title(f"Energy and cost per token ({_baseline_text(attrs)}{facility})")
    ax.legend(handles, names)
    ax.grid(True, alpha=0.3)
    return ax


def busbw(df, ax=None):
    """Bus bandwidth against message size for a DataFrame of knee.collective_sweep."""
    if "busbw_GBps" not in getattr(df, "columns", ()):
        raise InputError(f"knee.plot.busbw: df: expected a DataFrame from knee.collective_sweep, "
                         f"got {type(df).__name__}")
    from ._knee import format_bytes
    ax = _axes(ax)
    a = df.attrs
    ax.plot(df["size"], df["busbw_GBps"], "o-", markersize=3, label=a.get("op", "busbw"))
    ax.set_xscale("log", base=2)
    ticks = list(df["size"])[::max(1, len(df) // 8)]
    ax.set_xticks(ticks)
    ax.set_xticklabels([format_bytes(int(t)) for t in ticks], rotation=45)
    ax.minorticks_off()
    ax.set_xlabel("message size")
    ax.set_ylabel("bus bandwidth (GB/s)")
    ax.set_title(f"{a.get('op', 'collective')} on {a.get('system', '?')}, {a.get('ranks', '?')} GPUs (nccl-tests busbw)")
    ax.legend()
    ax.grid(True, alpha=0.3)
    return ax
