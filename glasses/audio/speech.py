"""The speech worker: says utterances without ever blocking or hanging its caller.

The TTS engine (pyttsx3 + espeak-ng) runs in a child process (``glasses.audio.speech_child``)
in its own process group. A supervisor thread feeds it one utterance at a time, highest
priority first; a watchdog kills and restarts the child when an utterance takes far longer than
its expected duration or the child dies; a higher-priority utterance cuts off a lower one.

    with SpeechWorker(SpeechSettings(lang="ko")) as speech:
        speech.say("조심하세요! 12시 방향 2미터에 자동차", priority=3)

``render_wav`` writes speech to a WAV file instead (same child, with a timeout, atomically).
"""

from __future__ import annotations

import collections
import heapq
import itertools
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import GlassesError
from .phrases import VOICES

log = logging.getLogger(__name__)

MIN_RATE_WPM, MAX_RATE_WPM = 80, 450


@dataclass(frozen=True)
class SpeechSettings:
    rate_wpm: int = 190
    lang: str = "en"
    voice: str | None = None  # an espeak-ng voice name; default: the language's voice
    volume: float = 1.0  # 0..1

    def __post_init__(self) -> None:
        if not MIN_RATE_WPM <= self.rate_wpm <= MAX_RATE_WPM:
            raise ValueError(f"rate_wpm must be {MIN_RATE_WPM}..{MAX_RATE_WPM} words a minute, got {self.rate_wpm}")
        if not 0.0 <= self.volume <= 1.0:
            raise ValueError(f"volume must be 0..1, got {self.volume}")

    @property
    def voice_name(self) -> str:
        return self.voice or VOICES.get(self.lang, self.lang)


@dataclass(frozen=True)
class ChildBackend:
    """How to start the speech child: a command speaking the JSON-lines protocol of
    ``glasses.audio.speech_child``. Tests pass a fake one that hangs or dies."""

    argv: tuple[str, ...]
    ready_timeout_s: float = 15.0

    @classmethod
    def pyttsx3(cls, play: bool = True) -> "ChildBackend":
        return cls((sys.executable, "-m", "glasses.audio.speech_child", "--engine", "pyttsx3",
                    "--player", "auto" if play else "none"))

    @classmethod
    def espeak_cli(cls, play: bool = True) -> "ChildBackend":
        return cls((sys.executable, "-m", "glasses.audio.speech_child", "--engine", "espeak-ng",
                    "--player", "auto" if play else "none"))


def expected_seconds(text: str, rate_wpm: int) -> float:
    """Rough speaking time: words (or, for scripts without spaces, characters / 6) at rate_wpm."""
    units = max(len(text.split()), len(text) / 6.0)
    return units * 60.0 / rate_wpm + 0.3


@dataclass
class SpeechRecord:
    """What became of one utterance. Times are time.monotonic() seconds. on_record gets each one
    when it is final (from the worker's thread, or from stop()/close())."""

    id: int
    text: str
    priority: int
    enqueue_ts: float
    sent_ts: float | None = None
    start_ts: float | None = None  # the child began playing
    end_ts: float | None = None
    status: str = "pending"  # ok | interrupted | timeout | crashed | error | stale | cancelled
    audio_s: float | None = None
    error: str | None = None
    attempts: int = 0
    max_age_s: float | None = field(default=None, repr=False)

    @property
    def start_latency_s(self) -> float | None:
        return None if self.start_ts is None else self.start_ts - self.enqueue_ts


