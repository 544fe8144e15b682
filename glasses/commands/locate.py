"""glasses locate REF TARGET --region x,y,w,h : find an anchored region of REF in TARGET."""

from __future__ import annotations

from .common import emit_json


def add_parser(sub) -> None:
    p = sub.add_parser(
        "locate", help="find a region of one image (a sign, a door) in another image",
        description="Anchor a rectangle of the reference image by its appearance and find it in the target "
                    "image, seen from another angle or distance. Prints its four corners in the target "
                    "(top-left, top-right, bottom-right, bottom-left).")
    p.add_argument("ref", metavar="REF", help="reference image holding the region")
    p.add_argument("target", metavar="TARGET", help="image to find the region in")
    p.add_argument("--region", required=True, metavar="x,y,w,h",
                   help="the region in REF: left, top, width, height in pixels, e.g. 120,80,200,150")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..errors import InputError
    from ..imageio import read_image
    from ..spatial.anchors import Anchor, parse_region

    region = parse_region(args.region)
    ref = read_image(args.ref)
    h, w = ref.shape[:2]
    if not region.fits(w, h):
        raise InputError(f"--region {region.x},{region.y},{region.w},{region.h} reaches outside {args.ref} "
                         f"({w}x{h}); x+w must be <= {w} and y+h <= {h}")
    anchor = Anchor.from_region(ref, region)
    sighting = anchor.locate(read_image(args.target))
    if args.json:
        emit_json(sighting.to_json())
    elif sighting.found:
        corners = "  ".join(f"({x:.1f}, {y:.1f})" for x, y in sighting.quad)
        print(f"found in {args.target} ({sighting.inliers} matching features): {corners}")
    else:
        print(f"not found in {args.target} ({sighting.inliers} consistent features, "
              f"{anchor.options.min_inliers} needed)")
    return 0
