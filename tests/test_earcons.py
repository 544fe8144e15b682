"""Earcons: synthesised tones, equal-power pan by bearing, real 16-bit WAV, non-blocking play."""

from __future__ import annotations

import io
import sys
import time
import wave

import numpy as np
import pytest

from glasses.audio.earcons import (EARCONS, Earcons, LogBackend, PipeBackend, pan_gains, render,
                                   wav_bytes, write_wav)


@pytest.mark.parametrize("bearing, left, right", [
    (-90, 1.0, 0.0), (-120, 1.0, 0.0), (0, 0.7071, 0.7071), (90, 0.0, 1.0), (45, 0.3827, 0.9239),
])
def test_pan_gains_table(bearing, left, right):
    gl, gr = pan_gains(bearing)
    assert gl == pytest.approx(left, abs=1e-4) and gr == pytest.approx(right, abs=1e-4)


@pytest.mark.parametrize("bearing", [-90, -60, -30, -5, 0, 20, 75, 90])
def test_pan_is_equal_power(bearing):
    gl, gr = pan_gains(bearing)
    assert gl ** 2 + gr ** 2 == pytest.approx(1.0)


def _rms(x):
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


def test_left_louder_for_negative_bearing():
    s = render("hazard", -60)
    assert s.dtype == np.int16 and s.shape[1] == 2
    assert _rms(s[:, 0]) > 3 * _rms(s[:, 1])
    r = render("hazard", 60)
    assert _rms(r[:, 1]) > 3 * _rms(r[:, 0])
    c = render("hazard", 0)
    assert _rms(c[:, 0]) == pytest.approx(_rms(c[:, 1]), rel=1e-3)


def test_hazard_is_two_high_beeps_and_confirm_one_soft_low_blip():
    sr = 22050
    hz = render("hazard", 0, sr)[:, 0].astype(np.float64)
    loud = np.abs(hz) > 2000
    onsets = np.flatnonzero(np.diff(loud.astype(int)) == 1)
    gaps = np.diff(onsets)
    assert np.sum(gaps > 0.02 * sr) == 1  # two bursts, a gap between
    spectrum = np.abs(np.fft.rfft(hz))
    assert np.fft.rfftfreq(len(hz), 1 / sr)[np.argmax(spectrum)] == pytest.approx(1760, abs=30)
    cf = render("confirm", 0, sr)[:, 0].astype(np.float64)
    assert np.fft.rfftfreq(len(cf), 1 / sr)[np.argmax(np.abs(np.fft.rfft(cf)))] == pytest.approx(440, abs=30)
    assert np.abs(cf).max() < np.abs(hz).max()  # softer
    for name in EARCONS:
        assert len(render(name)) / sr < 0.3  # short


def test_written_wav_reads_back(tmp_path):
    out = tmp_path / "hazard_left.wav"
    write_wav(out, "hazard", -45)
    with wave.open(str(out), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, 22050)
        x = np.frombuffer(w.readframes(w.getnframes()), np.int16).reshape(-1, 2)
    assert np.array_equal(x, render("hazard", -45))
    assert _rms(x[:, 0]) > _rms(x[:, 1])


def test_wav_bytes_rejects_floats():
    with pytest.raises(ValueError, match="int16"):
        wav_bytes(np.zeros(10, np.float32))


def test_unknown_earcon():
    with pytest.raises(ValueError, match="earcon must be one of"):
        render("boing")


def test_player_plays_prerendered_buffers_without_blocking():
    backend = LogBackend()
    with Earcons(backend) as e:
        seconds = [e.play("hazard", b) for b in (-80, 0, 80)]
        e.play("confirm", 10)
    assert len(backend.played) == 4
    assert max(seconds) < 0.05  # only a hand-over; nothing is rendered at play time
    assert e.buffer("hazard", -85) == e.buffer("hazard", -90)  # 15-degree pan steps
    assert e.buffer("hazard", -80) == e.buffer("hazard", -75) != e.buffer("hazard", -90)
    with wave.open(io.BytesIO(e.buffer("new", 30)), "rb") as w:
        assert w.getnchannels() == 2


def test_pipe_backend_returns_before_the_player_finishes():
    # a 'player' that takes 5 s: play() must still return at once, close() must end it
    slow = PipeBackend((sys.executable, "-c", "import sys, time; sys.stdin.buffer.read(); time.sleep(5)"))
    e = Earcons(slow)
    t0 = time.monotonic()
    e.play("hazard", -30)
    assert time.monotonic() - t0 < 1.0
    procs = list(slow._procs)
    t0 = time.monotonic()
    e.close()
    assert time.monotonic() - t0 < 3.0
    assert all(p.poll() is not None for p in procs)


def test_broken_backend_never_raises():
    class Broken:
        def play(self, *a):
            raise OSError("no device")

        def close(self):
            pass

    with Earcons(Broken()) as e:
        e.play("hazard", 0)
