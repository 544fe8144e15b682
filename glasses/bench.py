"""Benchmarks as a command: detector fp32 vs int8 on real images, medians and spread.

Timings alternate fp32 and int8 image by image, so both see the same machine load; compare
only the ratios measured in one run (the machines are shared and noisy).
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .perception.metrics import MatchCounts, match


def spread(values: list[float]) -> dict:
    a = np.asarray(values, np.float64)
    p10, p25, p50, p75, p90 = np.percentile(a, [10, 25, 50, 75, 90])
    return {"median": round(float(p50), 2), "p25": round(float(p25), 2), "p75": round(float(p75), 2),
            "p10": round(float(p10), 2), "p90": round(float(p90), 2), "n": int(a.size)}


@dataclass(frozen=True)
class BenchOptions:
    images: Path
    repeats: int = 5
    threads: int = 1
    min_images: int = 20


def bench_images(folder: Path, minimum: int) -> list[tuple[str, np.ndarray]]:
    from .errors import InputError
    from .imageio import read_image

    files = sorted(p for p in Path(folder).glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if len(files) < minimum:
        raise InputError(f"bench needs at least {minimum} images in {folder}, found {len(files)}")
    return [(p.name, read_image(p)) for p in files]


def detector_bench(opts: BenchOptions, progress: Callable[[str], None] = lambda s: None) -> dict:
    from .perception.detector import load_detector
    from .perception.runtime import RuntimeOptions

    images = bench_images(opts.images, opts.min_images)
    runtime = RuntimeOptions(threads=opts.threads)
    t0 = time.perf_counter()
    fp32 = load_detector("fp32", runtime)
    t1 = time.perf_counter()
    int8 = load_detector("int8", runtime)
    t2 = time.perf_counter()
    for _, img in images[:2]:  # warm-up: first runs allocate buffers
        fp32(img), int8(img)
    times = {"fp32": [], "int8": []}
    infer = {"fp32": [], "int8": []}
    counts = MatchCounts(0, 0, 0)
    per_image = []
    for rep in range(opts.repeats):
        progress(f"detector: pass {rep + 1}/{opts.repeats} over {len(images)} images")
        for name, img in images:
            a = fp32(img)
            b = int8(img)
            for key, res in (("fp32", a), ("int8", b)):
                times[key].append(res.elapsed_ms)
                infer[key].append(res.timings["inference_ms"])
            if rep == 0:
                c = match(list(a), list(b))
                counts = counts + c
                per_image.append({"image": name, "fp32": len(a), "int8": len(b), "matched": c.matched})
    f = spread(times["fp32"])
    i = spread(times["int8"])
    fi, ii = spread(infer["fp32"]), spread(infer["int8"])
    return {
        "fp32_ms": f["median"],
        "int8_ms": i["median"],
        "speedup": round(f["median"] / i["median"], 3),
        "fidelity_f1": round(counts.f1, 4),
        "inference_speedup": round(fi["median"] / ii["median"], 3),
        "fp32": f, "int8": i, "fp32_inference": fi, "int8_inference": ii,
        "matched": counts.matched, "fp32_detections": counts.reference, "int8_detections": counts.test,
        "score_threshold": fp32.config.score_threshold,
        "images": len(images), "repeats": opts.repeats, "threads": opts.threads,
        "load_ms": {"fp32": round((t1 - t0) * 1e3, 1), "int8": round((t2 - t1) * 1e3, 1)},
        "provider": int8.session.provider,
        "per_image": per_image,
    }


def machine_info() -> dict:
    import onnxruntime as ort

    return {"python": platform.python_version(), "machine": platform.machine(), "processor": cpu_name(),
            "int8_dot_product": int8_dot_product(), "onnxruntime": ort.__version__}


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def int8_dot_product() -> bool:
    """Whether the CPU has int8 dot-product instructions (x86 VNNI, ARM asimddp), where int8 pays most."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(f in flags for f in ("avx512_vnni", "avx_vnni", "asimddp"))
