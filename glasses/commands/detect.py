"""glasses detect IMAGE... : objects, with direction and distance."""

from __future__ import annotations

import sys

from .common import add_camera_option, add_runtime_options, emit_json, load_camera


def add_parser(sub) -> None:
    p = sub.add_parser("detect", help="find objects in images (COCO-80), with clock direction and distance",
                       description="Find objects in images and say where they are (clock face, metres).")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (JPEG, PNG, ...)")
    p.add_argument("--json", action="store_true", help="one JSON object per image on stdout")
    add_camera_option(p)
    add_runtime_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..errors import GlassesError
    from ..imageio import read_image
    from ..perception.detector import load_detector
    from ..perception.runtime import RuntimeOptions
    from ..spatial.objects import place

    profile = load_camera(args)
    detector = load_detector(args.precision, RuntimeOptions(threads=args.threads), input_size=args.input_size)
    failures = 0
    for name in args.images:
        try:
            image = read_image(name)
        except GlassesError as e:
            failures += 1
            print(f"glasses detect: error: {e}", file=sys.stderr)
            continue
        result = detector(image)
        placed = place(result, profile)
        w, h = result.image_size
        if args.json:
            emit_json({"image": name, "width": w, "height": h, "ms": round(result.elapsed_ms, 2),
                       "precision": result.precision, "detections": [p.to_json() for p in placed]})
        else:
            print(f"{name}: {len(placed)} object(s), {w}x{h}, {result.elapsed_ms:.0f} ms ({result.precision})")
            for p in placed:
                dist = f", about {p.distance_m:.1f} m" if p.distance_m is not None else ""
                print(f"  {p.detection.label:<14} {p.detection.score:4.2f}  {p.clock:>2} o'clock{dist}  "
                      f"box {[round(v) for v in p.detection.box]}")
    return 1 if failures else 0
