"""Display alignment: the camera -> display homography from point pairs, stored in the camera
profile; the interactive procedure driven by a fake wearer (display + camera), no real window."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from glasses.camera.types import EndOfStream, Frame
from glasses.cli import main
from glasses.errors import InputError
from glasses.spatial.camera import load_profile
from glasses.spatial.display_align import (SPACE, DisplayAlignment, camera_to_display, fit_homography,
                                           load_alignment, marker_centre, parse_display_size,
                                           reprojection_errors, run_alignment, save_alignment, target_points)

ROOT = Path(__file__).resolve().parents[1]
DISPLAY = (1920, 1080)
CAMERA = (640, 480)
H_TRUE = np.array([[3.3, 0.08, -108.0], [-0.05, 2.7, -108.0], [2e-5, -1e-5, 1.0]])  # camera px -> display px


def _grid(size, n=9, inset=0.1):
    w, h = size
    gx, gy = np.meshgrid(np.linspace(inset * w, (1 - inset) * w, n), np.linspace(inset * h, (1 - inset) * h, n))
    return np.stack([gx.ravel(), gy.ravel()], 1)


def _truth_error(h_fit) -> float:
    cam = _grid((560, 400))  # camera points that land on the display
    return float(np.abs(camera_to_display(cam, h_fit) - camera_to_display(cam, H_TRUE)).max())


# ------------------------------------------------------------------------------ fitting


def test_fit_recovers_known_homography_from_noisy_pairs():
    rng = np.random.default_rng(0)
    disp = np.array(target_points(9, DISPLAY))
    cam = camera_to_display(disp, np.linalg.inv(H_TRUE)) + rng.normal(0, 0.15, (9, 2))  # detection noise
    disp_seen = disp + rng.normal(0, 0.3, disp.shape)  # the wearer's aim
    al = fit_homography(cam, disp_seen, DISPLAY)
    assert al.pairs == 9 and al.inliers == 9
    assert al.rms_px < 1.0
    assert reprojection_errors(al.homography, cam, disp_seen).max() < 1.5
    assert _truth_error(al.homography) < 1.5
    assert np.mean(np.linalg.norm(camera_to_display(_grid((560, 400)), al.homography)
                                  - camera_to_display(_grid((560, 400)), H_TRUE), axis=1)) < 1.0


def test_ransac_leaves_out_a_bad_pair():
    disp = np.array(target_points(9, DISPLAY))
    cam = camera_to_display(disp, np.linalg.inv(H_TRUE))
    disp_bad = disp.copy()
    disp_bad[4] += (80, -60)  # the wearer pressed space too early
    al = fit_homography(cam, disp_bad, DISPLAY)
    assert al.inliers == 8 and al.rms_px < 0.01
    assert _truth_error(al.homography) < 0.05


def test_four_pairs_fit_exactly():
    disp = np.array(target_points(4, DISPLAY))
    cam = camera_to_display(disp, np.linalg.inv(H_TRUE))
    al = fit_homography(cam, disp, DISPLAY)
    assert al.rms_px < 1e-3 and _truth_error(al.homography) < 1e-3


@pytest.mark.parametrize("cam, disp, needle", [
    ([[0, 0], [10, 0], [0, 10]], [[0, 0], [10, 0], [0, 10]], "at least 4"),
    ([[0, 0], [10, 10], [20, 20], [30, 30]], [[0, 0], [10, 10], [20, 20], [30, 30]], "one line"),
])
def test_fit_rejects_too_few_or_collinear(cam, disp, needle):
    with pytest.raises(InputError, match=needle):
        fit_homography(np.array(cam, float), np.array(disp, float), DISPLAY)


@pytest.mark.parametrize("h, points, expected", [
    (np.eye(3), [[1, 2], [3, 4]], [[1, 2], [3, 4]]),
    ([[1, 0, 10], [0, 1, -5], [0, 0, 1]], [[0, 0]], [[10, -5]]),
    ([[2, 0, 0], [0, 3, 0], [0, 0, 1]], [[1, 1]], [[2, 3]]),
    ([[1, 0, 0], [0, 1, 0], [0, 0, 2]], [[4, 6]], [[2, 3]]),
])
def test_camera_to_display(h, points, expected):
    assert np.allclose(camera_to_display(np.array(points, float), np.array(h, float)), expected)


def test_camera_to_display_empty():
    assert camera_to_display(np.zeros((0, 2)), np.eye(3)).shape == (0, 2)


def test_target_points():
    pts = target_points(4, (1000, 500))
    assert pts == [(150, 75), (850, 75), (850, 425), (150, 425)]
    assert target_points(5, (1000, 500))[4] == (500, 250)
    assert len(set(target_points(9, (1000, 500)))) == 9
    for n in (3, 10):
        with pytest.raises(InputError, match="--points"):
            target_points(n, (1000, 500))


@pytest.mark.parametrize("text, ok", [("1920x1080", (1920, 1080)), ("1280X720", (1280, 720)), ("1920", None),
                                      ("0x10", None), ("axb", None)])
def test_parse_display_size(text, ok):
    if ok:
        assert parse_display_size(text) == ok
    else:
        with pytest.raises(InputError, match="--display-size"):
            parse_display_size(text)


def test_alignment_validated():
    with pytest.raises(ValueError):
        DisplayAlignment(np.zeros((3, 3)), DISPLAY)
    with pytest.raises(ValueError):
        DisplayAlignment(np.eye(2), DISPLAY)


# ------------------------------------------------------------------------------ profile storage


def test_save_keeps_other_keys_and_comments(tmp_path):
    prof = tmp_path / "camera.yaml"
    shutil.copy(ROOT / "calibration" / "default.yaml", prof)
    before = load_profile(prof)
    al = DisplayAlignment(H_TRUE, DISPLAY, 0.4, 6, 6)
    save_alignment(prof, al)
    save_alignment(prof, DisplayAlignment(H_TRUE * 2, DISPLAY, 0.5, 7, 7))  # a second time replaces the first
    text = prof.read_text()
    assert text.count("display_homography") == 1 and "# Generic camera profile" in text
    after = load_profile(prof)
    assert after.image_size == before.image_size and after.name == before.name
    assert np.allclose(after.camera_matrix, before.camera_matrix)
    assert after.camera_height_m == before.camera_height_m
    got = load_alignment(prof)
    assert got is not None and got.display_size == DISPLAY and got.pairs == 7 and got.rms_px == pytest.approx(0.5)
    assert np.allclose(got.homography, H_TRUE)  # normalised: H and 2H are the same homography
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_save_xml_profile_keeps_keys(tmp_path):
    src = cv2.FileStorage(str(ROOT / "calibration" / "default.yaml"), cv2.FILE_STORAGE_READ)
    xml = tmp_path / "camera.xml"
    dst = cv2.FileStorage(str(xml), cv2.FILE_STORAGE_WRITE)
    for key in ("name", "image_width", "image_height", "camera_matrix", "distortion_coefficients"):
        node = src.getNode(key)
        dst.write(key, node.mat() if node.isMap() else node.string() if node.isString() else int(node.real()))
    dst.startWriteStruct("extra", cv2.FileNode_SEQ)
    dst.write("", 1)
    dst.write("", "two")
    dst.endWriteStruct()
    dst.release()
    src.release()
    save_alignment(xml, DisplayAlignment(H_TRUE, DISPLAY, 0.4, 6, 6))
    prof = load_profile(xml)
    assert prof.name == "generic-65deg" and prof.image_size == (640, 480)
    fs = cv2.FileStorage(str(xml), cv2.FILE_STORAGE_READ)
    assert fs.getNode("extra").size() == 2 and fs.getNode("extra").at(1).string() == "two"
    fs.release()
    assert np.allclose(load_alignment(xml).homography, H_TRUE)


def test_load_without_alignment_is_none(tmp_path):
    assert load_alignment(ROOT / "calibration" / "default.yaml") is None
    with pytest.raises(InputError, match="does not exist"):
        load_alignment(tmp_path / "missing.yaml")


def test_save_rejects_other_suffix_and_non_yaml(tmp_path):
    with pytest.raises(InputError, match="--out"):
        save_alignment(tmp_path / "p.txt", DisplayAlignment(H_TRUE, DISPLAY))
    bad = tmp_path / "bad.yaml"
    bad.write_text("just: text\n")
    with pytest.raises(InputError, match="%YAML"):
        save_alignment(bad, DisplayAlignment(H_TRUE, DISPLAY))
    assert bad.read_text() == "just: text\n"


# ------------------------------------------------------------------------------ the procedure

MARKER = cv2.aruco.generateImageMarker(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50), 7, 72)


def render_marker(centre, size=CAMERA, rng=None) -> np.ndarray:
    """A grey frame with the marker (white quiet zone) centred at ``centre``, sub-pixel, with noise."""
    tile = cv2.copyMakeBorder(MARKER, 18, 18, 18, 18, cv2.BORDER_CONSTANT, value=255).astype(np.float32)
    half = (tile.shape[1] - 1) / 2
    m = np.array([[1, 0, centre[0] - half], [0, 1, centre[1] - half]], np.float32)
    img = cv2.warpAffine(tile, m, size, flags=cv2.INTER_LINEAR, borderValue=110)
    if rng is not None:
        img = img + rng.normal(0, 2, img.shape)
    return cv2.cvtColor(np.clip(img, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def test_marker_centre_subpixel():
    for c in [(320.3, 240.7), (101.5, 399.2)]:
        got = marker_centre(render_marker(c, rng=np.random.default_rng(1)))
        assert got is not None and np.hypot(got[0] - c[0], got[1] - c[1]) < 0.3
    assert marker_centre(np.full((480, 640, 3), 110, np.uint8)) is None
    assert marker_centre(render_marker((320, 240)), marker_id=3) is None


class FakeWearer:
    """Both the display and the camera. The display part reads the cross off each shown image;
    the wearer then turns their head until the marker sits under the cross (so the camera sees it
    at H_TRUE^-1(cross)) and presses space on the third frame of each cross. ``hide_first``: the
    marker is out of view for the first cross's first press."""

    def __init__(self, quit_after: int | None = None, hide_first: bool = False):
        self.cross = None
        self.since = 0
        self.n = 0
        self.quit_after = quit_after
        self.hide = hide_first
        self.rng = np.random.default_rng(5)
        self.crosses: list[tuple[float, float]] = []

    def show(self, frame):
        assert frame.shape == (DISPLAY[1], DISPLAY[0], 3) and frame[5, 5].sum() == 0  # black = see-through
        ys, xs = np.nonzero((frame[..., 1] == 255) & (frame[..., 0] == 0) & (frame[..., 2] == 0))
        c = (float(xs.mean()), float(ys.mean()))
        if self.cross is None or np.hypot(c[0] - self.cross[0], c[1] - self.cross[1]) > 1:
            self.cross, self.since = c, 0
            self.crosses.append(c)
        self.since += 1
        if self.quit_after is not None and len(self.crosses) > self.quit_after:
            return ord("q")
        if self.since == 3:
            if self.hide:
                self.hide, self.since = False, 0
            return SPACE
        return 255 if self.since == 2 else None  # an unrelated key does nothing

    def read(self, timeout=1.0):
        self.n += 1
        if self.n > 200:  # never hang a test
            raise EndOfStream("fake wearer gave up")
        if self.cross is None or (self.hide and self.since >= 2):
            img = np.full((CAMERA[1], CAMERA[0], 3), 110, np.uint8)
        else:
            cam = camera_to_display([self.cross], np.linalg.inv(H_TRUE))[0]
            img = render_marker(cam, rng=self.rng)
        return Frame(self.n, float(self.n), float(self.n), img)


