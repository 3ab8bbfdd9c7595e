#!/usr/bin/python3
"""Writes examples/traces/synthetic-kineto-step.json: a SYNTHETIC PyTorch profiler (Kineto) trace,
not a measurement. It has the shape of torch.profiler's export_chrome_trace with
record_shapes=True (cpu_op events with "External id", "Input Dims", "Input type" and "Concrete
Inputs"; kernels with "External id", "correlation", "device", "stream", "grid", "block"; two
ProfilerStep#N windows), and its kernel durations are planted from the h200 profile's own
predictions: GEMMs 1.25x, memory-bound ops 1.10x, flash attention 1.40x; plus an NCCL all-reduce,
an embedding (no model), a host-to-device memcpy and one kernel with no cpu_op (unlinked).

With --ranks it writes examples/traces/synthetic-4-ranks/: the same step on 4 ranks of one job
(distributedInfo rank 0..3, world_size 4), rank 2 planted slow: every one of its non-NCCL kernels
1.3x longer, and the other ranks' NCCL all-reduce longer by the time they wait for it (a
synchronous collective ends when the last rank arrives). rank-2.json.gz is gzip-compressed.

    PYTHONPATH=build/python /usr/bin/python3 examples/traces/make_synthetic_kineto.py [OUT.json]
    PYTHONPATH=build/python /usr/bin/python3 examples/traces/make_synthetic_kineto.py --ranks [DIR]

tests/python/test_kineto.py builds the same trace (synthetic_trace) to check knee.analyze_trace."""
import gzip
import json
import os
import sys

BF16 = "c10::BFloat16"


SLOW_RANK, SLOW_FACTOR, WORLD = 2, 1.3, 4


def synthetic_trace(profile, rank=0, world_size=8, compute_scale=1.0, nccl_wait_s=0.0):
    """The trace as a dict, its durations planted from `profile` (a knee.Profile); compute_scale
    multiplies every non-NCCL kernel, nccl_wait_s lengthens each step's all-reduce."""
    events, t, ext = [], 1500.0, [0]

    def op(name, dims, types, concrete=None, ts=None):
        ext[0] += 1
        args = {"External id": ext[0], "Input Dims": dims, "Input type": types}
        if concrete is not None:
            args["Concrete Inputs"] = concrete
        events.append({"ph": "X", "cat": "cpu_op", "name": name, "pid": 1, "tid": 1, "ts": t, "dur": 8.0,
                       "args": args})
        events.append({"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, "tid": 1,
                       "ts": t + 1, "dur": 4.0, "args": {"External id": ext[0], "correlation": 1000 + ext[0]}})
        return ext[0]

    def kernel(name, eid, seconds, stream=7, cat="kernel"):
        nonlocal t
        if not name.startswith("nccl"):
            seconds *= compute_scale
        dur = round(seconds * 1e12) / 1e6  # whole picoseconds, in microseconds
        args = {"device": 0, "stream": stream, "correlation": 1000 + (eid or 900), "grid": [132, 1, 1],
                "block": [256, 1, 1]}
        if eid is not None:
            args["External id"] = eid
        events.append({"ph": "X", "cat": cat, "name": name, "pid": 0, "tid": stream, "ts": t, "dur": dur,
                       "args": args})
        t += dur + 2.0

    p = profile
    for step in range(2):
        start = t - 100.0
        for _ in range(4):  # a layer's GEMMs: QKV, attention out, MLP up, MLP down (tokens 8192, hidden 4096)
            for m, n, k in [(8192, 12288, 4096), (8192, 4096, 4096), (8192, 16384, 4096), (8192, 4096, 16384)]:
                e = op("aten::mm", [[m, k], [k, n]], [BF16, BF16])
                kernel("sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x256x64", e,
                       1.25 * p.gemm_time_s(m, n, k, "bf16"))
            e = op("aten::_scaled_dot_product_flash_attention", [[4, 32, 2048, 128]] * 3 + [[], [], [], []],
                   [BF16] * 3 + ["Scalar", "Scalar", "Scalar", ""], ["", "", "", "0.", "True", "False", ""])
            kernel("pytorch_flash::flash_fwd_kernel", e, 1.40 * p.attention_time_s(4, 32, 2048, 128, True, False))
            nbytes = 3 * 8192 * 4096 * 2
            e = op("aten::add", [[8192, 4096], [8192, 4096], []], [BF16, BF16, "Scalar"])
            kernel("void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<c10::BFloat16>>", e,
                   1.10 * p.memory_bound_time_s(nbytes, "add"))
            nbytes = 2 * 8192 * 4096 * 2 + 2 * 4096 * 2
            e = op("aten::native_layer_norm", [[8192, 4096], [], [4096], [4096], []],
                   [BF16, "", BF16, BF16, "Scalar"])
            kernel("void at::native::vectorized_layer_norm_kernel<c10::BFloat16, float>", e,
                   1.10 * p.memory_bound_time_s(nbytes, "layernorm"))
            nbytes = 2 * 8192 * 16384 * 2
            e = op("aten::gelu", [[8192, 16384], []], [BF16, ""])
            kernel("void at::native::vectorized_elementwise_kernel<4, GeluCUDAKernelImpl>", e,
                   1.10 * p.memory_bound_time_s(nbytes, "gelu"))
        e = op("aten::embedding", [[50304, 4096], [4, 2048], [], [], []], [BF16, "long int", "Scalar", "Scalar", "Scalar"])
        kernel("void at::native::indexSelectLargeIndex<c10::BFloat16, long, unsigned int, 2, 2, -2, true>", e, 41e-6)
        e = op("aten::copy_", [[4, 2048], [4, 2048], []], ["long int", "long int", "Scalar"])
        kernel("Memcpy HtoD (Pageable -> Device)", e, 6.5e-6, cat="gpu_memcpy")
        kernel("void at::native::unrolled_elementwise_kernel<at::native::FillFunctor<float>>", None, 3.25e-6)
        e = op("record_param_comms", [[4096, 4096]], [BF16])
        kernel("ncclDevKernel_AllReduce_Sum_bf16_RING_LL(ncclDevComm*, unsigned long, ncclWork*)", e,
               1.9e-3 + nccl_wait_s, stream=20)
        events.append({"ph": "X", "cat": "user_annotation", "name": f"ProfilerStep#{step + 10}", "pid": 1, "tid": 1,
                       "ts": start, "dur": t - start + 100.0, "args": {}})
        t += 300.0
    return {"schemaVersion": 1, "deviceProperties": [{"id": 0, "name": "NVIDIA H200", "totalGlobalMem": 150754820096}],
            "distributedInfo": {"backend": "nccl", "rank": rank, "world_size": world_size},
            "traceName": "SYNTHETIC: examples/traces/make_synthetic_kineto.py, not a measurement",
            "traceEvents": events}


