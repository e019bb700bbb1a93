#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""PyTorch reference timings for bench/nn/bench-cuda.sh (a skeleton: see docs/cuda.md).

NEEDS, on the GPU machine only: python3 with torch built for CUDA, onnx and onnx2torch
(pip install torch onnx onnx2torch). Nothing here runs in CI or on a machine without a GPU.

    bench/nn/bench-cuda-torch.py isnet  [--model PATH] [--runs N] [--fp16]
    bench/nn/bench-cuda-torch.py onnx PATH.onnx --shape 1,3,256,256 [--runs N] [--fp16]
        [--input F.f32 --expect F.f32]

Converts the ONNX file to a torch module (onnx2torch), runs it on cuda:0 after a warm-up,
reports the median latency (torch.cuda.synchronize around each run, input already on the
device; add the copy if comparing with engine/nn, whose timings include it) and, with
--input/--expect (the float32 dumps of `catena-nn-run ... --dump-input/--dump-output`), the
relative L2 error between torch's output and engine/nn's.
Scope: ONNX graphs only (ISNet). ESRGAN ships as TF.js layers, not ONNX, so it has no torch
peer here; comparing it would need its RDN rebuilt in torch from model.json (docs/cuda.md).
"""
import argparse
import os
import statistics
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["isnet", "onnx"])
    ap.add_argument("path", nargs="?")
    ap.add_argument("--model")
    ap.add_argument("--shape", default="1,3,1024,1024")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--fp16", action="store_true")
    ap.add_argument("--input")
    ap.add_argument("--expect")
    a = ap.parse_args()
    try:
        import numpy as np
        import onnx
        import torch
        from onnx2torch import convert
    except ImportError as e:
        sys.exit(f"bench-cuda-torch: needs torch (CUDA build), onnx and onnx2torch: {e}")
    if not torch.cuda.is_available():
        sys.exit("bench-cuda-torch: torch sees no CUDA device; run this on the GPU machine")

    if a.what == "isnet":
        cache = os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache"))
        path = a.model or os.path.join(
            os.environ.get("CATENA_MODEL_DIR", os.path.join(cache, "catena", "models")),
            "isnet-medium.onnx")
    else:
        path = a.path or sys.exit("bench-cuda-torch: onnx needs a PATH")
    shape = [int(s) for s in a.shape.split(",")]
    dtype = torch.float16 if a.fp16 else torch.float32

    model = convert(onnx.load(path)).eval().to("cuda", dtype=dtype)
    if a.input:
        x = torch.from_numpy(np.fromfile(a.input, dtype=np.float32).reshape(shape))
    else:
        x = torch.rand(shape)
    x = x.to("cuda", dtype=dtype)

    times = []
    with torch.inference_mode():
        for r in range(a.runs + 1):
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            y = model(x)
            torch.cuda.synchronize()
            if r > 0:
                times.append((time.perf_counter() - t0) * 1000)
    y = y[0] if isinstance(y, (list, tuple)) else y
    print(f"torch {torch.__version__} on {torch.cuda.get_device_name(0)}, "
          f"{'fp16' if a.fp16 else 'fp32'}: median {statistics.median(times):.2f} ms, "
          f"min {min(times):.2f} ms over {a.runs} runs")
    if a.expect:
        ref = np.fromfile(a.expect, dtype=np.float32)
        out = y.float().cpu().numpy().reshape(-1)
        err = np.linalg.norm(out - ref) / max(np.linalg.norm(ref), 1e-30)
        print(f"relative L2 error vs engine/nn: {err:.3g}")


if __name__ == "__main__":
    main()
