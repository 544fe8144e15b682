"""Recording the annotated frames to a video file (``glasses run --record OUT.mp4``).

Frames go to a hidden temporary file in the destination's folder; ``close()`` finishes the
container and renames it onto the destination in one step. So a recording stopped by Ctrl-C
or an error is still finalised (``__exit__`` closes), and the destination name never holds a
half-written file. A recording with no frames leaves no file.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError

CODECS = {".mp4": "mp4v", ".avi": "MJPG"}  # extension -> FourCC


def codec_for(path: str | Path) -> str:
    """The FourCC for a recording's file name; a one-line InputError for other extensions."""
    suffix = Path(path).suffix.lower()
    if suffix not in CODECS:
        raise InputError(f"--record must end in {' or '.join(CODECS)}, got '{Path(path).name}'")
    return CODECS[suffix]


class VideoRecorder:
    """``with VideoRecorder("out.mp4", fps=15, size=(640, 480)) as rec: rec.write(frame)``.

    Frames of another size are resized to ``size`` (width, height); grey and BGRA frames are
    converted to BGR. ``frames`` counts the frames written; ``close()`` returns the final path
    (None when nothing was recorded).
    """

    def __init__(self, path: str | Path, fps: float, size: tuple[int, int]):
        self.path = Path(path)
        self.fourcc = codec_for(self.path)
        try:
            fps = float(fps)
        except (TypeError, ValueError):
            raise InputError(f"recording fps must be a number > 0, got {fps!r}") from None
        if not (math.isfinite(fps) and 0 < fps <= 1000):
            raise InputError(f"recording fps must be a number > 0 and <= 1000, got {fps!r}")
        try:
            w, h = (int(v) for v in size)
        except (TypeError, ValueError):
            raise InputError(f"recording size must be (width, height), got {size!r}") from None
        if w < 2 or h < 2:
            raise InputError(f"recording size must be at least 2x2 pixels, got {w}x{h}")
        self.fps = fps
        self.size = (w, h)
        self.frames = 0
        self._writer: cv2.VideoWriter | None = None
        self._tmp: Path | None = None
        self._done = False

    def open(self) -> "VideoRecorder":
        if self._writer is not None or self._done:
            return self
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=self.path.suffix, dir=folder)
            os.close(fd)
        except OSError as e:
            raise InputError(f"cannot write the recording {self.path}: {e.strerror or e}") from None
        self._tmp = Path(tmp)
        writer = cv2.VideoWriter(str(self._tmp), cv2.VideoWriter_fourcc(*self.fourcc), self.fps, self.size)
        if not writer.isOpened():
            writer.release()
            self._tmp.unlink(missing_ok=True)
            self._tmp = None
            raise InputError(f"cannot record {self.path.name}: this OpenCV cannot write {self.fourcc} "
                             f"video; try {' or '.join(s for s in CODECS if s != self.path.suffix.lower())}")
        self._writer = writer
        return self

    def write(self, frame: np.ndarray) -> None:
        if self._done:
            raise ValueError(f"the recording {self.path.name} is closed")
        if self._writer is None:
            self.open()
        self._writer.write(self._prepare(frame))
        self.frames += 1

    def _prepare(self, frame: np.ndarray) -> np.ndarray:
        frame = np.asarray(frame)
        if frame.dtype != np.uint8:
            raise ValueError(f"frames must be uint8, got {frame.dtype}")
        if frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 1):
            frame = cv2.cvtColor(frame.reshape(frame.shape[:2]), cv2.COLOR_GRAY2BGR)
        elif frame.ndim == 3 and frame.shape[2] == 4:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
        elif not (frame.ndim == 3 and frame.shape[2] == 3):
            raise ValueError(f"frames must be (H, W), (H, W, 3) or (H, W, 4), got shape {frame.shape}")
        if (frame.shape[1], frame.shape[0]) != self.size:
            frame = cv2.resize(frame, self.size, interpolation=cv2.INTER_AREA)
        return np.ascontiguousarray(frame)

    def close(self) -> Path | None:
        """Finish the file and rename it onto ``path``; safe to call more than once. Returns
        the path written, or None when no frame was recorded (no file is left then)."""
        if self._done:
            return self.path if self.frames and self.path.exists() else None
        self._done = True
        writer, tmp = self._writer, self._tmp
        self._writer = self._tmp = None
        try:
            if writer is not None:
                writer.release()
            if tmp is None or self.frames == 0:
                return None
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())  # the container is complete on disk before it gets the name
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a user's file gets the usual mode
            os.replace(tmp, self.path)
            return self.path
        finally:
            if tmp is not None and tmp.exists():
                tmp.unlink()

    def __enter__(self) -> "VideoRecorder":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()
