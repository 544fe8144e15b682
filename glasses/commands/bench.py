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
    p.set_defaults(func=run)


def run(args) -> int:
    from ..bench import BenchOptions, detector_bench, machine_info
    from ..paths import models_dir

    folder = args.images or models_dir() / "images" / "bench"
    progress = (lambda s: print(s, file=sys.stderr, flush=True))
    det = detector_bench(BenchOptions(images=folder, repeats=args.repeats, threads=args.threads), progress)
    report = {"detector": det, "machine": machine_info()}
    if args.json:
        emit_json(report)
        return 0
    m = report["machine"]
    print(f"machine: {m['processor']} ({m['machine']}), onnxruntime {m['onnxruntime']}, "
          f"int8 dot-product: {'yes' if m['int8_dot_product'] else 'no'}")
    print(f"detector on {det['images']} images x {det['repeats']} passes, {det['threads']} thread(s), "
          f"score >= {det['score_threshold']}:")
    print(f"  {'':6} {'median ms':>10} {'p25-p75':>14} {'inference ms':>13}")
    for key in ("fp32", "int8"):
        s, inf = det[key], det[f"{key}_inference"]
        print(f"  {key:6} {s['median']:>10.1f} {s['p25']:>6.1f}-{s['p75']:<7.1f} {inf['median']:>13.1f}")
    print(f"  speedup {det['speedup']:.2f}x (inference only {det['inference_speedup']:.2f}x)")
    print(f"  fidelity F1 {det['fidelity_f1']:.3f} ({det['matched']} matched; fp32 {det['fp32_detections']}, "
          f"int8 {det['int8_detections']} detections)")
    return 0
