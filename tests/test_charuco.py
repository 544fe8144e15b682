"""ChArUco calibration: boards rendered through a known distorted camera, many of them cut by the
image edge, must give the camera back; the printable board must be found and print to size."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from cli_checks import assert_one_line_error
from charuco_scene import D_TRUE, H, K_TRUE, SPEC, W, add_noise, board_texture, ray_map, render_clean, varied_poses

from glasses.cli import main
from glasses.errors import InputError
from glasses.spatial.calibrate import calibrate
from glasses.spatial.camera import load_profile
from glasses.spatial.charuco import CharucoSpec, make_charuco_target, parse_dictionary, parse_squares

CLI_BOARD = ["--board", "charuco", "--grid", "7x5", "--square", "0.03", "--marker", "0.022"]


@pytest.fixture(scope="module")
def views() -> list[tuple[str, np.ndarray]]:
    rays, tex = ray_map(), board_texture()
    rng = np.random.default_rng(0)
    return [(f"view{i:02d}.png", add_noise(render_clean(rays, r, t, tex), rng))
            for i, (r, t) in enumerate(varied_poses(20))]


@pytest.fixture(scope="module")
def view_files(views, tmp_path_factory) -> list[str]:
    folder = tmp_path_factory.mktemp("charuco")
    names = []
    for name, img in views:
        cv2.imwrite(str(folder / name), img)
        names.append(str(folder / name))
    return names


def test_partial_views_are_used(views):
    counts = [len(found[0]) for found in (SPEC.detect(img) for _, img in views) if found is not None]
    full = (SPEC.cols - 1) * (SPEC.rows - 1)
    assert len(counts) >= 12
    assert sum(c < full for c in counts) >= 5  # boards cut by the image edge still count
    assert min(counts) >= 6


def test_detected_corners_are_subpixel(views):
    _, img = views[1]
    found = SPEC.detect(img)
    assert found is not None
    obj, pts = found
    r, t = varied_poses(20)[1]
    truth = cv2.projectPoints(obj, r, t, K_TRUE, D_TRUE)[0].reshape(-1, 2)
    assert np.sqrt(np.mean(np.sum((pts - truth) ** 2, axis=1))) <= 0.25


def test_recovers_known_camera(views):
    cal = calibrate(views, SPEC)
    assert cal.image_size == (W, H)
    assert len(cal.used) >= 16
    assert abs(cal.fx / K_TRUE[0, 0] - 1) <= 0.005
    assert abs(cal.fy / K_TRUE[1, 1] - 1) <= 0.005
    assert abs(cal.cx - K_TRUE[0, 2]) <= 4 and abs(cal.cy - K_TRUE[1, 2]) <= 4
    assert cal.rms <= 0.3
    assert abs(cal.dist_coeffs[0] - D_TRUE[0]) <= 0.05


def test_cli_json_writes_loadable_profile(view_files, tmp_path, capsys):
    out = tmp_path / "cam.yaml"
    rc = main(["calibrate", *view_files, *CLI_BOARD, "--dictionary", "DICT_5X5_100", "--out", str(out), "--json"])
    assert rc == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert set(obj) == {"image_size", "fx", "fy", "cx", "cy", "dist", "rms", "images_used", "out"}
    assert obj["image_size"] == [W, H] and obj["rms"] <= 0.3 and obj["images_used"] >= 12
    prof = load_profile(out)
    assert abs(prof.fx / K_TRUE[0, 0] - 1) <= 0.005
    fs = cv2.FileStorage(str(out), cv2.FILE_STORAGE_READ)
    assert fs.getNode("calibration_board").string() == "charuco"
    assert fs.getNode("calibration_dictionary").string() == "DICT_5X5_100"
    assert fs.getNode("calibration_marker_m").real() == pytest.approx(0.022)
    fs.release()
    assert not list(tmp_path.glob(".*"))


def test_cli_human_output(view_files, tmp_path, capsys):
    out = tmp_path / "cam.yaml"
    assert main(["calibrate", *view_files[:6], *CLI_BOARD, "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "image(s)" in text and str(out) in text and out.is_file()


@pytest.mark.parametrize("extra, needle", [
    (["--board", "charuco", "--grid", "7x5", "--square", "0.03"], "needs --marker"),
    (["--board", "charuco", "--grid", "7x5", "--square", "0.03", "--marker", "0.03"], "less than --square"),
    (["--board", "charuco", "--grid", "7x5", "--square", "0.03", "--marker", "abc"], "--marker must be"),
    (["--board", "charuco", "--grid", "2x5", "--square", "0.03", "--marker", "0.02"], "at least 3x3"),
    (["--board", "charuco", "--grid", "7-5", "--square", "0.03", "--marker", "0.02"], "like 7x5"),
    ([*CLI_BOARD, "--dictionary", "DICT_9X9_1"], "--dictionary must be"),
    ([*CLI_BOARD, "--dictionary", "DICT_4X4_50", "--grid", "11x11"], "choose a larger dictionary"),
    (["--grid", "9x6", "--square", "0.025", "--marker", "0.02"], "for --board charuco"),
])
def test_cli_bad_options(view_files, tmp_path, capsys, extra, needle):
    out = tmp_path / "cam.yaml"
    rc = main(["calibrate", *view_files[:3], *extra, "--out", str(out)])
    assert_one_line_error(capsys, rc, needle)
    assert not out.exists()


def test_cli_wrong_dictionary_finds_nothing(view_files, tmp_path, capsys):
    out = tmp_path / "cam.yaml"
    rc = main(["calibrate", *view_files[:4], *CLI_BOARD, "--dictionary", "DICT_6X6_250", "--out", str(out)])
    assert_one_line_error(capsys, rc, "ChArUco board in 0 of 4 image(s)", "DICT_6X6_250")
    assert not out.exists()


def test_too_few_corners_is_not_a_view():
    """A sliver of board (under 6 corners) does not count."""
    spec = CharucoSpec(7, 5, 0.03, 0.022)
    target = make_charuco_target(spec, dpi=72)
    img = target.image
    sq = target.square_px
    margin = (img.shape[1] - 7 * sq) // 2
    sliver = img.copy()
    sliver[:, margin + 2 * sq + sq // 2:] = 255  # only the first two columns of squares remain
    assert spec.detect(img) is not None and len(spec.detect(img)[0]) == 24
    found = spec.detect(sliver)
    assert found is None or len(found[0]) >= 6


def test_make_target_size_and_detectable():
    spec = CharucoSpec(7, 5, 0.03, 0.022)
    target = make_charuco_target(spec, dpi=300)
    assert target.square_px == 354
    assert target.size_mm[0] == pytest.approx(8 * 29.972, abs=0.1)  # 7 squares + 2 half-square margins
    small = cv2.resize(target.image, None, fx=0.2, fy=0.2, interpolation=cv2.INTER_AREA)
    found = spec.detect(small)
    assert found is not None and len(found[0]) == 24


def test_cli_make_target(tmp_path, capsys):
    png = tmp_path / "charuco.png"
    rc = main(["calibrate", *CLI_BOARD, "--make-target", str(png), "--json"])
    assert rc == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["target"] == str(png) and obj["dpi"] == 300 and obj["dictionary"] == "DICT_5X5_100"
    assert obj["square_mm"] == pytest.approx(30.0, abs=0.1) and obj["marker_mm"] == pytest.approx(22.0, abs=0.1)
    img = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE)
    assert img.shape == (6 * 354, 8 * 354)
    assert b"pHYs" in png.read_bytes()[:100]
    rc = main(["calibrate", *CLI_BOARD, "--make-target", str(png)])
    text = capsys.readouterr().out
    assert rc == 0 and "29.97 mm" in text and "DICT_5X5_100" in text


@pytest.mark.parametrize("text, expected", [("7x5", (7, 5)), ("5X5", (5, 5))])
def test_parse_squares_ok(text, expected):
    assert parse_squares(text) == expected


@pytest.mark.parametrize("text", ["7-5", "2x5", "7x", "101x5"])
def test_parse_squares_bad(text):
    with pytest.raises(InputError):
        parse_squares(text)


@pytest.mark.parametrize("text, expected", [("DICT_5X5_100", "DICT_5X5_100"), ("dict_4x4_50", "DICT_4X4_50"),
                                            ("6x6_250", "DICT_6X6_250")])
def test_parse_dictionary(text, expected):
    assert parse_dictionary(text) == expected
