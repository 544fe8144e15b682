"""ArUco markers: find them in a frame and measure each one's distance and direction.

A marker of known side length (the black square, edge to edge, in metres) seen through a
calibrated camera gives its full pose with ``cv2.solvePnP`` (``SOLVEPNP_IPPE_SQUARE``): the
distance is the length of the translation (camera centre to marker centre), the bearing its
horizontal angle (+ right), both in the camera's own frame.

``printable_marker`` draws a marker for printing at a given DPI, its id and printed size
written under it (``overlays/routes/make_markers.py`` uses it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import cv2
import numpy as np

from .camera import CameraProfile, bearing_to_clock

DEFAULT_DICTIONARY = "DICT_4X4_50"


def dictionary_names() -> list[str]:
    """The predefined ArUco dictionaries OpenCV knows (DICT_4X4_50, DICT_APRILTAG_36h11, ...)."""
    return sorted(n for n in dir(cv2.aruco) if n.startswith("DICT_") and isinstance(getattr(cv2.aruco, n), int))


def get_dictionary(name: str) -> cv2.aruco.Dictionary:
    """A predefined dictionary by name; ValueError listing the allowed names otherwise."""
    code = getattr(cv2.aruco, name, None) if name.startswith("DICT_") else None
    if not isinstance(code, int):
        raise ValueError(f"ArUco dictionary must be one of {', '.join(dictionary_names())}; got {name!r}")
    return cv2.aruco.getPredefinedDictionary(code)


def dictionary_size(name: str) -> int:
    """How many marker ids the dictionary has (ids are 0 .. size - 1)."""
    return int(get_dictionary(name).bytesList.shape[0])


@dataclass(frozen=True)
class MarkerSighting:
    """One marker in one frame. corners: (4, 2) pixels TL, TR, BR, BL of the black square, as
    printed (so TL is the marker's own top-left, whatever its rotation in the image).
    distance_m, rvec, tvec: None when the marker's size is not known (no pose without it).
    bearing_deg: + right of straight ahead (from the pose when known, else the corners' centre)."""

    id: int
    corners: np.ndarray = field(repr=False)
    distance_m: float | None
    bearing_deg: float
    clock: int
    rvec: np.ndarray | None = field(default=None, repr=False)
    tvec: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        c = np.asarray(self.corners, np.float64)
        if c.shape != (4, 2):
            raise ValueError(f"corners must be (4, 2) pixels TL, TR, BR, BL, got shape {c.shape}")
        if not 1 <= self.clock <= 12:
            raise ValueError(f"clock must be 1..12, got {self.clock}")
        if self.distance_m is not None and not self.distance_m > 0:
            raise ValueError(f"distance_m must be > 0 or None, got {self.distance_m}")
        object.__setattr__(self, "corners", c)

    @property
    def center(self) -> tuple[float, float]:
        x, y = self.corners.mean(axis=0)
        return float(x), float(y)

    @property
    def quad(self) -> tuple[tuple[float, float], ...]:
        return tuple((float(x), float(y)) for x, y in self.corners)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "corners": [[round(float(x), 1), round(float(y), 1)] for x, y in self.corners],
            "distance_m": None if self.distance_m is None else round(self.distance_m, 3),
            "bearing_deg": round(self.bearing_deg, 2),
            "clock": self.clock,
        }


@dataclass(frozen=True)
class MarkerOptions:
    """dictionary: an OpenCV predefined dictionary name. refine_edges: move each corner to the
    crossing of straight lines fitted to sub-pixel edge points of the marker's sides (the
    distance is then within 0.5 % at 5 m on renders; OpenCV's own corner refinement leaves a
    bias of several percent on small markers; see tests/test_markers.py)."""

    dictionary: str = DEFAULT_DICTIONARY
    refine_edges: bool = True

    def __post_init__(self) -> None:
        get_dictionary(self.dictionary)  # validates the name


def square_points(size_m: float) -> np.ndarray:
    """The marker's corners in its own frame (metres, z = 0), in the order IPPE_SQUARE needs."""
    s = size_m / 2
    return np.array([[-s, s, 0], [s, s, 0], [s, -s, 0], [-s, -s, 0]], np.float64)


class MarkerDetector:
    """Finds markers of one dictionary and measures the ones whose size it is told.

    ``detect(image, profile, sizes)``: sizes maps marker id -> side in metres (or one float for
    every marker); markers of other ids are still returned, without a pose. The profile is
    scaled to the image size here, so any frame size of the calibrated camera works.
    """

    def __init__(self, options: MarkerOptions | None = None):
        self.options = options or MarkerOptions()
        params = cv2.aruco.DetectorParameters()
        params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_NONE  # refine_edges does better
        dictionary = get_dictionary(self.options.dictionary)
        self._cells = int(dictionary.markerSize) + 2  # data bits plus the black border, per side
        self._detector = cv2.aruco.ArucoDetector(dictionary, params)

    def detect(self, image: np.ndarray, profile: CameraProfile,
               sizes: Mapping[int, float] | float | None = None) -> list[MarkerSighting]:
        if image.ndim == 3:
            gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        else:
            gray = image
        h, w = gray.shape[:2]
        cam = profile.scaled_to(w, h)
        corners, ids, _ = self._detector.detectMarkers(gray)
        if ids is None:
            return []
        out = []
        for c, i in zip(corners, ids.reshape(-1)):
            c = c.reshape(4, 2).astype(np.float64)
            if self.options.refine_edges:
                c = refine_corners(gray, c, self._cells)
            size = sizes if isinstance(sizes, (int, float)) else (sizes or {}).get(int(i))
            out.append(_sighting(int(i), c, cam, size))
        out.sort(key=lambda s: (s.id, s.distance_m if s.distance_m is not None else math.inf))
        return out


def refine_corners(gray: np.ndarray, corners: np.ndarray, cells: int) -> np.ndarray:
    """Sharper corners of a dark square on a light surround: along each side, find the edge to
    sub-pixel accuracy at up to 40 points (the centroid of the intensity gradient across it,
    within a window narrower than one cell so the data bits do not pull), fit a line, and
    intersect neighbouring lines. Returns the input unchanged when anything looks wrong (a
    side under 6 px, too few consistent edge points, a corner that would move too far)."""
    c = np.asarray(corners, np.float64).reshape(4, 2)
    pad = 8 + int(np.ptp(c, axis=0).max() / cells)
    x0, y0 = np.maximum(np.floor(c.min(axis=0)).astype(int) - pad, 0)
    x1, y1 = np.minimum(np.ceil(c.max(axis=0)).astype(int) + pad, (gray.shape[1], gray.shape[0]))
    img = gray[y0:y1, x0:x1].astype(np.float32)  # only the marker's surroundings
    origin = np.array([x0, y0], np.float64)
    c = c - origin
    centre = c.mean(axis=0)
    lines = []
    for i in range(4):
        p0, p1 = c[i], c[(i + 1) % 4]
        side = p1 - p0
        length = float(np.hypot(*side))
        if length < 6:
            return c + origin
        normal = np.array([-side[1], side[0]]) / length
        if np.dot((p0 + p1) / 2 - centre, normal) < 0:
            normal = -normal  # outward: dark inside, light outside
        radius = max(1.5, 0.8 * length / cells)
        ts = np.linspace(0.12, 0.88, int(np.clip(length / 1.5, 6, 40)))
        base = p0[None] + ts[:, None] * side[None]
        steps = np.arange(-radius, radius + 1e-9, 0.25)
        mids = (steps[:-1] + steps[1:]) / 2
        offsets = np.zeros(len(ts))
        for _ in range(3):  # re-centre the window on the edge found
            pts = base[:, None, :] + (offsets[:, None, None] + steps[None, :, None]) * normal
            profile = cv2.remap(img, pts[..., 0].astype(np.float32), pts[..., 1].astype(np.float32),
                                cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            grad = np.diff(profile, axis=1)  # dark -> light going outward is positive
            grad = np.maximum(grad - 0.1 * grad.max(axis=1, keepdims=True), 0)
            total = grad.sum(axis=1)
            found = total > 1e-6
            shift = np.where(found, (grad * mids).sum(axis=1) / np.where(found, total, 1.0), 0.0)
            offsets = offsets + shift
            if np.max(np.abs(shift)) < 0.01:
                break
        edge = base + offsets[:, None] * normal
        dev = np.abs(offsets - np.median(offsets))
        keep = dev <= max(0.5, 3 * np.median(dev) + 0.1)
        if keep.sum() < 4:
            return c + origin
        vx, vy, x0, y0 = cv2.fitLine(edge[keep].astype(np.float32), cv2.DIST_L2, 0, 0.01, 0.01).reshape(4)
        lines.append((np.array([x0, y0], np.float64), np.array([vx, vy], np.float64)))
    out = np.empty_like(c)
    unchanged = c + origin
    limit = max(1.5, 0.1 * float(np.hypot(*(c[1] - c[0]))))
    for i in range(4):
        (p, u), (q, v) = lines[(i - 1) % 4], lines[i]
        a = np.array([[u[0], -v[0]], [u[1], -v[1]]])
        if abs(np.linalg.det(a)) < 1e-6:
            return unchanged
        s = np.linalg.solve(a, q - p)
        out[i] = p + s[0] * u
        if np.hypot(*(out[i] - c[i])) > limit:
            return unchanged
    return out + origin


def _sighting(marker_id: int, corners: np.ndarray, cam: CameraProfile, size_m: float | None) -> MarkerSighting:
    if size_m is None or size_m <= 0:
        bearing = float(cam.bearing_elevation(corners.mean(axis=0, keepdims=True))[0][0])
        return MarkerSighting(marker_id, corners, None, bearing, bearing_to_clock(bearing))
    ok, rvec, tvec = cv2.solvePnP(square_points(size_m), corners.reshape(4, 1, 2), cam.camera_matrix,
                                  cam.dist_coeffs, flags=cv2.SOLVEPNP_IPPE_SQUARE)
    tvec = tvec.reshape(3)
    if not ok or not np.all(np.isfinite(tvec)) or tvec[2] <= 0:
        bearing = float(cam.bearing_elevation(corners.mean(axis=0, keepdims=True))[0][0])
        return MarkerSighting(marker_id, corners, None, bearing, bearing_to_clock(bearing))
    bearing = math.degrees(math.atan2(tvec[0], tvec[2]))
    return MarkerSighting(marker_id, corners, float(np.linalg.norm(tvec)), bearing, bearing_to_clock(bearing),
                          rvec.reshape(3), tvec)


def detect_markers(image: np.ndarray, profile: CameraProfile, sizes: Mapping[int, float] | float | None = None,
                   options: MarkerOptions | None = None) -> list[MarkerSighting]:
    """One-off detection (builds a detector each call; keep a MarkerDetector for a video)."""
    return MarkerDetector(options).detect(image, profile, sizes)


def printable_marker(marker_id: int, size_m: float, dpi: int = 300, dictionary: str = DEFAULT_DICTIONARY,
                     caption: str = "") -> np.ndarray:
    """A white page (uint8 gray) with the marker, its black square exactly ``size_m`` wide at
    ``dpi``, a quiet zone around it, and its id and printed size written under it."""
    n = dictionary_size(dictionary)
    if not 0 <= marker_id < n:
        raise ValueError(f"marker id must be 0..{n - 1} for {dictionary}, got {marker_id}")
    if not 0.01 <= size_m <= 2.0:
        raise ValueError(f"marker size must be 0.01..2 metres, got {size_m}")
    side = int(round(size_m / 0.0254 * dpi))
    marker = cv2.aruco.generateImageMarker(get_dictionary(dictionary), marker_id, side, borderBits=1)
    margin = max(side // 6, int(dpi * 0.25))  # quiet zone: at least one cell, and 1/4 inch
    text_h = max(int(dpi * 0.7), side // 5)
    page = np.full((side + 2 * margin + text_h, side + 2 * margin), 255, np.uint8)
    page[margin:margin + side, margin:margin + side] = marker
    lines = [f"id {marker_id}  ({dictionary})" + (f"  {caption}" if caption else ""),
             f"black square {size_m * 1000:.0f} mm - print at 100%, measure it"]
    scale = page.shape[1] / 2200.0 * 1.6
    y = margin + side + int(margin * 0.6)
    for line in lines:
        (tw, th), _ = cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
        while tw > page.shape[1] - 2 * margin // 2 and scale > 0.3:
            scale *= 0.9
            (tw, th), _ = cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
        y += th + int(th * 0.8)
        cv2.putText(page, line, ((page.shape[1] - tw) // 2, y), cv2.FONT_HERSHEY_SIMPLEX, scale, 0,
                    max(1, int(round(scale * 1.5))), cv2.LINE_AA)
    return page
