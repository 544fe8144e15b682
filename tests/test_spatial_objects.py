"""Detections placed in the wearer's frame: clock face, bearing sign, distance from typical size."""

import pytest

from glasses.perception.types import Detection, Detections
from glasses.spatial.camera import CameraProfile
from glasses.spatial.distance import TYPICAL_HEIGHT_M, distance_from_height
from glasses.spatial.objects import place

CAM = CameraProfile.from_fov(640, 480, 65.0)


def dets(*items, size=(640, 480)):
    return Detections(items=tuple(items), image_size=size, elapsed_ms=1.0, precision="int8")


def person(box):
    return Detection("person", 0, 0.9, box)


@pytest.mark.parametrize("label, px, fy, metres", [
    ("person", 170, 500, 5.0),
    ("person", 85, 500, 10.0),
    ("car", 150, 500, 5.0),
    ("book", 100, 500, None),   # no typical size
    ("person", 1, 500, None),   # too small to measure
])
def test_distance_table(label, px, fy, metres):
    got = distance_from_height(label, px, fy)
    assert got == (None if metres is None else pytest.approx(metres))


def test_typical_heights_are_plausible():
    assert all(0.2 < h < 5 for h in TYPICAL_HEIGHT_M.values())


@pytest.mark.parametrize("cx, clock", [(320, 12), (20, 11), (620, 1), (200, 12), (140, 11)])
def test_clock_from_box_centre(cx, clock):
    (p,) = place(dets(person((cx - 10, 100, cx + 10, 300))), CAM)
    assert p.clock == clock


def test_bearing_sign_and_distance():
    left, right = place(dets(person((0, 100, 40, 270)), person((600, 100, 640, 270))), CAM)
    assert left.bearing_deg < 0 < right.bearing_deg
    assert left.bearing_deg == pytest.approx(-right.bearing_deg)
    assert left.distance_m == pytest.approx(CAM.fy * 1.7 / 170)


def test_box_cut_by_the_frame_has_no_distance():
    cut_top, cut_bottom, whole = place(dets(person((100, 0, 140, 200)), person((200, 300, 240, 480)),
                                            person((300, 100, 340, 300))), CAM)
    assert cut_top.distance_m is None and cut_bottom.distance_m is None
    assert whole.distance_m == pytest.approx(CAM.fy * 1.7 / 200)


def test_other_resolution_uses_scaled_intrinsics():
    # the same scene at 1280x960: same bearing, same distance
    (a,) = place(dets(person((500, 100, 540, 270))), CAM)
    (b,) = place(dets(person((1000, 200, 1080, 540)), size=(1280, 960)), CAM)
    assert a.bearing_deg == pytest.approx(b.bearing_deg, abs=1e-6)
    assert a.distance_m == pytest.approx(b.distance_m)


def test_json_of_placed_object():
    (p,) = place(dets(person((300, 100, 340, 300))), CAM)
    assert p.to_json() == {"label": "person", "score": 0.9, "box": [300.0, 100.0, 340.0, 300.0],
                           "bearing_deg": 0.0, "clock": 12, "distance_m": round(CAM.fy * 1.7 / 200, 2)}


def test_cut_at_the_top_but_foot_in_view_uses_the_ground_plane():
    from dataclasses import replace

    cam = replace(CAM, camera_height_m=1.6, camera_pitch_deg=0.0)
    head_cut, foot_cut, book = place(dets(person((300, 0, 340, 400)), person((100, 100, 140, 480)),
                                          Detection("book", 73, 0.9, (400, 0, 420, 400))), cam)
    # foot at y=400: 160 px below the horizon at fy=502.3 -> 1.6 m / tan(atan(160/502.3)) = 5.02 m
    assert head_cut.distance_m == pytest.approx(1.6 * cam.fy / 160, rel=1e-3)
    assert foot_cut.distance_m is None  # the real foot is out of view
    assert book.distance_m is None  # not something that stands on the floor