def compute_per_step_s(trace):
    """GPU time that is not NCCL in one step (the trace's two steps are the same)."""
    ps = sum(round(e["dur"] * 1e6) for e in trace["traceEvents"]
             if e["cat"] in ("kernel", "gpu_memcpy", "gpu_memset") and not e["name"].startswith("nccl"))
    return ps / 1e12 / 2


def synthetic_ranks(profile):
    """{file name: trace dict} of the 4-rank set: rank SLOW_RANK's compute SLOW_FACTOR x, the
    others waiting for it in their all-reduce."""
    wait = (SLOW_FACTOR - 1) * compute_per_step_s(synthetic_trace(profile, 0, WORLD))
    return {f"rank-{r}.json" + (".gz" if r == SLOW_RANK else ""):
            synthetic_trace(profile, r, WORLD, SLOW_FACTOR if r == SLOW_RANK else 1.0,
                            0.0 if r == SLOW_RANK else wait) for r in range(WORLD)}


def write_trace(trace, path):
    text = (json.dumps(trace, indent=1) + "\n").encode()
    with open(path, "wb") as f:
        # mtime=0: the same bytes on every run
        f.write(gzip.compress(text, mtime=0) if path.endswith(".gz") else text)


if __name__ == "__main__":
    import knee
    h200 = knee.Profile.builtin("h200")
    if len(sys.argv) > 1 and sys.argv[1] == "--ranks":
        out = sys.argv[2] if len(sys.argv) > 2 else "examples/traces/synthetic-4-ranks"
        os.makedirs(out, exist_ok=True)
        for name, trace in synthetic_ranks(h200).items():
            write_trace(trace, os.path.join(out, name))
    else:
        out = sys.argv[1] if len(sys.argv) > 1 else "examples/traces/synthetic-kineto-step.json"
        with open(out, "w") as f:
            json.dump(synthetic_trace(h200), f, indent=1)
            f.write("\n")
