"""Text reader: geometry and decoding tables, a fake-session run, and golden readings of real signs
with the real PP-OCRv6 models."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from glasses.perception.text import (
    TextLine, TextLines, TextReader, TextReaderConfig, ctc_decode, det_size, load_text_reader,
    oriented_quad, postprocess_det, reading_order,
)

ROOT = Path(__file__).resolve().parents[1]
SIGNS = ROOT / "models/images/signs"


@pytest.fixture(scope="module")
def reader():
    with load_text_reader() as r:
        yield r


def truth() -> dict[str, list[str]]:
    rows = {}
    for line in (SIGNS / "truth.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, text = line.split("\t")
            rows[name] = text.split(" | ")
    return rows


# ---------------------------------------------------------------- tables


@pytest.mark.parametrize("size, want", [
    ((640, 480), (640, 480)),
    ((1920, 1080), (960, 544)),
    ((100, 50), (320, 160)),  # small images are enlarged
    ((4000, 30), (960, 32)),  # never below 32
])
def test_det_size(size, want):
    assert det_size(*size, TextReaderConfig()) == want


@pytest.mark.parametrize("angle, size, first_edge_dir", [
    (0, (100, 20), (1, 0)),
    (90, (20, 100), (1, 0)),  # same rectangle described the other way round
    (30, (100, 20), (np.cos(np.radians(30)), np.sin(np.radians(30)))),
    (-30, (100, 20), (np.cos(np.radians(-30)), np.sin(np.radians(-30)))),
    (90, (100, 20), (0, -1)),  # vertical text reads bottom to top
])
def test_oriented_quad_reads_along_the_long_side(angle, size, first_edge_dir):
    q = oriented_quad((200, 200), size, angle)
    top = q[1] - q[0]
    assert np.linalg.norm(top) == pytest.approx(max(size), rel=1e-4)
    assert top / np.linalg.norm(top) == pytest.approx(np.array(first_edge_dir), abs=1e-4)
    down = q[3] - q[0]  # "below" the text is a quarter turn clockwise on screen
    assert np.cross(top, down) > 0


def test_ctc_decode_collapses_repeats_and_blanks():
    keys = ("A", "B", "C")
    seq = [1, 1, 0, 1, 2, 2, 4, 3, 0]  # A A _ A B B space C _ -> "AAB C"
    probs = np.full((1, len(seq), 5), 0.01, np.float32)
    for t, c in enumerate(seq):
        probs[0, t, c] = 0.9
    assert ctc_decode(probs, keys) == [("AAB C", pytest.approx(0.9))]
    with pytest.raises(ValueError, match="keys file gives 2"):
        ctc_decode(probs, keys[:2])


def line(text, x, y, w=40, h=10):
    return TextLine(text, 0.9, ((x, y), (x + w, y), (x + w, y + h), (x, y + h)))


def test_reading_order_rows_then_left_to_right():
    lines = [line("right", 100, 2), line("second", 0, 30), line("left", 0, 0), line("third", 50, 60)]
    assert [l.text for l in reading_order(lines)] == ["left", "right", "second", "third"]


@pytest.mark.parametrize("kwargs, match", [
    ({"quad": ((0, 0), (1, 0), (1, 1))}, "4 \\(x, y\\) points"),
    ({"score": 1.5}, "score must be in"),
])
def test_text_line_is_validated(kwargs, match):
    base = {"text": "x", "score": 0.5, "quad": ((0, 0), (1, 0), (1, 1), (0, 1))}
    with pytest.raises(ValueError, match=match):
        TextLine(**{**base, **kwargs})


@pytest.mark.parametrize("kwargs, match", [
    ({"det_limit": 1000}, "multiple of 32"), ({"det_thresh": 1.0}, "det_thresh"), ({"rec_batch": 0}, "rec_batch"),
    ({"zoom_below": -1}, "zoom_below"),
])
def test_config_is_validated(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TextReaderConfig(**kwargs)


def test_postprocess_finds_a_rotated_box():
    prob = np.zeros((200, 300), np.float32)
    rect = ((150, 100), (160, 30), 20.0)
    cv2.fillPoly(prob, [cv2.boxPoints(rect).astype(np.int32)], 0.9)
    (quad, score), = postprocess_det(prob, TextReaderConfig(), (600, 400))  # image twice the map size
    assert 0.75 < score <= 0.9
    top = quad[1] - quad[0]
    assert np.degrees(np.arctan2(top[1], top[0])) == pytest.approx(20, abs=2)
    assert np.linalg.norm(top) > 2 * 160  # unclipped beyond the shrunk text kernel


class FakeSession:
    input_name = "x"
    provider = "fake"

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, feeds):
        return [self.fn(feeds["x"])]


def test_reader_with_fake_sessions():
    def det(x):
        prob = np.zeros((1, 1) + x.shape[2:], np.float32)
        prob[0, 0, 40:60, 20:200] = 0.95
        prob[0, 0, 100:120, 20:120] = 0.95
        return prob

    def rec(x):  # every crop reads "AB"
        out = np.full((x.shape[0], x.shape[3] // 8, 5), 0.01, np.float32)
        out[:, :, 0] = 0.9
        out[:, 1, 1] = out[:, 3, 2] = 0.99
        return out

    result = TextReader(FakeSession(det), FakeSession(rec), ("A", "B", "C"))(np.zeros((320, 320, 3), np.uint8))
    assert isinstance(result, TextLines) and result.image_size == (320, 320)
    assert result.texts() == ["AB", "AB"]
    assert result.items[0].center[1] < result.items[1].center[1]
    assert result.elapsed_ms > 0


# ---------------------------------------------------------------- golden, real models


SIGN_IMAGES = [n for n in truth() if not n.startswith(("imageText", "small_"))]


@pytest.mark.parametrize("name", SIGN_IMAGES)
def test_reads_real_signs_exactly(reader, name):
    result = reader(cv2.imread(str(SIGNS / name)))
    assert result.texts() == truth()[name]
    assert all(l.score > 0.9 for l in result)


def test_reads_a_printed_page(reader):
    page = cv2.imread(str(SIGNS / "imageTextN.png"))[:60]
    assert reader(page).texts() == truth()["imageTextN.png"]


def test_rotated_sign_quads_follow_the_text(reader):
    result = reader(cv2.imread(str(SIGNS / "wall_rotated_push.jpg")))
    assert result.texts() == ["PUSH", "TO OPEN"]
    for l in result:
        (x0, y0), (x1, y1) = l.quad[0], l.quad[1]
        assert -25 < np.degrees(np.arctan2(y1 - y0, x1 - x0)) < -10  # the sign is turned ~17 degrees


def test_no_text_gives_no_lines(reader):
    result = reader(cv2.imread(str(ROOT / "models/images/bench/apple.jpg")))
    assert len(result) == 0 and result.elapsed_ms > 0


def test_upside_down_sign_is_read_and_its_quad_starts_at_the_text_start(reader):
    img = cv2.imread(str(SIGNS / "wall_no_smoking.jpg"))[::-1, ::-1].copy()
    (line,) = reader(img).items
    assert line.text == "NO SMOKING"
    (x0, _), (x1, _) = line.quad[0], line.quad[1]
    assert x1 < x0  # reads right to left across the image: the sign is upside down


def test_small_text_makes_the_detector_look_again_closer(reader):
    img = cv2.imread(str(SIGNS / "small_box_in_scene.jpg"))
    assert "PAN DUCALE" in reader(img).texts()  # found only at the larger detector size
    once = TextReader(reader.det, reader.rec, reader.keys, TextReaderConfig(zoom_below=0))
    assert "PAN DUCALE" not in once(img).texts()
