"""Speech worker: never blocks, recovers from an engine that hangs or dies, pre-empts by
priority, leaves no child behind; WAV rendering gives real speech (espeak-ng via pyttsx3)."""

from __future__ import annotations

import math
import shutil
import sys
import time
import wave

import numpy as np
import pytest

from glasses.audio.speech import (ChildBackend, SpeechSettings, SpeechWorker, expected_seconds,
                                  render_wav)
from glasses.errors import GlassesError


needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed (apt-get install espeak-ng)")

# A stand-in engine speaking the child protocol. "hang..." never answers, "die..." exits,
# "slow N ..." plays for N seconds (and honours stop), anything else plays for 0.05 s.
FAKE_CHILD = r"""
import json, os, select, sys, time
def send(**m):
    sys.stdout.write(json.dumps(m) + "\n"); sys.stdout.flush()
send(event="ready")
for line in sys.stdin:
    m = json.loads(line)
    if m.get("cmd") == "stop":
        continue
    text, uid = m["text"], m["id"]
    if text.startswith("hang"):
        time.sleep(3600)
    if text.startswith("die"):
        os._exit(3)
    secs = float(text.split()[1]) if text.startswith("slow") else 0.05
    send(id=uid, event="started", audio_s=secs)
    end, status = time.monotonic() + secs, "ok"
    while time.monotonic() < end:
        r, _, _ = select.select([sys.stdin], [], [], max(0.0, end - time.monotonic()))
        if r:
            if json.loads(sys.stdin.readline()).get("cmd") == "stop":
                status = "stopped"
                break
    send(id=uid, event="done", status=status)
"""
FAKE = ChildBackend((sys.executable, "-c", FAKE_CHILD), ready_timeout_s=10.0)


def fake_worker(**kw) -> SpeechWorker:
    kw.setdefault("watchdog_slack_s", 0.5)
    return SpeechWorker(backend=FAKE, **kw)


def test_say_returns_at_once_and_speaks_in_order():
    with fake_worker() as w:
        t0 = time.monotonic()
        ids = [w.say(f"hello {i}") for i in range(3)]
        assert time.monotonic() - t0 < 0.1  # never waits for the engine
        assert w.wait_idle(20)
        assert [w.record(i).status for i in ids] == ["ok"] * 3
        assert all(w.record(i).start_ts is not None for i in ids)


def test_hanging_engine_is_killed_and_restarted():
    with fake_worker(watchdog_factor=1.0) as w:
        hung = w.say("hang forever")
        ok = w.say("hello after the hang")
        assert w.wait_idle(20)
        assert w.record(hung).status == "timeout"
        assert w.record(ok).status == "ok"
        assert w.restarts == 1


def test_dying_engine_is_restarted():
    with fake_worker() as w:
        dead = w.say("die now")
        ok = w.say("hello after the crash")
        assert w.wait_idle(20)
        rec = w.record(dead)
        assert rec.status == "crashed" and rec.attempts == 2  # tried once more before giving up
        assert w.record(ok).status == "ok"
        assert w.restarts == 2


def test_engine_that_never_starts_gives_an_error_not_a_hang():
    never = ChildBackend((sys.executable, "-c", "import time; time.sleep(3600)"), ready_timeout_s=0.5)
    with SpeechWorker(backend=never) as w:
        uid = w.say("hello")
        assert w.wait_idle(10)
        assert w.record(uid).status == "error" and "did not start" in w.record(uid).error


def test_higher_priority_cuts_off_lower():
    with fake_worker() as w:
        low = w.say("slow 30 a long description of the room", priority=1)
        deadline = time.monotonic() + 10
        while w.record(low).start_ts is None and time.monotonic() < deadline:
            time.sleep(0.01)
        high = w.say("careful, car ahead", priority=3)
        assert w.wait_idle(10)
        assert w.record(low).status == "interrupted"
        assert w.record(high).status == "ok"
        assert w.record(high).start_ts - w.record(high).enqueue_ts < 2.0
        assert w.restarts == 0  # stopped through the protocol, not killed


def test_pending_runs_highest_priority_first_and_equal_priority_does_not_interrupt():
    with fake_worker() as w:
        first = w.say("slow 0.5 first", priority=1)
        time.sleep(0.2)
        a = w.say("ambient", priority=0)
        b = w.say("same level", priority=1)
        assert w.wait_idle(10)
        assert w.record(first).status == "ok"
        assert w.record(b).start_ts < w.record(a).start_ts


def test_stop_silences_and_drops_pending():
    with fake_worker() as w:
        cur = w.say("slow 30 talking")
        later = w.say("later")
        time.sleep(0.3)
        w.stop()
        assert w.wait_idle(10)
        assert w.record(cur).status == "interrupted" and w.record(later).status == "cancelled"


def test_stale_utterances_are_dropped():
    with fake_worker() as w:
        w.say("slow 0.5 busy")
        stale = w.say("old news", max_age_s=0.1)
        assert w.wait_idle(10)
        assert w.record(stale).status == "stale"


def test_close_leaves_no_child_process():
    w = fake_worker().start()
    w.say("slow 30 still talking")
    time.sleep(0.5)
    child = w._child
    assert child is not None and child.proc.poll() is None
    t0 = time.monotonic()
    w.close()
    assert time.monotonic() - t0 < 5
    assert child.proc.poll() is not None
    with pytest.raises(RuntimeError):
        w.say("after close")


@pytest.mark.parametrize("kwargs, match", [
    ({"rate_wpm": 50}, "rate_wpm must be 80..450"),
    ({"rate_wpm": 451}, "rate_wpm must be 80..450"),
    ({"volume": 1.5}, "volume must be 0..1"),
])
def test_settings_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SpeechSettings(**kwargs)


