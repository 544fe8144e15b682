"""ChArUco calibration boards: a chessboard whose white squares carry ArUco markers.

Every corner is identified by the markers around it, so a board seen only in part (cut by the
image edge, or partly hidden) still gives usable corners: that is what lets a calibration reach
the corners of the image, where the lens distortion is largest. ``grid`` here counts *squares*
(``7x5`` = 7 columns x 5 rows of squares, 6 x 4 inner corners), as OpenCV does.

``CharucoSpec`` is a board for ``glasses.spatial.calibrate.calibrate``; ``make_charuco_target``
renders the printable board.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import InputError
from .calibrate import Target, parse_counts

DEFAULT_DICTIONARY = "DICT_5X5_100"
MIN_CORNERS = 6  # corners a view needs to count (partial views are fine)


def dictionary_names() -> tuple[str, ...]:
    """The predefined ArUco dictionaries this OpenCV knows (``DICT_4X4_50`` ... ``DICT_ARUCO_ORIGINAL``)."""
    return tuple(sorted(n for n in dir(cv2.aruco) if n.startswith("DICT_") and isinstance(getattr(cv2.aruco, n), int)))


def parse_dictionary(text: str) -> str:
    """``"dict_5x5_100"`` -> ``"DICT_5X5_100"``; a one-line InputError naming a few allowed ones otherwise."""
    name = (text or "").strip().upper()
    if not name.startswith("DICT_"):
        name = "DICT_" + name
    if name not in dictionary_names():
        raise InputError(f"--dictionary must be an ArUco dictionary like DICT_5X5_100, DICT_4X4_50 or "
                         f"DICT_6X6_250, got {text!r}")
    return name


def parse_squares(text: str) -> tuple[int, int]:
    """A ChArUco ``--grid``: squares ``"7x5"`` -> (7, 5); a one-line InputError otherwise."""
    return parse_counts(text, "squares", 3, "7x5", board=" for --board charuco")


def parse_marker(text: str, square_m: float) -> float:
    """``--marker`` in metres, smaller than the square; a one-line InputError otherwise."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise InputError(f"--marker must be the side of one printed marker in metres like 0.022, got {text!r}") from None
    if not (np.isfinite(value) and 0 < value < square_m):
        raise InputError(f"--marker must be more than 0 and less than --square ({square_m:g} m), got {text!r}")
    return value


