"""Inference as the app runs it (one image, one thread) and preprocessing of a canvas."""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np
import torch

from ae import latent, models, preprocess, runtime


def inference(names: list[str], repeats: int) -> list[dict]:
    """Single-image latency as the Draw page runs it (numpy in, numpy out, one thread, the model
    prepared by models.for_inference), and batch-256 throughput."""
    rows = []
    digit = np.random.default_rng(0).random((28, 28), dtype=np.float32)
    batch = np.random.default_rng(1).random((256, 28, 28), dtype=np.float32)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the app: many sessions share the cores
    runtime.keep_freed_memory()  # as the app
    for name in names:
        model = models.for_inference(models.build(name))
        for _ in range(10):
            latent.reconstruct(model, digit[None])
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            latent.reconstruct(model, digit[None])
            times.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        n = max(3, repeats // 50)
        for _ in range(n):
            latent.reconstruct(model, batch)
        per_s = n * 256 / (time.perf_counter() - t)
        p50, p95 = np.percentile(times, [50, 95])
        rows.append({"model": name, "p50_ms": round(float(p50), 3), "p95_ms": round(float(p95), 3), "batch256_img_s": round(per_s)})
        print(f"infer {name:15s} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  batch256 {per_s:8.0f} img/s", file=sys.stderr)
    torch.set_num_threads(threads)
    return rows


def preprocess_ms(repeats: int) -> float:
    """Median time of to_mnist on a 280x280 RGBA canvas image with a drawn digit."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    ImageDraw.Draw(img).line([(70, 56), (210, 56), (126, 238)], fill=(255, 255, 255, 255), width=22)
    canvas = np.asarray(img)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        preprocess.to_mnist(canvas)
        times.append((time.perf_counter() - t) * 1000)
    ms = statistics.median(times)
    print(f"preprocess 280x280 canvas: {ms:.2f} ms", file=sys.stderr)
    return round(ms, 3)
