"""Earcons: short tones said before words (hazard = two fast high beeps, new object = a mid blip,
confirm = a soft low blip), panned left/right by the object's bearing.

All sounds are synthesised with numpy and rendered once, at every pan step, into in-memory
16-bit stereo WAV buffers, so playing one only hands bytes to an already-chosen backend:
an ``aplay`` process fed on stdin, else sounddevice, else a log line. ``play()`` never blocks.
"""

from __future__ import annotations

import io
import logging
import subprocess
import threading
import time
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

SAMPLE_RATE = 22050


@dataclass(frozen=True)
class Tone:
    freq_hz: float
    start_s: float
    dur_s: float
    gain: float = 0.5

    def __post_init__(self) -> None:
        if self.freq_hz <= 0 or self.dur_s <= 0 or self.start_s < 0:
            raise ValueError(f"tone needs freq_hz > 0, dur_s > 0, start_s >= 0; got {self}")
        if not 0 < self.gain <= 1:
            raise ValueError(f"gain must be in (0, 1], got {self.gain}")


EARCONS: dict[str, tuple[Tone, ...]] = {
    "hazard": (Tone(1760, 0.0, 0.06, 0.8), Tone(1760, 0.10, 0.06, 0.8)),  # two fast high beeps
    "new": (Tone(880, 0.0, 0.05, 0.45),),  # a mid blip
    "confirm": (Tone(440, 0.0, 0.08, 0.35),),  # a soft low blip
    "error": (Tone(330, 0.0, 0.09, 0.5), Tone(247, 0.11, 0.12, 0.5)),  # falling pair
}


def synth(tones: tuple[Tone, ...], sample_rate: int = SAMPLE_RATE, ramp_s: float = 0.005) -> np.ndarray:
    """Mono float32 in [-1, 1]: sine tones with raised-cosine edges (no clicks)."""
    total = max(t.start_s + t.dur_s for t in tones)
    out = np.zeros(int(round(total * sample_rate)) + 1, np.float32)
    for t in tones:
        n = int(round(t.dur_s * sample_rate))
        ramp = max(1, min(int(ramp_s * sample_rate), n // 2))
        env = np.ones(n, np.float32)
        edge = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, ramp, dtype=np.float32))
        env[:ramp], env[n - ramp:] = edge, edge[::-1]
        i0 = int(round(t.start_s * sample_rate))
        x = np.arange(n, dtype=np.float32) / sample_rate
        out[i0:i0 + n] += t.gain * env * np.sin(2 * np.pi * t.freq_hz * x)
    return np.clip(out, -1.0, 1.0)


def pan_gains(bearing_deg: float) -> tuple[float, float]:
    """Equal-power pan: -90 deg (or less) = left only, 0 = both at 0.707, +90 = right only."""
    p = float(np.clip(bearing_deg, -90.0, 90.0)) / 90.0
    theta = (p + 1.0) * np.pi / 4.0
    return float(np.cos(theta)), float(np.sin(theta))


