"""Calibration profiles (what one GPU does, measured or derived) and the fitter behind `knee fit`."""
import os

from . import _args
from . import _knee


class Profile:
    """A calibrated profile (schema: docs/calibration.md).

        p = knee.Profile.builtin("h200")        # shipped: knee.Profile.builtin_names()
        p = knee.Profile.load("my-h200.json")   # or knee.Profile.from_dict(d) / knee.Profile(d)
        p.gemm_time_s(8192, 8192, 8192, "bf16")
    """

    def __init__(self, source):
        """`source`: a dict of a profile, a path to a profile file, or a built-in name."""
        if isinstance(source, Profile):
            self._p = source._p
        elif isinstance(source, dict):
            self._p = _knee.Profile.from_json_text(_args.json_text("knee.Profile", "profile", source), "<dict>")
        elif isinstance(source, os.PathLike) or (isinstance(source, str) and (os.sep in source or source.endswith(".json"))):
            self._p = _knee.Profile.load(os.fspath(source))
        elif isinstance(source, str):
            self._p = _knee.Profile.builtin(source)
        else:
            raise _knee.InputError(f"knee.Profile: profile: expected a dict, a file path or a built-in name, got {source!r}")

    @classmethod
    def builtin(cls, name):
        return cls._wrap(_knee.Profile.builtin(_args.string("knee.Profile.builtin", "name", name)))

    @staticmethod
    def builtin_names():
        return _knee.Profile.builtin_names()

    @classmethod
    def load(cls, path):
        return cls._wrap(_knee.Profile.load(os.fspath(path)))

    @classmethod
    def from_dict(cls, d):
        return cls(dict(d))

    @classmethod
    def _wrap(cls, p):
        self = cls.__new__(cls)
        self._p = p
        return self

    @property
    def name(self):
        return self._p.name

    @property
    def gpu(self):
        return self._p.gpu

    @property
    def parameters_state(self):
        """"unedited" (the parameters digest knee fit wrote matches), "edited" (it does not: changed
        after knee fit wrote the profile) or "no digest" (docs/calibration.md, "Edited profiles")."""
        return self._p.parameters_state

    def gemm_time_s(self, m, n, k, dtype="bf16", role="none"):
        """Seconds of C[m,n] = A[m,k] B[k,n], launch floor included; `role` one of "none", "fwd",
        "bwd_data", "bwd_weight" (docs/calibration.md, "GEMM roles")."""
        return self._p.gemm_time_s(*self._mnk(m, n, k), _args.string("gemm_time_s", "dtype", dtype),
                                   _args.string("gemm_time_s", "role", role))

    def gemm_tflops(self, m, n, k, dtype="bf16", role="none"):
        return self._p.gemm_tflops(*self._mnk(m, n, k), _args.string("gemm_tflops", "dtype", dtype),
                                   _args.string("gemm_tflops", "role", role))

    def gemm_dtypes(self):
        return self._p.gemm_dtypes()

    def memory_bound_time_s(self, bytes_moved, op="copy"):
        """A memory-bound kernel moving `bytes_moved` (read + write): "copy" or a measured op."""
        return self._p.memory_bound_time_s(_args.number("memory_bound_time_s", "bytes_moved", bytes_moved),
                                           _args.string("memory_bound_time_s", "op", op))

    def attention_time_s(self, batch, heads, seq, head_dim, causal=True, backward=False):
        """Fused (flash) attention, bf16; backward=True gives forward plus backward."""
        w = "attention_time_s"
        return self._p.attention_time_s(_args.integer(w, "batch", batch), _args.integer(w, "heads", heads),
                                        _args.integer(w, "seq", seq), _args.integer(w, "head_dim", head_dim),
                                        _args.boolean(w, "causal", causal), _args.boolean(w, "backward", backward))

    def batched_gemm_time_s(self, batch, m, n, k, dtype="bf16"):
        """Seconds of `batch` products C[m,n] = A[m,k] B[k,n] in one strided-batched call; without
        batched samples in the profile, one GEMM of (batch*m) x n x k, no faster than moving every
        product's operands through HBM (docs/calibration.md)."""
        w = "batched_gemm_time_s"
        return self._p.batched_gemm_time_s(_args.integer(w, "batch", batch), *self._mnk(m, n, k),
                                           _args.string(w, "dtype", dtype))

    def has_batched_gemm(self, dtype="bf16"):
        return self._p.has_batched_gemm(_args.string("has_batched_gemm", "dtype", dtype))

    def attention_unfused_time_s(self, batch, heads, seq, head_dim):
        """Unfused reference attention forward (QK^T, softmax, PV), from the profile's samples."""
        w = "attention_unfused_time_s"
        return self._p.attention_unfused_time_s(_args.integer(w, "batch", batch), _args.integer(w, "heads", heads),
                                                _args.integer(w, "seq", seq), _args.integer(w, "head_dim", head_dim))

    def has_attention_unfused(self):
        return self._p.has_attention_unfused()

    def launch_overhead_s(self):
        return self._p.launch_overhead_s()

    def hbm_capacity_bytes(self):
        return self._p.hbm_capacity_bytes()

    def memory_bandwidth_Bps(self):
        return self._p.memory_bandwidth_Bps()

    def link(self, cls):
        """{"alpha_s", "beta_s_per_byte", "provenance"} of a link class ("nvlink", "network", ...)."""
        return self._p.link(_args.string("link", "cls", cls))

    def link_classes(self):
        return self._p.link_classes()

    def link_time_s(self, cls, bytes):
        return self._p.link_time_s(_args.string("link_time_s", "cls", cls), _args.number("link_time_s", "bytes", bytes))

    def power_W(self, compute_util, mem_util):
        return self._p.power_W(_args.number("power_W", "compute_util", compute_util),
                               _args.number("power_W", "mem_util", mem_util))

    def has_power(self):
        return self._p.has_power()

    def power_reference(self):
        """What utilization 1 means in power_W: {"flops_per_s", "memory_Bps"} of the power calibration's
        workloads (docs/calibration.md)."""
        return self._p.power_reference()

    def variability_cv(self, which):
        """$.variability.<which> ("op_cv" or "gpu_cv"), the straggler model's parameters; None when absent."""
        v = self._p.variability_cv(_args.string("variability_cv", "which", which))
        return None if v < 0 else v

    def to_dict(self):
        """The profile JSON (what Profile.load reads)."""
        return self._p.json()

    def __getstate__(self):
        return {"json": self.to_dict()}

    def __setstate__(self, state):
        self._p = _knee.Profile.from_json_text(_args.json_text("knee.Profile", "profile", state["json"]), "<pickle>")

    def __repr__(self):
        return f"<knee.Profile {self.name}: {self.gpu}>"

    @staticmethod
    def _mnk(m, n, k):
        return (_args.integer("gemm", "m", m), _args.integer("gemm", "n", n), _args.integer("gemm", "k", k))


