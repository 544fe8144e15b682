"""Test doubles: a fake clock and a scripted camera that fails mid-stream and comes back.

Used by the tests and usable by anyone testing code on top of a FrameSource:

    cam = FlakyCamera(sessions=(20, 20), failed_opens=2)
    with LiveSource(cam, name="fake", backoff=Backoff(0.01, 2, 0.05)) as src: ...
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np


class FakeClock:
    """A clock that moves only when told (``advance``) or when something sleeps on it."""

    def __init__(self, start: float = 100.0):
        self._t = float(start)
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        with self._lock:
            return self._t

    def advance(self, dt: float) -> None:
        if dt < 0:
            raise ValueError(f"time cannot go backwards, got {dt}")
        with self._lock:
            self._t += dt

    def sleep(self, dt: float) -> None:
        self.sleeps.append(dt)
        self.advance(max(0.0, dt))


def frame_number(img: np.ndarray) -> int:
    """The read number a FlakyCamera drew into its frame (pixel 0,0)."""
    return int(img[0, 0, 0]) | int(img[0, 0, 1]) << 8


GARBAGE = (None, np.zeros((0, 0, 3), np.uint8), np.zeros((7,), np.uint8), np.zeros((4, 4, 5), np.uint8))


@dataclass
class FlakyCamera:
    """A scripted camera device; calling it opens a capture (it is a LiveSource factory).

    sessions: how many good reads each plugged-in period gives before the camera is unplugged
      (reads fail); after the last session it stays unplugged.
    failed_opens: opens that fail after each unplug before the camera is back.
    garbage_every: every n-th read returns ok with a garbage image (0: never).
    frame_interval: real seconds each read takes, like a camera's frame period.
    """

    sessions: tuple[int, ...] = (1_000_000,)
    failed_opens: int = 2
    garbage_every: int = 0
    frame_interval: float = 0.002
    size: tuple[int, int] = (64, 48)
    opens: int = 0  # attempts
    open_failures: int = 0
    releases: int = 0
    reads: int = 0
    _session: int = 0
    _in_session: int = 0
    _failing_opens: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self) -> "FakeCapture":
        with self._lock:
            self.opens += 1
            if self._session >= len(self.sessions) or self._failing_opens > 0:
                self._failing_opens = max(0, self._failing_opens - 1)
                self.open_failures += 1
                raise OSError("fake camera is unplugged")
            return FakeCapture(self, self._session)

    @property
    def unplugged(self) -> bool:
        return self._session >= len(self.sessions) or self._failing_opens > 0

    def _read(self, session: int) -> tuple[bool, np.ndarray | None]:
        with self._lock:
            if session != self._session:
                return False, None  # this capture's device is gone
            if self._in_session >= self.sessions[session]:
                self._session += 1
                self._in_session = 0
                self._failing_opens = self.failed_opens
                return False, None
            self._in_session += 1
            self.reads += 1
            n = self.reads
        if self.garbage_every and n % self.garbage_every == 0:
            return True, GARBAGE[(n // self.garbage_every) % len(GARBAGE)]
        w, h = self.size
        img = np.full((h, w, 3), 90, np.uint8)
        img[0, 0] = (n & 255, (n >> 8) & 255, 0)
        return True, img


class FakeCapture:
    def __init__(self, camera: FlakyCamera, session: int):
        self._camera = camera
        self._session = session
        self._released = False

    def read(self) -> tuple[bool, np.ndarray | None]:
        time.sleep(self._camera.frame_interval)
        if self._released:
            return False, None
        return self._camera._read(self._session)

    def release(self) -> None:
        if not self._released:
            self._released = True
            with self._camera._lock:
                self._camera.releases += 1
