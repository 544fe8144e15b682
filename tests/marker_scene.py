"""Synthetic renders of ArUco markers and QR codes placed in 3D, seen through a known camera.

World frame: x right, y down, z forward (a camera with yaw 0 is aligned with it). A marker is
a flat square at ``centre`` facing ``normal`` (pointing from the marker toward whoever reads
it), upright. Images are rendered supersampled and box-filtered (anti-aliased edges), then
blurred a little and given sensor noise, from a seeded generator: deterministic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

SS = 3  # supersampling per axis


@dataclass(frozen=True)
class Plane:
    """A flat printed square (marker or QR code) in the world. ``image``: the printed square
    (gray uint8), whose full width is ``size_m`` when ``pad_cells`` is 0; for a marker the
    image also carries a white quiet zone of ``quiet`` pixels on each side."""

    image: np.ndarray
    size_m: float  # side of the black square (marker) or of the whole image (QR)
    centre: tuple[float, float, float]
    normal: tuple[float, float, float] = (0.0, 0.0, -1.0)
    quiet: int = 0  # quiet-zone pixels on each side of the square in ``image``

    def axes(self) -> tuple[np.ndarray, np.ndarray]:
        """(right, down) unit vectors of the printed square, as seen by someone facing it."""
        n = np.asarray(self.normal, float)
        n /= np.linalg.norm(n)
        forward = -n
        down = np.array([0.0, 1.0, 0.0])
        down = down - forward * forward.dot(down)
        down /= np.linalg.norm(down)
        right = np.cross(down, forward)
        return right, down

    def corners_world(self) -> np.ndarray:
        """The square's corners TL, TR, BR, BL in the world (metres)."""
        r, d = self.axes()
        c, s = np.asarray(self.centre, float), self.size_m / 2
        return np.array([c - s * r - s * d, c + s * r - s * d, c + s * r + s * d, c - s * r + s * d])


def marker_plane(marker_id: int, size_m: float, centre, normal=(0.0, 0.0, -1.0), k: int = 40,
                 dictionary: int = cv2.aruco.DICT_4X4_50) -> Plane:
    cells = cv2.aruco.getPredefinedDictionary(dictionary).markerSize + 2
    side = cells * k
    img = cv2.aruco.generateImageMarker(cv2.aruco.getPredefinedDictionary(dictionary), marker_id, side)
    quiet = 2 * k
    img = cv2.copyMakeBorder(img, quiet, quiet, quiet, quiet, cv2.BORDER_CONSTANT, value=255)
    return Plane(img, size_m, tuple(centre), tuple(normal), quiet)


def qr_plane(text: str, size_m: float, centre, normal=(0.0, 0.0, -1.0), k: int = 12) -> Plane:
    code = cv2.QRCodeEncoder.create().encode(text)  # includes a quiet zone
    img = cv2.resize(code, None, fx=k, fy=k, interpolation=cv2.INTER_NEAREST)
    return Plane(img, size_m, tuple(centre), tuple(normal), 0)


@dataclass(frozen=True)
class Camera:
    k: np.ndarray  # 3x3 intrinsics
    size: tuple[int, int]  # (width, height)
    position: tuple[float, float, float] = (0.0, 0.0, 0.0)
    yaw_deg: float = 0.0  # + turned right

    def rotation(self) -> np.ndarray:
        """World -> camera."""
        a = math.radians(self.yaw_deg)
        r_wc = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
        return r_wc.T

    def to_camera(self, p_world) -> np.ndarray:
        return self.rotation() @ (np.asarray(p_world, float) - np.asarray(self.position, float))

    def bearing_deg(self, p_world) -> float:
        p = self.to_camera(p_world)
        return math.degrees(math.atan2(p[0], p[2]))

    def distance_m(self, p_world) -> float:
        return float(np.linalg.norm(self.to_camera(p_world)))


def _homography(plane: Plane, cam: Camera, k_ss: np.ndarray) -> np.ndarray | None:
    h_img, w_img = plane.image.shape[:2]
    side_px = w_img - 2 * plane.quiet
    scale = plane.size_m / side_px
    r, d = plane.axes()
    a, b = scale * r, scale * d
    u0 = v0 = (w_img - 1) / 2  # the square's centre in pixel-centre coordinates
    origin = np.asarray(plane.centre, float) - u0 * a - v0 * b
    rot = cam.rotation()
    m = rot @ np.column_stack([a, b, origin - np.asarray(cam.position, float)])
    corners = np.array([[0, 0, 1], [w_img - 1, 0, 1], [w_img - 1, h_img - 1, 1], [0, h_img - 1, 1]], float).T
    depth = (m @ corners)[2]
    if np.any(depth < 0.05):
        return None
    return k_ss @ m


