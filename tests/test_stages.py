"""Worker stages: slow work off the frame loop, newest frame wins, errors kept for the log."""

import threading
import time

import numpy as np
import pytest

from glasses.audio.narrator import Utterance
from glasses.camera.types import Frame
from glasses.stages import StageOutput, WorkerStage


def frame(i):
    return Frame(index=i, capture_ts=float(i), media_ts=i / 30, image=np.zeros((4, 4, 3), np.uint8))


class Slow:
    name = "slow"

    def __init__(self, seconds=0.05):
        self.seen, self.seconds = [], seconds
        self.release = threading.Event()

    def __call__(self, f, t):
        self.seen.append(f.index)
        time.sleep(self.seconds)
        return StageOutput(utterances=(Utterance(f"frame {f.index}", 1, "test"),))


def wait_for(cond, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return False


def test_newest_frame_wins_and_submit_never_blocks():
    stage = Slow(0.2)
    with WorkerStage(stage, rate_hz=100) as w:
        w.submit(frame(0), 0.0)
        assert wait_for(lambda: stage.seen == [0])
        t0 = time.perf_counter()
        for i in range(1, 10):  # arrive while frame 0 is still being worked on
            w.submit(frame(i), i / 30)
        assert time.perf_counter() - t0 < 0.05  # the loop is never held up
        assert wait_for(lambda: stage.seen[-1] == 9)
    assert stage.seen == [0, 9]  # frames 1-8 were dropped: only the newest is worth the work


def test_rate_limit():
    stage = Slow(0.0)
    with WorkerStage(stage, rate_hz=5) as w:
        end = time.monotonic() + 1.0
        i = 0
        while time.monotonic() < end:
            w.submit(frame(i), i / 30)
            i += 1
            time.sleep(0.01)
    assert 4 <= len(stage.seen) <= 7


def test_output_is_polled_once_and_overlay_held():
    with WorkerStage(Slow(0.0), rate_hz=50, hold_s=10) as w:
        w.submit(frame(3), 0.1)
        got = []
        assert wait_for(lambda: got.append(w.poll()) or got[-1] is not None)
        assert got[-1].frame_index == 3 and got[-1].utterances[0].text == "frame 3"
        assert w.poll() is None  # each output is handed over once ...
        assert w.overlay().frame_index == 3  # ... and its drawing stays up for hold_s


def test_errors_are_kept_not_raised():
    def broken(f, t):
        raise RuntimeError("bad frame")

    with WorkerStage(broken, rate_hz=50, name="broken") as w:
        w.submit(frame(0), 0.0)
        assert wait_for(lambda: bool(w.errors))
    assert w.errors == ["RuntimeError: bad frame"]


def test_rate_must_be_positive():
    with pytest.raises(ValueError, match="rate_hz"):
        WorkerStage(Slow(), rate_hz=0)
