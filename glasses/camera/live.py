"""Live sources: a grabber thread keeps only the newest frame and reconnects when the feed drops.

The thread owns the capture (it alone reads and releases it), so close() never releases a
device in the middle of a read. A capture is anything with ``read() -> (ok, image)`` and
``release()``; it comes from a factory, so tests pass a fake camera (glasses.camera.fakes).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Callable, Protocol

import cv2
import numpy as np

from ..errors import InputError
from .types import EndOfStream, Frame, OutputSize, SourceStats, usable_image

log = logging.getLogger(__name__)


class Capture(Protocol):
    def read(self) -> tuple[bool, np.ndarray | None]: ...

    def release(self) -> None: ...


CaptureFactory = Callable[[], Capture]  # opens the device; raises OSError (or any error) if it cannot


@dataclass(frozen=True)
class Backoff:
    """Waits between reconnect attempts: initial, doubling (factor), capped."""

    initial: float = 0.5
    factor: float = 2.0
    cap: float = 5.0

    def __post_init__(self) -> None:
        if not (0 < self.initial <= self.cap and self.factor >= 1):
            raise ValueError(f"backoff needs 0 < initial <= cap and factor >= 1, got {self}")

    def next(self, delay: float) -> float:
        return min(delay * self.factor, self.cap)


class LiveSource:
    """A FrameSource over a live capture, read by a daemon grabber thread.

    - Only the newest frame is kept; one replaced before read() took it counts as dropped.
    - Unusable frames (None, empty, odd shape) are skipped and counted as corrupt.
    - ``max_failures`` failed reads in a row mean the feed is lost: status becomes "lost", the
      capture is released and reopened with exponential backoff; the first good frame after
      that sets status back to "ok" and counts a reconnect.
    """

    is_live = True

    def __init__(self, open_capture: CaptureFactory, *, name: str, fps: float | None = None,
                 size: OutputSize = OutputSize(), clock: Callable[[], float] = time.monotonic,
                 backoff: Backoff = Backoff(), max_failures: int = 3, join_timeout: float = 2.0,
                 fallback_reason: str | None = None):
        if max_failures < 1:
            raise ValueError(f"max_failures must be >= 1, got {max_failures}")
        self.name = name
        self.stats = SourceStats()
        self.status = "ok"
        self.fallback_reason = fallback_reason
        self._open_capture = open_capture
        self._size = size
        self._clock = clock
        self._backoff = backoff
        self._max_failures = max_failures
        self._join_timeout = join_timeout
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._pending: tuple[int, float, np.ndarray] | None = None
        self._count = 0  # good frames grabbed since open (the next frame's index)
        self._closed = False
        try:
            cap = open_capture()
        except Exception as e:  # noqa: BLE001 - any backend error means "cannot open"
            raise InputError(f"{name}: cannot open ({_one_line(e)})") from e
        self.fps = fps if fps else _capture_fps(cap)
        self._open_ts = clock()
        self._thread = threading.Thread(target=self._run, args=(cap,), name=f"glasses-camera[{name}]",
                                        daemon=True)
        self._thread.start()

    # -- FrameSource ----------------------------------------------------------------------
    def read(self, timeout: float = 1.0) -> Frame | None:
        end = time.monotonic() + max(0.0, timeout)
        with self._cond:
            while self._pending is None:
                if self._closed:
                    raise EndOfStream(f"{self.name}: closed")
                remaining = end - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
            index, ts, img = self._pending
            self._pending = None
            self.stats.delivered += 1
        return Frame(index=index, capture_ts=ts, media_ts=ts - self._open_ts, image=self._size.apply(img))

    @property
    def running(self) -> bool:
        """Whether the grabber thread is still alive."""
        return self._thread.is_alive()

    def close(self) -> None:
        self._stop.set()
        with self._cond:
            self._closed = True
            self.status = "ended"
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(self._join_timeout)
            if self._thread.is_alive():
                log.warning("%s: the capture is still blocked in a read; its daemon thread releases it "
                            "when the read returns", self.name)

    def __enter__(self) -> "LiveSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LiveSource({self.name!r}, status={self.status}, {self.stats})"

    # -- grabber thread ---------------------------------------------------------------------
    def _run(self, cap: Capture | None) -> None:
        delay = self._backoff.initial
        failures = 0
        try:
            while not self._stop.is_set():
                if cap is None:
                    cap = self._reopen()
                    if cap is None:
                        self._stop.wait(delay)
                        delay = self._backoff.next(delay)
                        continue
                try:
                    ok, img = cap.read()
                except Exception as e:  # noqa: BLE001 - a backend error is a failed read
                    log.debug("%s: read failed: %s", self.name, _one_line(e))
                    ok, img = False, None
                if self._stop.is_set():
                    break
                if not ok:
                    failures += 1
                    if failures >= self._max_failures:
                        self._lost(cap)
                        cap, failures = None, 0
                        self._stop.wait(delay)
                        delay = self._backoff.next(delay)
                    continue
                failures = 0
                good = usable_image(img)
                if good is None:
                    with self._cond:
                        self.stats.corrupt += 1
                    continue
                delay = self._backoff.initial
                self._store(good)
        except Exception:  # noqa: BLE001 - nothing may escape the thread; the feed is just lost
            log.exception("%s: grabber thread stopped", self.name)
            with self._cond:
                if not self._closed:
                    self.status = "lost"
        finally:
            if cap is not None:
                _release(cap, self.name)

    def _store(self, img: np.ndarray) -> None:
        ts = self._clock()
        with self._cond:
            if self._closed:
                return
            if self.status == "lost":
                self.status = "ok"
                self.stats.reconnects += 1
                log.info("%s: frames are back (reconnect %d)", self.name, self.stats.reconnects)
            if self._pending is not None:
                self.stats.dropped += 1
            self._pending = (self._count, ts, img)
            self._count += 1
            self.stats.grabbed += 1
            self._cond.notify_all()

    def _lost(self, cap: Capture) -> None:
        with self._cond:
            if not self._closed and self.status != "lost":
                self.status = "lost"
                log.warning("%s: feed lost; reconnecting", self.name)
        _release(cap, self.name)

    def _reopen(self) -> Capture | None:
        try:
            return self._open_capture()
        except Exception as e:  # noqa: BLE001 - still unplugged; try again later
            log.debug("%s: reopen failed: %s", self.name, _one_line(e))
            return None


def _release(cap: Capture, name: str) -> None:
    try:
        cap.release()
    except Exception as e:  # noqa: BLE001
        log.debug("%s: release failed: %s", name, _one_line(e))


def _capture_fps(cap: Capture) -> float | None:
    get = getattr(cap, "get", None)
    if get is None:
        return None
    try:
        fps = float(get(cv2.CAP_PROP_FPS))
    except Exception:  # noqa: BLE001
        return None
    return fps if 0 < fps <= 1000 else None


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return (text[-1] if text else type(e).__name__)[:160]


def cv2_capture_factory(target: int | str, api: int = cv2.CAP_ANY, *, params: tuple[int, ...] = (),
                        size: OutputSize = OutputSize(), label: str | None = None,
                        hint: str = "is it plugged in and not used by another program?") -> CaptureFactory:
    """A factory opening cv2.VideoCapture(target, api, params); asks for size when given.

    label names the target in errors (a URL without its password); hint ends the error.
    """
    shown = label if label is not None else repr(target)

    def open_capture() -> cv2.VideoCapture:
        if isinstance(target, int) and api == cv2.CAP_V4L2 and not os.path.exists(f"/dev/video{target}"):
            raise OSError(f"no /dev/video{target}; is the camera plugged in?")
        cap = cv2.VideoCapture(target, api, list(params))
        if not cap.isOpened():
            cap.release()
            raise OSError(f"OpenCV cannot open {shown}; {hint}")
        if size.width:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, size.width)
        if size.height:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, size.height)
        return cap

    return open_capture
