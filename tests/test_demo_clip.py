"""The bundled demo clip (models/demo/demo.mp4): what `glasses run` plays when there is no camera."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from glasses.camera import EndOfStream, open_source
from glasses.camera.sources import NO_CAMERA, demo_clip_path

CLIP = Path(__file__).resolve().parents[1] / "models" / "demo" / "demo.mp4"
VEHICLES = {"car", "truck", "bus"}


def test_the_clip_is_bundled_small_and_as_stated():
    assert demo_clip_path() == CLIP and CLIP.is_file()
    assert CLIP.stat().st_size <= 10 * 1024 * 1024
    cap = cv2.VideoCapture(str(CLIP))
    try:
        assert cap.isOpened()
        size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        fps = cap.get(cv2.CAP_PROP_FPS)
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        cap.release()
    assert size == (640, 480)
    assert 15 <= fps <= 30
    assert 10 <= count / fps <= 20


def test_no_camera_plays_the_demo_clip():
    with open_source(None, cameras=[], fast=True) as src:
        assert src.fallback_reason == NO_CAMERA
        assert Path(src.name) == CLIP and not src.is_live
        frames = 0
        with pytest.raises(EndOfStream):
            while True:
                assert src.read().image.shape == (480, 640, 3)
                frames += 1
    assert frames == round(18.0 * src.fps)


@pytest.fixture(scope="module")
def sampled_frames():
    """One frame per second of the clip, as the loop would get them."""
    with open_source(str(CLIP), fast=True) as src:
        step = round(src.fps)
        frames = []
        for k in range(round(18.0 * src.fps)):
            frame = src.read()
            if k % step == 0:
                frames.append(frame)
    return frames


def test_the_real_detector_finds_people_and_vehicles(sampled_frames, int8_detector):
    labels = [{d.label for d in int8_detector(f.image)} for f in sampled_frames]
    with_people = sum("person" in ls for ls in labels)
    with_vehicles = sum(bool(ls & VEHICLES) for ls in labels)
    # Measured when the clip was made: people in 12 of 18 one-second samples, vehicles in 5.
    assert with_people >= 8, labels
    assert with_vehicles >= 1, labels
