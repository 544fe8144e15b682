"""glasses calibrate IMAGES... --grid 9x6 --square 0.025 : camera intrinsics from chessboard or ChArUco photos."""

from __future__ import annotations

from pathlib import Path

from .common import emit_json, positive_int


def add_parser(sub) -> None:
    p = sub.add_parser(
        "calibrate", help="measure the camera's intrinsics and lens distortion from chessboard photos",
        description="Measure the camera (focal length, principal point, lens distortion) from 10-20 photos "
                    "of a flat printed chessboard seen from varied angles, and write a camera profile.")
    p.add_argument("images", nargs="*", metavar="IMAGES",
                   help="photos of the chessboard, all from the same camera at the same resolution")
    p.add_argument("--board", choices=("chessboard", "charuco"), default="chessboard",
                   help="chessboard (default) or charuco (a chessboard with ArUco markers: partial views count)")
    p.add_argument("--grid", metavar="COLSxROWS",
                   help="chessboard: inner corners, e.g. 9x6 for a board of 10 x 7 squares; "
                        "charuco: squares, e.g. 7x5")
    p.add_argument("--square", metavar="METRES",
                   help="side of one printed square in metres, e.g. 0.025 (measure the print)")
    p.add_argument("--marker", metavar="METRES",
                   help="charuco: side of one printed marker in metres, e.g. 0.022 (measure the print)")
    p.add_argument("--dictionary", default=None, metavar="DICT",
                   help="charuco: ArUco dictionary of the markers (default DICT_5X5_100); "
                        "--display-align: of the marker on the wall (default DICT_4X4_50)")
    p.add_argument("--out", type=Path, default=None,
                   help="camera profile to write, or with --display-align the one to update "
                        "(default: calibration/camera.yaml)")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.add_argument("--make-target", type=Path, default=None, metavar="FILE.png",
                   help="also write a printable board of this --board, --grid and --square (300 DPI); "
                        "IMAGES may then be left out")
    live = p.add_argument_group("live calibration (--live)")
    live.add_argument("--live", action="store_true",
                      help="calibrate from the camera: keep views that add coverage, say how to move the board")
    live.add_argument("--source", default=None, metavar="SRC",
                      help="frame source for --live/--display-align (default: the first camera); "
                           "a camera index, video file, image folder, GStreamer pipeline or URL")
    live.add_argument("--views", type=positive_int, default=15, metavar="N",
                      help="--live: views to keep before calibrating (default 15; at least 3)")
    live.add_argument("--min-sharpness", type=float, default=100.0, metavar="V",
                      help="--live: least variance of the Laplacian over the board for a view to count "
                           "(default 100)")
    live.add_argument("--fast", action="store_true", help="read a file or folder source as fast as possible")
    live.add_argument("--headless", action="store_true", help="no window")
    live.add_argument("--no-speech", action="store_true", help="instructions on stdout only, not spoken")
    align = p.add_argument_group("display alignment for optical see-through glasses (--display-align)")
    align.add_argument("--display-align", action="store_true",
                       help="line a cross on the display up with a printed ArUco marker at >= 4 points; stores the "
                            "camera-to-display homography in the camera profile (--out)")
    align.add_argument("--points", type=positive_int, default=4, metavar="N",
                       help="--display-align: cross positions, 4 to 9 (default 4)")
    align.add_argument("--display-size", default="1920x1080", metavar="WxH",
                       help="--display-align: the glasses' display in pixels (default 1920x1080)")
    align.add_argument("--display-at", default=None, metavar="X,Y",
                       help="--display-align: top-left of the glasses' display on the desktop, e.g. 1920,0")
    p.set_defaults(func=run)


def board_from_args(args):
    """The Board or CharucoSpec the options describe; one-line InputErrors naming the option."""
    from ..errors import InputError
    from ..spatial.calibrate import Board, parse_grid, parse_square

    if args.grid is None or args.square is None:
        raise InputError("--grid and --square are required to calibrate (e.g. --grid 9x6 --square 0.025)")
    if args.board == "charuco":
        from ..spatial.charuco import DEFAULT_DICTIONARY, CharucoSpec, parse_dictionary, parse_marker, parse_squares

        cols, rows = parse_squares(args.grid)
        square = parse_square(args.square)
        if args.marker is None:
            raise InputError("--board charuco needs --marker, the side of one printed marker in metres "
                             "(e.g. --marker 0.022)")
        marker = parse_marker(args.marker, square)
        return CharucoSpec(cols, rows, square, marker, parse_dictionary(args.dictionary or DEFAULT_DICTIONARY))
    if args.marker is not None or args.dictionary is not None:
        raise InputError("--marker and --dictionary are for --board charuco")
    cols, rows = parse_grid(args.grid)
    return Board(cols, rows, parse_square(args.square))


