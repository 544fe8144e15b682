"""Live calibration: watch the board through the camera, keep the views that add coverage, say how
to move the board next, and calibrate from the kept views.

``LiveCalibrator.feed(image)`` takes one frame and returns a ``Step`` (what was seen, whether
the view was kept, the instruction now). ``run_live`` drives it from a frame source, announces
each change of instruction (one line per change, not per frame), shows the coverage on a display
when given one, and stops at ``views_wanted`` views, at the end of the source, on q / Esc, or on
Ctrl-C.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Protocol

import cv2
import numpy as np

from ..errors import InputError
from .calibrate import MIN_VIEWS, Calibration, CalibrationBoard, calibrate_points
from .coverage import CELL_NAMES, Coverage, Observation, motion, next_instruction, observe, sharpness

QUIT_KEYS = (ord("q"), 27)  # q, Esc


@dataclass(frozen=True)
class LiveOptions:
    views_wanted: int = 15
    min_sharpness: float = 100.0  # variance of the Laplacian over the board
    max_motion_px: float = 1.5  # median corner movement since the previous frame

    def __post_init__(self) -> None:
        if self.views_wanted < MIN_VIEWS:
            raise InputError(f"--views must be at least {MIN_VIEWS}, got {self.views_wanted}")
        if not self.min_sharpness >= 0:
            raise InputError(f"--min-sharpness must be a number >= 0, got {self.min_sharpness}")
        if not self.max_motion_px > 0:
            raise ValueError(f"max_motion_px must be > 0, got {self.max_motion_px}")


@dataclass(frozen=True)
class Step:
    """What one frame gave."""

    found: bool
    kept: bool
    instruction: str
    observation: Observation | None = None
    sharpness: float = 0.0
    motion_px: float = math.inf


@dataclass
class LiveCalibrator:
    """Feeds frames, keeps views that add coverage and are sharp and still."""

    board: CalibrationBoard
    options: LiveOptions = field(default_factory=LiveOptions)
    coverage: Coverage = field(default_factory=Coverage)
    image_size: tuple[int, int] | None = None
    object_points: list[np.ndarray] = field(default_factory=list)
    image_points: list[np.ndarray] = field(default_factory=list)
    frames: int = 0
    _previous: tuple[np.ndarray, np.ndarray] | None = field(default=None, init=False, repr=False)

    @property
    def views(self) -> int:
        return len(self.image_points)

    @property
    def done(self) -> bool:
        return self.views >= self.options.views_wanted

    def feed(self, image: np.ndarray) -> Step:
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        h, w = gray.shape[:2]
        if self.image_size is None:
            self.image_size = (w, h)
        elif self.image_size != (w, h):
            raise InputError(f"the source changed resolution from {self.image_size[0]}x{self.image_size[1]} "
                             f"to {w}x{h} during calibration")
        self.frames += 1
        found = self.board.detect(gray)
        if found is None:
            self._previous = None
            return Step(False, False, next_instruction(self.coverage, None, views_wanted=self.options.views_wanted))
        obj, pts = found
        obs = observe(obj, pts, (w, h), _outline(self.board))
        moved = motion(self._previous, found)
        self._previous = found
        sharp = sharpness(gray, pts)
        still = moved <= self.options.max_motion_px
        is_sharp = sharp >= self.options.min_sharpness
        kept = still and is_sharp and self.coverage.adds(obs) and not self.done
        if kept:
            self.object_points.append(obj.astype(np.float32))
            self.image_points.append(pts.astype(np.float32))
            self.coverage = self.coverage.with_view(obs)
        text = next_instruction(self.coverage, obs, still=still, sharp=is_sharp,
                                views_wanted=self.options.views_wanted)
        return Step(True, kept, text, obs, sharp, moved)

    def calibrate(self) -> Calibration:
        if self.image_size is None or self.views < MIN_VIEWS:
            raise InputError(f"kept {self.views} view(s) of the {self.board.label}; at least {MIN_VIEWS} needed "
                             "(show the board to the camera and follow the instructions)")
        names = [f"live view {i + 1}" for i in range(self.views)]
        return calibrate_points(names, self.object_points, self.image_points, self.image_size, self.board)


def _outline(board: CalibrationBoard) -> np.ndarray:
    pts = board.corner_points()
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    return np.array([[lo[0], lo[1], 0], [hi[0], lo[1], 0], [hi[0], hi[1], 0], [lo[0], hi[1], 0]], np.float64)


class KeyDisplay(Protocol):
    def show(self, frame: np.ndarray) -> int | None: ...


class Source(Protocol):
    def read(self, timeout: float = 1.0): ...


@dataclass(frozen=True)
class LiveResult:
    frames: int
    views: int
    stopped: str  # "views", "end", "key", "interrupt"
    instructions: tuple[str, ...]


def run_live(source: Source, calibrator: LiveCalibrator, announce: Callable[[str], None],
             display: KeyDisplay | None = None, max_frames: int | None = None) -> LiveResult:
    """Feed frames from ``source`` until enough views are kept, the source ends, q/Esc is pressed on
    the display, or Ctrl-C. ``announce`` gets each new instruction once (not every frame)."""
    from ..camera.types import EndOfStream

    said: list[str] = []
    last = None

    def tell(text: str) -> None:
        nonlocal last
        if text != last:
            last = text
            said.append(text)
            announce(text)

    stopped = "end"
    try:
        while not calibrator.done:
            if max_frames is not None and calibrator.frames >= max_frames:
                break
            try:
                frame = source.read(timeout=1.0)
            except EndOfStream:
                break
            if frame is None:
                continue
            step = calibrator.feed(frame.image)
            if step.kept:
                tell(f"got view {calibrator.views} of {calibrator.options.views_wanted}")
            tell(step.instruction)
            if display is not None:
                key = display.show(draw_coverage(frame.image, calibrator, step))
                if key is not None and key in QUIT_KEYS:
                    stopped = "key"
                    break
        else:
            stopped = "views"
    except KeyboardInterrupt:
        stopped = "interrupt"
    return LiveResult(calibrator.frames, calibrator.views, stopped, tuple(said))


def draw_coverage(image: np.ndarray, calibrator: LiveCalibrator, step: Step) -> np.ndarray:
    """The frame with the 3x3 grid (covered cells tinted green), the corners seen and the instruction."""
    out = image.copy() if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    h, w = out.shape[:2]
    tint = out.copy()
    for c in calibrator.coverage.cells:
        r, k = divmod(c, 3)
        cv2.rectangle(tint, (k * w // 3, r * h // 3), ((k + 1) * w // 3, (r + 1) * h // 3), (0, 160, 0), -1)
    out = cv2.addWeighted(tint, 0.3, out, 0.7, 0)
    for i in (1, 2):
        cv2.line(out, (i * w // 3, 0), (i * w // 3, h), (255, 255, 255), 1)
        cv2.line(out, (0, i * h // 3), (w, i * h // 3), (255, 255, 255), 1)
    if step.observation is not None and calibrator.image_points and step.kept:
        for p in calibrator.image_points[-1]:
            cv2.circle(out, (int(round(p[0])), int(round(p[1]))), 3, (0, 255, 255), -1)
    cov = calibrator.coverage
    status = (f"{calibrator.views}/{calibrator.options.views_wanted} views  cells {len(cov.cells)}/9  "
              f"tilts {','.join(sorted(cov.tilts)) or '-'}  distances {','.join(sorted(cov.distances)) or '-'}")
    for y, text in ((22, step.instruction), (h - 10, status)):
        cv2.putText(out, text, (8, y), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(out, text, (8, y), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1, cv2.LINE_AA)
    return out


__all__ = ["CELL_NAMES", "LiveCalibrator", "LiveOptions", "LiveResult", "Step", "draw_coverage", "run_live"]
