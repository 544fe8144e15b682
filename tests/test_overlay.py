"""The overlay renderer: geometry and pixels, both display modes; the window without a display."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from glasses.outputs import overlay
from glasses.outputs.overlay import (Arrow, BoxLabel, Display, OverlayScene, QuadLabel, Style, arrow_points,
                                     ascii_text, display_problem, quad_colours, render)

W, H = 640, 480


def grey(w: int = W, h: int = H, value: int = 128) -> np.ndarray:
    return np.full((h, w, 3), value, np.uint8)


def changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.any(a != b, axis=2)


def test_video_mode_draws_on_a_copy_and_keeps_the_image():
    img = grey()
    before = img.copy()
    out = render(img, OverlayScene(boxes=(BoxLabel((100, 100, 300, 300), "chair"),)), (W, H))
    assert np.array_equal(img, before)  # the camera frame is not touched
    assert out.shape == (H, W, 3) and out.dtype == np.uint8
    assert changed(out, img).any()


def test_box_outline_is_where_the_box_is():
    img = grey()
    out = render(img, OverlayScene(boxes=(BoxLabel((200, 150, 400, 350), "x"),)), (W, H))
    yellow = np.all(out == Style().label, axis=2)
    ys, xs = np.nonzero(yellow[140:, :])  # below the label plate
    ys = ys + 140
    # the outline's own colour lies on the box edges, within the line thickness
    assert abs(xs.min() - 200) <= 3 and abs(xs.max() - 400) <= 3
    assert abs(ys.max() - 350) <= 3
    # inside the box, away from the edges and the label, nothing changed
    assert not changed(out[200:330, 220:380], img[200:330, 220:380]).any()
    # far outside the box, nothing changed
    assert not changed(out[400:, :150], img[400:, :150]).any()


def test_boxes_scale_from_the_frame_size_to_the_output_size():
    small = grey(320, 240)
    out = render(small, OverlayScene(boxes=(BoxLabel((100, 75, 200, 150), "x"),)), (640, 480))
    yellow = np.all(out == Style().label, axis=2)
    ys, xs = np.nonzero(yellow)
    assert out.shape == (480, 640, 3)
    assert abs(xs.max() - 400) <= 4 and abs(ys.max() - 300) <= 4


def test_optical_mode_is_black_outside_the_overlays():
    img = grey(value=200)
    scene = OverlayScene(boxes=(BoxLabel((200, 150, 400, 350), "door"),))
    out = render(img, scene, (W, H), mode="optical")
    assert out[400:, :].max() == 0  # below the box
    assert out[:, :150].max() == 0  # left of the box
    assert out[200:300, 250:350].max() == 0  # inside the box: see-through
    assert out.max() > 0  # the box is there


def test_optical_mode_needs_no_image_and_draws_bigger_text():
    scene = OverlayScene(caption="Door ahead")
    opt = render(None, scene, (W, H), mode="optical")
    vid = render(None, scene, (W, H), mode="video")
    assert (opt > 0).any(axis=2).sum() > (vid != 0).any(axis=2).sum() * 1.3


def test_hazard_has_its_own_colour_and_is_thicker():
    img = grey()
    plain = render(img, OverlayScene(boxes=(BoxLabel((200, 150, 400, 350), "car"),)), (W, H))
    hazard = render(img, OverlayScene(boxes=(BoxLabel((200, 150, 400, 350), "car", hazard=True),)), (W, H))
    st = Style()
    assert st.hazard != st.label
    assert np.all(hazard == st.hazard, axis=2).sum() > np.all(plain == st.label, axis=2).sum()
    assert not np.all(plain == st.hazard, axis=2).any()
    # the left edge: count the outline's colour across one row
    row = 250
    assert np.all(hazard[row, 180:230] == st.hazard, axis=1).sum() > np.all(plain[row, 180:230] == st.label,
                                                                            axis=1).sum()


@pytest.mark.parametrize("box", [
    (0, 0, 50, 40),  # top-left corner: no room above
    (600, 440, 640, 480),  # bottom-right corner
    (-100, -100, 2000, 2000),  # bigger than the image
    (630, 0, 640, 10),
])
def test_text_is_never_outside_the_image(box):
    long = "a label far too long to fit in one line of this small image " * 3
    scene = OverlayScene(boxes=(BoxLabel(box, long),), status="status " * 20, caption="words " * 80)
    p_canvas = np.zeros((H, W, 3), np.uint8)
    painter = overlay._Painter(p_canvas, Style())
    placed = painter.place(long, box[0], box[1])
    assert placed is not None
    x0, y0, x1, y1 = placed.rect
    assert 0 <= x0 < x1 <= W and 0 <= y0 < y1 <= H
    out = render(None, scene, (W, H), mode="optical")  # and drawing it does not fail
    assert out.shape == (H, W, 3)


def test_label_plate_is_clamped_inside_and_readable_on_black():
    # a box at the right edge: its label plate is moved left so the whole text shows
    out = render(grey(), OverlayScene(boxes=(BoxLabel((600, 200, 640, 260), "wheelchair ramp"),)), (W, H))
    plate = np.all(out[150:200] == (0, 0, 0), axis=2)  # the dark plate above the box
    ys, xs = np.nonzero(plate)
    assert xs.size and xs.max() <= W - 1 and xs.min() < 600


def test_tiny_image_draws_no_text_rather_than_overflow():
    out = render(grey(20, 8), OverlayScene(caption="hello there", status="x"), (20, 8))
    assert out.shape == (8, 20, 3)


def test_filled_quad_changes_pixels_only_inside_the_quad():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 60, (H, W, 3), dtype=np.uint8)  # dark, noisy background
    quad = ((150, 120), (420, 100), (440, 260), (140, 300))
    sign = np.zeros((H, W), np.uint8)
    cv2.fillPoly(sign, [np.array(quad, np.int32)], 255)
    img[sign > 0] = (40, 160, 40)  # a green sign
    out = render(img, OverlayScene(quads=(QuadLabel(quad, "Sortie", fill=True),)), (W, H))
    diff = changed(out, img)
    inside = cv2.dilate(sign, np.ones((3, 3), np.uint8))
    assert diff.any()
    assert not (diff & (inside == 0)).any()
    # the text is light on the green sign (the green stays the background)
    region = out[sign > 0]
    assert (np.all(region == (40, 160, 40), axis=1)).mean() > 0.5
    assert (region.mean(axis=1) > 200).sum() > 50


def test_filled_quad_partly_outside_the_image():
    img = grey()
    quad = ((500, 400), (800, 400), (800, 600), (500, 600))
    out = render(img, OverlayScene(quads=(QuadLabel(quad, "EXIT", fill=True),)), (W, H))
    assert not changed(out[:395], img[:395]).any()
    assert not changed(out[:, :495], img[:, :495]).any()


def test_outlined_quad_and_its_label():
    img = grey()
    quad = ((100, 200), (300, 200), (300, 300), (100, 300))
    out = render(img, OverlayScene(quads=(QuadLabel(quad, "Platform 2"),)), (W, H))
    assert np.all(out == Style().quad, axis=2).any()
    assert not changed(out[220:280, 120:280], img[220:280, 120:280]).any()  # outline only


def test_quad_colours_background_is_the_larger_part():
    img = np.zeros((50, 50, 3), np.uint8)
    img[:] = (30, 30, 200)  # red sign
    img[20:25, 5:45] = (255, 255, 255)  # white letters
    bg, ink = quad_colours(img, np.full((50, 50), 255, np.uint8))
    assert bg == (30, 30, 200) and ink == (255, 255, 255)
    flat = np.full((10, 10, 3), 230, np.uint8)
    assert quad_colours(flat, np.full((10, 10), 255, np.uint8))[1] == (0, 0, 0)


@pytest.mark.parametrize("bearing, where", [
    (0, "top"), (90, "right"), (-90, "left"), (180, "bottom"), (45, "top-right"),
])
def test_arrow_points_toward_the_bearing(bearing, where):
    (tx, ty), (hx, hy) = arrow_points(bearing, (W, H))
    dx, dy = hx - tx, hy - ty
    if "top" in where:
        assert dy < 0 and hy < H / 2
    if "bottom" in where:
        assert dy > 0 and hy > H / 2
    if "right" in where:
        assert dx > 0 and hx > W / 2
    if "left" in where:
        assert dx < 0 and hx < W / 2
    assert 0 <= hx <= W and 0 <= hy <= H and 0 <= tx <= W and 0 <= ty <= H


def test_arrow_is_drawn_on_its_side():
    out = render(None, OverlayScene(arrows=(Arrow(90, "exit 6 m"),)), (W, H), mode="optical")
    green = np.all(out == Style().arrow, axis=2)
    assert green[:, W // 2 + 40:].sum() > green[:, : W // 2 - 40].sum() * 5


def test_status_and_caption_stay_readable_over_labels():
    scene = OverlayScene(boxes=(BoxLabel((0, 0, 200, 200), "person"),), status="12 fps",
                         caption="Person ahead, 12 o'clock.")
    out = render(grey(), scene, (W, H))
    assert np.all(out[H - 10:, W // 2 - 40:W // 2 + 40] != 128, axis=2).any()  # caption plate at the bottom


def test_accents_become_plain_letters():
    assert ascii_text("Café  à\nl'entrée") == "Cafe a l'entree"
    assert ascii_text("Exit 出口") == "Exit ??"
    assert ascii_text("출구 왼쪽") == ""  # mostly another script: nothing rather than "?? ??"


@pytest.mark.parametrize("kwargs, message", [
    (dict(box=(10, 10, 5, 20), text="x"), "x2 >= x1"),
    (dict(box=(1, 2, 3), text="x"), "4 finite"),
    (dict(box=(0, 0, float("nan"), 1), text="x"), "4 finite"),
])
def test_bad_boxes_say_what_is_wrong(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BoxLabel(**kwargs)


def test_bad_inputs_say_what_is_allowed():
    with pytest.raises(ValueError, match="corners"):
        QuadLabel(((0, 0), (1, 0), (1, 1)), "x")
    with pytest.raises(ValueError, match="video, optical"):
        render(None, OverlayScene(), (W, H), mode="hud")
    with pytest.raises(ValueError, match="size"):
        render(None, OverlayScene(), (0, H))
    with pytest.raises(ValueError, match="BoxLabel"):
        OverlayScene(boxes=("person",))
    assert QuadLabel(np.zeros((4, 2)), "x").quad == ((0.0, 0.0),) * 4


def test_gray_and_bgra_images_are_accepted():
    assert render(np.zeros((H, W), np.uint8), OverlayScene(), (W, H)).shape == (H, W, 3)
    assert render(np.zeros((H, W, 4), np.uint8), OverlayScene(), (W, H)).shape == (H, W, 3)


# --- the window: never a real one in tests -------------------------------------------------

@pytest.mark.parametrize("env, backend, expect", [
    ({}, "QT5", "DISPLAY and WAYLAND_DISPLAY are unset"),
    ({"WAYLAND_DISPLAY": "wayland-0"}, "QT5", "need X"),
    ({"DISPLAY": ":0"}, "", "no window support"),
    ({"DISPLAY": "unix:4242"}, "QT5", "cannot reach"),
])
def test_display_problem_says_why(env, backend, expect):
    problem = display_problem(env, "linux", backend)
    assert problem and expect in problem and "\n" not in problem


def test_display_problem_none_on_other_platforms_with_gui():
    assert display_problem({}, "darwin", "COCOA") is None


class FakeCv2Gui:
    def __init__(self, keys=(-1,), fail_on_show=False):
        self.keys = list(keys)
        self.shown = 0
        self.fail_on_show = fail_on_show
        self.destroyed = []

    def install(self, monkeypatch):
        monkeypatch.setattr(overlay.cv2, "namedWindow", lambda name, flags=0: None)
        monkeypatch.setattr(overlay.cv2, "moveWindow", lambda *a: None)
        monkeypatch.setattr(overlay.cv2, "setWindowProperty", lambda *a: None)
        monkeypatch.setattr(overlay.cv2, "imshow", self.imshow)
        monkeypatch.setattr(overlay.cv2, "waitKey", lambda delay=0: self.keys.pop(0) if self.keys else -1)
        monkeypatch.setattr(overlay.cv2, "getWindowProperty", lambda *a: 1.0)
        monkeypatch.setattr(overlay.cv2, "destroyWindow", self.destroyed.append)

    def imshow(self, name, frame):
        if self.fail_on_show:
            raise cv2.error("The function is not implemented")
        self.shown += 1


def test_display_without_a_display_is_a_quiet_no_op(monkeypatch):
    def no_window(*a, **k):
        raise AssertionError("a window call was made without a display")

    for name in ("namedWindow", "imshow", "waitKey"):
        monkeypatch.setattr(overlay.cv2, name, no_window)
    monkeypatch.setattr(overlay, "display_problem", lambda: "no window: no display")
    with Display("test") as d:
        assert d.show(np.zeros((10, 10, 3), np.uint8)) is None
        assert not d.available and d.error == "no window: no display"


def test_display_shows_frames_and_returns_keys(monkeypatch):
    gui = FakeCv2Gui(keys=[-1, ord("q") | 0x100000])
    gui.install(monkeypatch)
    monkeypatch.setattr(overlay, "display_problem", lambda: None)
    with Display("test", fullscreen=True, position=(1920, 0)) as d:
        assert d.available
        frame = np.zeros((10, 10, 3), np.uint8)
        assert d.show(frame) is None
        assert d.show(frame) == ord("q")
    assert gui.shown == 2 and gui.destroyed == ["test"]


def test_display_error_while_running_disables_it(monkeypatch):
    gui = FakeCv2Gui(fail_on_show=True)
    gui.install(monkeypatch)
    monkeypatch.setattr(overlay, "display_problem", lambda: None)
    with Display("test") as d:
        assert d.show(np.zeros((10, 10, 3), np.uint8)) is None
        assert not d.available and "not implemented" in d.error
        assert d.show(np.zeros((10, 10, 3), np.uint8)) is None  # and stays off, quietly


def test_display_disabled_never_touches_the_gui(monkeypatch):
    monkeypatch.setattr(overlay, "display_problem", lambda: pytest.fail("checked a display"))
    with Display(enabled=False) as d:
        assert d.show(np.zeros((4, 4, 3), np.uint8)) is None
