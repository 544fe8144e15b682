"""glasses bench : speed and fidelity figures (medians and spread), as a command, never as a test."""

from __future__ import annotations

import sys
from pathlib import Path

from .common import emit_json, positive_int


def add_parser(sub) -> None:
    p = sub.add_parser("bench", help="measure detector speed (fp32 vs int8) and int8 fidelity",
                       description="Detector fp32 vs int8 on the bundled real images: median ms with spread, "
                                   "speedup, and int8 fidelity (F1 of int8 against fp32 detections, same label, "
                                   "IoU >= 0.5). fp32 and int8 alternate image by image so both see the same load.")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--images", type=Path, default=None, help="folder of images (default: models/images/bench)")
    p.add_argument("--repeats", type=positive_int, default=5, help="passes over the images (default 5)")
    p.add_argument("--threads", type=positive_int, default=1, help="intra-op threads (default 1)")
    p.add_argument("--sections", default="detector,pipeline,ocr", metavar="LIST",
                   help="comma-separated: detector, pipeline, ocr (default all three; about two minutes)")
    p.add_argument("--ocr-peer", type=Path, default=Path("/tmp/rapidocr-venv/bin/python"), metavar="PYTHON",
                   help="the python of a separate environment with rapidocr==3.10.0 and onnxruntime, for the OCR "
                        "comparison (default /tmp/rapidocr-venv/bin/python; the section says how to make it)")
    p.add_argument("--soak", type=positive_int, default=None, metavar="FRAMES",
                   help="also run the loop for FRAMES frames and report memory (RSS) growth; "
                        "10000 frames take about 7 minutes here")
    p.set_defaults(func=run)


SECTIONS = ("detector", "pipeline", "ocr")


def run(args) -> int:
    from ..bench import BenchOptions, detector_bench, load_average, machine_info, pipeline_bench, soak
    from ..camera.sources import demo_clip_path
    from ..errors import InputError
    from ..paths import models_dir

    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    bad = [s for s in sections if s not in SECTIONS]
    if bad or not sections:
        raise InputError(f"--sections must be a comma-separated list of {', '.join(SECTIONS)}, got {args.sections!r}")
    folder = args.images or models_dir() / "images" / "bench"
    progress = (lambda s: print(s, file=sys.stderr, flush=True))
    load_before = load_average()  # before our own work raises it
    report = {}
    if "detector" in sections:
        report["detector"] = detector_bench(BenchOptions(images=folder, repeats=args.repeats, threads=args.threads),
                                            progress)
    if "pipeline" in sections:
        report["pipeline"] = pipeline_bench(demo_clip_path(), threads=args.threads, progress=progress)
    if "ocr" in sections:
        from ..bench_ocr import bench_ocr

        progress("ocr: our text reader vs RapidOCR's own pipeline, image by image")
        report["ocr"] = bench_ocr(args.ocr_peer, threads=max(args.threads, 2)).to_json()
    if args.soak:
        report["soak"] = soak(demo_clip_path(), args.soak, threads=args.threads, progress=progress)
    report["machine"] = {**machine_info(), "load_avg_1m_before": load_before}
    if args.json:
        emit_json(report)
        return 0
    m = report["machine"]
    load = "" if load_before is None else f", load average {load_before} on {m['cores']} cores before the run"
    print(f"machine: {m['processor']} ({m['machine']}), onnxruntime {m['onnxruntime']}, "
          f"int8 dot-product: {'yes' if m['int8_dot_product'] else 'no'}{load}")
    if "detector" in report:
        _print_detector(report["detector"])
    if "pipeline" in report:
        _print_pipeline(report["pipeline"])
    if "ocr" in report:
        _print_ocr(report["ocr"])
    if "soak" in report:
        s = report["soak"]
        print(f"soak: a glasses run over {s['frames']} frames ({s['seconds']} s): RSS {s['rss_mb_warm']} MB after "
              f"warm-up, {s['rss_mb_end']} MB at the end, max {s['rss_mb_max']} MB, growth {s['rss_growth_mb']} MB")
    return 0


def _print_pipeline(p: dict) -> None:
    lat = p["live_latency_ms"]
    print(f"pipeline on the demo clip ({p['frames']} frames, 640x480), int8:")
    print(f"  --fast: loop {p['fast_fps']:.1f} fps vs detector alone {p['detector_fps']:.1f} fps "
          f"= {p['fast_ratio']:.2f}")
    print(f"  live-paced {p['live_fps_source']:g} fps: {p['live_frames']} frames processed, {p['live_dropped']} "
          f"dropped to stay current; latency p50 {lat['p50']} ms, p95 {lat['p95']} ms")
    print(f"  start-up: a fresh 'glasses run --max-frames 1' took {p['startup_to_exit_s']} s from exec to exit")
    m = p["memory"]
    print(f"  memory: a glasses run over {m['frames']} frames: RSS {m['rss_mb_warm']} MB after warm-up, "
          f"{m['rss_mb_end']} MB at the end (max {m['rss_mb_max']} MB)")


def _print_ocr(o: dict) -> None:
    ours, peer = o["ours"], o["peer"]
    print(f"text reading on {o['images']} sign/page photos x {o['repeats']}, {o['threads']} threads:")
    print(f"  ours      median {ours['median_ms']:.0f} ms (p10-p90 {ours['p10_ms']:.0f}-{ours['p90_ms']:.0f}), "
          f"word accuracy {ours['word_accuracy']:.3f}")
    if peer is None:
        print(f"  {o['skipped']}")
        return
    print(f"  RapidOCR  median {peer['median_ms']:.0f} ms (p10-p90 {peer['p10_ms']:.0f}-{peer['p90_ms']:.0f}), "
          f"word accuracy {peer['word_accuracy']:.3f}")
    print(f"  speedup {o['speedup']:.2f}x in total, {o['median_speedup']:.2f}x in median")


def _print_detector(det: dict) -> None:
    print(f"detector on {det['images']} images x {det['repeats']} passes, {det['threads']} thread(s), "
          f"score >= {det['score_threshold']}:")
    print(f"  {'':6} {'median ms':>10} {'p25-p75':>14} {'inference ms':>13}")
    for key in ("fp32", "int8"):
        s, inf = det[key], det[f"{key}_inference"]
        print(f"  {key:6} {s['median']:>10.1f} {s['p25']:>6.1f}-{s['p75']:<7.1f} {inf['median']:>13.1f}")
    print(f"  speedup {det['speedup']:.2f}x (inference only {det['inference_speedup']:.2f}x)")
    print(f"  fidelity F1 {det['fidelity_f1']:.3f} ({det['matched']} matched; fp32 {det['fp32_detections']}, "
          f"int8 {det['int8_detections']} detections)")
