"""Bad and unusual images: a correct result or a one-line InputError, never a traceback."""

import cv2
import numpy as np
import pytest

from glasses import imageio
from glasses.errors import InputError
from glasses.imageio import read_image, to_bgr8


@pytest.mark.parametrize("img, shape", [
    (np.zeros((5, 7), np.uint8), (5, 7, 3)),
    (np.zeros((5, 7, 1), np.uint8), (5, 7, 3)),
    (np.zeros((5, 7, 4), np.uint8), (5, 7, 3)),
    (np.full((5, 7, 3), 65535, np.uint16), (5, 7, 3)),
    (np.ones((5, 7, 3), np.float32), (5, 7, 3)),
])
def test_to_bgr8_normalises(img, shape):
    out = to_bgr8(img)
    assert out.shape == shape and out.dtype == np.uint8


def test_sixteen_bit_keeps_the_high_byte():
    assert to_bgr8(np.full((4, 4), 0xAB00, np.uint16))[0, 0].tolist() == [0xAB] * 3


@pytest.mark.parametrize("img, message", [
    (np.zeros((1, 1, 3), np.uint8), "1x1"),
    (np.zeros((0, 5, 3), np.uint8), "empty"),
    (np.zeros((5, 5, 2), np.uint8), "unsupported image shape"),
    (np.zeros((5, 5, 3), np.int64), "unsupported pixel type"),
])
def test_to_bgr8_refuses(img, message):
    with pytest.raises(InputError, match=message):
        to_bgr8(img)


def test_read_image_files(tmp_path):
    png16 = tmp_path / "deep.png"
    cv2.imwrite(str(png16), np.full((20, 30), 40000, np.uint16))
    assert read_image(png16).shape == (20, 30, 3)
    with pytest.raises(InputError, match="no such file"):
        read_image(tmp_path / "nope.jpg")
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(InputError, match="file is empty"):
        read_image(tmp_path / "empty.jpg")
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(InputError, match="not an image OpenCV can read"):
        read_image(tmp_path / "notes.txt")
    with pytest.raises(InputError, match="is a folder"):
        read_image(tmp_path)


def test_oversized_image_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    cv2.imwrite(str(path), np.zeros((400, 400), np.uint8))
    monkeypatch.setattr(imageio, "MAX_PIXELS", 100_000)
    with pytest.raises(InputError, match="larger than"):
        read_image(path)