@dataclass(frozen=True)
class CharucoSpec:
    """A ChArUco board: ``cols`` x ``rows`` squares of ``square_m``, markers of ``marker_m`` metres."""

    cols: int
    rows: int
    square_m: float
    marker_m: float
    dictionary: str = DEFAULT_DICTIONARY
    min_corners: int = MIN_CORNERS

    kind = "charuco"

    def __post_init__(self) -> None:
        if self.cols < 3 or self.rows < 3:
            raise InputError(f"a ChArUco --grid counts squares and needs at least 3x3, got {self.cols}x{self.rows}")
        if not (self.square_m > 0 and np.isfinite(self.square_m)):
            raise ValueError(f"square size must be a positive number of metres, got {self.square_m}")
        if not (0 < self.marker_m < self.square_m):
            raise InputError(f"--marker must be less than --square, got {self.marker_m:g} >= {self.square_m:g}")
        name = parse_dictionary(self.dictionary)
        object.__setattr__(self, "dictionary", name)
        markers = (self.cols * self.rows) // 2
        size = _dictionary_size(name)
        if markers > size:
            raise InputError(f"a {self.cols}x{self.rows} ChArUco board needs {markers} markers but {name} has "
                             f"only {size}; choose a larger dictionary")

    @property
    def label(self) -> str:
        return f"{self.cols}x{self.rows} ChArUco board"

    @property
    def hint(self) -> str:
        return (f"--grid counts squares for --board charuco; check --dictionary ({self.dictionary}); each "
                f"view needs at least {self.min_corners} corners")

    def profile_fields(self) -> dict:
        return {"calibration_marker_m": float(self.marker_m), "calibration_dictionary": self.dictionary}

    def cv_board(self) -> "cv2.aruco.CharucoBoard":
        d = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, self.dictionary))
        return cv2.aruco.CharucoBoard((self.cols, self.rows), self.square_m, self.marker_m, d)

    def inner_corners(self) -> np.ndarray:
        """All inner corners on the board plane, metres, in id order: ((cols-1)*(rows-1), 3) float32."""
        xs, ys = np.meshgrid(np.arange(1, self.cols), np.arange(1, self.rows))
        pts = np.stack([xs.ravel(), ys.ravel(), np.zeros(xs.size)], axis=1) * self.square_m
        return pts.astype(np.float32)

    def corner_points(self) -> np.ndarray:
        return self.inner_corners()

    def detect(self, gray: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(board points (N, 3), image points (N, 2)) of the corners seen, or None if fewer than
        ``min_corners`` or all on one line (a line of points does not pin down a camera)."""
        found = detect_corners(gray, self)
        if found is None:
            return None
        ids, pts = found
        obj = self.inner_corners()[ids]
        return obj, pts


def _dictionary_size(name: str) -> int:
    return int(cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, name)).bytesList.shape[0])


def detect_corners(gray: np.ndarray, spec: CharucoSpec, max_side: int = 1600) -> tuple[np.ndarray, np.ndarray] | None:
    """Corner ids (N,) int and sub-pixel image points (N, 2) float32 of the board, or None.

    Markers are found (at most ``max_side`` pixels on the longer side), the corners between them
    interpolated, then refined with ``cv2.cornerSubPix`` at full resolution.
    """
    if gray.ndim == 3:
        gray = cv2.cvtColor(gray, cv2.COLOR_BGR2GRAY)
    s = min(1.0, max_side / max(gray.shape[:2]))
    small = gray if s == 1.0 else cv2.resize(gray, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    detector = cv2.aruco.CharucoDetector(spec.cv_board())
    corners, ids, _, _ = detector.detectBoard(small)
    if corners is None or ids is None or len(ids) < spec.min_corners:
        return None
    corners = corners.reshape(-1, 1, 2).astype(np.float32)
    if s != 1.0:
        corners = ((corners + 0.5) / s - 0.5).astype(np.float32)
    ids = ids.reshape(-1).astype(int)
    obj = spec.inner_corners()[ids][:, :2]
    if np.linalg.svd(obj - obj.mean(0), compute_uv=False)[-1] < 1e-6:
        return None  # collinear
    # Refinement window: within the white margin around the markers, so that the markers' own
    # edges do not pull the corner (OpenCV's interpolated corners are about half a pixel off).
    spacing = _corner_spacing(obj / spec.square_m, corners.reshape(-1, 2))
    margin = (spec.square_m - spec.marker_m) / (2 * spec.square_m)
    win = int(np.clip(np.floor(spacing * margin), 2, 11))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_COUNT, 100, 1e-4)
    corners = cv2.cornerSubPix(gray, corners, (win, win), (-1, -1), criteria)
    return ids, corners.reshape(-1, 2)


def _corner_spacing(grid: np.ndarray, img: np.ndarray) -> float:
    """Smallest image distance between corners one square apart (grid: board coordinates in squares)."""
    d_grid = np.abs(grid[:, None, :] - grid[None, :, :]).sum(axis=2)
    i, j = np.nonzero(np.isclose(d_grid, 1.0))
    if len(i) == 0:
        return 20.0
    return float(np.linalg.norm(img[i] - img[j], axis=1).min())


def make_charuco_target(spec: CharucoSpec, dpi: int = 300, margin_squares: float = 0.5) -> Target:
    """The printable board with a white margin, ``spec.square_m`` per square at ``dpi``.

    The square side is rounded to whole pixels; ``Target.square_mm`` is the size it prints at
    (markers scale with it)."""
    if not 72 <= dpi <= 1200:
        raise ValueError(f"dpi must be in 72..1200, got {dpi}")
    square_px = int(round(spec.square_m * 1000 / 25.4 * dpi))
    if square_px * spec.marker_m / spec.square_m < 12:
        raise InputError(f"--marker {spec.marker_m} m is under 12 pixels at {dpi} DPI; too small to print")
    margin = int(round(margin_squares * square_px))
    w, h = spec.cols * square_px + 2 * margin, spec.rows * square_px + 2 * margin
    if w * h > 20_000 * 20_000:
        raise InputError(f"a {spec.cols}x{spec.rows}-square board of {spec.square_m} m squares is too large to render")
    img = spec.cv_board().generateImage((w, h), marginSize=margin, borderBits=1)
    return Target(img, dpi, square_px)
