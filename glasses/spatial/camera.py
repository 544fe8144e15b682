"""Camera model from a calibration profile: pixel -> bearing, elevation, clock face.

Profiles are OpenCV FileStorage YAML files (``calibration/*.yaml``) with at least
``image_width``, ``image_height``, ``camera_matrix`` (3x3) and ``distortion_coefficients``.
Optional: ``camera_height_m`` and ``camera_pitch_deg`` (for ground-plane distances),
``hfov_deg`` (informational, for generic profiles).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError


class Intrinsics:
    """fx, fy, cx, cy read off a 3x3 ``camera_matrix`` (for the dataclasses that hold one)."""

    camera_matrix: np.ndarray

    @property
    def fx(self) -> float:
        return float(self.camera_matrix[0, 0])

    @property
    def fy(self) -> float:
        return float(self.camera_matrix[1, 1])

    @property
    def cx(self) -> float:
        return float(self.camera_matrix[0, 2])

    @property
    def cy(self) -> float:
        return float(self.camera_matrix[1, 2])


@dataclass(frozen=True)
class CameraProfile(Intrinsics):
    image_size: tuple[int, int]  # (width, height) the intrinsics were measured at
    camera_matrix: np.ndarray = field(repr=False)
    dist_coeffs: np.ndarray = field(repr=False)
    name: str = "camera"
    camera_height_m: float | None = None
    camera_pitch_deg: float = 0.0

    def __post_init__(self) -> None:
        k = np.asarray(self.camera_matrix, np.float64)
        if k.shape != (3, 3):
            raise ValueError(f"camera_matrix must be 3x3, got {k.shape}")
        if k[0, 0] <= 0 or k[1, 1] <= 0:
            raise ValueError(f"focal lengths must be positive, got fx={k[0, 0]}, fy={k[1, 1]}")
        w, h = self.image_size
        if w <= 0 or h <= 0:
            raise ValueError(f"image_size must be positive, got {self.image_size}")
        object.__setattr__(self, "camera_matrix", k)
        object.__setattr__(self, "dist_coeffs", np.asarray(self.dist_coeffs, np.float64).reshape(-1))

    @classmethod
    def from_fov(cls, width: int, height: int, hfov_deg: float, name: str = "generic") -> "CameraProfile":
        """A pinhole camera with square pixels and no distortion, from its horizontal field of view."""
        if not 1.0 < hfov_deg < 179.0:
            raise ValueError(f"hfov_deg must be in (1, 179), got {hfov_deg}")
        fx = (width / 2) / math.tan(math.radians(hfov_deg) / 2)
        k = np.array([[fx, 0, width / 2], [0, fx, height / 2], [0, 0, 1]], np.float64)
        return cls((width, height), k, np.zeros(5), name=name)

    @property
    def hfov_deg(self) -> float:
        return math.degrees(2 * math.atan((self.image_size[0] / 2) / self.fx))

    def scaled_to(self, width: int, height: int) -> "CameraProfile":
        """The same camera at another resolution.

        Intrinsics scale with the width; an image of another aspect ratio is taken to be a
        centred crop (or pad) of the calibrated one, so the principal point shifts by half
        the difference.
        """
        w0, h0 = self.image_size
        if (width, height) == (w0, h0):
            return self
        s = width / w0
        k = self.camera_matrix.copy()
        k[:2, :] *= s
        k[1, 2] += (height - h0 * s) / 2
        k[2, :] = (0, 0, 1)
        return replace(self, image_size=(width, height), camera_matrix=k)

    def rays(self, points: np.ndarray) -> np.ndarray:
        """Pixels (N, 2) -> undistorted normalised image coordinates (N, 2): x/z, y/z."""
        pts = np.asarray(points, np.float64).reshape(-1, 1, 2)
        if not np.any(self.dist_coeffs):
            k = self.camera_matrix
            out = (pts.reshape(-1, 2) - k[:2, 2]) / np.array([k[0, 0], k[1, 1]])
            return out
        return cv2.undistortPoints(pts, self.camera_matrix, self.dist_coeffs).reshape(-1, 2)

    def bearing_elevation(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixels -> (bearing, elevation) in degrees. Bearing: + right; elevation: + up."""
        xy = self.rays(points)
        bearing = np.degrees(np.arctan2(xy[:, 0], 1.0))
        elevation = np.degrees(np.arctan2(-xy[:, 1], np.hypot(xy[:, 0], 1.0)))
        return bearing, elevation

    def bearing_deg(self, x: float, y: float) -> float:
        return float(self.bearing_elevation(np.array([[x, y]]))[0][0])


def bearing_to_clock(bearing_deg: float) -> int:
    """Clock-face direction: 12 straight ahead, 3 right, 9 left, 6 behind (30 degrees an hour)."""
    hour = math.floor((bearing_deg % 360.0) / 30.0 + 0.5) % 12  # halves round up (clockwise), always
    return 12 if hour == 0 else hour


def load_profile(path: Path) -> CameraProfile:
    """Read a FileStorage YAML profile; a one-line InputError on anything missing or malformed."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"camera profile {path} does not exist")
    try:
        fs = cv2.FileStorage(str(path), cv2.FILE_STORAGE_READ)
    except cv2.error as e:
        raise InputError(f"camera profile {path} is not OpenCV FileStorage YAML/XML") from e
    try:
        if not fs.isOpened():
            raise InputError(f"camera profile {path} cannot be opened as OpenCV FileStorage")

        def real(key: str, required: bool = True):
            node = fs.getNode(key)
            if node.empty():
                if required:
                    raise InputError(f"camera profile {path} lacks '{key}'")
                return None
            return node.real()

        width, height = real("image_width"), real("image_height")
        k = fs.getNode("camera_matrix").mat()
        d = fs.getNode("distortion_coefficients").mat()
        if k is None or k.shape != (3, 3):
            raise InputError(f"camera profile {path}: camera_matrix must be a 3x3 matrix")
        if d is None:
            d = np.zeros(5)
        name_node = fs.getNode("name")
        name = name_node.string() if not name_node.empty() else path.stem
        try:
            return CameraProfile(
                (int(width), int(height)), k, d, name=name or path.stem,
                camera_height_m=real("camera_height_m", False),
                camera_pitch_deg=real("camera_pitch_deg", False) or 0.0,
            )
        except ValueError as e:
            raise InputError(f"camera profile {path}: {e}") from e
    finally:
        fs.release()
