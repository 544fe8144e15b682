"""What every frame source gives and promises: Frame, SourceStats, EndOfStream, FrameSource."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from ..errors import InputError
from ..imageio import to_bgr8

STATUSES = ("ok", "lost", "ended")


@dataclass(frozen=True)
class Frame:
    """One image from a source and when it was taken.

    index: frame number on the source (file: position in the file; live: count since open).
    capture_ts: ``clock()`` (time.monotonic by default) when the frame was grabbed.
    media_ts: seconds on the source's own clock (file: index / fps, and with ``loop`` it keeps
      growing across passes; live: capture_ts - open time).
    image: HxWx3 uint8 BGR.
    """

    index: int
    capture_ts: float
    media_ts: float
    image: np.ndarray

    def __post_init__(self) -> None:
        img = self.image
        if not isinstance(img, np.ndarray) or img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            shape = getattr(img, "shape", None)
            dtype = getattr(img, "dtype", type(img).__name__)
            raise ValueError(f"image must be HxWx3 uint8 BGR, got shape {shape} dtype {dtype}")
        if img.shape[0] < 1 or img.shape[1] < 1:
            raise ValueError(f"image must not be empty, got shape {img.shape}")
        if self.index < 0:
            raise ValueError(f"index must be >= 0, got {self.index}")

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return self.image.shape[1], self.image.shape[0]


@dataclass
class SourceStats:
    """Counters of a source. grabbed = frames taken from the device/file (corrupt ones excluded);
    delivered = returned by read(); dropped = grabbed but never delivered (a newer one replaced
    it, or pacing skipped it); corrupt = unusable frames skipped; reconnects = times a lost live
    source came back."""

    grabbed: int = 0
    delivered: int = 0
    dropped: int = 0
    corrupt: int = 0
    reconnects: int = 0


class EndOfStream(Exception):
    """A file or folder source has no more frames (and was not asked to loop)."""


class FrameSource(Protocol):
    """A context manager giving frames; close() stops its thread and releases the device."""

    name: str
    is_live: bool
    fps: float | None
    stats: SourceStats
    status: str  # "ok" | "lost" | "ended"
    fallback_reason: str | None  # why this source was chosen instead of the one asked for

    def read(self, timeout: float = 1.0) -> Frame | None:
        """Newest frame not yet delivered; None if none arrived within timeout; EndOfStream at
        the end of a file or folder."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> "FrameSource": ...

    def __exit__(self, *exc) -> None: ...


def usable_image(img) -> np.ndarray | None:
    """A frame as HxWx3 uint8 BGR, or None when it is garbage (None, empty, odd shape/type).

    Gray and BGRA frames (IR cameras, some drivers) are converted, not rejected.
    """
    if not isinstance(img, np.ndarray) or img.size == 0 or img.ndim not in (2, 3):
        return None
    try:
        return to_bgr8(img, "frame")
    except (InputError, cv2.error, ValueError):
        return None


@dataclass(frozen=True)
class OutputSize:
    """The frame size asked for (``--width/--height``); one side alone keeps the aspect ratio."""

    width: int | None = None
    height: int | None = None

    def __post_init__(self) -> None:
        for side, v in (("width", self.width), ("height", self.height)):
            if v is not None and not 16 <= v <= 8192:
                raise InputError(f"{side} must be between 16 and 8192 pixels, got {v}")

    def apply(self, img: np.ndarray) -> np.ndarray:
        if self.width is None and self.height is None:
            return img
        h, w = img.shape[:2]
        tw = self.width or max(1, round(w * self.height / h))
        th = self.height or max(1, round(h * self.width / w))
        if (tw, th) == (w, h):
            return img
        interp = cv2.INTER_AREA if tw * th < w * h else cv2.INTER_LINEAR
        return cv2.resize(img, (tw, th), interpolation=interp)
