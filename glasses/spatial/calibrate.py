"""Camera calibration from photos of a printed board, and the printable board itself.

A chessboard is described by its *inner* corner count (``9x6`` = 10 x 7 squares) and the side of
one square in metres; a ChArUco board (``glasses.spatial.charuco``) by its squares and markers.
``calibrate`` finds the board in each view (``board.detect``: sub-pixel corners and the matching
points on the board), solves for the intrinsics and lens distortion, and returns a
``Calibration`` that turns into a ``CameraProfile`` and saves as FileStorage YAML readable
by ``glasses.spatial.camera.load_profile``.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Protocol

import cv2
import numpy as np

from ..errors import InputError
from ..fsutil import atomic_path, atomic_write_bytes
from .camera import CameraProfile, Intrinsics

MIN_VIEWS = 3
PROFILE_SUFFIXES = (".yaml", ".yml", ".xml")
_GRID_RE = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")


@dataclass(frozen=True)
class Board:
    """A chessboard target: ``cols`` x ``rows`` inner corners, squares of ``square_m`` metres."""

    cols: int
    rows: int
    square_m: float

    def __post_init__(self) -> None:
        if self.cols < 2 or self.rows < 2:
            raise ValueError(f"a chessboard needs at least 2x2 inner corners, got {self.cols}x{self.rows}")
        if not (self.square_m > 0 and np.isfinite(self.square_m)):
            raise ValueError(f"square size must be a positive number of metres, got {self.square_m}")

    @property
    def pattern_size(self) -> tuple[int, int]:
        return (self.cols, self.rows)

    kind = "chessboard"

    def object_points(self) -> np.ndarray:
        """Inner corners on the board plane (z = 0), metres, row by row: (cols*rows, 3) float32."""
        xs, ys = np.meshgrid(np.arange(self.cols), np.arange(self.rows))
        pts = np.stack([xs.ravel(), ys.ravel(), np.zeros(xs.size)], axis=1) * self.square_m
        return pts.astype(np.float32)

    def corner_points(self) -> np.ndarray:
        """Every corner the board has, on its plane (metres): its extent."""
        return self.object_points()

    def detect(self, gray: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(board points (N, 3), image points (N, 2)) float32 of the whole board, or None."""
        corners = find_corners(gray, self)
        return None if corners is None else (self.object_points(), corners.astype(np.float32))

    @property
    def label(self) -> str:
        return f"{self.cols}x{self.rows} chessboard"

    @property
    def hint(self) -> str:
        return "--grid counts inner corners; show the whole board, flat, from varied angles"


