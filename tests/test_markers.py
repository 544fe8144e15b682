"""ArUco markers: distance and bearing from the pose, on renders with ground truth."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from glasses.spatial.camera import CameraProfile
from glasses.spatial.markers import (MarkerDetector, MarkerOptions, MarkerSighting, dictionary_size,
                                     get_dictionary, printable_marker)
from marker_scene import Camera, generic_k, marker_plane, render

W, H = 640, 480
K = generic_k(W, H, 65.0)
PROFILE = CameraProfile((W, H), K, np.zeros(5))
SIZE = 0.15


def _pose(rng: np.random.Generator, d: float) -> tuple[np.ndarray, tuple[float, float, float]]:
    """A marker centre at distance d within +-22 deg of bearing and +-10 of elevation, turned
    up to 35 deg away from facing the camera."""
    b, e = math.radians(rng.uniform(-22, 22)), math.radians(rng.uniform(-10, 10))
    centre = d * np.array([math.sin(b) * math.cos(e), -math.sin(e), math.cos(b) * math.cos(e)])
    yaw = math.radians(rng.uniform(-35, 35))
    return centre, (math.sin(yaw), 0.0, -math.cos(yaw))


def _cells_px(d: float) -> int:
    """Source pixels per marker cell: about the rendered size, so the warp neither aliases nor wastes."""
    return max(4, int(math.ceil(K[0, 0] * 3 * SIZE / d / 6)))


@pytest.mark.parametrize("d", [0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0])
def test_distance_within_3_percent_and_bearing_within_1_degree(d):
    rng = np.random.default_rng(int(d * 100))
    det = MarkerDetector()
    cam = Camera(K, (W, H))
    for i in range(6):
        centre, normal = _pose(rng, d)
        img = render(cam, [marker_plane(7, SIZE, centre, normal, k=_cells_px(d))], seed=i)
        (s,) = det.detect(img, PROFILE, {7: SIZE})
        assert s.id == 7
        assert abs(s.distance_m - d) / d <= 0.03, (d, i, s.distance_m)
        assert abs(s.bearing_deg - cam.bearing_deg(centre)) <= 1.0
        assert s.clock in (11, 12, 1)


@pytest.mark.parametrize("d", [2.0, 3.5])
def test_heavier_blur_and_noise(d):
    rng = np.random.default_rng(5)
    det = MarkerDetector()
    cam = Camera(K, (W, H))
    for i in range(4):
        centre, normal = _pose(rng, d)
        img = render(cam, [marker_plane(2, SIZE, centre, normal, k=_cells_px(d))], seed=i, blur_sigma=0.9,
                     noise=5.0)
        (s,) = det.detect(img, PROFILE, {2: SIZE})
        assert abs(s.distance_m - d) / d <= 0.03
        assert abs(s.bearing_deg - cam.bearing_deg(centre)) <= 1.0


def test_edge_refinement_beats_no_refinement_far_away():
    """Without the edge fit the far distances are biased (corners sit inside the square)."""
    rng = np.random.default_rng(11)
    cam = Camera(K, (W, H))
    errs = {True: [], False: []}
    for i in range(6):
        centre, normal = _pose(rng, 4.0)
        img = render(cam, [marker_plane(1, SIZE, centre, normal, k=_cells_px(4.0))], seed=i)
        for refine in (True, False):
            (s,) = MarkerDetector(MarkerOptions(refine_edges=refine)).detect(img, PROFILE, SIZE)
            errs[refine].append(abs(s.distance_m - 4.0) / 4.0)
    assert max(errs[True]) < 0.01
    assert np.mean(errs[True]) < np.mean(errs[False])


def test_directions_to_the_side_give_the_clock():
    cam = Camera(K, (W, H))
    planes = [marker_plane(1, 0.2, (-1.0, 0.0, 2.0), k=20), marker_plane(2, 0.2, (0.9, 0.0, 1.8), k=20),
              marker_plane(3, 0.2, (0.1, 0.0, 3.0), k=20)]
    sight = {s.id: s for s in MarkerDetector().detect(render(cam, planes), PROFILE, 0.2)}
    assert [sight[i].clock for i in (1, 2, 3)] == [11, 1, 12]  # -26.6, +26.6 and +1.9 deg
    assert sight[1].bearing_deg == pytest.approx(math.degrees(math.atan2(-1.0, 2.0)), abs=0.5)
    assert sight[2].distance_m == pytest.approx(math.hypot(0.9, 1.8), rel=0.03)


def test_profile_scaled_to_the_frame_size():
    """A 1280x960 frame of the camera calibrated at 640x480."""
    k2 = K.copy()
    k2[:2] *= 2
    cam = Camera(k2, (2 * W, 2 * H))
    centre = (0.4, 0.1, 3.0)
    (s,) = MarkerDetector().detect(render(cam, [marker_plane(4, SIZE, centre, k=30)]), PROFILE, {4: SIZE})
    assert s.distance_m == pytest.approx(float(np.linalg.norm(centre)), rel=0.01)
    assert s.bearing_deg == pytest.approx(cam.bearing_deg(centre), abs=0.3)


def test_unknown_size_gives_direction_but_no_distance():
    cam = Camera(K, (W, H))
    img = render(cam, [marker_plane(9, SIZE, (0.5, 0.0, 1.5), k=20)])
    (s,) = MarkerDetector().detect(img, PROFILE, {1: SIZE})
    assert s.id == 9 and s.distance_m is None and s.rvec is None
    assert s.bearing_deg == pytest.approx(cam.bearing_deg((0.5, 0.0, 1.5)), abs=0.5)


def test_nothing_in_an_empty_frame():
    assert MarkerDetector().detect(render(Camera(K, (W, H)), []), PROFILE, SIZE) == []


def test_other_dictionary():
    cam = Camera(K, (W, H))
    img = render(cam, [marker_plane(30, SIZE, (0.0, 0.0, 1.0), k=20, dictionary=cv2.aruco.DICT_5X5_100)])
    (s,) = MarkerDetector(MarkerOptions("DICT_5X5_100")).detect(img, PROFILE, SIZE)
    assert s.id == 30 and s.distance_m == pytest.approx(1.0, rel=0.02)
    assert MarkerDetector().detect(img, PROFILE, SIZE) == []  # a 4x4 detector does not see it


@pytest.mark.parametrize("name", ["DICT_4X4_51", "4X4_50", "", "DICT_ARUCO_ORIGINALX"])
def test_bad_dictionary_names_say_what_is_allowed(name):
    with pytest.raises(ValueError, match="DICT_4X4_50"):
        get_dictionary(name)
    with pytest.raises(ValueError):
        MarkerOptions(name)


def test_dictionary_size():
    assert dictionary_size("DICT_4X4_50") == 50
    assert dictionary_size("DICT_6X6_250") == 250


def test_sighting_validation():
    with pytest.raises(ValueError, match="corners"):
        MarkerSighting(1, np.zeros((3, 2)), 1.0, 0.0, 12)
    with pytest.raises(ValueError, match="clock"):
        MarkerSighting(1, np.zeros((4, 2)), 1.0, 0.0, 13)
    with pytest.raises(ValueError, match="distance"):
        MarkerSighting(1, np.zeros((4, 2)), -1.0, 0.0, 12)
    s = MarkerSighting(1, [[0, 0], [2, 0], [2, 2], [0, 2]], 1.23456, 3.0, 12)
    assert s.center == (1.0, 1.0)
    assert s.to_json()["distance_m"] == 1.235


def test_printable_marker_has_the_printed_size_and_is_detected():
    page = printable_marker(3, 0.15, dpi=300, caption="Lift")
    side = round(0.15 / 0.0254 * 300)  # 1772 px
    dark_cols = np.where((page < 128).sum(axis=0) > side // 2)[0]
    assert dark_cols[-1] - dark_cols[0] + 1 == side
    assert page.shape[0] > page.shape[1]  # room for the caption under the marker
    small = cv2.resize(page, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    corners, ids, _ = cv2.aruco.ArucoDetector(get_dictionary("DICT_4X4_50")).detectMarkers(small)
    assert ids is not None and ids.ravel().tolist() == [3]
    with pytest.raises(ValueError, match="0..49"):
        printable_marker(50, 0.15)
    with pytest.raises(ValueError, match="size"):
        printable_marker(1, 0.0)


@pytest.mark.parametrize("centre", [(0.0, 0.0, 2.0), (0.9, 0.3, 2.5), (-1.4, -0.2, 3.0), (0.5, 0.0, 4.5)])
def test_lens_distortion_is_undone(centre):
    """Barrel distortion through a calibrated profile: the pose still gives distance and bearing."""
    dist = np.array([-0.22, 0.06, 0.0005, -0.0004, 0.0])
    prof = CameraProfile((W, H), K, dist)
    cam = Camera(K, (W, H))
    img = render(cam, [marker_plane(5, SIZE, centre, k=20)], dist=dist, seed=3)
    (s,) = MarkerDetector().detect(img, prof, {5: SIZE})
    d = float(np.linalg.norm(centre))
    assert abs(s.distance_m - d) / d <= 0.03
    assert abs(s.bearing_deg - cam.bearing_deg(centre)) <= 1.0
    (pinhole,) = MarkerDetector().detect(img, PROFILE, {5: SIZE})  # ignoring the lens: off at the side
    if abs(centre[0]) > 1:
        assert abs(pinhole.bearing_deg - cam.bearing_deg(centre)) > 1.0
