"""Benchmarks as a command: detector fp32 vs int8 on real images, medians and spread.

Timings alternate fp32 and int8 image by image, so both see the same machine load; compare
only the ratios measured in one run (the machines are shared and noisy).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import threading
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
            "cores": os.cpu_count(), "int8_dot_product": int8_dot_product(), "onnxruntime": ort.__version__}


def load_average() -> float | None:
    """The 1-minute load average (other jobs on the host lower int8's lead), None where unknown."""
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):
        return None


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


def _assistant(source, detector, camera, events):
    from .audio.announcer import Announcer
    from .audio.narrator import Narrator
    from .pipeline import Assistant, LoopOptions
    from .spatial.tracker import Tracker

    return Assistant(source, detector, camera, Narrator(), Announcer(None, None), events, tracker=Tracker(),
                     options=LoopOptions(display_mode="video"))


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process in MB (Linux /proc; 0 where unknown)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


class _Timed:
    """A detector that keeps the time of each call: the loop's own detector time."""

    def __init__(self, detector):
        self.detector = detector
        self.seconds: list[float] = []

    def __call__(self, image):
        t0 = time.perf_counter()
        try:
            return self.detector(image)
        finally:
            self.seconds.append(time.perf_counter() - t0)


def pipeline_bench(clip: Path, threads: int = 1, live_fps: float = 30.0, live_seconds: float = 10.0,
                   memory_frames: int = 600, progress: Callable[[str], None] = lambda s: None) -> dict:
    """The loop's overhead, a live-paced run, start-up time and memory.

    - fast: every frame of ``clip`` through the whole loop (--fast: overlay drawn, tracking,
      narration, events in memory, no speech). detector_fps is the same run's detector calls
      alone, so fast_ratio = loop fps / detector-only fps on the same frames, in one run.
    - live: the clip paced as a live ``live_fps`` camera: capture-to-output latency p50/p95 and
      how many frames were dropped to stay current.
    - startup: a fresh ``glasses run --max-frames 1`` process, from exec to its exit.
    - memory: RSS of a separate ``glasses run`` process over ``memory_frames`` frames.
    """
    from .camera.sources import open_source
    from .outputs.events import EventLog
    from .paths import calibration_dir
    from .perception.detector import load_detector
    from .perception.runtime import RuntimeOptions
    from .spatial.camera import load_profile

    detector = load_detector("int8", RuntimeOptions(threads=threads))
    camera = load_profile(calibration_dir() / "default.yaml")

    progress("pipeline: the whole loop, --fast, over the demo clip")
    timed = _Timed(detector)
    with open_source(str(clip), fast=True) as src, EventLog(None) as events:
        fast = _assistant(src, timed, camera, events).run()
    fast_fps = fast.frames / fast.seconds if fast.seconds else 0.0
    detector_fps = len(timed.seconds) / sum(timed.seconds) if timed.seconds else 0.0

    progress(f"pipeline: live-paced {live_fps:g} fps for {live_seconds:g} s")
    with open_source(str(clip), fps=live_fps, loop=True) as src, EventLog(None) as events:
        a = _assistant(src, detector, camera, events)
        stop = threading.Event()
        timer = threading.Timer(live_seconds, stop.set)
        timer.start()
        try:
            live = a.run(stop)
        finally:
            timer.cancel()
    live_json = live.to_json()

    progress("pipeline: start-up of a fresh process")
    t0 = time.perf_counter()
    proc = subprocess.run(_run_argv(clip, threads, 1), capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    startup_s = time.perf_counter() - t0
    mem = soak(clip, memory_frames, threads, progress=progress)
    return {
        "frames": fast.frames,
        "detector_fps": round(detector_fps, 2),
        "fast_fps": round(fast_fps, 2),
        "fast_ratio": round(fast_fps / detector_fps, 3) if detector_fps else None,
        "live_fps_source": live_fps,
        "live_frames": live_json["frames"],
        "live_dropped": live_json["source"].get("dropped"),
        "live_latency_ms": live_json["latency_ms"],
        "startup_to_exit_s": round(startup_s, 2) if proc.returncode == 0 else None,
        "memory": mem,
    }


def _run_argv(clip: Path, threads: int, frames: int) -> list[str]:
    return [sys.executable, "-m", "glasses", "run", "--source", str(clip), "--loop", "--fast",
            "--max-frames", str(frames), "--headless", "--no-speech", "--json", "--threads", str(threads)]


def soak(clip: Path, frames: int, threads: int = 1, interval_s: float = 0.25, warmup_s: float = 3.0,
         progress: Callable[[str], None] = lambda s: None) -> dict:
    """RSS of a separate ``glasses run --fast --loop`` process over ``frames`` frames, sampled
    every ``interval_s``; growth is the last sample minus the first one after ``warmup_s``."""
    progress(f"memory: a glasses run process over {frames} frames")
    proc = subprocess.Popen(_run_argv(clip, threads, frames), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)
    t0 = time.monotonic()
    samples: list[tuple[float, float]] = []
    last_report = t0
    while proc.poll() is None:
        mb = rss_mb(proc.pid)
        now = time.monotonic()
        if mb:
            samples.append((round(now - t0, 2), round(mb, 1)))
        if now - last_report > 30:
            progress(f"memory: {now - t0:.0f} s, RSS {mb:.0f} MB")
            last_report = now
        time.sleep(interval_s)
    out, err = proc.communicate()
    if proc.returncode != 0:
        from .errors import GlassesError

        raise GlassesError(f"the measured glasses run failed: {(err.strip().splitlines() or ['?'])[-1]}")
    summary = json.loads(out.strip().splitlines()[-1])
    warm = [mb for t, mb in samples if t >= warmup_s] or [mb for _, mb in samples]
    return {"frames": summary["frames"], "seconds": round(time.monotonic() - t0, 1),
            "rss_mb_max": max(mb for _, mb in samples) if samples else None,
            "rss_mb_warm": warm[0] if warm else None, "rss_mb_end": warm[-1] if warm else None,
            "rss_growth_mb": round(warm[-1] - warm[0], 1) if warm else None, "samples": len(samples)}
