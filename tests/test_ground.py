"""Ground-plane distances: tables of exact geometry (camera height, pitch, pixel -> metres)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from glasses.paths import calibration_dir
from glasses.spatial.camera import CameraProfile, load_profile
from glasses.spatial.ground import foot_distance, ground_distance, ground_point

F, CX, CY = 500.0, 320.0, 240.0
K = np.array([[F, 0, CX], [0, F, CY], [0, 0, 1]])


def _profile(height=1.6, pitch=0.0, dist=(0, 0, 0, 0, 0)) -> CameraProfile:
    return CameraProfile((640, 480), K, np.array(dist, float), camera_height_m=height, camera_pitch_deg=pitch)


def _pixel(height: float, pitch_deg: float, forward: float, right: float, dist=None) -> tuple[float, float]:
    """Project the floor point (right, forward) through a camera at height, pitched down."""
    p = math.radians(pitch_deg)
    xc = right
    yc = height * math.cos(p) - forward * math.sin(p)
    zc = height * math.sin(p) + forward * math.cos(p)
    if dist is None:
        return CX + F * xc / zc, CY + F * yc / zc
    img, _ = cv2.projectPoints(np.array([[xc, yc, zc]]), np.zeros(3), np.zeros(3), K, np.array(dist, float))
    return tuple(img.reshape(2))


# height, pitch (deg, + down), pixel x, pixel y -> distance along the floor (m)
TABLE = [
    (1.6, 0.0, 320, 440, 4.0),  # 200 px below centre = tan 0.4: 1.6 / 0.4
    (1.6, 0.0, 320, 640, 2.0),  # 400 px below (off a 480 image, the geometry holds)
    (1.6, 0.0, 320, 340, 8.0),
    (1.6, 0.0, 570, 440, math.hypot(4.0, 2.0)),  # 250 px right at 4 m forward = 2 m right
    (1.0, 45.0, 320, 240, 1.0),  # the optical axis at 45 deg down meets the floor 1 m ahead
    (1.5, 30.0, 320, 240, 1.5 / math.tan(math.radians(30))),
    (1.5, 30.0, 320, 240 + F * math.tan(math.radians(60)), 0.0),  # straight down at the feet
    (1.2, -10.0, 320, 240 + F * math.tan(math.radians(40)), 1.2 / math.tan(math.radians(30))),  # looking up 10
]


@pytest.mark.parametrize("height,pitch,x,y,expected", TABLE)
def test_distance_table(height, pitch, x, y, expected):
    assert ground_distance(_profile(height, pitch), x, y) == pytest.approx(expected, abs=1e-9)


# height, pitch, pixel y -> None: at or above the horizon
HORIZON = [
    (1.6, 0.0, 240.0),  # level camera: the centre row is the horizon
    (1.6, 0.0, 100.0),
    (1.6, 20.0, CY - F * math.tan(math.radians(20))),  # pitched down 20: the horizon is 20 deg up
    (1.6, 20.0, 0.0 - 500),
    (1.6, -10.0, 240.0),  # looking up: the centre is above the horizon
]


@pytest.mark.parametrize("height,pitch,y", HORIZON)
def test_at_or_above_the_horizon_is_none(height, pitch, y):
    assert ground_distance(_profile(height, pitch), 320, y) is None
    assert ground_point(_profile(height, pitch), 100, y) is None


@pytest.mark.parametrize("height,pitch,forward,right", [
    (1.6, 0.0, 3.0, 0.0), (1.6, 0.0, 5.0, -1.5), (1.5, 15.0, 2.0, 1.0), (1.7, 30.0, 1.2, -0.4),
    (1.4, 8.0, 12.0, 3.0), (1.6, -5.0, 20.0, 2.0),
])
def test_round_trip_through_the_floor(height, pitch, forward, right):
    x, y = _pixel(height, pitch, forward, right)
    p = ground_point(_profile(height, pitch), x, y)
    assert p.forward_m == pytest.approx(forward, rel=1e-9)
    assert p.right_m == pytest.approx(right, abs=1e-9)
    assert p.distance_m == pytest.approx(math.hypot(forward, right), rel=1e-9)
    assert p.bearing_deg == pytest.approx(math.degrees(math.atan2(right, forward)), abs=1e-9)


@pytest.mark.parametrize("forward,right", [(2.0, 0.0), (4.0, 1.5), (1.5, -0.8)])
def test_lens_distortion_is_undone(forward, right):
    dist = (-0.28, 0.09, 0.001, -0.0005, 0.0)
    x, y = _pixel(1.6, 20.0, forward, right, dist)
    assert ground_distance(_profile(1.6, 20.0, dist), x, y) == pytest.approx(math.hypot(forward, right), rel=1e-4)
    # read through a pinhole model, the distorted pixel gives a wrong distance
    assert ground_distance(_profile(1.6, 20.0), x, y) != pytest.approx(math.hypot(forward, right), rel=1e-3)


def test_frame_of_another_size_and_foot_of_a_box():
    prof = _profile(1.6, 0.0)
    # a person standing 4 m ahead, seen in a 1280x960 frame of the same camera
    box = (600.0, 300.0, 680.0, 880.0)  # bottom centre (640, 880) = (320, 440) at 640x480
    assert foot_distance(prof, box, (1280, 960)) == pytest.approx(4.0)
    assert foot_distance(prof, (300, 100, 340, 200)) is None  # its foot is above the horizon


def test_needs_a_camera_height():
    with pytest.raises(ValueError, match="camera_height_m"):
        ground_distance(_profile(None), 320, 400)
    with pytest.raises(ValueError, match="camera_height_m"):
        ground_distance(_profile(0.0), 320, 400)


def test_default_profile_has_height():
    prof = load_profile(calibration_dir() / "default.yaml")
    assert prof.camera_height_m == pytest.approx(1.6)
    d = ground_distance(prof, 320, 240 + prof.fy * 0.4)
    assert d == pytest.approx(4.0)
