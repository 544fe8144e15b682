"""glasses read: the JSON contract, human output, translation and bad input."""

import json
import shlex
from pathlib import Path

import numpy as np
import cv2

from glasses.cli import main

ROOT = Path(__file__).resolve().parents[1]
SIGNS = ROOT / "models/images/signs"


def run(capsys, cmd):
    rc = main(shlex.split(cmd))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_json_contract_with_translation(capsys):
    rc, out, err = run(capsys, f"read {SIGNS}/demo_noparking_0260.jpg {SIGNS}/wall_platform.jpg --to ko --json")
    assert rc == 0
    a, b = [json.loads(l) for l in out.splitlines()]
    assert set(a) == {"image", "ms", "lines"} and a["ms"] > 0
    assert a["image"].endswith("demo_noparking_0260.jpg")
    for line in a["lines"] + b["lines"]:
        assert {"text", "score", "quad", "translation"} <= set(line)
        assert len(line["quad"]) == 4 and all(len(p) == 2 for p in line["quad"])
        assert 0 <= line["score"] <= 1
    assert [(l["text"], l["translation"], l.get("joined")) for l in a["lines"]] == [
        ("NO", "주차 금지", 2), ("PARKING", "주차 금지", 2)]
    assert [(l["text"], l["translation"]) for l in b["lines"]] == [("PLATFORM 2", "2번 승강장"), ("WAY OUT", "출구")]


def test_json_without_to_has_null_translations(capsys):
    rc, out, _ = run(capsys, f"read {SIGNS}/demo_exit_0200.jpg --json")
    line, = json.loads(out)["lines"]
    assert rc == 0 and line["text"] == "EXIT" and line["translation"] is None and "match" not in line


def test_untranslatable_line_is_null_with_flag(capsys):
    rc, out, _ = run(capsys, f"read {ROOT}/models/images/bench/messi5.jpg --to ja --json")
    line, = json.loads(out)["lines"]
    assert (line["text"], line["translation"], line["match"]) == ("unicef", None, "none")


def test_human_output(capsys):
    rc, out, _ = run(capsys, f"read {SIGNS}/wall_rotated_push.jpg --to fr")
    assert rc == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"{SIGNS}/wall_rotated_push.jpg: 2 line(s), ")
    assert "PUSH" in lines[1] and "-> poussez pour ouvrir" in lines[1] and "TO OPEN" in lines[2]


def test_no_text(capsys, tmp_path):
    blank = tmp_path / "wall.png"
    cv2.imwrite(str(blank), np.full((240, 320, 3), 180, np.uint8))
    rc, out, _ = run(capsys, f"read {blank} --json")
    assert rc == 0 and json.loads(out)["lines"] == []
    rc, out, _ = run(capsys, f"read {blank}")
    assert rc == 0 and out.strip().endswith(")") and "no text found" in out


def test_bad_language_is_one_line_listing_languages(capsys):
    rc, out, err = run(capsys, f"read {SIGNS}/demo_exit_0200.jpg --to klingon")
    assert rc == 1 and out == ""
    assert err.strip() == "glasses read: error: --to must be one of en, ko, ja, zh, es, fr, de, got 'klingon'"


def test_bad_and_huge_images_are_one_line_errors_the_rest_still_read(capsys, tmp_path):
    (tmp_path / "bad.jpg").write_bytes(b"not an image")
    huge = tmp_path / "huge.png"
    # a 12000x9000 (108 MP) image: refused by size before it is decoded into memory
    cv2.imwrite(str(huge), np.zeros((9000, 12000), np.uint8))
    rc, out, err = run(capsys, f"read {tmp_path}/missing.jpg {tmp_path}/bad.jpg {huge} {SIGNS}/demo_exit_0200.jpg --json")
    assert rc == 1
    assert len(err.strip().splitlines()) == 3
    assert "missing.jpg: no such file" in err
    assert json.loads(out)["lines"][0]["text"] == "EXIT"


def test_size_option(capsys):
    rc, out, _ = run(capsys, f"read {SIGNS}/small_box_in_scene.jpg --size 960 --json")
    assert rc == 0 and "PAN DUCALE" in [l["text"] for l in json.loads(out)["lines"]]
    try:
        main(["read", str(SIGNS / "demo_exit_0200.jpg"), "--size", "1000"])
    except SystemExit as e:
        assert e.code == 2
    assert "must be a multiple of 32 from 64 to 2048, like 960; got '1000'" in capsys.readouterr().err


def test_point_to_read_on_a_still_image_without_a_hand(capsys):
    from pathlib import Path

    from glasses.cli import main

    sign = Path(__file__).resolve().parents[1] / "models/images/signs/demo_exit_0200.jpg"
    assert main(["read", "--point", "--json", str(sign)]) == 0
    obj = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert obj["pointed"] == {"tip": None, "text": None}  # no hand in the photo: nothing pointed at
    assert [l["text"] for l in obj["lines"]] == ["EXIT"]
