"""Anchors: a region of a real photo, found again after known perspective warps, blur and noise."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from glasses.cli import main
from glasses.errors import InputError
from glasses.spatial.anchors import Anchor, AnchorTracker, FollowOptions, Region, parse_region

BENCH = Path(__file__).resolve().parents[1] / "models" / "images" / "bench"
CANVAS = (800, 640)
REGION = Region(200, 140, 240, 200)
MAX_CORNER_ERROR_PX = 2.0


def view_homography(size, region: Region, tilt_x: float, tilt_y: float, scale: float, roll: float,
                    shift=(0.0, 0.0), f: float = 700.0) -> np.ndarray:
    """Reference -> target homography: the photo as a flat plane, seen by a camera tilted by
    tilt_x / tilt_y degrees (out of plane) and rolled by ``roll`` about the region's centre, at
    ``scale``, with the region's centre placed at the canvas centre + ``shift``."""
    w, h = size
    c = np.array([region.x + region.w / 2, region.y + region.h / 2])
    r = (cv2.Rodrigues(np.radians([tilt_x, 0.0, 0.0]))[0] @ cv2.Rodrigues(np.radians([0.0, tilt_y, 0.0]))[0]
         @ cv2.Rodrigues(np.radians([0.0, 0.0, roll]))[0])
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
    q = np.c_[src - c, np.zeros(4)] @ r.T + np.array([0, 0, f])
    dst = q[:, :2] / q[:, 2:3] * f * scale + np.array(CANVAS) / 2 + np.array(shift)
    return cv2.getPerspectiveTransform(src.astype(np.float32), dst.astype(np.float32))


def render_view(image, background, hom, blur: float, noise: float, rng) -> np.ndarray:
    """The photo warped by ``hom`` over another photo (clutter), then blurred and noised."""
    cw, ch = CANVAS
    warped = cv2.warpPerspective(image, hom, (cw, ch), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full(image.shape[:2], 255, np.uint8), hom, (cw, ch), flags=cv2.INTER_NEAREST)
    out = cv2.resize(background, (cw, ch))
    out[mask > 0] = warped[mask > 0]
    if blur:
        out = cv2.GaussianBlur(out, (0, 0), blur)
    if noise:
        out = np.clip(out + rng.normal(0, noise, out.shape), 0, 255).astype(np.uint8)
    return out


@pytest.fixture(scope="module")
def photos():
    return {name: cv2.imread(str(BENCH / name)) for name in ("leuvenA.jpg", "building.jpg", "fruits.jpg",
                                                              "messi5.jpg", "home.jpg")}


@pytest.fixture(scope="module")
def anchors(photos):
    return {name: Anchor.from_region(photos[name], REGION) for name in ("leuvenA.jpg", "building.jpg")}


# photo, tilt_x, tilt_y (out of plane, degrees), scale, roll (degrees), blur sigma, noise sigma, shift
WARPS = [
    ("leuvenA.jpg", 0, 0, 1.0, 0, 0, 0, (0, 0)),
    ("leuvenA.jpg", 40, 0, 1.0, 0, 1.5, 5, (0, 0)),
    ("leuvenA.jpg", 0, -40, 1.0, 0, 1.5, 5, (0, 0)),
    ("leuvenA.jpg", 30, 30, 1.0, 20, 1.0, 3, (0, 0)),
    ("leuvenA.jpg", 0, 0, 0.5, 30, 1.0, 4, (0, 0)),
    ("leuvenA.jpg", 20, -30, 2.0, -15, 1.5, 5, (0, 0)),
    ("leuvenA.jpg", 25, 35, 1.5, 90, 2.0, 6, (0, 0)),
    ("leuvenA.jpg", -20, 10, 1.2, 5, 1.0, 4, (300, 0)),  # part of the region out of view
    ("building.jpg", -40, 0, 1.0, 0, 1.5, 5, (0, 0)),
    ("building.jpg", 0, 40, 0.6, 45, 1.0, 5, (0, 0)),
    ("building.jpg", 15, -25, 2.0, 180, 1.0, 3, (0, 0)),
]


@pytest.mark.parametrize("photo, tx, ty, scale, roll, blur, noise, shift", WARPS)
def test_locate_known_warp(photos, anchors, photo, tx, ty, scale, roll, blur, noise, shift):
    image = photos[photo]
    hom = view_homography((image.shape[1], image.shape[0]), REGION, tx, ty, scale, roll, shift)
    target = render_view(image, photos["fruits.jpg"], hom, blur, noise, np.random.default_rng(7))
    truth = cv2.perspectiveTransform(REGION.corners().reshape(-1, 1, 2), hom).reshape(4, 2)
    s = anchors[photo].locate(target)
    assert s.found, s
    assert s.inliers >= anchors[photo].options.min_inliers
    assert np.linalg.norm(s.quad - truth, axis=1).max() <= MAX_CORNER_ERROR_PX


