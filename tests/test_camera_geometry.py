"""Camera geometry tables: clock faces, pixel -> bearing / elevation, with and without lens distortion."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from glasses.spatial.calibrate import Board, Calibration, save_profile
from glasses.spatial.camera import CameraProfile, bearing_to_clock, load_profile

K = np.array([[612.0, 0, 323.5], [0, 608.0, 236.0], [0, 0, 1]])
D = np.array([-0.25, 0.08, 0.0008, -0.0006, 0.0])


@pytest.mark.parametrize("bearing, clock", [
    (0, 12), (10, 12), (-10, 12), (14.9, 12), (-14.9, 12), (15.1, 1), (30, 1), (44, 1), (46, 2), (60, 2),
    (90, 3), (120, 4), (180, 6), (-180, 6), (270, 9), (-90, 9), (-30, 11), (-15.1, 11), (-60, 10),
    (359, 12), (360, 12), (720 + 90, 3), (-450, 9),
])
def test_bearing_to_clock(bearing, clock):
    assert bearing_to_clock(bearing) == clock


GENERIC = CameraProfile.from_fov(640, 480, 65.0)


@pytest.mark.parametrize("px, bearing, elevation", [
    ((320, 240), 0.0, 0.0),
    ((640, 240), 32.5, 0.0),  # right edge: half the horizontal field of view
    ((0, 240), -32.5, 0.0),
    ((320, 0), 0.0, math.degrees(math.atan(240 / GENERIC.fx))),  # top edge: up is +
    ((320, 480), 0.0, -math.degrees(math.atan(240 / GENERIC.fx))),
    ((640, 0), 32.5, math.degrees(math.atan2(240 / GENERIC.fx, math.hypot(320 / GENERIC.fx, 1)))),
])
def test_from_fov_pixel_to_bearing(px, bearing, elevation):
    b, e = GENERIC.bearing_elevation(np.array([px], float))
    assert b[0] == pytest.approx(bearing, abs=1e-9)
    assert e[0] == pytest.approx(elevation, abs=1e-9)
    assert GENERIC.bearing_deg(*px) == pytest.approx(bearing, abs=1e-9)


def test_hfov_round_trip():
    assert GENERIC.hfov_deg == pytest.approx(65.0)
    assert CameraProfile.from_fov(1920, 1080, 90.0).fx == pytest.approx(960.0)


def _directions(bearings_deg, elevations_deg) -> np.ndarray:
    """Unit-depth rays (x/z, y/z, 1) for bearing (+ right) and elevation (+ up), camera y down."""
    out = []
    for b in bearings_deg:
        for e in elevations_deg:
            x = math.tan(math.radians(b))
            y = -math.tan(math.radians(e)) * math.hypot(x, 1.0)
            out.append((x, y, 1.0, b, e))
    return np.array(out)


def test_distorted_pixel_gives_true_ray():
    """Project known rays through a strongly distorted lens; the profile must undo the distortion."""
    prof = CameraProfile((640, 480), K, D)
    rays = _directions(np.linspace(-25, 25, 11), np.linspace(-18, 18, 9))
    px = cv2.projectPoints(np.ascontiguousarray(rays[:, :3]), np.zeros(3), np.zeros(3), K, D)[0].reshape(-1, 2)
    assert np.abs(px - cv2.projectPoints(np.ascontiguousarray(rays[:, :3]), np.zeros(3), np.zeros(3), K, None)[0].reshape(-1, 2)).max() > 20
    b, e = prof.bearing_elevation(px)
    assert np.abs(b - rays[:, 3]).max() <= 0.1
    assert np.abs(e - rays[:, 4]).max() <= 0.1
    # Ignoring the distortion would be wrong by degrees near the edges: the test has teeth.
    b0, _ = CameraProfile((640, 480), K, np.zeros(5)).bearing_elevation(px)
    assert np.abs(b0 - rays[:, 3]).max() > 1.0


def test_bearing_of_rendered_dots():
    """Bright dots rendered at known bearings through the distorted camera: found within 1 degree."""
    prof = CameraProfile((640, 480), K, D)
    rays = _directions([-24, -12, 0, 9, 21], [-15, 0, 14])
    px = cv2.projectPoints(np.ascontiguousarray(rays[:, :3]), np.zeros(3), np.zeros(3), K, D)[0].reshape(-1, 2)
    for (x, y), truth_b, truth_e in zip(px, rays[:, 3], rays[:, 4]):
        img = np.zeros((480, 640), np.uint8)
        cv2.circle(img, (round(x * 16), round(y * 16)), 3 * 16, 255, -1, cv2.LINE_AA, shift=4)
        m = cv2.moments(img)
        cx, cy = m["m10"] / m["m00"], m["m01"] / m["m00"]
        b, e = prof.bearing_elevation(np.array([[cx, cy]]))
        assert abs(b[0] - truth_b) <= 1.0 and abs(e[0] - truth_e) <= 1.0


def test_scaled_profile_keeps_bearings():
    prof = CameraProfile((640, 480), K, D)
    big = prof.scaled_to(1280, 960)
    pts = np.array([[100.0, 50.0], [600.0, 400.0], [320.0, 240.0]])
    b1, e1 = prof.bearing_elevation(pts)
    b2, e2 = big.bearing_elevation((pts + 0.5) * 2 - 0.5)  # the same scene points at twice the size
    assert np.allclose(b1, b2, atol=0.1) and np.allclose(e1, e2, atol=0.1)


def test_saved_calibration_loads_back(tmp_path):
    cal = Calibration((640, 480), K, D, 0.12, ("a.png",) * 3, (), (), (0.1, 0.1, 0.1), Board(9, 6, 0.025))
    path = save_profile(cal, tmp_path / "cam.yaml")
    prof = load_profile(path)
    assert prof.image_size == (640, 480) and prof.name == "cam"
    assert np.allclose(prof.camera_matrix, K) and np.allclose(prof.dist_coeffs, D)
    assert prof.bearing_deg(640, 236) == pytest.approx(CameraProfile((640, 480), K, D).bearing_deg(640, 236))
