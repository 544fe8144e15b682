"""Raspberry Pi cameras through picamera2 (libcamera), when it is installed."""

from __future__ import annotations

import importlib.util

import numpy as np

from ..errors import InputError
from .live import CaptureFactory
from .types import OutputSize

NOT_INSTALLED = ("picamera2 is not installed (on Raspberry Pi OS: sudo apt install python3-picamera2 and "
                 "make the venv with --system-site-packages); or use a camera index like 0")


def picamera2_available() -> bool:
    return importlib.util.find_spec("picamera2") is not None


class Picamera2Capture:
    """picamera2 behind the Capture interface (read() -> (ok, BGR image), release())."""

    def __init__(self, size: OutputSize = OutputSize()):
        from picamera2 import Picamera2  # imported here: only on devices that have it

        self._cam = Picamera2()
        try:
            main = {"size": (size.width or 640, size.height or 480), "format": "RGB888"}
            self._cam.configure(self._cam.create_video_configuration(main=main))
            self._cam.start()
        except Exception:
            self._cam.close()
            raise

    def read(self) -> tuple[bool, np.ndarray | None]:
        # picamera2's "RGB888" is stored B, G, R per pixel: what OpenCV calls BGR.
        return True, self._cam.capture_array("main")

    def release(self) -> None:
        try:
            self._cam.stop()
        finally:
            self._cam.close()


def picamera2_factory(size: OutputSize = OutputSize()) -> CaptureFactory:
    if not picamera2_available():
        raise InputError(NOT_INSTALLED)
    return lambda: Picamera2Capture(size)
