"""Which calibration views are still missing, and what to tell the wearer to do next.

A view of the board is summarised as an ``Observation``: the cell of a 3x3 grid over the image
its corners are centred in, which way the board is tilted (flat, left, right, up, down) and how
big it looks (far, mid, near). ``Coverage`` is what the kept views have covered so far; a new
view is worth keeping only if it covers something new (``Coverage.adds``): a cell, a tilt or a
distance not seen yet, and once every cell is covered, a new (cell, tilt) pair (so a board that
never gets close enough, say, does not stop the collection).
``next_instruction`` turns the coverage and the current view into one short sentence.

Pure functions and frozen dataclasses: no camera, no window, no clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

CELL_NAMES = ("top left", "top", "top right", "left", "centre", "right", "bottom left", "bottom", "bottom right")
TILTS = ("flat", "left", "right", "up", "down")
DISTANCES = ("far", "mid", "near")
FLAT_DEG = 15.0  # a board turned less than this from facing the camera counts as flat
FAR_SPAN, NEAR_SPAN = 0.22, 0.38  # sqrt(board area / image area) below/above which it is far/near

SHOW_BOARD = "show the board to the camera"
HOLD_STILL = "hold still"
DONE = "done: hold on, calibrating"


@dataclass(frozen=True)
class Observation:
    """One view of the board, bucketed."""

    cell: int  # 0..8, row by row from the top left
    tilt: str  # one of TILTS
    distance: str  # one of DISTANCES
    tilt_deg: float = 0.0
    span: float = 0.0  # board size / image size

    def __post_init__(self) -> None:
        if not 0 <= self.cell < 9:
            raise ValueError(f"cell must be 0..8, got {self.cell}")
        if self.tilt not in TILTS:
            raise ValueError(f"tilt must be one of {TILTS}, got {self.tilt!r}")
        if self.distance not in DISTANCES:
            raise ValueError(f"distance must be one of {DISTANCES}, got {self.distance!r}")


@dataclass(frozen=True)
class Coverage:
    """What the kept views cover."""

    cells: frozenset[int] = field(default_factory=frozenset)
    tilts: frozenset[str] = field(default_factory=frozenset)
    distances: frozenset[str] = field(default_factory=frozenset)
    pairs: frozenset[tuple[int, str]] = field(default_factory=frozenset)
    views: int = 0

    @property
    def basics_done(self) -> bool:
        return len(self.cells) == 9 and len(self.tilts) == len(TILTS) and len(self.distances) == len(DISTANCES)

    def adds(self, obs: Observation) -> bool:
        """Would a view like ``obs`` cover something new?"""
        if obs.cell not in self.cells or obs.tilt not in self.tilts or obs.distance not in self.distances:
            return True
        return len(self.cells) == 9 and (obs.cell, obs.tilt) not in self.pairs

    def with_view(self, obs: Observation) -> "Coverage":
        return Coverage(self.cells | {obs.cell}, self.tilts | {obs.tilt}, self.distances | {obs.distance},
                        self.pairs | {(obs.cell, obs.tilt)}, self.views + 1)


def cell_of(point: tuple[float, float], image_size: tuple[int, int]) -> int:
    """The 3x3 cell (0..8, row by row) a pixel falls in; points outside are clamped to the edge cells."""
    w, h = image_size
    col = int(np.clip(math.floor(3 * point[0] / w), 0, 2))
    row = int(np.clip(math.floor(3 * point[1] / h), 0, 2))
    return row * 3 + col


def tilt_bucket(normal: np.ndarray, flat_deg: float = FLAT_DEG) -> tuple[str, float]:
    """(bucket, angle in degrees) of a board whose plane normal in camera coordinates is ``normal``.

    The bucket names where the board's face points: "left" = turned toward the camera's left."""
    n = np.asarray(normal, float).reshape(3)
    n = n / np.linalg.norm(n)
    if n[2] > 0:
        n = -n  # the side facing the camera
    angle = math.degrees(math.acos(min(1.0, -n[2])))
    if angle < flat_deg:
        return "flat", angle
    if abs(n[0]) >= abs(n[1]):
        return ("right" if n[0] > 0 else "left"), angle
    return ("down" if n[1] > 0 else "up"), angle


def distance_bucket(span: float) -> str:
    return "far" if span < FAR_SPAN else "near" if span > NEAR_SPAN else "mid"


def observe(object_points: np.ndarray, image_points: np.ndarray, image_size: tuple[int, int],
            board_outline: np.ndarray) -> Observation:
    """Bucket a detected view. object_points (N, 3) on the board (z = 0) match image_points (N, 2);
    board_outline (M, 3): the board's extreme corners, for its apparent size even when cut off.

    The tilt comes from a pose with a guessed camera (focal length = image width, about 53 degrees):
    only its direction and rough size matter here."""
    obj = np.asarray(object_points, np.float64).reshape(-1, 3)
    img = np.asarray(image_points, np.float64).reshape(-1, 2)
    w, h = image_size
    centre = img.mean(axis=0)
    cell = cell_of((float(centre[0]), float(centre[1])), image_size)
    k = np.array([[w, 0, w / 2], [0, w, h / 2], [0, 0, 1]], np.float64)
    ok, rvec, _ = cv2.solvePnP(obj, img, k, None, flags=cv2.SOLVEPNP_IPPE)
    if ok:
        r, _ = cv2.Rodrigues(rvec)
        tilt, angle = tilt_bucket(r[:, 2])
    else:
        tilt, angle = "flat", 0.0
    hom, _ = cv2.findHomography(obj[:, :2], img, 0)
    outline = np.asarray(board_outline, np.float64).reshape(-1, 3)[:, :2]
    if hom is not None:
        pts = cv2.perspectiveTransform(outline.reshape(-1, 1, 2), hom).reshape(-1, 2)
        hull = cv2.convexHull(pts.astype(np.float32))
        span = math.sqrt(max(cv2.contourArea(hull), 0.0) / (w * h))
    else:
        span = 0.5
    return Observation(cell, tilt, distance_bucket(span), angle, span)


def next_instruction(coverage: Coverage, obs: Observation | None, *, still: bool = True, sharp: bool = True,
                     views_wanted: int = 15) -> str:
    """The one thing to tell the wearer now.

    No board: show it. Board moving or blurred: hold still. Then, in order, the nearest image cell
    not yet covered, a tilt not yet covered, a distance not yet covered, and finally new
    cell-and-tilt pairs until ``views_wanted`` views are kept."""
    if coverage.views >= views_wanted:
        return DONE
    if obs is None:
        return SHOW_BOARD
    missing_cells = [c for c in range(9) if c not in coverage.cells]
    if missing_cells:
        if obs.cell in missing_cells:
            return HOLD_STILL if not (still and sharp) else f"move the board to the {CELL_NAMES[obs.cell]}"
        r0, c0 = divmod(obs.cell, 3)
        target = min(missing_cells, key=lambda c: (abs(c // 3 - r0) + abs(c % 3 - c0), c))
        return f"move the board to the {CELL_NAMES[target]}"
    missing_tilts = [t for t in TILTS if t not in coverage.tilts]
    if missing_tilts:
        if obs.tilt in missing_tilts and not (still and sharp):
            return HOLD_STILL
        t = missing_tilts[0]
        return "hold the board flat, facing the camera" if t == "flat" else f"tilt the board to the {t}"
    missing_d = [d for d in DISTANCES if d not in coverage.distances]
    if missing_d:
        if obs.distance in missing_d and not (still and sharp):
            return HOLD_STILL
        d = missing_d[0]
        return "move the board further away" if d == "far" else "move the board closer" if d == "near" else \
            "move the board to arm's length"
    if coverage.adds(obs) and not (still and sharp):
        return HOLD_STILL
    left = views_wanted - coverage.views
    return f"move and tilt the board somewhere new ({left} more view{'s' if left != 1 else ''})"


def sharpness(gray: np.ndarray, image_points: np.ndarray, pad: int = 4) -> float:
    """Variance of the Laplacian over the board's bounding box (higher = sharper)."""
    pts = np.asarray(image_points, np.float64).reshape(-1, 2)
    h, w = gray.shape[:2]
    x0, y0 = np.floor(pts.min(axis=0)).astype(int) - pad
    x1, y1 = np.ceil(pts.max(axis=0)).astype(int) + pad
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return 0.0
    return float(cv2.Laplacian(gray[y0:y1, x0:x1], cv2.CV_64F).var())


def motion(prev: tuple[np.ndarray, np.ndarray] | None, cur: tuple[np.ndarray, np.ndarray]) -> float:
    """Median image movement (pixels) of the corners seen in both views; inf with nothing to compare.

    Each view is (object points (N, 3), image points (N, 2)); corners are matched by board position."""
    if prev is None:
        return math.inf
    before = {tuple(np.round(p, 6)): q for p, q in zip(np.asarray(prev[0]).reshape(-1, 3), np.asarray(prev[1]).reshape(-1, 2))}
    moves = [float(np.linalg.norm(q - before[key])) for p, q in
             zip(np.asarray(cur[0]).reshape(-1, 3), np.asarray(cur[1]).reshape(-1, 2))
             if (key := tuple(np.round(p, 6))) in before]
    return float(np.median(moves)) if len(moves) >= 3 else math.inf