def fit(raw, name=None, nccl_class="nvlink", power_settle_s=1.0):
    """Fits raw measurements into a profile dict, as `knee fit RAW [RAW2] [NCCL_TESTS.txt ...]`.

    raw: a path or dict of a raw run, or a list of them: the first raw JSON run is fitted, a
    second adds run-to-run variation, nccl-tests text files add link data (class `nccl_class`).
    name: profile name (default: the GPU's short name, e.g. "h200"). Returns the profile dict;
    knee.Profile(result) uses it.
    """
    what = "knee.fit"
    items = raw if isinstance(raw, (list, tuple)) else [raw]
    inputs = [_args.path_or_json(what, "raw", r) for r in items]
    name = "" if name is None else _args.string(what, "name", name)
    return _knee.fit(inputs, name=name, nccl_class=_args.string(what, "nccl_class", nccl_class),
                     power_settle_s=_args.number(what, "power_settle_s", power_settle_s),
                     command_line=f"knee.fit({len(inputs)} inputs, name={name!r})")


def fit_kineto(trace, profile=None, name=None):
    """A profile dict refitted from a PyTorch profiler (Kineto) trace's measured kernels, as `knee
    fit --kineto TRACE.json [--profile P] [--name N]` (docs/calibration.md, "Refitting from a trace").

    trace: the trace file. profile: the base (a Profile, dict, file or built-in name; default: the
    built-in profile of the trace's GPU). name: the new profile's name (default: the base's name +
    "-kineto"). Returns the profile dict; knee.Profile(result) uses it. Bad input raises
    knee.InputError.
    """
    what = "knee.fit_kineto"
    path = os.fspath(trace) if isinstance(trace, os.PathLike) else _args.string(what, "trace", trace)
    base = "" if profile is None else _args.json_text(what, "profile", Profile(profile).to_dict())
    name = "" if name is None else _args.string(what, "name", name)
    return _knee.fit_kineto(path, base, name, f"knee.fit_kineto({path!r}, name={name!r})")


def derive(base, target=None, datasheet=None, base_datasheet=None):
    """A profile dict derived from `base` (a Profile, dict or file) by mechanism and datasheet
    figures (docs/calibration.md, "Derived profiles").

    target: a built-in datasheet key ("h100", "a100", "b200", "gb200", ...), as `knee fit --derive
    TARGET BASE.json`; or datasheet: a datasheet file (docs/calibration.md, "Datasheet files") or
    key, as `knee fit --derive BASE.json --datasheet FILE`. base_datasheet: the base GPU's datasheet
    (default: the built-in one matching the base's gpu). Bad input raises knee.InputError.
    """
    what = "knee.derive"
    if (target is None) == (datasheet is None):
        raise _knee.InputError(f"{what}: target, datasheet: expected exactly one of them, got "
                               f"{'both' if target is not None else 'neither'}")
    p = base if isinstance(base, Profile) else Profile(base)
    t = "" if target is None else _args.string(what, "target", target)
    d = "" if datasheet is None else os.fspath(datasheet) if isinstance(datasheet, os.PathLike) else _args.string(what, "datasheet", datasheet)
    b = "" if base_datasheet is None else os.fspath(base_datasheet) if isinstance(base_datasheet, os.PathLike) else _args.string(what, "base_datasheet", base_datasheet)
    return _knee.derive(_args.json_text(what, "base", p.to_dict()), t, d, b,
                        f"knee.derive(target={target!r}, datasheet={datasheet!r})")