def render(cam: Camera, planes: list[Plane], seed: int = 0, blur_sigma: float = 0.5, noise: float = 2.0,
           background: int = 150, dist: np.ndarray | None = None) -> np.ndarray:
    """BGR uint8 frame of the planes (farthest painted first) on a gently shaded wall; with
    ``dist`` (OpenCV k1 k2 p1 p2 k3) the lens distortion is applied to the whole image."""
    if dist is not None:
        return _distorted(cam, planes, seed, blur_sigma, noise, background, np.asarray(dist, float))
    w, h = cam.size
    k_ss = cam.k.astype(float).copy()
    k_ss[:2, :2] *= SS
    k_ss[0, 2] = (k_ss[0, 2] + 0.5) * SS - 0.5
    k_ss[1, 2] = (k_ss[1, 2] + 0.5) * SS - 0.5
    xs = np.sin(np.arange(w * SS) / (w * SS) * 3.0)
    ys = np.cos(np.arange(h * SS) / (h * SS) * 2.0)
    canvas = (background + 25 * np.outer(ys, xs)).astype(np.uint8)
    order = sorted(planes, key=lambda p: -cam.distance_m(p.centre))
    for p in order:
        hm = _homography(p, cam, k_ss)
        if hm is None:
            continue
        ph, pw = p.image.shape[:2]
        src = np.array([[0, 0], [pw - 1, 0], [pw - 1, ph - 1], [0, ph - 1]], np.float64).reshape(-1, 1, 2)
        dst = cv2.perspectiveTransform(src, hm).reshape(-1, 2)
        x0, y0 = np.maximum(np.floor(dst.min(axis=0)).astype(int) - 2, 0)
        x1, y1 = np.minimum(np.ceil(dst.max(axis=0)).astype(int) + 3, (w * SS, h * SS))
        if x1 <= x0 or y1 <= y0:
            continue
        shift = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64)
        roi = canvas[y0:y1, x0:x1].copy()
        cv2.warpPerspective(p.image, shift @ hm, (x1 - x0, y1 - y0), dst=roi, flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_TRANSPARENT)
        canvas[y0:y1, x0:x1] = roi
    img = cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    if blur_sigma > 0:
        img = cv2.GaussianBlur(img, (0, 0), blur_sigma)
    rng = np.random.default_rng(seed)
    img += rng.normal(0, noise, img.shape).astype(np.float32)
    gray = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)


def _distorted(cam: Camera, planes: list[Plane], seed: int, blur_sigma: float, noise: float, background: int,
               dist: np.ndarray) -> np.ndarray:
    """Render a pinhole image twice the size (so barrel distortion's wider view is covered), then
    sample it where each distorted pixel's undistorted ray lands."""
    w, h = cam.size
    k_big = cam.k.astype(float).copy()
    k_big[0, 2] += w / 2
    k_big[1, 2] += h / 2
    big = Camera(k_big, (2 * w, 2 * h), cam.position, cam.yaw_deg)
    ideal = render(big, planes, seed, 0.0, 0.0, background)[..., 0]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    pts = np.stack([gx.ravel(), gy.ravel()], 1).reshape(-1, 1, 2)
    crit = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 40, 1e-10)
    und = cv2.undistortPointsIter(pts, cam.k, dist, None, k_big, crit).reshape(h, w, 2).astype(np.float32)
    img = cv2.remap(ideal, und[..., 0], und[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                    borderValue=background).astype(np.float32)
    if blur_sigma > 0:
        img = cv2.GaussianBlur(img, (0, 0), blur_sigma)
    img += np.random.default_rng(seed).normal(0, noise, img.shape).astype(np.float32)
    gray = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)


def generic_k(width: int = 640, height: int = 480, hfov_deg: float = 65.0) -> np.ndarray:
    fx = (width / 2) / math.tan(math.radians(hfov_deg) / 2)
    return np.array([[fx, 0, width / 2], [0, fx, height / 2], [0, 0, 1]], float)
