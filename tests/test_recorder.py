"""The video recorder: readable files, frame counts, finalised on errors, no temporary files left."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from glasses.errors import InputError
from glasses.outputs.recorder import VideoRecorder, codec_for

W, H = 160, 120


def frame(i: int, w: int = W, h: int = H) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    cv2.rectangle(img, (i * 4 % w, 10), (i * 4 % w + 30, 60), (0, 255, 255), -1)
    return img


def read_back(path) -> tuple[int, tuple[int, int]]:
    cap = cv2.VideoCapture(str(path))
    assert cap.isOpened(), f"cannot open {path}"
    n, size = 0, None
    while True:
        ok, img = cap.read()
        if not ok:
            break
        n += 1
        size = (img.shape[1], img.shape[0])
    cap.release()
    return n, size


@pytest.mark.parametrize("name", ["out.mp4", "out.avi", "OUT.MP4"])
def test_recording_is_readable_with_the_right_frames_and_size(tmp_path, name):
    path = tmp_path / name
    with VideoRecorder(path, fps=10, size=(W, H)) as rec:
        for i in range(12):
            rec.write(frame(i))
    assert rec.frames == 12
    assert read_back(path) == (12, (W, H))
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left


def test_frames_of_another_size_or_kind_are_converted(tmp_path):
    path = tmp_path / "mixed.avi"
    with VideoRecorder(path, fps=5, size=(W, H)) as rec:
        rec.write(frame(0, 320, 240))
        rec.write(np.zeros((50, 70), np.uint8))
        rec.write(np.zeros((H, W, 4), np.uint8))
    assert read_back(path) == (3, (W, H))


def test_an_exception_inside_the_with_block_still_finalises_the_file(tmp_path):
    path = tmp_path / "interrupted.mp4"
    with pytest.raises(KeyboardInterrupt):
        with VideoRecorder(path, fps=10, size=(W, H)) as rec:
            for i in range(5):
                rec.write(frame(i))
            raise KeyboardInterrupt  # Ctrl-C in the loop
    assert read_back(path) == (5, (W, H))
    assert [p.name for p in tmp_path.iterdir()] == ["interrupted.mp4"]


def test_the_final_name_appears_only_when_closed(tmp_path):
    path = tmp_path / "sub" / "rec.mp4"
    rec = VideoRecorder(path, fps=10, size=(W, H)).open()
    rec.write(frame(0))
    assert not path.exists()  # being written under a hidden temporary name
    hidden = [p.name for p in path.parent.iterdir()]
    assert len(hidden) == 1 and hidden[0].startswith(".rec.mp4.")
    assert rec.close() == path and path.exists()
    assert rec.close() == path  # twice is fine
    with pytest.raises(ValueError, match="closed"):
        rec.write(frame(1))


def test_an_existing_recording_is_replaced_whole(tmp_path):
    path = tmp_path / "rec.avi"
    path.write_bytes(b"old")
    with VideoRecorder(path, fps=10, size=(W, H)) as rec:
        rec.write(frame(0))
    assert read_back(path) == (1, (W, H))


def test_no_frames_leaves_no_file(tmp_path):
    with VideoRecorder(tmp_path / "empty.mp4", fps=10, size=(W, H)) as rec:
        pass
    assert rec.close() is None
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kwargs, message", [
    (dict(path="out.mkv", fps=10, size=(W, H)), "--record must end in .mp4 or .avi, got 'out.mkv'"),
    (dict(path="out", fps=10, size=(W, H)), "must end in .mp4 or .avi"),
    (dict(path="out.mp4", fps=0, size=(W, H)), "fps must be a number > 0"),
    (dict(path="out.mp4", fps="fast", size=(W, H)), "fps must be a number > 0, got 'fast'"),
    (dict(path="out.mp4", fps=float("nan"), size=(W, H)), "fps must be"),
    (dict(path="out.mp4", fps=10, size=(0, 10)), "at least 2x2"),
    (dict(path="out.mp4", fps=10, size="big"), "must be \\(width, height\\)"),
])
def test_bad_arguments_are_one_line_input_errors(tmp_path, kwargs, message):
    kwargs["path"] = tmp_path / kwargs["path"]
    with pytest.raises(InputError, match=message):
        VideoRecorder(**kwargs)
    assert list(tmp_path.iterdir()) == []


def test_codec_for_extensions():
    assert codec_for("a.mp4") == "mp4v" and codec_for("b.AVI") == "MJPG"


def test_an_unwritable_folder_is_a_one_line_error(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match="cannot write the recording"):
        VideoRecorder(tmp_path / "file" / "out.mp4", fps=10, size=(W, H)).open()
