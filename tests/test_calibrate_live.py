"""Live calibration: the coverage planner (tables), and the live loop fed a folder of rendered
ChArUco frames through open_source, which must end with a profile close to the true camera."""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest
from charuco_scene import H, K_TRUE, SPEC, W, add_noise, board_texture, pose_at, ray_map, render_clean

from glasses.camera.sources import open_source
from glasses.cli import main
from glasses.errors import InputError
from glasses.spatial.camera import load_profile
from glasses.spatial.coverage import (DONE, HOLD_STILL, SHOW_BOARD, Coverage, Observation, cell_of, distance_bucket,
                                      motion, next_instruction, sharpness, tilt_bucket)
from glasses.spatial.live_calibrate import LiveCalibrator, LiveOptions, draw_coverage, run_live

BOARD_ARGS = ["--board", "charuco", "--grid", "7x5", "--square", "0.03", "--marker", "0.022"]

# ---------------------------------------------------------------------------- planner tables


@pytest.mark.parametrize("point, cell", [
    ((10, 10), 0), ((320, 10), 1), ((630, 10), 2), ((10, 240), 3), ((320, 240), 4), ((630, 240), 5),
    ((10, 470), 6), ((320, 470), 7), ((630, 470), 8), ((-50, -50), 0), ((700, 500), 8), ((213.2, 160.1), 3), ((213.4, 160.1), 4),
])
def test_cell_of(point, cell):
    assert cell_of(point, (640, 480)) == cell


def _normal(yaw_deg: float, pitch_deg: float) -> np.ndarray:
    """Normal (pointing away from the camera, like a board's z axis) of a board turned by yaw/pitch."""
    r = cv2.Rodrigues(np.array([math.radians(pitch_deg), 0, 0]))[0] @ cv2.Rodrigues(
        np.array([0, math.radians(yaw_deg), 0]))[0]
    return r[:, 2]


@pytest.mark.parametrize("yaw, pitch, bucket", [
    (0, 0, "flat"), (10, 0, "flat"), (0, -10, "flat"), (30, 0, "left"), (-30, 0, "right"),
    (0, 30, "down"), (0, -30, "up"), (40, 20, "left"), (10, -35, "up"),
])
def test_tilt_bucket(yaw, pitch, bucket):
    got, angle = tilt_bucket(_normal(yaw, pitch))
    assert got == bucket
    assert tilt_bucket(-_normal(yaw, pitch))[0] == bucket  # either side of the board
    assert angle == pytest.approx(math.degrees(math.acos(abs(_normal(yaw, pitch)[2]))), abs=1e-6)


@pytest.mark.parametrize("span, bucket", [(0.1, "far"), (0.21, "far"), (0.3, "mid"), (0.39, "near"), (0.8, "near")])
def test_distance_bucket(span, bucket):
    assert distance_bucket(span) == bucket


def _cov(cells=(), tilts=(), distances=(), pairs=(), views=None) -> Coverage:
    return Coverage(frozenset(cells), frozenset(tilts), frozenset(distances), frozenset(pairs),
                    len(cells) if views is None else views)


ALL_CELLS = range(9)
ALL_TILTS = ("flat", "left", "right", "up", "down")
ALL_D = ("far", "mid", "near")
FULL = _cov(ALL_CELLS, ALL_TILTS, ALL_D, [(c, "flat") for c in ALL_CELLS], views=10)


@pytest.mark.parametrize("coverage, obs, still, sharp, expected", [
    (_cov(), None, True, True, SHOW_BOARD),
    (_cov(), Observation(4, "flat", "mid"), False, True, HOLD_STILL),  # a new cell, but moving
    (_cov(), Observation(4, "flat", "mid"), True, False, HOLD_STILL),  # a new cell, but blurred
    (_cov([4]), Observation(4, "flat", "mid"), True, True, "move the board to the top"),  # nearest, then order
    (_cov([4, 1]), Observation(1, "flat", "mid"), True, True, "move the board to the top left"),
    (_cov([0, 1, 2, 3, 4, 5, 6, 7]), Observation(0, "flat", "mid"), False, True, "move the board to the bottom right"),
    (_cov(ALL_CELLS, ["flat"]), Observation(4, "flat", "mid"), True, True, "tilt the board to the left"),
    (_cov(ALL_CELLS, ["flat", "left", "right"]), Observation(4, "up", "mid"), False, True, HOLD_STILL),
    (_cov(ALL_CELLS, ["left", "right", "up", "down"]), Observation(4, "up", "mid"), True, True,
     "hold the board flat, facing the camera"),
    (_cov(ALL_CELLS, ALL_TILTS, ["mid"]), Observation(4, "up", "mid"), True, True, "move the board further away"),
    (_cov(ALL_CELLS, ALL_TILTS, ["mid", "far"]), Observation(4, "up", "mid"), True, True, "move the board closer"),
    (FULL, Observation(4, "flat", "mid"), True, True, "move and tilt the board somewhere new (5 more views)"),
    (FULL, Observation(4, "up", "mid"), False, True, HOLD_STILL),  # would add a pair, but moving
    (_cov(ALL_CELLS, views=15), Observation(4, "up", "mid"), True, True, DONE),
])
def test_next_instruction(coverage, obs, still, sharp, expected):
    assert next_instruction(coverage, obs, still=still, sharp=sharp, views_wanted=15) == expected