class _Child:
    """One running child process and the thread reading its events."""

    def __init__(self, backend: ChildBackend, generation: int, events: queue.Queue):
        self.generation = generation
        self.proc = subprocess.Popen(list(backend.argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        self._reader = threading.Thread(target=self._read, args=(events,), daemon=True,
                                        name=f"speech-child-{generation}")
        self._reader.start()

    def _read(self, events: queue.Queue) -> None:
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            events.put((self.generation, msg))
        events.put((self.generation, None))  # end of file: the child is gone

    def send(self, msg: dict) -> bool:
        try:
            self.proc.stdin.write((json.dumps(msg, ensure_ascii=False) + "\n").encode("utf-8"))
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, OSError, ValueError):
            return False

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the child and anything it started (players)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        self._reader.join(timeout=2)

    def close(self, grace_s: float = 1.0) -> None:
        try:
            self.proc.stdin.close()  # end of input: the child finishes and exits
        except OSError:
            pass
        try:
            self.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            pass
        self.kill()


_WAKE = (-1, {"event": "wake"})


class SpeechWorker:
    """Says utterances in priority order in a child process; never blocks, never hangs.

    ``say()`` returns at once. An utterance of higher priority than the one being spoken cuts it
    off; pending ones wait (highest priority first, then oldest). ``stop()`` silences everything.
    """

    def __init__(self, settings: SpeechSettings | None = None, backend: ChildBackend | None = None,
                 watchdog_factor: float = 3.0, watchdog_slack_s: float = 3.0, stop_grace_s: float = 0.5,
                 on_record=None, keep_records: int = 1000):
        self.settings = settings or SpeechSettings()
        self.backend = backend or ChildBackend.pyttsx3()
        self.watchdog_factor = watchdog_factor
        self.watchdog_slack_s = watchdog_slack_s
        self.stop_grace_s = stop_grace_s
        self.on_record = on_record
        self.restarts = 0  # children killed or lost after the first
        self._cv = threading.Condition()
        self._pending: list[tuple[int, int, SpeechRecord]] = []
        self._records: collections.deque[SpeechRecord] = collections.deque(maxlen=keep_records)
        self._current: SpeechRecord | None = None
        self._interrupt = False
        self._closing = False
        self._events: queue.Queue = queue.Queue()
        self._ids = itertools.count(1)
        self._child: _Child | None = None
        self._generations = itertools.count(1)
        self._thread: threading.Thread | None = None
        self._failures = 0

    # ---- public API -------------------------------------------------------------------------
    def start(self) -> "SpeechWorker":
        with self._cv:
            if self._closing:
                raise RuntimeError("speech worker is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True, name="speech-worker")
                self._thread.start()
        return self

    def __enter__(self) -> "SpeechWorker":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def say(self, text: str, priority: int = 0, max_age_s: float | None = None) -> int:
        """Queue text; returns its id at once. max_age_s: drop it if it has waited that long."""
        if not text.strip():
            raise ValueError("nothing to say: text is empty")
        self.start()
        rec = SpeechRecord(next(self._ids), text, int(priority), time.monotonic(), max_age_s=max_age_s)
        with self._cv:
            heapq.heappush(self._pending, (-rec.priority, rec.id, rec))
            self._records.append(rec)
            if self._current is not None and rec.priority > self._current.priority:
                self._interrupt = True
                self._events.put(_WAKE)
            self._cv.notify_all()
        return rec.id

    def stop(self) -> None:
        """Silence: drop everything pending and cut off what is being said."""
        with self._cv:
            for _, _, rec in self._pending:
                self._finish(rec, "cancelled")
            self._pending.clear()
            if self._current is not None:
                self._interrupt = True
                self._events.put(_WAKE)
            self._cv.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is pending or being said; False on timeout."""
        end = None if timeout is None else time.monotonic() + timeout
        with self._cv:
            while self._pending or self._current is not None:
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cv.wait(left)
        return True

    @property
    def records(self) -> list[SpeechRecord]:
        with self._cv:
            return list(self._records)

    def record(self, uid: int) -> SpeechRecord:
        """The record of say()'s id (the last keep_records are kept)."""
        with self._cv:
            for r in self._records:
                if r.id == uid:
                    return r
        raise KeyError(f"no speech record {uid} (only the last {self._records.maxlen} are kept)")

    def close(self, timeout: float = 10.0) -> None:
        """Stop speaking and end the child process; nothing is left running."""
        with self._cv:
            self._closing = True
            for _, _, rec in self._pending:
                self._finish(rec, "cancelled")
            self._pending.clear()
            self._interrupt = True
            self._cv.notify_all()
        self._events.put(_WAKE)
        if self._thread is not None:
            self._thread.join(timeout)
        if self._child is not None:  # the thread did not get to it
            self._child.kill()
            self._child = None

    # ---- the supervisor thread --------------------------------------------------------------
    def _run(self) -> None:
        try:
            while True:
                with self._cv:
                    while not self._closing and not self._pending:
                        self._cv.wait()
                    if self._closing:
                        break
                    _, _, rec = heapq.heappop(self._pending)
                    if rec.max_age_s is not None and time.monotonic() - rec.enqueue_ts > rec.max_age_s:
                        self._finish(rec, "stale")
                        continue
                    self._current = rec
                    self._interrupt = False
                self._speak(rec)
                with self._cv:
                    self._current = None
                    self._cv.notify_all()
        finally:
            if self._child is not None:
                self._child.close(grace_s=0.5)
                self._child = None
            with self._cv:
                self._current = None
                self._cv.notify_all()

    def _finish(self, rec: SpeechRecord, status: str, error: str | None = None) -> None:
        rec.status = status
        rec.error = error
        rec.end_ts = time.monotonic()
        if status in ("timeout", "crashed", "error"):
            log.warning("speech %s: %r%s", status, rec.text[:60], f" ({error})" if error else "")
        if self.on_record is not None:
            try:
                self.on_record(rec)
            except Exception:
                log.exception("speech on_record callback failed")

    def _lose_child(self) -> None:
        if self._child is not None:
            self._child.kill()
            self._child = None
            self.restarts += 1

    def _spawn(self) -> str | None:
        """Start a child and wait for it to be ready; an error message on failure."""
        try:
            child = _Child(self.backend, next(self._generations), self._events)
        except OSError as e:
            return f"cannot start the speech engine: {e}"
        end = time.monotonic() + self.backend.ready_timeout_s
        while True:
            left = end - time.monotonic()
            if left <= 0 or self._closing:
                child.kill()
                return "speech engine did not start in time"
            try:
                gen, msg = self._events.get(timeout=left)
            except queue.Empty:
                continue
            if gen != child.generation:
                continue
            if msg is None:
                child.kill()
                return "speech engine exited while starting"
            if msg.get("event") == "ready":
                self._child = child
                return None
            if msg.get("event") == "fatal":
                child.kill()
                return f"speech engine failed to start: {msg.get('error')}"

    def _speak(self, rec: SpeechRecord) -> None:
        rec.attempts += 1
        if self._child is None:
            if self._failures:  # back off after failures, but stay responsive to close()
                with self._cv:
                    self._cv.wait_for(lambda: self._closing, timeout=min(0.1 * 2 ** self._failures, 3.0))
            err = self._spawn()
            if err:
                self._failures += 1
                self._finish(rec, "error", err)
                return
        s = self.settings
        child = self._child
        rec.sent_ts = time.monotonic()
        if not child.send({"id": rec.id, "text": rec.text, "voice": s.voice_name, "rate": s.rate_wpm,
                           "volume": s.volume}):
            self._lose_child()
            self._retry_or_finish(rec, "crashed", "speech engine closed its input")
            return
        deadline = rec.sent_ts + self.watchdog_factor * expected_seconds(rec.text, s.rate_wpm) + self.watchdog_slack_s
        stop_deadline: float | None = None
        while True:
            now = time.monotonic()
            limit = deadline if stop_deadline is None else min(deadline, stop_deadline)
            if now >= limit:
                self._lose_child()
                if stop_deadline is not None and now >= stop_deadline:
                    self._finish(rec, "interrupted")
                else:
                    self._finish(rec, "timeout", f"no end after {now - rec.sent_ts:.1f} s")
                return
            if stop_deadline is None and self._interrupt:
                child.send({"cmd": "stop"})
                stop_deadline = now + self.stop_grace_s
                continue
            try:
                gen, msg = self._events.get(timeout=limit - now)
            except queue.Empty:
                continue
            if gen == -1 or gen != child.generation:
                continue  # a wake-up, or a message from a child already gone
            if msg is None:
                self._lose_child()
                self._retry_or_finish(rec, "crashed", "speech engine exited")
                return
            if msg.get("id") != rec.id:
                continue
            if msg.get("event") == "started":
                rec.start_ts = time.monotonic()
                rec.audio_s = msg.get("audio_s")
                if rec.audio_s:  # now the real length is known, time the rest from it
                    deadline = max(deadline, rec.start_ts + self.watchdog_factor * rec.audio_s + self.watchdog_slack_s)
            elif msg.get("event") == "done":
                self._failures = 0
                status = msg.get("status")
                self._finish(rec, {"ok": "ok", "stopped": "interrupted"}.get(status, "error"), msg.get("error"))
                return

    def _retry_or_finish(self, rec: SpeechRecord, status: str, error: str) -> None:
        """A crash before the sound started: try once more (it may be a hazard)."""
        if rec.start_ts is None and rec.attempts < 2 and not self._closing and not self._interrupt:
            with self._cv:
                heapq.heappush(self._pending, (-rec.priority, rec.id, rec))
            return
        self._finish(rec, status, error)


def render_wav(text: str, dest: str | Path, settings: SpeechSettings | None = None,
               timeout_s: float = 30.0, backend: ChildBackend | None = None) -> float:
    """Speak text into a WAV file (atomically: dest is whole or untouched); returns its seconds.

    Raises GlassesError when the engine fails or takes longer than timeout_s (it is killed).
    """
    from ..fsutil import atomic_path

    if not text.strip():
        raise ValueError("nothing to say: text is empty")
    settings = settings or SpeechSettings()
    backend = backend or ChildBackend.pyttsx3(play=False)
    events: queue.Queue = queue.Queue()
    end = time.monotonic() + timeout_s
    with atomic_path(dest, suffix=".wav") as tmp:
        try:
            child = _Child(backend, 1, events)
        except OSError as e:
            raise GlassesError(f"cannot start the speech engine: {e}") from e
        try:
            sent = False
            while True:
                left = end - time.monotonic()
                if left <= 0:
                    raise GlassesError(f"speech engine took longer than {timeout_s:g} s to write {dest}")
                try:
                    _, msg = events.get(timeout=left)
                except queue.Empty:
                    continue
                if msg is None:
                    raise GlassesError("speech engine exited before writing the WAV file")
                if msg.get("event") == "fatal":
                    raise GlassesError(f"speech engine failed to start: {msg.get('error')}")
                if msg.get("event") == "ready" and not sent:
                    sent = child.send({"id": 1, "text": text, "voice": settings.voice_name,
                                       "rate": settings.rate_wpm, "volume": settings.volume, "out": str(tmp)})
                elif msg.get("id") == 1 and msg.get("event") == "done":
                    if msg.get("status") != "ok":
                        raise GlassesError(f"speech engine failed: {msg.get('error') or msg.get('status')}")
                    seconds = float(msg.get("audio_s") or 0.0)
                    break
        finally:
            child.close(grace_s=1.0)
    return seconds