def render(name: str, bearing_deg: float = 0.0, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Earcon name at a bearing -> int16 stereo samples (N, 2)."""
    if name not in EARCONS:
        raise ValueError(f"earcon must be one of {', '.join(EARCONS)}; got {name!r}")
    mono = synth(EARCONS[name], sample_rate)
    left, right = pan_gains(bearing_deg)
    stereo = np.stack([mono * left, mono * right], axis=1)
    return np.round(stereo * 32767).astype(np.int16)


def wav_bytes(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
    """int16 (N,) or (N, channels) -> a complete WAV file in memory."""
    samples = np.asarray(samples)
    if samples.dtype != np.int16:
        raise ValueError(f"samples must be int16, got {samples.dtype}")
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(np.ascontiguousarray(samples).tobytes())
    return buf.getvalue()


def write_wav(path: str | Path, name: str, bearing_deg: float = 0.0, sample_rate: int = SAMPLE_RATE) -> None:
    from ..fsutil import atomic_write_bytes

    atomic_write_bytes(path, wav_bytes(render(name, bearing_deg, sample_rate), sample_rate))


# ---- playback backends: play(wav, samples, sample_rate) must return at once ---------------------
class PipeBackend:
    """A player process per sound, fed the WAV on stdin (default ``aplay -q -``)."""

    def __init__(self, argv: tuple[str, ...] = ("aplay", "-q", "-")):
        self.argv = argv
        self._procs: list[subprocess.Popen] = []

    def play(self, wav: bytes, samples: np.ndarray, sample_rate: int) -> None:
        self._procs = [p for p in self._procs if p.poll() is None]  # reap finished players
        proc = subprocess.Popen(list(self.argv), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        self._procs.append(proc)
        if len(wav) < 60_000:  # fits the pipe buffer: the write cannot block
            self._feed(proc, wav)
        else:
            threading.Thread(target=self._feed, args=(proc, wav), daemon=True).start()

    @staticmethod
    def _feed(proc: subprocess.Popen, wav: bytes) -> None:
        try:
            proc.stdin.write(wav)
            proc.stdin.close()
        except OSError:
            pass

    def close(self) -> None:
        for p in self._procs:
            if p.poll() is None:
                p.terminate()
            try:
                p.wait(timeout=2)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self._procs.clear()


class SoundDeviceBackend:
    def __init__(self, sd):
        self._sd = sd

    def play(self, wav: bytes, samples: np.ndarray, sample_rate: int) -> None:
        self._sd.play(samples, sample_rate)  # returns at once

    def close(self) -> None:
        self._sd.stop()


class LogBackend:
    """No sound here: log what would have played, and keep it (tests read ``played``)."""

    def __init__(self):
        self.played: list[tuple[int, int]] = []  # (bytes, frames)

    def play(self, wav: bytes, samples: np.ndarray, sample_rate: int) -> None:
        self.played.append((len(wav), len(samples)))
        log.info("earcon (no audio output): %d frames", len(samples))

    def close(self) -> None:
        pass


def default_backend():
    import shutil

    from .playback import sounddevice_module

    if shutil.which("aplay"):
        return PipeBackend()
    sd = sounddevice_module()
    return SoundDeviceBackend(sd) if sd is not None else LogBackend()


class Earcons:
    """Every earcon pre-rendered at every pan step; ``play(name, bearing)`` returns at once.

    Use as a context manager (or call close()) so no player process outlives it.
    """

    def __init__(self, backend=None, pan_step_deg: float = 15.0, sample_rate: int = SAMPLE_RATE):
        if not 0 < pan_step_deg <= 90:
            raise ValueError(f"pan_step_deg must be in (0, 90], got {pan_step_deg}")
        self.backend = backend if backend is not None else default_backend()
        self.pan_step_deg = pan_step_deg
        self.sample_rate = sample_rate
        steps = np.arange(-90.0, 90.0 + 1e-9, pan_step_deg)
        self._buffers: dict[tuple[str, float], tuple[bytes, np.ndarray]] = {}
        for name in EARCONS:
            for b in steps:
                samples = render(name, float(b), sample_rate)
                self._buffers[(name, float(b))] = (wav_bytes(samples, sample_rate), samples)

    def _step(self, bearing_deg: float) -> float:
        b = float(np.clip(bearing_deg, -90.0, 90.0))
        return float(np.clip(round(b / self.pan_step_deg) * self.pan_step_deg, -90.0, 90.0))

    def buffer(self, name: str, bearing_deg: float = 0.0) -> bytes:
        """The pre-rendered WAV bytes that play() would send."""
        if name not in EARCONS:
            raise ValueError(f"earcon must be one of {', '.join(EARCONS)}; got {name!r}")
        return self._buffers[(name, self._step(bearing_deg))][0]

    def play(self, name: str, bearing_deg: float = 0.0) -> float:
        """Start the earcon; returns the seconds it took to hand it to the backend."""
        t0 = time.perf_counter()
        wav = self.buffer(name, bearing_deg)
        samples = self._buffers[(name, self._step(bearing_deg))][1]
        try:
            self.backend.play(wav, samples, self.sample_rate)
        except Exception as e:  # a broken audio output must never stop the loop
            log.warning("earcon %s not played: %s", name, e)
        return time.perf_counter() - t0

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> "Earcons":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
