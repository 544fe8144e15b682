"""Printable markers for a route file: one PNG per waypoint, at 300 DPI.

    python overlays/routes/make_markers.py [ROUTE.toml] [--out DIR] [--dpi 300]

Defaults: overlays/routes/example.toml into overlays/routes/markers/. Each page has the
marker with its black square exactly the waypoint's size_m wide at that DPI (the PNG says
its DPI, so printing at 100 % scale gives the right size), a white quiet zone, and the id,
waypoint name and printed size written under it. Measure the printed square: if it is not
size_m, fix size_m in the route file to what you measured.
"""

from __future__ import annotations

import argparse
import re
import struct
import sys
import zlib
from pathlib import Path

import cv2

HERE = Path(__file__).resolve().parent


def png_with_dpi(png: bytes, dpi: int) -> bytes:
    """Insert a pHYs chunk (pixels per metre) right after the IHDR chunk."""
    ppm = int(round(dpi / 0.0254))
    body = b"pHYs" + struct.pack(">IIB", ppm, ppm, 1)
    chunk = struct.pack(">I", 9) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    end_of_ihdr = 8 + 4 + 4 + 13 + 4  # signature, length, type, data, crc
    return png[:end_of_ihdr] + chunk + png[end_of_ihdr:]


def main(argv: list[str] | None = None) -> int:
    from glasses.errors import InputError
    from glasses.spatial.markers import printable_marker
    from glasses.spatial.routes import load_route

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("route", nargs="?", type=Path, default=HERE / "example.toml")
    ap.add_argument("--out", type=Path, default=HERE / "markers")
    ap.add_argument("--dpi", type=int, default=300)
    args = ap.parse_args(argv)
    try:
        route = load_route(args.route)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for w in route.waypoints:
        page = printable_marker(w.marker_id, w.size_m, args.dpi, route.dictionary, caption=w.name)
        ok, png = cv2.imencode(".png", page, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        if not ok:
            print(f"error: could not encode marker {w.marker_id}", file=sys.stderr)
            return 1
        slug = re.sub(r"[^a-z0-9]+", "-", w.name.lower()).strip("-") or "waypoint"
        path = args.out / f"marker-{w.marker_id:02d}-{slug}.png"
        path.write_bytes(png_with_dpi(png.tobytes(), args.dpi))
        print(f"{path}: id {w.marker_id} ({w.name}), black square {w.size_m * 1000:.0f} mm at {args.dpi} DPI")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