@pytest.mark.parametrize("photo, other", [("leuvenA.jpg", "messi5.jpg"), ("leuvenA.jpg", "home.jpg"),
                                          ("building.jpg", "fruits.jpg"), ("building.jpg", "messi5.jpg")])
def test_unrelated_image_not_found(photos, anchors, photo, other):
    s = anchors[photo].locate(photos[other])
    assert not s.found and s.quad is None
    assert s.to_json() == {"found": False, "quad": None, "inliers": s.inliers}


def test_flat_region_cannot_be_anchored():
    with pytest.raises(InputError, match="too little texture"):
        Anchor.from_region(np.full((200, 200, 3), 128, np.uint8), Region(10, 10, 100, 100))


@pytest.mark.parametrize("text, expected", [("120,80,200,150", Region(120, 80, 200, 150)),
                                            (" 0, 0, 1, 1 ", Region(0, 0, 1, 1))])
def test_parse_region_ok(text, expected):
    assert parse_region(text) == expected


@pytest.mark.parametrize("text, needle", [
    ("1,2,3", "x,y,w,h"), ("a,b,c,d", "x,y,w,h"), ("1.5,2,3,4", "x,y,w,h"), ("", "x,y,w,h"),
    ("0,0,0,10", "at least 1 pixel"), ("0,0,10,-3", "at least 1 pixel"), ("-5,0,10,10", "inside the image"),
])
def test_parse_region_bad(text, needle):
    with pytest.raises(InputError, match=needle):
        parse_region(text)


@pytest.fixture(scope="module")
def pair(photos, tmp_path_factory):
    folder = tmp_path_factory.mktemp("locate")
    image = photos["leuvenA.jpg"]
    hom = view_homography((image.shape[1], image.shape[0]), REGION, 25, -15, 0.8, 10)
    target = render_view(image, photos["fruits.jpg"], hom, 1.0, 3, np.random.default_rng(3))
    cv2.imwrite(str(folder / "target.png"), target)
    truth = cv2.perspectiveTransform(REGION.corners().reshape(-1, 1, 2), hom).reshape(4, 2)
    return str(BENCH / "leuvenA.jpg"), str(folder / "target.png"), truth


