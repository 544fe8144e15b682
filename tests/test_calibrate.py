"""Calibration: a chessboard rendered through a known camera with lens distortion must give it back."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from cli_checks import assert_one_line_error

from glasses.cli import main
from glasses.errors import InputError
from glasses.spatial.calibrate import Board, calibrate, find_corners, make_target, parse_grid, parse_square
from glasses.spatial.camera import CameraProfile, load_profile

W, H, SS = 640, 480, 3  # image size; supersampling per axis (box-filtered = anti-aliased edges)
K_TRUE = np.array([[612.0, 0, 323.5], [0, 608.0, 236.0], [0, 0, 1]])
D_TRUE = np.array([-0.25, 0.08, 0.0008, -0.0006, 0.0])  # k1 k2 p1 p2 k3: strong barrel distortion
COLS, ROWS, SQ = 9, 6, 0.025


def _ray_map() -> np.ndarray:
    """Undistorted normalised ray (x/z, y/z) of every sub-pixel sample of the distorted image."""
    xs = (np.arange(W * SS) + 0.5) / SS - 0.5  # pixel j covers [j - 0.5, j + 0.5]
    ys = (np.arange(H * SS) + 0.5) / SS - 0.5
    gx, gy = np.meshgrid(xs, ys)
    pts = np.stack([gx.ravel(), gy.ravel()], 1).reshape(-1, 1, 2)
    crit = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 50, 1e-12)
    return cv2.undistortPointsIter(pts, K_TRUE, D_TRUE, None, None, crit).reshape(H * SS, W * SS, 2)


def _render(rays: np.ndarray, rvec, tvec, rng) -> np.ndarray:
    """Ray-cast the board plane (z = 0, board coordinates in metres) for one pose; 8-bit gray."""
    r, _ = cv2.Rodrigues(np.asarray(rvec, float))
    hi = np.linalg.inv(np.column_stack([r[:, 0], r[:, 1], np.asarray(tvec, float)]))
    x, y = rays[..., 0], rays[..., 1]
    w = hi[2, 0] * x + hi[2, 1] * y + hi[2, 2]
    u = (hi[0, 0] * x + hi[0, 1] * y + hi[0, 2]) / w
    v = (hi[1, 0] * x + hi[1, 1] * y + hi[1, 2]) / w
    iu, iv = np.floor(u / SQ).astype(int) + 1, np.floor(v / SQ).astype(int) + 1
    on_board = (iu >= 0) & (iu <= COLS) & (iv >= 0) & (iv <= ROWS)
    on_paper = (u > -2 * SQ) & (u < (COLS + 1) * SQ) & (v > -2 * SQ) & (v < (ROWS + 1) * SQ)
    img = np.full(u.shape, 70.0)
    img[on_paper] = 225.0
    img[on_board & ((iu + iv) % 2 == 0)] = 25.0
    img = img.reshape(H, SS, W, SS).mean(axis=(1, 3)) + rng.normal(0, 2.0, (H, W))
    return np.clip(img, 0, 255).astype(np.uint8)


def _poses(n: int, seed: int = 1) -> list[tuple[np.ndarray, np.ndarray]]:
    """Varied poses (tilts up to 40 degrees, 0.33-0.6 m away) with the whole sheet inside the image."""
    rng = np.random.default_rng(seed)
    paper = np.array([[-2, -2, 0], [COLS + 1, -2, 0], [COLS + 1, ROWS + 1, 0], [-2, ROWS + 1, 0]], float) * SQ
    centre = np.array([(COLS - 1) / 2, (ROWS - 1) / 2, 0]) * SQ
    out = []
    while len(out) < n:
        ax, ay = np.radians(rng.uniform(-40, 40, 2))
        az = np.radians(rng.uniform(-20, 20))
        r = (cv2.Rodrigues(np.array([ax, 0.0, 0.0]))[0] @ cv2.Rodrigues(np.array([0.0, ay, 0.0]))[0]
             @ cv2.Rodrigues(np.array([0.0, 0.0, az]))[0])
        z = rng.uniform(0.33, 0.6)
        t = np.array([rng.uniform(-0.24, 0.24) * z, rng.uniform(-0.18, 0.18) * z, z]) - r @ centre
        rvec = cv2.Rodrigues(r)[0].ravel()
        pp = cv2.projectPoints(paper, rvec, t, K_TRUE, D_TRUE)[0].reshape(-1, 2)
        if pp.min() >= 4 and pp[:, 0].max() <= W - 5 and pp[:, 1].max() <= H - 5:
            out.append((rvec, t))
    return out


@pytest.fixture(scope="module")
def views() -> list[tuple[str, np.ndarray]]:
    rays = _ray_map()
    rng = np.random.default_rng(0)
    return [(f"view{i:02d}.png", _render(rays, r, t, rng)) for i, (r, t) in enumerate(_poses(15))]


@pytest.fixture(scope="module")
def view_files(views, tmp_path_factory) -> list[str]:
    folder = tmp_path_factory.mktemp("calib")
    names = []
    for name, img in views:
        cv2.imwrite(str(folder / name), img)
        names.append(str(folder / name))
    return names


def test_recovers_known_camera(views):
    cal = calibrate(views, Board(COLS, ROWS, SQ))
    assert len(cal.used) == len(views)
    assert cal.image_size == (W, H)
    assert abs(cal.fx / K_TRUE[0, 0] - 1) <= 0.005
    assert abs(cal.fy / K_TRUE[1, 1] - 1) <= 0.005
    assert abs(cal.cx - K_TRUE[0, 2]) <= 3 and abs(cal.cy - K_TRUE[1, 2]) <= 3
    assert cal.rms <= 0.3
    assert abs(cal.dist_coeffs[0] - D_TRUE[0]) <= 0.03  # k1 found, sign and size


def test_view_that_does_not_fit_is_left_out(views):
    """A board bent by a few pixels of wobble is found, but does not fit a pinhole camera: left out."""
    img = views[3][1]
    yy, xx = np.indices(img.shape).astype(np.float32)
    wobbly = cv2.remap(img, xx + 3 * np.sin(yy / 25), yy + 3 * np.sin(xx / 31), cv2.INTER_LINEAR)
    cal = calibrate(views[:8] + [("wobbly.png", wobbly)], Board(COLS, ROWS, SQ))
    assert cal.rejected == ("wobbly.png",) and "wobbly.png" not in cal.used and len(cal.used) == 8
    assert cal.rms <= 0.3 and abs(cal.fx / K_TRUE[0, 0] - 1) <= 0.005


def test_large_photo_searched_small_refined_full(views):
    img = views[0][1]
    board = Board(COLS, ROWS, SQ)
    small = find_corners(img, board)
    big = find_corners(cv2.resize(img, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC), board, max_side=640)
    assert small is not None and big is not None
    assert np.abs((big + 0.5) / 3 - 0.5 - small).max() <= 0.4  # same corners, in full-size pixels


def test_calibrated_bearings_match_truth(views):
    """Pixel -> bearing through the calibrated profile vs the true camera: within 1 degree everywhere."""
    prof = calibrate(views, Board(COLS, ROWS, SQ)).to_profile()
    truth = CameraProfile((W, H), K_TRUE, D_TRUE)
    gx, gy = np.meshgrid(np.linspace(10, W - 10, 17), np.linspace(10, H - 10, 13))
    px = np.stack([gx.ravel(), gy.ravel()], 1)
    b_cal, e_cal = prof.bearing_elevation(px)
    b_true, e_true = truth.bearing_elevation(px)
    assert np.abs(b_cal - b_true).max() <= 1.0
    assert np.abs(e_cal - e_true).max() <= 1.0


def test_cli_json_writes_loadable_profile(view_files, tmp_path, capsys):
    out = tmp_path / "cam.yaml"
    rc = main(["calibrate", *view_files, "--grid", "9x6", "--square", "0.025", "--out", str(out), "--json"])
    assert rc == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert set(obj) == {"image_size", "fx", "fy", "cx", "cy", "dist", "rms", "images_used", "out"}
    assert obj["image_size"] == [W, H] and obj["images_used"] == len(view_files) and obj["out"] == str(out)
    assert len(obj["dist"]) == 5 and obj["rms"] <= 0.3
    prof = load_profile(out)
    assert prof.image_size == (W, H)
    assert prof.fx == pytest.approx(obj["fx"], abs=1e-3)
    assert abs(prof.fx / K_TRUE[0, 0] - 1) <= 0.005
    assert prof.dist_coeffs.shape == (5,)
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_cli_human_output(view_files, tmp_path, capsys):
    out = tmp_path / "cam.yml"
    assert main(["calibrate", *view_files[:5], "--grid", "9x6", "--square", "0.025", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "from 5 of 5 image(s)" in text and str(out) in text and out.is_file()


@pytest.mark.parametrize("grid, needle", [
    ("9-6", "--grid must be COLSxROWS like 9x6, got '9-6'"),
    ("9x", "--grid must be COLSxROWS"),
    ("axb", "--grid must be COLSxROWS"),
    ("1x6", "at least 2x2"),
])
def test_cli_bad_grid(view_files, tmp_path, capsys, grid, needle):
    out = tmp_path / "cam.yaml"
    rc = main(["calibrate", *view_files[:3], "--grid", grid, "--square", "0.025", "--out", str(out)])
    assert_one_line_error(capsys, rc, needle)
    assert not out.exists()


@pytest.mark.parametrize("square", ["abc", "0", "-0.02", "25", "nan"])
def test_cli_bad_square(view_files, tmp_path, capsys, square):
    out = tmp_path / "cam.yaml"
    rc = main(["calibrate", *view_files[:3], "--grid", "9x6", "--square", square, "--out", str(out)])
    assert_one_line_error(capsys, rc, "--square")
    assert not out.exists()


def test_cli_too_few_boards(view_files, tmp_path, capsys):
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((H, W), 128, np.uint8))
    out = tmp_path / "cam.yaml"
    rc = main(["calibrate", *view_files[:2], str(blank), "--grid", "9x6", "--square", "0.025", "--out", str(out)])
    assert_one_line_error(capsys, rc, "in 2 of 3 image(s)", "at least 3")
    assert not out.exists()


def test_cli_wrong_grid_finds_nothing(view_files, tmp_path, capsys):
    out = tmp_path / "cam.yaml"
    rc = main(["calibrate", *view_files[:4], "--grid", "12x4", "--square", "0.025", "--out", str(out)])
    assert_one_line_error(capsys, rc, "in 0 of 4 image(s)", "--grid counts inner corners")
    assert not out.exists()


def test_cli_unreadable_image(view_files, tmp_path, capsys):
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not a jpeg")
    out = tmp_path / "cam.yaml"
    rc = main(["calibrate", *view_files[:4], str(junk), "--grid", "9x6", "--square", "0.025", "--out", str(out)])
    assert_one_line_error(capsys, rc, "junk.jpg")
    rc = main(["calibrate", str(tmp_path / "missing.png"), "--grid", "9x6", "--square", "0.025", "--out", str(out)])
    assert_one_line_error(capsys, rc, "missing.png")
    assert not out.exists()


def test_cli_mixed_sizes(view_files, tmp_path, capsys):
    small = tmp_path / "small.png"
    cv2.imwrite(str(small), cv2.resize(cv2.imread(view_files[0]), (320, 240)))
    out = tmp_path / "cam.yaml"
    rc = main(["calibrate", *view_files[:3], str(small), "--grid", "9x6", "--square", "0.025", "--out", str(out)])
    assert_one_line_error(capsys, rc, "one resolution")
    assert not out.exists()


def test_cli_bad_out_suffix(view_files, tmp_path, capsys):
    rc = main(["calibrate", *view_files[:3], "--grid", "9x6", "--square", "0.025", "--out", str(tmp_path / "c.txt")])
    assert_one_line_error(capsys, rc, "--out must end in")


def test_cli_no_images(capsys):
    rc = main(["calibrate", "--grid", "9x6", "--square", "0.025"])
    assert_one_line_error(capsys, rc, "IMAGES")


def test_make_target_size_and_detectable():
    target = make_target(Board(9, 6, 0.025), dpi=300)
    assert target.square_px == 295  # 25 mm at 300 DPI = 295.3 px
    assert target.square_mm == pytest.approx(24.977, abs=1e-3)
    assert target.size_mm[0] == pytest.approx(11 * 24.977, abs=0.1)  # 10 squares + 2 half-square margins
    assert max(target.size_mm) <= 297 and min(target.size_mm) <= 210  # fits A4 landscape
    small = cv2.resize(target.image, None, fx=0.15, fy=0.15, interpolation=cv2.INTER_AREA)
    assert cv2.findChessboardCorners(small, (9, 6))[0]


def test_cli_make_target(tmp_path, capsys):
    png = tmp_path / "board.png"
    rc = main(["calibrate", "--grid", "7x5", "--square", "0.03", "--make-target", str(png), "--json"])
    assert rc == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["target"] == str(png) and obj["dpi"] == 300
    assert obj["square_mm"] == pytest.approx(30.0, abs=0.1)
    img = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE)
    assert img.shape == (7 * 354, 9 * 354)  # (5+1) and (7+1) squares + 2 half-square margins, 354 px = 30 mm
    data = png.read_bytes()
    assert b"pHYs" in data[:100]  # physical resolution recorded, so it prints to scale
    rc = main(["calibrate", "--grid", "7x5", "--square", "0.03", "--make-target", str(png)])
    text = capsys.readouterr().out
    assert rc == 0 and "29.97 mm" in text and "A4" not in text  # 270 x 210 mm: fits A4 landscape
    rc = main(["calibrate", "--grid", "7x5", "--square", "0.04", "--make-target", str(png)])
    text = capsys.readouterr().out
    assert rc == 0 and "39.96 mm" in text and "larger than A4" in text


@pytest.mark.parametrize("text, expected", [("9x6", (9, 6)), ("7X5", (7, 5)), (" 11 x 8 ", (11, 8))])
def test_parse_grid_ok(text, expected):
    assert parse_grid(text) == expected


@pytest.mark.parametrize("text", ["9-6", "9", "", "x6", "9x6x2", "0x6", "9.5x6"])
def test_parse_grid_bad(text):
    with pytest.raises(InputError):
        parse_grid(text)


def test_parse_square():
    assert parse_square("0.025") == 0.025
    with pytest.raises(InputError):
        parse_square("inf")
