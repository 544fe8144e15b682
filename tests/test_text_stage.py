"""Text stage for the live loop: signs said once, translations painted in place, point-to-read."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from glasses.audio.narrator import Priority
from glasses.camera.types import Frame
from glasses.outputs.overlay import OverlayScene, render
from glasses.perception.text import TextLine, load_text_reader
from glasses.text_stage import TextStage, line_at_finger
from glasses.translate.phrasebook import load_phrasebook

ROOT = Path(__file__).resolve().parents[1]
SIGNS = ROOT / "models/images/signs"


@pytest.fixture(scope="module")
def reader():
    with load_text_reader() as r:
        yield r


def frame(name, index=0):
    return Frame(index, 0.0, 0.0, cv2.imread(str(SIGNS / name)))


def box(text, x0, y0, x1, y1):
    return TextLine(text, 0.9, ((x0, y0), (x1, y0), (x1, y1), (x0, y1)))


LINES = [box("EXIT", 100, 100, 200, 130), box("PUSH", 100, 300, 200, 330)]


@pytest.mark.parametrize("tip, want", [
    ((150, 115), "EXIT"),  # on the line
    ((150, 150), "EXIT"),  # just below it: the line beyond the fingertip
    ((150, 340), "PUSH"),
    ((150, 250), None),  # too far below anything
    ((400, 150), None),  # off to the side
])
def test_line_at_finger(tip, want):
    line = line_at_finger(LINES, tip)
    assert (line.text if line else None) == want


def test_stage_translates_in_place_and_says_a_sign_once(reader):
    stage = TextStage(reader, load_phrasebook(), target="en", lang="en")
    out = stage(frame("demo_noparking_0260.jpg"), t=1.0)
    assert [(q.text, q.fill) for q in out.quads] == [("no parking", True)]
    (u,) = out.utterances
    assert u.text == "Sign: no parking" and u.priority == Priority.AMBIENT
    assert out.events[0]["lines"] == [{"text": "NO PARKING", "translation": "no parking"}]
    assert stage(frame("demo_noparking_0260.jpg"), t=5.0).utterances == ()  # not again so soon
    said = stage.command("read", "", 6.0)
    assert [x.text for x in said] == ["no parking"] and said[0].priority == Priority.REQUESTED
    scene = OverlayScene(quads=out.quads)
    img = frame("demo_noparking_0260.jpg").image
    assert render(img, scene, (img.shape[1], img.shape[0])).shape == img.shape


def test_stage_points_to_read(reader):
    stage = TextStage(reader, pointer=lambda image: (350.0, 345.0))  # just below "PARKING"
    out = stage(frame("demo_noparking_0260.jpg"), t=0.0)
    assert out.utterances[0].priority == Priority.REQUESTED and out.utterances[0].text == "NO PARKING"
    assert out.events[-1]["type"] == "point" and out.events[-1]["text"] == "PARKING"


def test_stage_rejects_bad_languages(reader):
    with pytest.raises(ValueError, match="lang must be one of en, ko"):
        TextStage(reader, lang="ja")
    with pytest.raises(Exception, match="--to must be one of"):
        TextStage(reader, load_phrasebook(), target="xx")


def test_translation_painted_in_any_script():
    from glasses.outputs.overlay import QuadLabel
    from glasses.outputs.sign_text import find_font, paint_signs

    font = find_font()
    if font is None:
        pytest.skip("no CJK font installed (apt-get install fonts-wqy-microhei)")
    img = np.full((200, 300, 3), 90, np.uint8)
    quad = ((50.0, 60.0), (250.0, 40.0), (255.0, 120.0), (55.0, 140.0))
    cv2.fillPoly(img, [np.int32(quad)], (230, 230, 230))  # a light sign on a dark wall
    canvas = img.copy()
    assert paint_signs(canvas, [QuadLabel(quad, "주차 금지", fill=True), QuadLabel(quad, "x")], font, source=img) == 1
    changed = np.any(canvas != img, axis=2)
    inside = np.zeros((200, 300), np.uint8)
    cv2.fillPoly(inside, [np.int32(quad)], 1)
    assert changed.sum() > 300  # glyph strokes were drawn ...
    assert not changed[inside == 0].any()  # ... only inside the sign
    assert canvas[changed].mean() < 150  # dark ink on the light plate


def test_signs_are_re_read_only_when_the_view_changes():
    from glasses.camera.types import Frame
    from glasses.perception.text import TextLines
    from glasses.text_stage import TextStage

    calls = []

    def reader(image):
        calls.append(1)
        return TextLines(items=(), image_size=(image.shape[1], image.shape[0]), elapsed_ms=1.0)

    stage = TextStage(reader)
    still = np.full((120, 160, 3), 100, np.uint8)
    still[40:80, 50:110] = 230  # a bright sign
    for i in range(5):  # a still view, with a little sensor noise
        noisy = np.clip(still.astype(int) + (i % 2), 0, 255).astype(np.uint8)
        stage(Frame(i, float(i), i / 10, noisy), i / 10)
    assert stage.reads == 1 and len(calls) == 1
    moved = np.roll(still, 40, axis=1)  # the head turned
    stage(Frame(5, 5.0, 0.5, moved), 0.5)
    assert stage.reads == 2


@pytest.mark.parametrize("text, lang, ok", [
    ("EXIT", "en", True), ("B2", "en", True), ("卡", "en", False), ("?", "en", False), ("A", "en", False),
    ("출구", "ko", True), ("出口", "ko", False), ("Café", "en", True),
])
def test_only_speakable_sign_text_is_said(text, lang, ok):
    from glasses.text_stage import speakable

    assert speakable(text, lang) is ok