@pytest.mark.parametrize("coverage, obs, adds", [
    (_cov(), Observation(0, "flat", "mid"), True),
    (_cov([0], ["flat"], ["mid"]), Observation(0, "flat", "mid"), False),
    (_cov([0], ["flat"], ["mid"]), Observation(0, "up", "mid"), True),  # new tilt
    (_cov([0], ["flat"], ["mid"]), Observation(0, "flat", "near"), True),  # new distance
    (_cov([0], ["flat"], ["mid"]), Observation(3, "flat", "mid"), True),  # new cell
    (_cov(ALL_CELLS, ["flat", "up"], ["mid"], [(0, "flat")]), Observation(0, "up", "mid"), True),  # new pair
    (_cov([0, 1], ["flat", "up"], ["mid"], [(0, "flat")]), Observation(0, "up", "mid"), False),  # cells first
    (FULL, Observation(3, "flat", "near"), False),
])
def test_coverage_adds(coverage, obs, adds):
    assert coverage.adds(obs) is adds
    grown = coverage.with_view(obs)
    assert grown.views == coverage.views + 1 and not grown.adds(obs)


def test_observation_validated():
    with pytest.raises(ValueError, match="tilt"):
        Observation(0, "sideways", "mid")
    with pytest.raises(ValueError, match="cell"):
        Observation(9, "flat", "mid")


def test_motion_matches_corners_by_board_position():
    obj = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]], np.float32) * 0.03
    img = np.array([[10, 10], [50, 10], [10, 50], [50, 50]], np.float32)
    assert motion(None, (obj, img)) == math.inf
    assert motion((obj, img), (obj[::-1], img[::-1] + [0.5, 0])) == pytest.approx(0.5)  # order does not matter
    assert motion((obj[:2], img[:2]), (obj, img)) == math.inf  # fewer than 3 in common


def test_sharpness_drops_with_blur():
    rays, tex = ray_map(), board_texture()
    clean = render_clean(rays, *pose_at((W / 2, H / 2), 0.45, (10, 10, 0)), tex)
    rng = np.random.default_rng(3)
    img = add_noise(clean, rng)
    found = SPEC.detect(img)
    assert found is not None
    sharp = sharpness(img, found[1])
    blurred = sharpness(add_noise(cv2.GaussianBlur(clean, (0, 0), 4), rng), found[1])
    assert sharp > 1000 > 100 > blurred


def test_options_need_three_views():
    with pytest.raises(InputError, match="at least 3"):
        LiveOptions(views_wanted=2)

# ---------------------------------------------------------------------------- the live loop


CELL_CENTRES = [((2 * c + 1) * W / 6, (2 * r + 1) * H / 6) for r in range(3) for c in range(3)]
TILTS = [(0, 0, 0), (30, 0, 5), (-30, 0, -5), (0, 30, 10), (0, -30, -10), (25, 25, 0), (-25, 25, 0),
         (25, -25, 0), (-25, -25, 0)]
DISTANCES = (0.45, 0.27, 0.6)


@pytest.fixture(scope="module")
def frames_dir(tmp_path_factory):
    """A blank frame, a blurred board, then 18 boards around the image, each held still for two frames."""
    rays, tex = ray_map(), board_texture()
    rng = np.random.default_rng(0)
    folder = tmp_path_factory.mktemp("live")
    frames = [np.full((H, W), 70, np.uint8)]
    blurred = cv2.GaussianBlur(render_clean(rays, *pose_at(CELL_CENTRES[4], 0.45, (0, 0, 0)), tex), (0, 0), 4)
    frames += [add_noise(blurred, rng), add_noise(blurred, rng)]
    for k in range(2):
        for i, centre in enumerate(CELL_CENTRES):
            clean = render_clean(rays, *pose_at(centre, DISTANCES[(i + k) % 3], TILTS[(i + 2 * k) % 9]), tex)
            frames += [add_noise(clean, rng), add_noise(clean, rng)]
    for n, img in enumerate(frames):
        cv2.imwrite(str(folder / f"frame{n:03d}.png"), cv2.cvtColor(img, cv2.COLOR_GRAY2BGR))
    return folder


class FakeDisplay:
    def __init__(self, keys: dict[int, int] | None = None):
        self.keys = keys or {}
        self.shown: list[np.ndarray] = []

    def show(self, frame):
        self.shown.append(frame)
        return self.keys.get(len(self.shown))