def test_settings_voice_from_language():
    assert SpeechSettings().voice_name == "en-us"
    assert SpeechSettings(lang="ko").voice_name == "ko"
    assert SpeechSettings(lang="ko", voice="en-gb").voice_name == "en-gb"
    assert SpeechSettings(rate_wpm=450).rate_wpm == 450


def test_expected_seconds_grows_with_text_and_falls_with_rate():
    assert expected_seconds("one two three four", 190) < expected_seconds("one two three four five six seven", 190)
    assert expected_seconds("one two three four", 400) < expected_seconds("one two three four", 190)


def test_render_wav_timeout_kills_and_writes_nothing(tmp_path):
    hang = ChildBackend((sys.executable, "-c", FAKE_CHILD))
    out = tmp_path / "x.wav"
    t0 = time.monotonic()
    with pytest.raises(GlassesError, match="longer than 1 s"):
        render_wav("hang please", out, timeout_s=1.0, backend=hang)
    assert time.monotonic() - t0 < 5
    assert not out.exists() and list(tmp_path.iterdir()) == []


def _read_wav(path):
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2
        x = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float64)
        return x, w.getnframes() / w.getframerate()


@needs_espeak
def test_render_wav_is_real_speech_of_plausible_length(tmp_path):
    short, long_ = tmp_path / "short.wav", tmp_path / "long.wav"
    s1 = render_wav("Person, 2 o'clock, 3 metres.", short)
    s2 = render_wav("Three people ahead, 11 to 1 o'clock, nearest 4 metres. Also a dog, a book and a cup.", long_)
    x1, d1 = _read_wav(short)
    x2, d2 = _read_wav(long_)
    assert d1 == pytest.approx(s1, abs=0.01) and d2 == pytest.approx(s2, abs=0.01)
    assert 0.8 < d1 < 5.0 and 2.5 < d2 < 12.0 and d2 > 1.8 * d1  # longer text, longer speech
    for x in (x1, x2):
        rms = math.sqrt(np.mean(x ** 2))
        assert rms > 500  # not silence (16-bit full scale is 32767)
        assert np.mean(np.abs(x) > 1000) > 0.1  # sound through much of it, not one click


@needs_espeak
def test_render_wav_korean_and_rate(tmp_path):
    text = "11시에서 1시 방향에 사람 3명, 가장 가까운 것은 4미터."
    slow = render_wav(text, tmp_path / "slow.wav", SpeechSettings(lang="ko", rate_wpm=150))
    fast = render_wav(text, tmp_path / "fast.wav", SpeechSettings(lang="ko", rate_wpm=400))
    x, d = _read_wav(tmp_path / "slow.wav")
    assert math.sqrt(np.mean(x ** 2)) > 500 and d > 1.5
    assert fast < 0.75 * slow


@needs_espeak
def test_real_engine_speaks_without_blocking():
    # --player none: no sound card in CI; the child waits as long as the sound would last
    with SpeechWorker(backend=ChildBackend.pyttsx3(play=False)) as w:
        t0 = time.monotonic()
        uid = w.say("Person, 2 o'clock, 3 metres.")
        assert time.monotonic() - t0 < 0.1
        assert w.wait_idle(30)
        rec = w.record(uid)
        assert rec.status == "ok" and rec.audio_s > 0.8 and rec.start_latency_s < 10


def test_announcer_plays_earcon_then_queues_speech_and_logs():
    from glasses.audio.announcer import Announcer
    from glasses.audio.earcons import Earcons, LogBackend
    from glasses.audio.narrator import Narrator
    from glasses.audio.phrases import Placed

    utterances = Narrator().update(0.0, [Placed("car", 30.0, 1, 3.0), Placed("person", -60.0, 10, 4.0)])
    backend = LogBackend()
    with fake_worker() as w, Earcons(backend) as e:
        a = Announcer(w, e)
        events = [a.announce(u, capture_ts=12.5) for u in utterances]
        assert w.wait_idle(10)
        assert [r.status for r in w.records] == ["ok", "ok"]
        assert [r.priority for r in w.records] == [3, 1]
    assert len(backend.played) == 2  # hazard beeps, new-object blip
    assert events[0]["type"] == "speech" and events[0]["priority_name"] == "hazard"
    assert events[0]["capture_ts"] == 12.5 and events[0]["voiced"] and events[0]["reason"].startswith("hazard")
    silent = Announcer().announce(utterances[0])  # --no-speech: logged, not voiced
    assert silent["voiced"] is False and silent["text"] == utterances[0].text


@needs_espeak
def test_real_engine_stop_right_after_say_is_not_a_kill():
    with SpeechWorker(backend=ChildBackend.pyttsx3(play=False)) as w:
        assert w.wait_idle(1)
        w.say("warm up")
        assert w.wait_idle(30)
        uid = w.say("A long sentence about everything in the room, one thing after another, slowly.")
        deadline = time.monotonic() + 10
        while w.record(uid).sent_ts is None and time.monotonic() < deadline:
            time.sleep(0.001)
        w.stop()  # reaches the child with the request, before or while it synthesises
        assert w.wait_idle(10)
        assert w.record(uid).status == "interrupted" and w.restarts == 0


def test_engine_that_cannot_start_says_why(tmp_path):
    fatal = ChildBackend((sys.executable, "-c",
                          "import json; print(json.dumps({'event': 'fatal', 'error': 'OSError: no libespeak-ng'}))"))
    with pytest.raises(GlassesError, match="failed to start: OSError: no libespeak-ng"):
        render_wav("hello", tmp_path / "x.wav", backend=fatal)
    with SpeechWorker(backend=fatal) as w:
        uid = w.say("hello")
        assert w.wait_idle(10)
        assert w.record(uid).status == "error" and "no libespeak-ng" in w.record(uid).error