def run(args) -> int:
    from ..errors import InputError
    from ..imageio import read_image
    from ..spatial.calibrate import calibrate, save_profile

    if args.display_align:
        return _run_display_align(args)
    board = board_from_args(args)
    if args.live:
        return _run_live(args, board)
    if not args.images and args.make_target is None:
        raise InputError("give board photos to calibrate from (IMAGES...), or --make-target FILE.png")
    if args.make_target is not None:
        _write_target(args, board)
        if not args.images:
            return 0

    # Read every image first: an unreadable one stops the run before anything is written.
    images = [(name, read_image(name)) for name in args.images]
    out = _out_path(args)
    cal = calibrate(images, board)
    save_profile(cal, out)
    _report(args, cal, out, len(images))
    return 0


def _out_path(args) -> Path:
    from ..errors import InputError
    from ..spatial.calibrate import PROFILE_SUFFIXES

    out = args.out
    if out is None:
        from ..paths import calibration_dir

        out = calibration_dir() / "camera.yaml"
    if out.suffix.lower() not in PROFILE_SUFFIXES:
        raise InputError(f"--out must end in {', '.join(PROFILE_SUFFIXES)}, got {str(out)!r}")
    return out


def _run_live(args, board) -> int:
    import contextlib
    import sys

    from ..camera.sources import open_source
    from ..errors import InputError
    from ..spatial.calibrate import save_profile
    from ..spatial.live_calibrate import LiveCalibrator, LiveOptions, run_live

    if args.images or args.make_target is not None:
        raise InputError("--live calibrates from a camera: leave out IMAGES and --make-target")
    out = _out_path(args)
    calibrator = LiveCalibrator(board, LiveOptions(views_wanted=args.views, min_sharpness=args.min_sharpness))
    with contextlib.ExitStack() as stack:
        source = stack.enter_context(open_source(args.source, fast=args.fast))
        if getattr(source, "fallback_reason", None):
            raise InputError(f"{source.fallback_reason}; --live needs a camera showing the board (pass --source)")
        display = None
        if not args.headless:
            from ..outputs.overlay import Display

            display = stack.enter_context(Display(name="glasses calibrate"))
        speech = None
        if not args.no_speech:
            from ..audio.speech import SpeechWorker

            speech = stack.enter_context(SpeechWorker())
        stream = sys.stderr if args.json else sys.stdout

        def announce(text: str) -> None:
            print(text, file=stream, flush=True)
            if speech is not None:
                speech.say(text, priority=1, max_age_s=3.0)

        result = run_live(source, calibrator, announce, display)
    if calibrator.views < 3:
        raise InputError(f"kept {calibrator.views} view(s) of the {board.label} in {result.frames} frame(s); at "
                         f"least 3 needed (show the board to the camera and follow the instructions)")
    cal = calibrator.calibrate()
    save_profile(cal, out)
    _report(args, cal, out, calibrator.views)
    return 0


