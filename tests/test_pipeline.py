"""The camera loop: a camera that drops out and comes back, stage errors, commands, events
schema, the JSON summary, and clean shutdown (signals, finalised recording, no orphans)."""

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from glasses.audio.announcer import Announcer
from glasses.audio.narrator import Narrator
from glasses.camera.fakes import FlakyCamera
from glasses.camera.live import Backoff, LiveSource
from glasses.camera.sources import open_source
from glasses.outputs.events import EventLog, read_events
from glasses.pipeline import Assistant, LoopOptions, parse_command
from glasses.spatial.camera import CameraProfile
from glasses.spatial.tracker import Tracker

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "models" / "images" / "bench"
CAM = CameraProfile.from_fov(640, 480, 65.0)


def assistant(source, detector, events, **kw):
    return Assistant(source, detector, CAM, Narrator(), Announcer(None, None), events, tracker=Tracker(),
                     options=LoopOptions(**kw))


def guard(stop: threading.Event, seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, stop.set)  # a test never hangs
    timer.daemon = True
    timer.start()
    return timer


@pytest.mark.parametrize("line, parsed", [
    ("describe", ("describe", "")), ("d", ("describe", "")), ("  Repeat ", ("repeat", "")),
    ("again", ("repeat", "")), ("s", ("stop", "")), ("silence", ("stop", "")), ("q", ("quit", "")),
    ("where person", ("where", "person")), ("where is the dog", ("where", "the dog")),
    ("read", ("read", "")), ("", None), ("hello", None),
])
def test_parse_command(line, parsed):
    assert parse_command(line) == parsed


def test_real_photos_through_the_loop(int8_detector, tmp_path):
    with open_source(str(BENCH), fast=True) as src, EventLog(tmp_path / "ev.jsonl") as events:
        summary = assistant(src, int8_detector, events).run()
    assert summary.frames == len(list(BENCH.glob("*.jpg")))
    report = summary.to_json()
    assert set(report) >= {"frames", "fps", "latency_ms", "utterances"}
    assert set(report["latency_ms"]) == {"p50", "p95"} and report["latency_ms"]["p50"] > 0
    records = list(read_events(tmp_path / "ev.jsonl"))
    assert all({"t", "frame", "type"} <= set(r) for r in records)
    ts = [r["t"] for r in records]
    assert ts == sorted(ts)
    frames = [r for r in records if r["type"] == "frame"]
    assert len(frames) == summary.frames and all(r["latency_ms"] > 0 for r in frames)
    speech = [r for r in records if r["type"] == "speech"]
    assert speech and summary.utterances == len(speech)
    for r in speech:
        assert {"text", "priority", "capture_ts", "enqueue_ts", "reason"} <= set(r)
        assert r["enqueue_ts"] >= r["capture_ts"]
    appeared = [r for r in records if r["type"] == "detection" and r["change"] == "appeared"]
    assert any(r["label"] == "person" for r in appeared)


def test_camera_lost_and_back(int8_detector):
    cam = FlakyCamera(sessions=(25, 1000), failed_opens=2, size=(320, 240), frame_interval=0.005)
    stop = threading.Event()
    guard(stop, 30)
    # the outage (two failed reopens, 0.3 s apart) outlasts the loop's 0.25 s read timeout
    with LiveSource(cam, name="fake", backoff=Backoff(0.3, 2, 0.6)) as src, EventLog(None) as events:
        a = assistant(src, int8_detector, events, max_frames=40)
        summary = a.run(stop)
        records = events.records()
    assert summary.frames == 40 and summary.camera_lost == 1
    camera = [r["state"] for r in records if r["type"] == "camera"]
    assert camera == ["lost", "restored"]
    said = [r["text"] for r in records if r["type"] == "speech"]
    assert said.count("Camera lost.") == 1 and said.count("Camera back.") == 1
    assert summary.source["reconnects"] == 1


class ExplodingDetector:
    """Fails on every third call, like a stage hitting a bad frame."""

    def __init__(self, real):
        self.real, self.calls = real, 0

    def __call__(self, image):
        self.calls += 1
        if self.calls % 3 == 0:
            raise RuntimeError("boom")
        return self.real(image)


def test_a_failing_stage_is_logged_and_the_loop_goes_on(int8_detector):
    with open_source(str(BENCH), fast=True) as src, EventLog(None) as events:
        summary = assistant(src, ExplodingDetector(int8_detector), events).run()
        records = events.records()
    errors = [r for r in records if r["type"] == "error"]
    assert summary.frames == len(list(BENCH.glob("*.jpg"))) and summary.errors == len(errors) == 7
    assert errors[0]["stage"] == "detector" and "RuntimeError: boom" in errors[0]["message"]


def test_commands_from_the_api(int8_detector):
    with open_source(str(BENCH / "vtest_0300.jpg"), fast=True, loop=True) as src, EventLog(None) as events:
        calls = []

        def detector(image):  # the wearer asks while the second frame is being looked at
            calls.append(1)
            if len(calls) == 2:
                for cmd in (("describe", ""), ("where", "person"), ("where", "giraffe"), ("repeat", "")):
                    a.command(*cmd)
            return int8_detector(image)

        a = assistant(src, detector, events, max_frames=6)
        summary = a.run()
        records = events.records()
    reasons = [r["reason"] for r in records if r["type"] == "speech"]
    assert "requested" in reasons and "requested: where person" in reasons
    texts = {r["reason"]: r["text"] for r in records if r["type"] == "speech"}
    assert "o'clock" in texts["requested: where person"]
    assert texts["requested: where giraffe"] == "No giraffe seen."
    assert any(r.startswith("repeat:") for r in reasons)
    assert summary.frames == 6
    with pytest.raises(ValueError, match="command must be one of"):
        a.command("dance")