def test_live_loop_keeps_covering_views_and_calibrates(frames_dir):
    said: list[str] = []
    display = FakeDisplay()
    calibrator = LiveCalibrator(SPEC, LiveOptions(views_wanted=15))
    with open_source(str(frames_dir), fast=True) as source:
        result = run_live(source, calibrator, said.append, display)
    assert result.stopped == "views" and result.views == 15
    assert result.frames < 41  # stopped before the end of the folder
    assert said[0] == SHOW_BOARD and HOLD_STILL in said
    assert "move the board to the top" in said and "got view 15 of 15" in said
    assert all(a != b for a, b in zip(said, said[1:]))  # one line per change, not per frame
    assert len(calibrator.coverage.cells) == 9 and len(calibrator.coverage.tilts) == 5
    assert calibrator.coverage.distances == {"far", "mid", "near"}
    assert len(display.shown) == result.frames and display.shown[-1].shape == (H, W, 3)
    cal = calibrator.calibrate()
    assert abs(cal.fx / K_TRUE[0, 0] - 1) <= 0.01 and abs(cal.fy / K_TRUE[1, 1] - 1) <= 0.01
    assert cal.rms <= 0.3


def test_live_loop_stops_on_q_and_ctrl_c(frames_dir):
    calibrator = LiveCalibrator(SPEC)
    with open_source(str(frames_dir), fast=True) as source:
        result = run_live(source, calibrator, lambda text: None, FakeDisplay({12: ord("q")}))
    assert result.stopped == "key" and result.frames == 12 and calibrator.views == 4

    class Interrupting:
        def __init__(self, source, after):
            self.source, self.after, self.n = source, after, 0

        def read(self, timeout=1.0):
            self.n += 1
            if self.n > self.after:
                raise KeyboardInterrupt
            return self.source.read(timeout)

    calibrator = LiveCalibrator(SPEC)
    with open_source(str(frames_dir), fast=True) as source:
        result = run_live(Interrupting(source, 15), calibrator, lambda text: None)
    assert result.stopped == "interrupt" and calibrator.views == 6
    assert calibrator.calibrate().image_size == (W, H)  # calibrates with what it has


def test_draw_coverage_marks_covered_cells():
    calibrator = LiveCalibrator(SPEC)
    blank = np.full((H, W, 3), 100, np.uint8)
    step = calibrator.feed(blank)
    assert not step.found and step.instruction == SHOW_BOARD
    calibrator.coverage = calibrator.coverage.with_view(Observation(0, "flat", "mid"))
    out = draw_coverage(blank, calibrator, step)
    assert out.shape == blank.shape
    assert out[40, 40, 1] > out[40, 40, 0] + 20  # top-left cell tinted green
    assert abs(int(out[240, 320, 1]) - int(out[240, 320, 0])) < 5  # centre not


def test_cli_live_writes_profile(frames_dir, tmp_path, capsys):
    out = tmp_path / "live.yaml"
    rc = main(["calibrate", "--live", "--source", str(frames_dir), "--fast", "--headless", "--no-speech",
               *BOARD_ARGS, "--views", "15", "--out", str(out), "--json"])
    assert rc == 0
    captured = capsys.readouterr()
    obj = json.loads(captured.out)  # stdout: the JSON object only; instructions went to stderr
    assert set(obj) == {"image_size", "fx", "fy", "cx", "cy", "dist", "rms", "images_used", "out"}
    assert obj["images_used"] == 15 and obj["rms"] <= 0.3
    assert "move the board to the" in captured.err
    prof = load_profile(out)
    assert abs(prof.fx / K_TRUE[0, 0] - 1) <= 0.01


def test_cli_live_human_lines(frames_dir, tmp_path, capsys):
    out = tmp_path / "live.yaml"
    rc = main(["calibrate", "--live", "--source", str(frames_dir), "--fast", "--headless", "--no-speech",
               *BOARD_ARGS, "--views", "5", "--out", str(out)])
    assert rc == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == SHOW_BOARD and "hold still" in lines and "got view 5 of 5" in lines
    assert all(a != b for a, b in zip(lines, lines[1:]))
    assert any(line.startswith("calibrated 640x480 from 5 of 5") for line in lines)


def test_cli_live_too_few_views(tmp_path, capsys):
    folder = tmp_path / "blank"
    folder.mkdir()
    for n in range(4):
        cv2.imwrite(str(folder / f"f{n}.png"), np.full((H, W, 3), 90, np.uint8))
    out = tmp_path / "live.yaml"
    rc = main(["calibrate", "--live", "--source", str(folder), "--fast", "--headless", "--no-speech",
               *BOARD_ARGS, "--out", str(out)])
    assert rc != 0
    captured = capsys.readouterr()
    assert captured.err.strip().count("\n") == 0 and "kept 0 view(s)" in captured.err and "at least 3" in captured.err
    assert captured.out.strip() == SHOW_BOARD
    assert not out.exists()


def test_cli_live_with_images_is_an_error(frames_dir, tmp_path, capsys):
    rc = main(["calibrate", "--live", str(frames_dir / "frame000.png"), "--source", str(frames_dir), "--headless",
               "--no-speech", *BOARD_ARGS])
    assert rc != 0 and "leave out IMAGES" in capsys.readouterr().err
