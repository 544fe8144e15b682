"""glasses describe through the command line, on real images with the real (int8) detector."""

from __future__ import annotations

import json
import math
import shutil
import wave

import numpy as np
import pytest

from glasses.cli import main

BENCH = "models/images/bench"
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed (apt-get install espeak-ng)")


def _json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def test_describe_json_street_scene(capsys):
    assert main(["describe", f"{BENCH}/vtest_0300.jpg", "--json"]) == 0
    [obj] = _json_lines(capsys.readouterr().out)
    assert set(obj) == {"image", "sentences", "objects", "lines"}
    assert obj["image"] == f"{BENCH}/vtest_0300.jpg" and obj["lines"] == []
    assert 1 <= len(obj["sentences"]) <= 3
    assert "people" in obj["sentences"][0] and "o'clock" in obj["sentences"][0]
    assert sum(o["label"] == "person" for o in obj["objects"]) >= 3
    for o in obj["objects"]:
        assert set(o) == {"label", "score", "box", "bearing_deg", "clock", "distance_m"}
        assert 1 <= o["clock"] <= 12 and len(o["box"]) == 4


def test_describe_korean_person(capsys):
    assert main(["describe", f"{BENCH}/messi5.jpg", "--lang", "ko"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{BENCH}/messi5.jpg:"
    assert any("방향" in line and "사람" in line for line in out[1:])


def test_describe_english_person_with_distance(capsys):
    assert main(["describe", f"{BENCH}/messi5.jpg", "--json"]) == 0
    [obj] = _json_lines(capsys.readouterr().out)
    assert obj["sentences"][0].startswith("Person, ") and "metre" in obj["sentences"][0]


def test_unsupported_language_is_one_line_error(capsys):
    assert main(["describe", f"{BENCH}/messi5.jpg", "--lang", "fr"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["glasses describe: error: --lang must be one of en, ko; got 'fr'"]


def test_missing_image_is_reported_and_others_still_described(capsys, tmp_path):
    rc = main(["describe", str(tmp_path / "nope.jpg"), f"{BENCH}/messi5.jpg", "--json"])
    cap = capsys.readouterr()
    assert rc == 1
    assert len(cap.err.strip().splitlines()) == 1 and "nope.jpg" in cap.err
    assert [o["image"] for o in _json_lines(cap.out)] == [f"{BENCH}/messi5.jpg"]


@needs_espeak
def test_audio_out_writes_speech_not_stdout(capsys, tmp_path):
    out = tmp_path / "speech.wav"
    assert main(["describe", f"{BENCH}/messi5.jpg", "--json", "--audio-out", str(out)]) == 0
    [obj] = _json_lines(capsys.readouterr().out)  # stdout stays pure JSON
    with wave.open(str(out), "rb") as w:
        seconds = w.getnframes() / w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float64)
    words = sum(len(s.split()) for s in obj["sentences"])
    assert 0.15 * words < seconds < 1.0 * words + 2  # about 190 words a minute
    assert math.sqrt(np.mean(x ** 2)) > 500


def test_audio_out_must_be_wav(capsys, tmp_path):
    assert main(["describe", f"{BENCH}/messi5.jpg", "--audio-out", str(tmp_path / "x.mp3")]) == 1
    assert "--audio-out must name a .wav file" in capsys.readouterr().err


@needs_espeak
def test_speak_finishes_and_prints(capsys):
    # no sound card in CI: the speech child times the silence instead of playing
    assert main(["describe", f"{BENCH}/messi5.jpg", "--speak"]) == 0
    assert "Person" in capsys.readouterr().out


def test_describe_reads_sign_text(capsys):
    from pathlib import Path

    from glasses.cli import main

    sign = Path(__file__).resolve().parents[1] / "models/images/signs/demo_exit_0200.jpg"
    assert main(["describe", "--json", str(sign)]) == 0
    obj = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [l["text"] for l in obj["lines"]] == ["EXIT"]
    assert obj["lines"][0]["translation"] is None and len(obj["lines"][0]["quad"]) == 4
    assert obj["sentences"][-1] == "Sign: EXIT." and len(obj["sentences"]) <= 3