def test_detect_every_n_frames(int8_detector):
    calls = []

    def counting(image):
        calls.append(1)
        return int8_detector(image)

    with open_source(str(BENCH), fast=True) as src, EventLog(None) as events:
        summary = assistant(src, counting, events, detect_every=3).run()
    assert summary.frames == 21 and len(calls) == 7


def _glasses(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "glasses", "run", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_cleanly_and_finalises_the_recording(tmp_path, sig):
    out, ev = tmp_path / "out.mp4", tmp_path / "ev.jsonl"
    proc = _glasses("--source", str(BENCH), "--loop", "--headless", "--record", str(out), "--events", str(ev),
                    "--json", stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (ev.exists() and '"type":"frame"' in ev.read_text()):
        time.sleep(0.2)
    time.sleep(1.0)
    t0 = time.monotonic()
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=20)
    stopped_in = time.monotonic() - t0
    assert proc.returncode == 0, stderr
    assert stopped_in < 5  # issue target: within a second of the signal; generous for a loaded CI box
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["frames"] > 0
    cap = cv2.VideoCapture(str(out))
    assert cap.isOpened() and int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == summary["frames"]
    cap.release()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary recording left behind"
    records = [json.loads(l) for l in ev.read_text().splitlines()]
    assert records[-1]["type"] == "stop"
    # the speech child (a separate process group) must be gone with its parent
    left = subprocess.run(["pgrep", "-f", "glasses.audio.speech_child"], capture_output=True, text=True)
    assert left.stdout.strip() == "" or str(proc.pid) not in left.stdout


def test_stdin_commands_headless(tmp_path):
    ev = tmp_path / "ev.jsonl"
    proc = _glasses("--source", str(BENCH / "vtest_0300.jpg"), "--loop", "--headless", "--no-speech",
                    "--events", str(ev), stdin=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (ev.exists() and '"type":"frame"' in ev.read_text()):
        time.sleep(0.2)
    stdout, stderr = proc.communicate("describe\nwhere person\nquit\n", timeout=30)
    assert proc.returncode == 0, stderr
    records = [json.loads(l) for l in ev.read_text().splitlines()]
    reasons = [r.get("reason") for r in records if r["type"] == "speech"]
    assert "requested" in reasons and "requested: where person" in reasons


@pytest.mark.parametrize("args, message", [
    (["--lang", "fr"], "--lang must be one of"),
    (["--record", "out.gif"], "--record must end in"),
    (["--profile", "pi9"], "--profile must be one of"),
    (["--source", "/no/such/file.mp4"], "no such file"),
])
def test_bad_run_arguments(capsys, args, message):
    from glasses.cli import main

    assert main(["run", "--headless", "--no-speech", *args]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


def test_no_camera_falls_back_to_the_demo_clip(monkeypatch, capsys):
    import glasses.camera.sources as sources
    from glasses.cli import main

    monkeypatch.setattr(sources, "list_video_devices", lambda: [])
    assert main(["run", "--headless", "--no-speech", "--json", "--fast", "--max-frames", "5"]) == 0
    out = capsys.readouterr()
    assert "no camera" in out.err.lower() and "demo" in out.err.lower()
    summary = json.loads(out.out.strip().splitlines()[-1])
    assert summary["frames"] == 5


def test_route_guidance_in_the_loop(tmp_path):
    """A waypoint marker in view: the loop's route stage names it with its direction and distance."""
    marker = cv2.aruco.generateImageMarker(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50), 1, 60)
    img = np.full((480, 640, 3), 200, np.uint8)
    pad = cv2.copyMakeBorder(marker, 10, 10, 10, 10, cv2.BORDER_CONSTANT, value=255)
    img[200:280, 420:500] = cv2.cvtColor(pad, cv2.COLOR_GRAY2BGR)  # right of centre
    frame = tmp_path / "corridor.png"
    cv2.imwrite(str(frame), img)
    ev = tmp_path / "ev.jsonl"
    proc = subprocess.run([sys.executable, "-m", "glasses", "run", "--source", str(frame), "--loop", "--headless",
                           "--no-speech", "--max-frames", "15", "--route", str(ROOT / "overlays/routes/example.toml"),
                           "--to", "Exit", "--events", str(ev)], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    said = [json.loads(l) for l in ev.read_text().splitlines()]
    texts = [r["text"] for r in said if r["type"] == "speech"]
    # marker 1 is the Entrance; 60 px of a 0.15 m marker at fx 502 is about 1.3 m: reached
    assert any(t.startswith("Entrance") or "Entrance reached" in t for t in texts), texts


def test_optical_overlays_are_warped_by_the_display_alignment():
    from glasses.commands.run import _AlignedDisplay

    class Fake:
        closed = False

        def show(self, frame):
            self.frame = frame
            return None

    fake = Fake()
    shift = np.array([[1.0, 0, 30], [0, 1.0, -10], [0, 0, 1]])  # the display sees things 30 px right, 10 up
    shown = _AlignedDisplay(fake, shift, (200, 100))
    canvas = np.zeros((120, 160, 3), np.uint8)
    canvas[50, 40] = 255
    shown.show(canvas)
    assert fake.frame.shape == (100, 200, 3) and fake.frame[40, 70].max() == 255
