"""Distance along the floor to a point seen on it (an object's foot), from the camera's height
and pitch.

The pixel's undistorted ray is turned by the camera's pitch (positive = looking down) into a
level frame: x right, y down, z forward. A ray that goes down meets the floor ``height`` metres
below the camera; one at or above the horizon never does (None). The wearer's head roll is
taken as zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .camera import CameraProfile


@dataclass(frozen=True)
class GroundPoint:
    """Where a floor point is, relative to the point on the floor under the camera (metres)."""

    forward_m: float  # along the wearer's heading (level, not along the optical axis)
    right_m: float  # + right
    distance_m: float  # along the floor: hypot(forward, right)
    bearing_deg: float  # + right of straight ahead


def ground_point(profile: CameraProfile, x: float, y: float,
                 image_size: tuple[int, int] | None = None) -> GroundPoint | None:
    """The floor point seen at pixel (x, y); None when its ray points at or above the horizon.

    image_size: the frame's (width, height) when it differs from the profile's.
    ValueError when the profile has no (positive) ``camera_height_m``.
    """
    height = profile.camera_height_m
    if height is None or not height > 0:
        raise ValueError(f"ground distances need the profile's camera_height_m > 0; "
                         f"profile '{profile.name}' has {height}")
    cam = profile.scaled_to(*image_size) if image_size is not None else profile
    rx, ry = (float(v) for v in cam.rays([[x, y]])[0])  # (x/z, y/z), y down
    pitch = math.radians(profile.camera_pitch_deg)
    down = ry * math.cos(pitch) + math.sin(pitch)
    forward = math.cos(pitch) - ry * math.sin(pitch)
    if down <= 1e-9:
        return None
    scale = height / down
    fwd_m, right_m = forward * scale, rx * scale
    return GroundPoint(fwd_m, right_m, math.hypot(fwd_m, right_m), math.degrees(math.atan2(right_m, fwd_m)))


def ground_distance(profile: CameraProfile, x: float, y: float,
                    image_size: tuple[int, int] | None = None) -> float | None:
    """Metres along the floor to the point seen at pixel (x, y); None at or above the horizon."""
    p = ground_point(profile, x, y, image_size)
    return None if p is None else p.distance_m


def foot_distance(profile: CameraProfile, box: tuple[float, float, float, float],
                  image_size: tuple[int, int] | None = None) -> float | None:
    """Metres along the floor to an object standing on it, from its box's bottom centre.

    None when the foot is at or above the horizon. A box cut by the bottom of the image hides
    its real foot, which is nearer than this says: callers should leave those out.
    """
    x1, _, x2, y2 = box
    return ground_distance(profile, (x1 + x2) / 2, y2, image_size)
