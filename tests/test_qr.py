"""QR codes: decoded from rendered codes seen in perspective, read aloud only on request."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glasses.camera.types import Frame
from glasses.spatial.qr import QRCode, QRStage, detect_qr, qr_stage, say_codes
from glasses.stages import StageOutput
from marker_scene import Camera, generic_k, qr_plane, render

W, H = 640, 480
CAM = Camera(generic_k(W, H, 65.0), (W, H))


def _frame(planes, index=0, seed=0) -> Frame:
    return Frame(index, 0.0, 0.0, render(CAM, planes, seed=seed))


@pytest.mark.parametrize("text,centre,yaw_deg", [
    ("Room 204: Accessibility office", (0.0, 0.0, 0.6), 0.0),
    ("https://example.org/lift-b", (0.15, 0.05, 0.7), 25.0),
    ("Exit\nthis way", (-0.1, 0.0, 0.5), -20.0),
])
def test_decodes_a_rendered_code(text, centre, yaw_deg):
    yaw = math.radians(yaw_deg)
    plane = qr_plane(text, 0.12, centre, (math.sin(yaw), 0.0, -math.cos(yaw)))
    (code,) = detect_qr(render(CAM, [plane], blur_sigma=0.6, noise=2.0).copy())
    assert code.text == " ".join(text.split())  # whitespace runs read as one space
    cx = np.mean([x for x, _ in code.quad])
    assert abs(cx - (320 + CAM.k[0, 0] * centre[0] / centre[2])) < 20


def test_two_codes_left_to_right():
    planes = [qr_plane("right one", 0.1, (0.18, 0.0, 0.8)), qr_plane("left one", 0.1, (-0.18, 0.0, 0.8))]
    assert [c.text for c in detect_qr(render(CAM, planes))] == ["left one", "right one"]


def test_nothing_in_an_empty_frame():
    assert detect_qr(render(CAM, [])) == []


def test_stage_reads_only_on_request():
    stage = qr_stage()
    out = stage(_frame([qr_plane("Platform 2", 0.12, (0.0, 0.0, 0.6))]), 10.0)
    assert isinstance(out, StageOutput) and out.utterances == ()
    assert out.quads[0].text == "QR Platform 2"
    assert out.events == ({"type": "qr", "event": "seen", "text": "Platform 2", "world_t": 10.0},)
    assert stage(_frame([qr_plane("Platform 2", 0.12, (0.0, 0.0, 0.6))], 1), 10.1).events == ()  # logged once
    (u,) = stage.command("read", "", 10.5)
    assert u.text == "QR code: Platform 2" and u.priority == 2
    assert stage.command("route", "", 10.5) == []
    assert stage.command("read", "", 20.0) == []  # too long ago: someone else answers


def test_stage_with_nothing_in_view_leaves_read_to_others():
    stage = QRStage(lang="ko")
    stage(_frame([]), 0.0)
    assert stage.command("read", "", 0.1) == []
    stage(_frame([qr_plane("출구", 0.12, (0.0, 0.0, 0.6))]), 1.0)
    assert stage.command("read", "", 1.2)[0].text == "QR 코드: 출구"


def test_wording_and_validation():
    a = QRCode("a" * 300, ((0, 0), (1, 0), (1, 1), (0, 1)))
    b = QRCode("b", ((0, 0), (1, 0), (1, 1), (0, 1)))
    assert say_codes([a], "en", 20) == "QR code: " + "a" * 20 + "..."
    assert say_codes([b, b], "en") == "QR codes: b; b"
    with pytest.raises(ValueError, match="quad"):
        QRCode("x", ((0, 0), (1, 1)))
    with pytest.raises(ValueError, match="language"):
        QRStage(lang="fr")


def test_three_pixels_per_module_turned_35_degrees():
    """A version-2 code (33 modules with its quiet zone) 0.12 m wide at 0.6 m: 3 px a module."""
    text = "https://example.org/lift-b"
    for seed in range(4):
        yaw = math.radians(35 if seed % 2 else -35)
        plane = qr_plane(text, 0.12, (0.05 * (seed - 2), 0.0, 0.6), (math.sin(yaw), 0.0, -math.cos(yaw)))
        codes = detect_qr(render(CAM, [plane], blur_sigma=0.6, noise=2.0, seed=seed))
        assert [c.text for c in codes] == [text], seed
