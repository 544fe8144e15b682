"""Video files and image folders, played back as if live (or as fast as asked).

Paced (the default): the playback clock starts at the first read(); frame n is due at
start + n / fps. read() returns the newest due frame and counts the ones it skipped as
dropped, so a slow consumer sees frames dropped while timestamps stay on the file's clock.
fast=True: every frame in order, as fast as read() is called. No thread: decoding happens in
read(), and the clock and sleep are injectable so pacing tests need no real waiting.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Callable, Protocol

import cv2
import numpy as np

from ..errors import InputError
from ..imageio import read_image
from .types import EndOfStream, Frame, OutputSize, SourceStats, usable_image

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
DEFAULT_FOLDER_FPS = 10.0
DEFAULT_VIDEO_FPS = 30.0  # when the file does not say


class FrameReader(Protocol):
    """Sequential access to a file's frames, for PlaybackSource."""

    def next(self) -> tuple[bool, np.ndarray | None]:
        """(True, image) a frame; (True, None) an unreadable frame; (False, None) the end."""
        ...

    def skip(self) -> bool:
        """Step over one frame without delivering it; False at the end."""
        ...

    def rewind(self) -> None: ...

    def close(self) -> None: ...


class VideoFileReader:
    """A video file through cv2.VideoCapture (FFmpeg)."""

    def __init__(self, path: Path):
        self.path = path
        self._cap = self._open()
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if math.isfinite(fps) and 0 < fps <= 1000 else None
        self.frame_count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        ok, _ = self._cap.read()
        if not ok:
            self.close()
            raise InputError(f"{path}: video has no frames OpenCV can decode")
        self.rewind()

    def _open(self) -> cv2.VideoCapture:
        cap = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
        if not cap.isOpened():
            cap.release()
            cap = cv2.VideoCapture(str(self.path))  # other backends (MJPEG, image sequences)
        if not cap.isOpened():
            cap.release()
            raise InputError(f"{self.path}: not a video OpenCV can read (mp4, avi, mkv, mov ...)")
        return cap

    def next(self) -> tuple[bool, np.ndarray | None]:
        ok, img = self._cap.read()
        if not ok:
            return False, None
        return True, img

    def skip(self) -> bool:
        return bool(self._cap.grab())

    def rewind(self) -> None:
        # Re-opening is more reliable than seeking to 0 across codecs and containers.
        self._cap.release()
        self._cap = self._open()

    def close(self) -> None:
        self._cap.release()


class ImageFolderReader:
    """Image files of a folder in name order (or an explicit list of files)."""

    def __init__(self, files: list[Path]):
        if not files:
            raise InputError("no images to play")
        self.files = files
        self._pos = 0

    @classmethod
    def from_folder(cls, folder: Path) -> "ImageFolderReader":
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise InputError(f"{folder}: folder has no images ({', '.join(IMAGE_SUFFIXES)})")
        return cls(files)

    def next(self) -> tuple[bool, np.ndarray | None]:
        if self._pos >= len(self.files):
            return False, None
        path = self.files[self._pos]
        self._pos += 1
        try:
            return True, read_image(path)
        except InputError as e:
            log.warning("skipping unreadable image: %s", e)
            return True, None

    def skip(self) -> bool:
        if self._pos >= len(self.files):
            return False
        self._pos += 1
        return True

    def rewind(self) -> None:
        self._pos = 0

    def close(self) -> None:
        pass