def test_cli_json(pair, capsys):
    ref, target, truth = pair
    assert main(["locate", ref, target, "--region", "200,140,240,200", "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert set(obj) == {"found", "quad", "inliers"}
    assert obj["found"] is True and isinstance(obj["inliers"], int) and obj["inliers"] >= 15
    assert np.linalg.norm(np.array(obj["quad"]) - truth, axis=1).max() <= MAX_CORNER_ERROR_PX


def test_cli_not_found(capsys):
    rc = main(["locate", str(BENCH / "leuvenA.jpg"), str(BENCH / "messi5.jpg"), "--region", "200,140,240,200",
               "--json"])
    assert rc == 0
    assert json.loads(capsys.readouterr().out)["found"] is False
    assert main(["locate", str(BENCH / "leuvenA.jpg"), str(BENCH / "messi5.jpg"), "--region", "200,140,240,200"]) == 0
    assert "not found" in capsys.readouterr().out


def test_cli_human(pair, capsys):
    ref, target, _ = pair
    assert main(["locate", ref, target, "--region", "200,140,240,200"]) == 0
    assert capsys.readouterr().out.startswith(f"found in {target}")


@pytest.mark.parametrize("region, needle", [
    ("600,400,100,100", "reaches outside"), ("0,0,641,10", "reaches outside"), ("a,b,c,d", "x,y,w,h"),
    ("10,10,0,50", "at least 1 pixel"), ("-5,0,10,10", "inside the image"), ("10,10,50", "x,y,w,h"),
])
def test_cli_bad_region(pair, capsys, region, needle):
    ref, target, _ = pair
    rc = main(["locate", ref, target, f"--region={region}", "--json"])
    assert rc != 0
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert captured.out == "" and len(err.splitlines()) == 1 and "Traceback" not in err
    assert needle in err, err


def test_cli_bad_files(pair, tmp_path, capsys):
    ref, target, _ = pair
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG broken")
    for args in ([str(tmp_path / "nope.jpg"), target], [ref, str(junk)]):
        rc = main(["locate", *args, "--region", "200,140,240,200"])
        assert rc != 0
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_cli_flat_region(tmp_path, capsys):
    flat = tmp_path / "flat.png"
    cv2.imwrite(str(flat), np.full((100, 100, 3), 200, np.uint8))
    rc = main(["locate", str(flat), str(flat), "--region", "0,0,50,50"])
    assert rc != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "too little texture" in err


def _corners(hom: np.ndarray) -> np.ndarray:
    return cv2.perspectiveTransform(REGION.corners().reshape(-1, 1, 2), hom).reshape(4, 2)


def test_tracker_follows_without_drift_and_hides_with_hysteresis(photos, anchors):
    image, bg = photos["leuvenA.jpg"], photos["fruits.jpg"]
    size = (image.shape[1], image.shape[0])
    tracker = AnchorTracker(anchors["leuvenA.jpg"], FollowOptions(hide_after=4))
    rng = np.random.default_rng(11)
    modes, errors = [], []
    for i in range(20):  # the head turns and steps closer: tilt to 30 deg, 1.4x, roll 15 deg, moving
        f = i / 19
        hom = view_homography(size, REGION, 30 * f, -10 * f, 1 + 0.4 * f, 15 * f, (40 * f, -20 * f))
        state = tracker.update(render_view(image, bg, hom, 0.8, 2, rng))
        assert state.visible and state.seen
        modes.append(state.mode)
        errors.append(np.linalg.norm(state.quad - _corners(hom), axis=1).max())
    assert modes[0] == "detected" and modes[1:].count("tracked") >= 17  # the cheap path, not re-detection
    assert max(errors) <= MAX_CORNER_ERROR_PX  # no drift over the sequence
    last = state.quad
    occluded = cv2.resize(bg, CANVAS)
    for _ in range(3):  # a short occlusion: still shown where it was, no flicker
        state = tracker.update(occluded)
        assert state.visible and not state.seen and state.mode == "coasting"
        assert np.allclose(state.quad, last)
    state = tracker.update(occluded)  # the 4th missed frame in a row: hidden
    assert not state.visible and state.quad is None and state.mode == "lost"
    hom = view_homography(size, REGION, -20, 20, 0.8, -10)
    state = tracker.update(render_view(image, bg, hom, 0.8, 2, rng))  # back in view: re-detected
    assert state.visible and state.mode == "detected"
    assert np.linalg.norm(state.quad - _corners(hom), axis=1).max() <= MAX_CORNER_ERROR_PX


def test_tracker_show_after(photos, anchors):
    image = photos["leuvenA.jpg"]
    hom = view_homography((image.shape[1], image.shape[0]), REGION, 10, 0, 1.0, 0)
    frame = render_view(image, photos["fruits.jpg"], hom, 0, 0, np.random.default_rng(0))
    tracker = AnchorTracker(anchors["leuvenA.jpg"], FollowOptions(show_after=2))
    first = tracker.update(frame)
    assert first.seen and not first.visible and first.quad is not None
    second = tracker.update(frame)
    assert second.seen and second.visible and second.mode == "tracked"


@pytest.mark.parametrize("kwargs", [dict(min_points=3), dict(max_points=5), dict(hide_after=0), dict(show_after=0),
                                    dict(redetect_every=-1)])
def test_follow_options_rejected(kwargs):
    with pytest.raises(ValueError):
        FollowOptions(**kwargs)


def test_large_target_matched_downscaled(photos, anchors):
    """A target larger than max_side is matched at working size; corners come back in its own pixels."""
    image = photos["leuvenA.jpg"]
    hom = view_homography((image.shape[1], image.shape[0]), REGION, 20, 15, 1.0, 10)
    target = render_view(image, photos["fruits.jpg"], hom, 0.8, 2, np.random.default_rng(5))
    big = cv2.resize(target, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)  # 1600x1280 > max_side 1280
    s = anchors["leuvenA.jpg"].locate(big)
    truth = (_corners(hom) + 0.5) * 2 - 0.5
    assert s.found and np.linalg.norm(s.quad - truth, axis=1).max() <= 2 * MAX_CORNER_ERROR_PX


def test_tracker_periodic_redetection(photos, anchors):
    image = photos["leuvenA.jpg"]
    tracker = AnchorTracker(anchors["leuvenA.jpg"], FollowOptions(redetect_every=3))
    modes = []
    for i in range(7):
        hom = view_homography((image.shape[1], image.shape[0]), REGION, 2 * i, 0, 1.0, i)
        modes.append(tracker.update(render_view(image, photos["fruits.jpg"], hom, 0, 1, np.random.default_rng(i))).mode)
    assert modes == ["detected", "tracked", "tracked", "detected", "tracked", "tracked", "detected"]


def test_overlay_jitter_on_a_still_scene(photos, anchors):
    """Issue target: a still scene with sensor noise, 100 frames: the drawn quad jitters <= 0.5 px RMS."""
    image, bg = photos["leuvenA.jpg"], photos["fruits.jpg"]
    size = (image.shape[1], image.shape[0])
    hom = view_homography(size, REGION, 15, -5, 1.1, 5, (10, 5))
    clean = render_view(image, bg, hom, 0.0, 0, np.random.default_rng(0))
    rng = np.random.default_rng(5)
    tracker = AnchorTracker(anchors["leuvenA.jpg"])
    quads = []
    for _ in range(100):
        noisy = np.clip(clean.astype(np.float32) + rng.normal(0, 3.0, clean.shape), 0, 255).astype(np.uint8)
        state = tracker.update(noisy)
        assert state.visible
        quads.append(state.quad)
    quads = np.array(quads)
    jitter = np.sqrt(((quads - quads.mean(axis=0)) ** 2).sum(axis=2).mean())
    assert jitter <= 0.5, f"overlay jitter {jitter:.3f} px RMS"
