"""QR decode rate on synthetic renders: python tests/measure_qr.py

A version-2 code ("https://example.org/lift-b", 33 modules with its quiet zone) 0.6 m from a
640x480 camera with a 65 deg field of view, turned 0/20/35 deg, blur sigma 0.6 px, noise sigma 2:
decoded out of 6 placements, per code size (pixels per module), and the mean time per frame.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from glasses.spatial.qr import detect_qr  # noqa: E402
from marker_scene import Camera, generic_k, qr_plane, render  # noqa: E402

TEXT = "https://example.org/lift-b"


def main() -> None:
    k = generic_k(640, 480, 65.0)
    cam = Camera(k, (640, 480))
    print("size_m  px_per_module  yaw_deg  decoded  ms")
    for size in (0.08, 0.10, 0.12, 0.15):
        for yaw in (0, 20, 35):
            ok, spent = 0, 0.0
            for seed in range(6):
                y = math.radians(yaw if seed % 2 else -yaw)
                centre = (0.05 * (seed - 3), 0.02 * (seed % 3 - 1), 0.6)
                img = render(cam, [qr_plane(TEXT, size, centre, (math.sin(y), 0.0, -math.cos(y)))],
                             blur_sigma=0.6, noise=2.0, seed=seed)
                t0 = time.perf_counter()
                codes = detect_qr(img)
                spent += time.perf_counter() - t0
                ok += [c.text for c in codes] == [TEXT]
            print(f"{size:6.2f}  {size * k[0, 0] / 0.6 / 33:13.1f}  {yaw:7d}  {ok:5d}/6  {spent / 6 * 1e3:4.0f}")


if __name__ == "__main__":
    main()