def _run_display_align(args) -> int:
    import contextlib

    from ..camera.sources import open_source
    from ..errors import InputError
    from ..outputs.overlay import Display
    from ..spatial.display_align import (fit_homography, marker_centre, parse_display_size, run_alignment,
                                         save_alignment, target_points)
    from ..spatial.markers import dictionary_names

    if args.images or args.make_target is not None or args.live:
        raise InputError("--display-align takes no IMAGES, --make-target or --live")
    size = parse_display_size(args.display_size)
    targets = target_points(args.points, size)
    position = None
    if args.display_at is not None:
        try:
            x, y = (int(v) for v in args.display_at.split(","))
        except ValueError:
            raise InputError(f"--display-at must be X,Y in desktop pixels like 1920,0, got {args.display_at!r}") from None
        position = (x, y)
    dictionary = (args.dictionary or "DICT_4X4_50").upper()
    if dictionary not in dictionary_names():
        raise InputError(f"--dictionary must be an ArUco dictionary like DICT_4X4_50, got {args.dictionary!r}")
    out = _out_path(args)
    if not out.is_file():
        raise InputError(f"camera profile {out} does not exist; calibrate the camera first (glasses calibrate), "
                         "or pass the profile with --out")
    with contextlib.ExitStack() as stack:
        display = stack.enter_context(Display(name="glasses display align", fullscreen=True, position=position))
        if not display.available:
            raise InputError(f"{display.error or 'no window'}; --display-align needs the glasses' display")
        source = stack.enter_context(open_source(args.source, fast=args.fast))
        if getattr(source, "fallback_reason", None):
            raise InputError(f"{source.fallback_reason}; --display-align needs the camera (pass --source)")
        run = run_alignment(source, display, targets, size, lambda text: print(text, flush=True),
                            find_point=lambda img: marker_centre(img, dictionary))
    if len(run.display_points) < 4:
        raise InputError(f"display alignment stopped ({run.stopped}) with {len(run.display_points)} point(s); "
                         "at least 4 needed")
    alignment = fit_homography(run.camera_points, run.display_points, size)
    save_alignment(out, alignment)
    if args.json:
        emit_json({"display_size": list(size), "pairs": alignment.pairs, "inliers": alignment.inliers,
                   "rms_px": round(alignment.rms_px, 3),
                   "display_homography": [[round(float(v), 8) for v in row] for row in alignment.homography],
                   "out": str(out)})
    else:
        print(f"aligned {size[0]}x{size[1]} display from {alignment.pairs} point(s) ({alignment.inliers} fit): "
              f"reprojection error {alignment.rms_px:.2f} display px; wrote display_homography to {out}")
    return 0


def _report(args, cal, out, n_images: int) -> None:
    if args.json:
        emit_json({"image_size": list(cal.image_size), "fx": round(cal.fx, 4), "fy": round(cal.fy, 4),
                   "cx": round(cal.cx, 4), "cy": round(cal.cy, 4),
                   "dist": [round(float(v), 6) for v in cal.dist_coeffs], "rms": round(cal.rms, 4),
                   "images_used": len(cal.used), "out": str(out)})
    else:
        w, h = cal.image_size
        print(f"calibrated {w}x{h} from {len(cal.used)} of {n_images} image(s): "
              f"fx {cal.fx:.1f} fy {cal.fy:.1f} cx {cal.cx:.1f} cy {cal.cy:.1f}, "
              f"horizontal FOV {cal.to_profile().hfov_deg:.1f} deg, RMS error {cal.rms:.3f} px")
        print(f"  distortion k1 k2 p1 p2 k3: {' '.join(f'{v:.5f}' for v in cal.dist_coeffs)}")
        for name in cal.skipped:
            print(f"  no {cal.board.label} found in {name}")
        for name in cal.rejected:
            print(f"  left out {name}: it did not fit the other views (blurred, bent or misread board?)")
        worst = max(range(len(cal.used)), key=lambda i: cal.per_view_error[i])
        if cal.rms > 1.0:
            print(f"  RMS above 1 px: check the print is flat and --grid is right; worst view "
                  f"{cal.used[worst]} ({cal.per_view_error[worst]:.2f} px)")
        print(f"wrote {out}")


def _write_target(args, board) -> None:
    from ..spatial.calibrate import make_target, save_target

    if board.kind == "charuco":
        from ..spatial.charuco import make_charuco_target

        target = make_charuco_target(board)
        what = (f"{board.cols}x{board.rows} squares with {board.dictionary} markers of "
                f"{target.square_mm * board.marker_m / board.square_m:.2f} mm")
    else:
        target = make_target(board)
        what = f"{board.cols + 1}x{board.rows + 1} squares ({board.cols}x{board.rows} inner corners)"
    path = save_target(target, args.make_target)
    w_mm, h_mm = target.size_mm
    if args.json:
        obj = {"target": str(path), "dpi": target.dpi, "square_mm": round(target.square_mm, 3),
               "size_mm": [round(w_mm, 1), round(h_mm, 1)]}
        if board.kind == "charuco":
            obj["marker_mm"] = round(target.square_mm * board.marker_m / board.square_m, 3)
            obj["dictionary"] = board.dictionary
        emit_json(obj)
    else:
        print(f"wrote {path}: {what}, {w_mm:.0f} x {h_mm:.0f} mm at {target.dpi} DPI; print at 100% "
              f"(no 'fit to page'), then measure a square: it should be {target.square_mm:.2f} mm "
              f"(pass the measured size to --square)")
        if min(w_mm, h_mm) > 210 or max(w_mm, h_mm) > 297:
            print(f"  note: {w_mm:.0f} x {h_mm:.0f} mm is larger than A4 (210 x 297 mm); print on A3 "
                  "or choose a smaller --square")
