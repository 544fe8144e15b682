"""glasses detect through main(argv): the contract's JSON, human text, and bad input."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from glasses.cli import main

ROOT = Path(__file__).resolve().parents[1]
MESSI = str(ROOT / "models/images/bench/messi5.jpg")
VTEST = str(ROOT / "models/images/bench/vtest_0300.jpg")
DETECTION_KEYS = {"label", "score", "box", "bearing_deg", "clock", "distance_m"}


def run_json(capsys, *args):
    code = main(["detect", "--json", *args])
    out = capsys.readouterr()
    return code, [json.loads(line) for line in out.out.splitlines()], out.err


def test_json_contract(capsys):
    code, objs, _ = run_json(capsys, MESSI, VTEST)
    assert code == 0 and len(objs) == 2
    for obj in objs:
        assert set(obj) == {"image", "width", "height", "ms", "precision", "detections"}
        assert obj["precision"] == "int8" and obj["ms"] > 0
        for d in obj["detections"]:
            assert set(d) == DETECTION_KEYS
            assert 1 <= d["clock"] <= 12 and len(d["box"]) == 4
    vtest = objs[1]
    assert (vtest["width"], vtest["height"]) == (640, 480)
    people = [d for d in vtest["detections"] if d["label"] == "person"]
    assert len(people) == 6
    # the people stand 12-17 m from the camera (1.7 m tall, 60-70 px boxes, 65-degree lens)
    assert all(8 < d["distance_m"] < 25 for d in people)
    # the man at x~497 of 640 is right of centre: 1 o'clock; the one at x~168 is left: 11
    by_x = sorted(people, key=lambda d: d["box"][0])
    assert by_x[0]["clock"] == 11 and by_x[-1]["clock"] == 1
    assert by_x[0]["bearing_deg"] < 0 < by_x[-1]["bearing_deg"]


def test_fp32_and_text_output(capsys):
    assert main(["detect", "--precision", "fp32", MESSI]) == 0
    out = capsys.readouterr().out
    assert "(fp32)" in out and "person" in out and "o'clock" in out


def test_distance_null_for_cut_or_unsized(capsys):
    _, (obj,), _ = run_json(capsys, MESSI)
    ball = next(d for d in obj["detections"] if d["label"] == "sports ball")
    assert ball["distance_m"] is None  # no typical size for a ball


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "no such file"),
    (lambda p: p.write_text("hello"), "not an image"),
    (lambda p: p.write_bytes(b""), "file is empty"),
    (lambda p: cv2.imwrite(str(p), np.zeros((1, 1, 3), np.uint8)), "1x1"),
])
def test_bad_input_one_line_error(tmp_path, capsys, make, message):
    path = tmp_path / "input.png"
    make(path)
    code = main(["detect", str(path)])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert len(err.splitlines()) == 1 and message in err and "Traceback" not in err


def test_one_bad_file_does_not_stop_the_others(tmp_path, capsys):
    code, objs, err = run_json(capsys, str(tmp_path / "missing.jpg"), MESSI)
    assert code == 1 and len(objs) == 1 and "missing.jpg: no such file" in err


@pytest.mark.parametrize("make", [
    lambda: cv2.cvtColor(cv2.imread(VTEST), cv2.COLOR_BGR2GRAY),
    lambda: (cv2.imread(VTEST).astype(np.uint16) * 257),
    lambda: np.zeros((2, 2, 3), np.uint8),
])
def test_unusual_images_work(tmp_path, capsys, make):
    path = tmp_path / "unusual.png"
    cv2.imwrite(str(path), make())
    code, (obj,), _ = run_json(capsys, str(path))
    assert code == 0 and obj["width"] > 0


def test_gray_and_16bit_still_find_the_people(tmp_path, capsys):
    for img in (cv2.cvtColor(cv2.imread(VTEST), cv2.COLOR_BGR2GRAY), cv2.imread(VTEST).astype(np.uint16) * 257):
        path = tmp_path / "x.png"
        cv2.imwrite(str(path), img)
        _, (obj,), _ = run_json(capsys, str(path))
        assert sum(d["label"] == "person" for d in obj["detections"]) >= 5


def test_very_large_image(tmp_path, capsys):
    img = cv2.resize(cv2.imread(VTEST), (6400, 4800), interpolation=cv2.INTER_LINEAR)  # 31 MP
    path = tmp_path / "large.jpg"
    cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, 80])
    code, (obj,), _ = run_json(capsys, str(path))
    assert code == 0 and (obj["width"], obj["height"]) == (6400, 4800)
    assert sum(d["label"] == "person" for d in obj["detections"]) >= 5


@pytest.mark.parametrize("argv, message", [
    (["detect", MESSI, "--precision", "int4"], "invalid choice"),
    (["detect", MESSI, "--threads", "0"], "whole number >= 1"),
    (["detect"], "required"),
])
def test_bad_flags(capsys, argv, message):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2 and message in capsys.readouterr().err


def test_bad_profile(tmp_path, capsys):
    bad = tmp_path / "p.yaml"
    bad.write_text("%YAML:1.0\n---\nimage_width: 640\n")
    assert main(["detect", "--camera", str(bad), MESSI]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "lacks 'image_height'" in err


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "detect" in capsys.readouterr().out
