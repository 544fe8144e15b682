"""The speech child process: ``python -m glasses.audio.speech_child [--engine pyttsx3|espeak-ng]``.

It owns the TTS engine, so when the engine hangs (pyttsx3 is known to) the parent kills this
whole process group and starts another. Protocol, one JSON object per line:
  stdin:  {"id": 1, "text": "...", "voice": "en-us", "rate": 190, "volume": 1.0, "out": null}
          {"cmd": "stop"}            cut off what is being said now
  stdout: {"event": "ready"}
          {"id": 1, "event": "started", "audio_s": 1.3}     sound is starting now
          {"id": 1, "event": "done", "status": "ok" | "stopped" | "error", "error": "..."}
With "out" set the speech goes to that WAV file and nothing is played. Nothing else is ever
written to stdout (engines that print are pointed at stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import wave
from pathlib import Path


class Pyttsx3Engine:
    """pyttsx3 driving libespeak-ng, synthesising to a WAV file (its say() shells out to aplay)."""

    def __init__(self) -> None:
        import pyttsx3

        self._engine = pyttsx3.init("espeak")

    def synth(self, text: str, voice: str, rate: int, volume: float, path: str) -> None:
        e = self._engine
        e.setProperty("voice", voice)
        e.setProperty("rate", int(rate))
        e.setProperty("volume", float(volume))
        e.save_to_file(text, path)
        e.runAndWait()
        if os.path.exists(path) and os.path.getsize(path) > 44:
            return
        # pyttsx3 2.99 now and then returns from runAndWait without having written anything;
        # the same libespeak-ng voice through its own program is the fallback
        print("pyttsx3 wrote no audio; using the espeak-ng program", file=sys.stderr)
        EspeakCliEngine().synth(text, voice, rate, volume, path)


class EspeakCliEngine:
    """The espeak-ng program itself (no pyttsx3)."""

    def synth(self, text: str, voice: str, rate: int, volume: float, path: str) -> None:
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(int(rate)), "-a", str(int(round(volume * 100))),
                        "-w", path, "--", text], check=True, stdout=subprocess.DEVNULL, timeout=60)


ENGINES = {"pyttsx3": Pyttsx3Engine, "espeak-ng": EspeakCliEngine}


def wav_seconds(path: str) -> float:
    with wave.open(path, "rb") as w:
        return w.getnframes() / float(w.getframerate())


class Player:
    """Plays a WAV file to the end or until stop(); with no player installed, waits as long as the
    sound would last, so timing and interruption behave the same on a headless machine."""

    def __init__(self, mode: str = "auto"):
        from .playback import player_command

        self._argv = player_command() if mode == "auto" else None
        self._proc: subprocess.Popen | None = None
        self._stopped = threading.Event()
        self._lock = threading.Lock()

    def play(self, path: str, seconds: float) -> bool:
        """True when played to the end, False when stopped."""
        with self._lock:
            if self._stopped.is_set():
                return False
            if self._argv:
                self._proc = subprocess.Popen([*self._argv, path], stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL)
        if self._argv:
            self._proc.wait()
        else:
            self._stopped.wait(seconds)
        return not self._stopped.is_set()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def reset(self) -> None:
        with self._lock:
            self._stopped.clear()
            self._proc = None

    def stop(self) -> None:
        with self._lock:
            self._stopped.set()
            if self._proc is not None and self._proc.poll() is None:
                self._proc.terminate()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="glasses-speech-child")
    ap.add_argument("--engine", choices=sorted(ENGINES), default="pyttsx3")
    ap.add_argument("--player", choices=("auto", "none"), default="auto")
    args = ap.parse_args(argv)

    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)  # whatever an engine prints goes to stderr, never into the protocol
    sys.stdout = sys.stderr

    def send(**msg) -> None:
        proto.write(json.dumps(msg, ensure_ascii=False) + "\n")
        proto.flush()

    try:
        engine = ENGINES[args.engine]()
    except Exception as e:  # no espeak-ng library, no pyttsx3: say why, then end
        send(event="fatal", error=f"{type(e).__name__}: {e} (is espeak-ng installed? apt-get install espeak-ng)")
        return 1
    player = Player(args.player)
    requests: queue.Queue = queue.Queue()

    def read_stdin() -> None:
        for line in sys.stdin:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if msg.get("cmd") == "stop":
                player.stop()
            else:  # cleared here, in arrival order: a stop sent right after this request still counts
                player.reset()
                requests.put(msg)
        requests.put(None)
        player.stop()

    threading.Thread(target=read_stdin, daemon=True).start()
    send(event="ready")
    with tempfile.TemporaryDirectory(prefix="glasses-speech-") as tmp:
        while (msg := requests.get()) is not None:
            uid = msg.get("id")
            path = msg.get("out") or str(Path(tmp) / "say.wav")
            try:
                engine.synth(str(msg["text"]), msg.get("voice") or "en-us", int(msg.get("rate", 190)),
                             float(msg.get("volume", 1.0)), path)
                seconds = wav_seconds(path)
            except Exception as e:  # one bad utterance must not end the child
                send(id=uid, event="done", status="error", error=f"{type(e).__name__}: {e}")
                continue
            if msg.get("out"):
                send(id=uid, event="done", status="ok", audio_s=round(seconds, 3))
                continue
            if player.stopped:  # cut off while synthesising: nothing was heard
                send(id=uid, event="done", status="stopped")
                continue
            send(id=uid, event="started", audio_s=round(seconds, 3))
            finished = player.play(path, seconds)
            send(id=uid, event="done", status="ok" if finished else "stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