def test_procedure_with_fake_wearer_recovers_homography():
    wearer = FakeWearer()
    said: list[str] = []
    targets = target_points(6, DISPLAY)
    run = run_alignment(wearer, wearer, targets, DISPLAY, said.append)
    assert run.stopped == "done" and len(run.display_points) == 6
    assert [tuple(np.round(c)) for c in wearer.crosses] == [tuple(np.round(t)) for t in targets]
    assert said[0].startswith("point 1 of 6: line the cross up") and said[-1].startswith("point 6 of 6")
    al = fit_homography(run.camera_points, run.display_points, DISPLAY)
    assert al.rms_px < 1.0 and _truth_error(al.homography) < 2.0


def test_procedure_space_without_marker_and_quit():
    wearer = FakeWearer(hide_first=True)
    said: list[str] = []
    run = run_alignment(wearer, wearer, target_points(4, DISPLAY), DISPLAY, said.append)
    assert run.stopped == "done" and len(run.camera_points) == 4
    assert any(s.startswith("no marker in view") for s in said)
    wearer = FakeWearer(quit_after=2)
    run = run_alignment(wearer, wearer, target_points(4, DISPLAY), DISPLAY, lambda s: None)
    assert run.stopped == "key" and len(run.display_points) == 2


def test_cli_display_align_with_fake_wearer(tmp_path, monkeypatch, capsys):
    """The command wired to a fake display and camera (monkeypatched): the profile gains the homography."""
    import glasses.camera.sources as sources
    import glasses.outputs.overlay as overlay

    wearer = FakeWearer()

    class FakeDisplay:
        available = True
        error = None

        def __init__(self, **kwargs):
            assert kwargs.get("fullscreen") is True

        def __enter__(self):
            return wearer

        def __exit__(self, *exc):
            return None

    class FakeSource:
        fallback_reason = None

        def __enter__(self):
            return wearer

        def __exit__(self, *exc):
            return None

    wearer.available = True
    monkeypatch.setattr(overlay, "Display", FakeDisplay)
    monkeypatch.setattr(sources, "open_source", lambda spec, fast=False: FakeSource())
    prof = tmp_path / "camera.yaml"
    shutil.copy(ROOT / "calibration" / "default.yaml", prof)
    rc = main(["calibrate", "--display-align", "--points", "5", "--out", str(prof), "--json"])
    assert rc == 0
    lines = capsys.readouterr().out.strip().splitlines()
    obj = json.loads(lines[-1])
    assert obj["pairs"] == 5 and obj["rms_px"] < 1.0 and obj["display_size"] == list(DISPLAY)
    assert _truth_error(np.array(obj["display_homography"])) < 2.0
    assert load_alignment(prof) is not None and load_profile(prof).name == "generic-65deg"


def _one_line_error(capsys, rc, needle):
    assert rc != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err, err


def test_cli_display_align_needs_a_display(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    prof = tmp_path / "camera.yaml"
    shutil.copy(ROOT / "calibration" / "default.yaml", prof)
    before = prof.read_text()
    rc = main(["calibrate", "--display-align", "--source", str(tmp_path), "--out", str(prof)])
    _one_line_error(capsys, rc, "needs the glasses' display")
    assert prof.read_text() == before


@pytest.mark.parametrize("extra, needle", [
    (["--points", "3"], "--points must be 4 to 9"),
    (["--display-size", "big"], "--display-size must be"),
    (["--display-at", "1920"], "--display-at must be X,Y"),
    (["--dictionary", "DICT_NOPE"], "--dictionary must be"),
    (["--out", "/nonexistent/camera.yaml"], "does not exist"),
])
def test_cli_display_align_bad_options(tmp_path, capsys, extra, needle):
    prof = tmp_path / "camera.yaml"
    shutil.copy(ROOT / "calibration" / "default.yaml", prof)
    rc = main(["calibrate", "--display-align", "--out", str(prof), *extra])
    _one_line_error(capsys, rc, needle)