class CalibrationBoard(Protocol):
    """What ``calibrate`` needs of a board (``Board``, ``charuco.CharucoSpec``)."""

    kind: str
    cols: int
    rows: int
    square_m: float

    def detect(self, gray: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None: ...

    def corner_points(self) -> np.ndarray: ...

    @property
    def label(self) -> str: ...

    @property
    def hint(self) -> str: ...


def parse_counts(text: str, counted: str, minimum: int, example: str, board: str = "") -> tuple[int, int]:
    """``"9x6"`` -> (9, 6) for a --grid that counts ``counted`` (at least minimum x minimum, at
    most 100x100); a one-line InputError that says what is allowed otherwise."""
    m = _GRID_RE.match(text or "")
    if not m:
        raise InputError(f"--grid must be COLSxROWS like {example}, got {text!r}")
    cols, rows = int(m.group(1)), int(m.group(2))
    if cols < minimum or rows < minimum:
        raise InputError(f"--grid counts {counted}{board} and needs at least {minimum}x{minimum}, got {text!r}")
    if cols > 100 or rows > 100:
        raise InputError(f"--grid of {cols}x{rows} {counted} is implausibly large (at most 100x100)")
    return cols, rows


def parse_grid(text: str) -> tuple[int, int]:
    """A chessboard ``--grid``: inner corners ``"9x6"`` -> (9, 6)."""
    return parse_counts(text, "inner corners", 2, "9x6")


def parse_square(text: str) -> float:
    """``"0.025"`` -> 0.025 metres; a one-line InputError otherwise."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise InputError(f"--square must be the side of one square in metres like 0.025, got {text!r}") from None
    if not (np.isfinite(value) and 0 < value <= 1.0):
        raise InputError(f"--square must be in metres, more than 0 and at most 1 (like 0.025), got {text!r}")
    return value


def find_corners(gray: np.ndarray, board: Board, max_side: int = 1280) -> np.ndarray | None:
    """The board's inner corners in a grayscale image, refined to sub-pixel: (N, 2) float32, or None.

    Large photos are searched at most ``max_side`` pixels on the longer side (the search is slow
    on full-size phone photos), then refined with ``cv2.cornerSubPix`` at full resolution.
    """
    s = min(1.0, max_side / max(gray.shape[:2]))
    small = gray if s == 1.0 else cv2.resize(gray, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    flags = cv2.CALIB_CB_ADAPTIVE_THRESH | cv2.CALIB_CB_NORMALIZE_IMAGE | cv2.CALIB_CB_FAST_CHECK
    found, corners = cv2.findChessboardCorners(small, board.pattern_size, flags=flags)
    if not found or corners is None:
        return None
    if s != 1.0:
        corners = ((corners + 0.5) / s - 0.5).astype(np.float32)  # pixel centres, back to full size
    # Refinement window: about a third of the smallest spacing between neighbouring corners, so
    # the window never reaches the next corner (and never below 2 px or above 11 px).
    pts = corners.reshape(board.rows, board.cols, 2)
    spacing = min(np.linalg.norm(np.diff(pts, axis=0), axis=2).min(),
                  np.linalg.norm(np.diff(pts, axis=1), axis=2).min())
    win = int(np.clip(spacing / 3, 2, 11))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_COUNT, 100, 1e-4)
    corners = cv2.cornerSubPix(gray, corners, (win, win), (-1, -1), criteria)
    return corners.reshape(-1, 2)


@dataclass(frozen=True)
class Calibration(Intrinsics):
    """Result of a calibration: intrinsics, distortion (k1 k2 p1 p2 k3), and how well they fit."""

    image_size: tuple[int, int]  # (width, height)
    camera_matrix: np.ndarray
    dist_coeffs: np.ndarray
    rms: float  # reprojection error over all corners, pixels
    used: tuple[str, ...]  # names of the views the board was found in
    skipped: tuple[str, ...]  # names of the views it was not found in
    rejected: tuple[str, ...]  # views the board was found in but which did not fit the others (left out)
    per_view_error: tuple[float, ...]  # RMS reprojection error of each used view, pixels
    board: CalibrationBoard

    def to_profile(self, name: str = "camera") -> CameraProfile:
        return CameraProfile(self.image_size, self.camera_matrix, self.dist_coeffs, name=name)


def calibrate(views: Iterable[tuple[str, np.ndarray]], board: CalibrationBoard,
              min_views: int = MIN_VIEWS) -> Calibration:
    """Calibrate from (name, image) views of ``board``. All images must share one size.

    Raises InputError when the board is found in fewer than ``min_views`` images.
    """
    object_points: list[np.ndarray] = []
    image_points: list[np.ndarray] = []
    used: list[str] = []
    skipped: list[str] = []
    size: tuple[int, int] | None = None
    first_name = ""
    for name, image in views:
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        h, w = gray.shape[:2]
        if size is None:
            size, first_name = (w, h), name
        elif (w, h) != size:
            raise InputError(f"{name} is {w}x{h} but {first_name} is {size[0]}x{size[1]}; "
                             "calibration images must all come from one camera at one resolution")
        found = board.detect(gray)
        if found is None:
            skipped.append(name)
        else:
            object_points.append(found[0].astype(np.float32))
            image_points.append(found[1].astype(np.float32))
            used.append(name)
    total = len(used) + len(skipped)
    if total == 0:
        raise InputError("no calibration images given")
    if len(used) < min_views:
        raise InputError(
            f"found the {board.label} in {len(used)} of {total} image(s); at least "
            f"{min_views} needed ({board.hint})")
    assert size is not None
    return calibrate_points(used, object_points, image_points, size, board, skipped=skipped, min_views=min_views)


def calibrate_points(names: list[str], object_points: list[np.ndarray], image_points: list[np.ndarray],
                     size: tuple[int, int], board: CalibrationBoard, skipped: Iterable[str] = (),
                     min_views: int = MIN_VIEWS) -> Calibration:
    """Solve from board points found in views already: names[i] saw object_points[i] at image_points[i]."""
    if len(names) < min_views:
        raise InputError(f"{len(names)} view(s) of the {board.label}; at least {min_views} needed ({board.hint})")
    used = list(names)
    k, d, rms, errors = _solve(object_points, image_points, size)
    # A view that fits far worse than the rest (a misread board, motion blur, a bent print) is
    # left out once, and the camera solved again from the others.
    med = float(np.median(errors))
    bad = [i for i, e in enumerate(errors) if e > max(1.0, 3 * med)]
    rejected: list[str] = []
    if bad and len(used) - len(bad) >= min_views:
        rejected = [used[i] for i in bad]
        object_points = [p for i, p in enumerate(object_points) if i not in bad]
        image_points = [p for i, p in enumerate(image_points) if i not in bad]
        used = [n for i, n in enumerate(used) if i not in bad]
        k, d, rms, errors = _solve(object_points, image_points, size)
    return Calibration(size, k, d, rms, tuple(used), tuple(skipped), tuple(rejected), tuple(errors), board)


def _solve(object_points: list[np.ndarray], image_points: list[np.ndarray], size: tuple[int, int]):
    """cv2.calibrateCamera -> (camera matrix, distortion k1 k2 p1 p2 k3, RMS, per-view RMS)."""
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_COUNT, 200, 1e-12)
    try:
        rms, k, d, rvecs, tvecs = cv2.calibrateCamera(
            list(object_points), list(image_points), size, None, None, criteria=criteria)
    except cv2.error as e:
        raise InputError("calibration failed (OpenCV: " + str(e).strip().splitlines()[-1][:120] + "); "
                         "use more views, from more varied angles") from e
    if not np.isfinite(rms) or not np.all(np.isfinite(k)) or k[0, 0] <= 0 or k[1, 1] <= 0:
        raise InputError("calibration did not converge; use more views, from more varied angles")
    errors = []
    for obj, pts, r, t in zip(object_points, image_points, rvecs, tvecs):
        proj, _ = cv2.projectPoints(obj, r, t, k, d)
        errors.append(float(np.sqrt(np.mean(np.sum((proj.reshape(-1, 2) - pts.reshape(-1, 2)) ** 2, axis=1)))))
    return np.asarray(k, np.float64), np.asarray(d, np.float64).reshape(-1), float(rms), errors


def save_profile(cal: Calibration, path: str | Path, name: str | None = None) -> Path:
    """Write ``cal`` as an OpenCV FileStorage profile (YAML or XML by suffix), atomically."""
    path = Path(path)
    if path.suffix.lower() not in PROFILE_SUFFIXES:
        raise InputError(f"--out must end in {', '.join(PROFILE_SUFFIXES)}, got {str(path)!r}")
    with atomic_path(path) as tmp:
        fs = cv2.FileStorage(str(tmp), cv2.FILE_STORAGE_WRITE)
        try:
            fs.write("name", name or path.stem)
            fs.write("image_width", int(cal.image_size[0]))
            fs.write("image_height", int(cal.image_size[1]))
            fs.write("camera_matrix", cal.camera_matrix)
            fs.write("distortion_coefficients", cal.dist_coeffs.reshape(1, -1))
            fs.write("calibration_rms_px", float(cal.rms))
            fs.write("calibration_views", len(cal.used))
            fs.write("calibration_board", cal.board.kind)
            fs.write("calibration_grid", f"{cal.board.cols}x{cal.board.rows}")
            fs.write("calibration_square_m", float(cal.board.square_m))
            for key, value in getattr(cal.board, "profile_fields", dict)().items():
                fs.write(key, value)
        finally:
            fs.release()
    return path


@dataclass(frozen=True)
class Target:
    """A printable chessboard: the image, its resolution and the size it prints at."""

    image: np.ndarray
    dpi: int
    square_px: int

    @property
    def square_mm(self) -> float:
        return self.square_px * 25.4 / self.dpi

    @property
    def size_mm(self) -> tuple[float, float]:
        h, w = self.image.shape[:2]
        return (w * 25.4 / self.dpi, h * 25.4 / self.dpi)


def make_target(board: Board, dpi: int = 300, margin_squares: float = 0.5) -> Target:
    """A (cols+1) x (rows+1)-square chessboard with a white margin, ``board.square_m`` per square at ``dpi``.

    The square side is rounded to whole pixels; ``Target.square_mm`` is the size it prints at.
    """
    if not 72 <= dpi <= 1200:
        raise ValueError(f"dpi must be in 72..1200, got {dpi}")
    square_px = int(round(board.square_m * 1000 / 25.4 * dpi))
    if square_px < 4:
        raise InputError(f"--square {board.square_m} m is under 4 pixels at {dpi} DPI; too small to print")
    margin = int(round(margin_squares * square_px))
    nx, ny = board.cols + 1, board.rows + 1
    w, h = nx * square_px + 2 * margin, ny * square_px + 2 * margin
    if w * h > 20_000 * 20_000:
        raise InputError(f"a {nx}x{ny}-square board of {board.square_m} m squares is too large to render")
    img = np.full((h, w), 255, np.uint8)
    ys, xs = np.indices((ny, nx))
    for y, x in zip(ys[(xs + ys) % 2 == 0], xs[(xs + ys) % 2 == 0]):
        y0, x0 = margin + y * square_px, margin + x * square_px
        img[y0:y0 + square_px, x0:x0 + square_px] = 0
    return Target(img, dpi, square_px)


def png_with_dpi(image: np.ndarray, dpi: int) -> bytes:
    """PNG bytes of ``image`` carrying its physical resolution (a pHYs chunk), so it prints to scale."""
    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise RuntimeError("PNG encoding failed")
    data = buf.tobytes()
    ppm = int(round(dpi / 0.0254))  # pixels per metre
    body = b"pHYs" + struct.pack(">IIB", ppm, ppm, 1)
    chunk = struct.pack(">I", 9) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    ihdr_end = 8 + 4 + 4 + 13 + 4  # signature, IHDR length, type, data, crc
    return data[:ihdr_end] + chunk + data[ihdr_end:]


def save_target(target: Target, path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise InputError(f"--make-target must be a .png file, got {str(path)!r}")
    atomic_write_bytes(path, png_with_dpi(target.image, target.dpi))
    return path
