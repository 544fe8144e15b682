"""Extra per-frame stages beside the detector (markers and routes, text reading, hands).

A stage is any callable ``stage(frame, t) -> StageOutput``: it sees a processed frame and
returns what to say and what to draw. It may also answer the wearer's commands through an
optional ``command(name, arg, t) -> list[Utterance]`` method (for example "route").

Slow stages run in a ``WorkerStage``: a thread that works on the newest frame it was handed
(older ones are dropped), at most ``rate_hz`` times a second, so they never block the frame
loop; their results join the loop's state when ready.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Protocol

from .audio.narrator import Utterance
from .camera.types import Frame
from .outputs.overlay import Arrow, BoxLabel, QuadLabel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageOutput:
    """What a stage adds for one frame. Overlay items are in the frame's pixel coordinates."""

    utterances: tuple[Utterance, ...] = ()
    boxes: tuple[BoxLabel, ...] = ()
    quads: tuple[QuadLabel, ...] = ()
    arrows: tuple[Arrow, ...] = ()
    events: tuple[dict, ...] = ()  # extra events-log records: {"type": ..., ...}
    frame_index: int | None = None  # the frame it was computed on
    elapsed_ms: float = 0.0


EMPTY = StageOutput()


class FrameStage(Protocol):
    name: str

    def __call__(self, frame: Frame, t: float) -> StageOutput: ...


class WorkerStage:
    """Runs a slow stage in a daemon thread on the newest frame, at most ``rate_hz`` a second.

    ``submit(frame, t)`` never blocks; ``poll()`` returns the newest finished output once (then
    its overlay items keep being returned by ``overlay()`` until a newer output replaces them,
    or until ``hold_s`` has passed). Errors inside the stage are kept for the loop to log.
    """

    def __init__(self, stage: Callable[[Frame, float], StageOutput], rate_hz: float, name: str | None = None,
                 hold_s: float = 2.0, clock: Callable[[], float] = time.monotonic):
        if rate_hz <= 0:
            raise ValueError(f"rate_hz must be > 0, got {rate_hz}")
        self.stage = stage
        self.name = name or getattr(stage, "name", type(stage).__name__)
        self.period = 1.0 / rate_hz
        self.hold_s = hold_s
        self.clock = clock
        self.errors: list[str] = []
        self._cond = threading.Condition()
        self._pending: tuple[Frame, float] | None = None
        self._fresh: StageOutput | None = None
        self._shown: StageOutput = EMPTY
        self._shown_at = 0.0
        self._last_start = -1e9
        self._stop = False
        self._thread = threading.Thread(target=self._run, name=f"glasses-stage[{self.name}]", daemon=True)
        self._thread.start()

    def submit(self, frame: Frame, t: float) -> None:
        with self._cond:
            self._pending = (frame, t)  # newest wins
            self._cond.notify()

    def poll(self) -> StageOutput | None:
        with self._cond:
            out, self._fresh = self._fresh, None
        if out is not None:
            self._shown, self._shown_at = out, self.clock()
        return out

    def overlay(self) -> StageOutput:
        if self.clock() - self._shown_at > self.hold_s:
            return EMPTY
        return self._shown

    def command(self, name: str, arg: str, t: float) -> list[Utterance]:
        handler = getattr(self.stage, "command", None)
        return list(handler(name, arg, t)) if handler else []

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stop and self._pending is None:
                    self._cond.wait()
                if self._stop:
                    return
                wait = self._last_start + self.period - self.clock()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                frame, t = self._pending
                self._pending = None
            self._last_start = self.clock()
            t0 = time.perf_counter()
            try:
                out = self.stage(frame, t)
            except Exception as e:  # noqa: BLE001 - a stage failing must not stop the loop
                self.errors.append(f"{type(e).__name__}: {e}")
                continue
            out = StageOutput(out.utterances, out.boxes, out.quads, out.arrows, out.events, frame.index,
                              (time.perf_counter() - t0) * 1e3)
            with self._cond:
                self._fresh = out

    def close(self, timeout: float = 2.0) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.join(timeout)

    def __enter__(self) -> "WorkerStage":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
