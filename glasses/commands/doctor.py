"""glasses doctor : what works on this device, and how to fix what does not."""

from __future__ import annotations

from .common import emit_json


def add_parser(sub) -> None:
    p = sub.add_parser("doctor", help="check camera, models, speech and display on this device",
                       description="Check what works here: OpenCV, each model (checksum, load, execution "
                                   "provider), cameras, speech engine and voices, display. Exit 1 if something "
                                   "essential (models, OpenCV) is broken.")
    p.add_argument("--json", action="store_true", help="one JSON object per check")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..doctor import run_checks

    checks = run_checks()
    for c in checks:
        if args.json:
            emit_json(c.to_json())
        else:
            print(f"{'ok ' if c.ok else 'no '} {c.area:<20} {c.detail}")
            if not c.ok and c.fix:
                print(f"    fix: {c.fix}")
    return 1 if any(c.essential and not c.ok for c in checks) else 0