class PlaybackSource:
    """A FrameSource over a FrameReader: paced as if live, or fast; optionally looping."""

    is_live = False

    def __init__(self, reader: FrameReader, *, name: str, fps: float, fast: bool = False,
                 loop: bool = False, size: OutputSize = OutputSize(),
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 fallback_reason: str | None = None):
        if not (math.isfinite(fps) and fps > 0):
            raise InputError(f"fps must be a positive number, got {fps}")
        self.name = name
        self.fps: float | None = float(fps)
        self.fast = fast
        self.loop = loop
        self.stats = SourceStats()
        self.status = "ok"
        self.fallback_reason = fallback_reason
        self._reader = reader
        self._size = size
        self._clock = clock
        self._sleep = sleep
        self._start: float | None = None  # playback clock origin, set by the first read()
        self._next = 0  # slot number (across loop passes) of the next frame to take
        self._pass_start = 0  # slot number where the current pass began
        self._pass_usable = 0  # usable frames met in the current pass (skipped ones included)
        self._closed = False

    # -- FrameSource ----------------------------------------------------------------------
    def read(self, timeout: float = 1.0) -> Frame | None:
        if self._closed or self.status == "ended":
            self.status = "ended"
            raise EndOfStream(f"{self.name}: no more frames")
        return self._read_fast() if self.fast else self._read_paced(timeout)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.status = "ended"
            self._reader.close()

    def __enter__(self) -> "PlaybackSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "fast" if self.fast else "paced"
        return f"PlaybackSource({self.name!r}, {self.fps:g} fps, {mode}, loop={self.loop}, status={self.status})"

    # -- internals --------------------------------------------------------------------------
    def _read_fast(self) -> Frame:
        while True:
            img = self._take()
            if img is not None:
                return self._deliver(img)

    def _read_paced(self, timeout: float) -> Frame | None:
        now = self._clock()
        if self._start is None:
            self._start = now
        deadline = now + max(0.0, timeout)
        while True:
            now = self._clock()
            due = math.floor((now - self._start) * self.fps + 1e-6)  # newest slot due by now
            if due < self._next:  # consumer is ahead of the file: wait for the next slot
                wait_until = self._start + self._next / self.fps
                if wait_until > deadline:
                    if deadline > now:
                        self._sleep(deadline - now)
                    return None
                self._sleep(max(0.0, wait_until - now))
                continue
            while self._next < due:  # consumer is behind: skip to the newest due frame
                self._step_over()
            img = self._take()
            if img is not None:
                return self._deliver(img)

    def _take(self) -> np.ndarray | None:
        """Decode the frame in slot self._next (advancing); None if it was unusable."""
        ok, img = self._reader.next()
        if not ok:
            self._end_of_pass()
            ok, img = self._reader.next()
            if not ok:
                raise self._ended("has no frames")
        self._next += 1
        good = usable_image(img) if img is not None else None
        if good is None:
            self.stats.corrupt += 1
            return None
        self.stats.grabbed += 1
        self._pass_usable += 1
        return good

    def _step_over(self) -> None:
        if not self._reader.skip():
            self._end_of_pass()
            if not self._reader.skip():
                raise self._ended("has no frames")
        self._next += 1
        self._pass_usable += 1
        self.stats.grabbed += 1
        self.stats.dropped += 1

    def _end_of_pass(self) -> None:
        if not self.loop:
            raise self._ended("ended")
        if self._pass_usable == 0:
            raise self._ended("has no usable frames")
        self._reader.rewind()
        self._pass_start = self._next
        self._pass_usable = 0

    def _ended(self, why: str) -> EndOfStream:
        self.status = "ended"
        return EndOfStream(f"{self.name}: {why}")

    def _deliver(self, img: np.ndarray) -> Frame:
        slot = self._next - 1
        self.stats.delivered += 1
        return Frame(index=slot - self._pass_start, capture_ts=self._clock(), media_ts=slot / self.fps,
                     image=self._size.apply(img))


def open_video_file(path: Path, *, fps: float | None = None, **kw) -> PlaybackSource:
    """A video file as a PlaybackSource; fps overrides the file's own (used when it has none)."""
    reader = VideoFileReader(path)
    rate = fps or reader.fps
    if rate is None:
        log.warning("%s: the file gives no frame rate; playing at %g fps", path, DEFAULT_VIDEO_FPS)
        rate = DEFAULT_VIDEO_FPS
    return PlaybackSource(reader, name=str(path), fps=rate, **kw)


def open_image_folder(path: Path, *, fps: float | None = None, **kw) -> PlaybackSource:
    """A folder of images (name order), or one image file, as a PlaybackSource at fps."""
    reader = ImageFolderReader.from_folder(path) if path.is_dir() else ImageFolderReader([path])
    return PlaybackSource(reader, name=str(path), fps=fps or DEFAULT_FOLDER_FPS, **kw)
