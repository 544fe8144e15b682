"""The events log: schema on every line, whole lines, odd values, memory-only mode, reading back."""

from __future__ import annotations

import enum
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from glasses.audio.announcer import Announcer
from glasses.audio.narrator import Priority, Utterance
from glasses.errors import InputError
from glasses.outputs.events import EventLog, jsonable, read_events, sessions


class FakeClock:
    def __init__(self, start: float = 1000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_line_has_t_frame_type_and_t_never_decreases(tmp_path):
    clock = FakeClock()
    path = tmp_path / "logs" / "events.jsonl"
    with EventLog(path, clock=clock) as log:
        clock.now += 0.5
        log.log("frame", 0, detections=2, latency_ms=41.5, fps=11.8)
        clock.now += 0.25
        log.log("detection", 0, change="appeared", label="person", clock=12, distance_m=3.2, track_id=1)
        clock.now -= 0.1  # a clock that steps back does not make t go back
        log.log("error", stage="text", message="reader failed")
        log.log("camera", state="lost", source="0", message="no frame for 2 s")
    recs = lines(path)
    assert [r["type"] for r in recs] == ["start", "frame", "detection", "error", "camera", "stop"]
    for r in recs:
        assert list(r)[:3] == ["t", "frame", "type"]
    ts = [r["t"] for r in recs]
    assert ts == sorted(ts) and ts[0] == 0.0 and ts[1] == 0.5 and ts[2] == 0.75
    assert recs[1]["frame"] == 0 and recs[3]["frame"] is None
    assert recs[0]["monotonic"] == 1000.0 and recs[0]["pid"] > 0 and "T" in recs[0]["time"]
    assert recs[-1]["records"] == {"start": 1, "frame": 1, "detection": 1, "error": 1, "camera": 1}


def test_speech_records_from_the_announcer_pass_through_unchanged(tmp_path):
    u = Utterance("car close ahead", Priority.HAZARD, reason="car at 2 m", bearing_deg=5.0, earcon="hazard")
    record = Announcer().announce(u, capture_ts=123.25)
    path = tmp_path / "e.jsonl"
    with EventLog(path) as log:
        log.write(record, frame=7)
    speech = read_events(path, types=["speech"])[0]
    assert speech["frame"] == 7 and speech["type"] == "speech"
    for key, value in record.items():
        assert speech[key] == value
    assert speech["priority"] == 3 and speech["capture_ts"] == 123.25


def test_field_names_never_clash_with_the_log_s_own(tmp_path):
    with EventLog(None, clock=FakeClock()) as log:
        rec = log.log("utterance", 3, type="speech", t=99.0, text="hi")
        assert rec["type"] == "utterance" and rec["t"] == 0.0 and rec["frame"] == 3
        assert rec["type_given"] == "speech" and rec["t_given"] == 99.0
        assert log.log("frame", frame=5)["frame"] == 5  # frame given by name
        assert log.log("frame", "x")["frame"] is None  # not a frame number: kept aside
        assert log.records()[-1]["frame_given"] == "x"
        assert log.log("frame", np.int64(9))["frame"] == 9


class Colour(enum.Enum):
    RED = "red"


@dataclass
class Box:
    xyxy: np.ndarray


@dataclass(frozen=True)
class WithJson:
    def to_json(self) -> dict:
        return {"as": "json"}


class Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def test_odd_values_are_serialised_and_never_raise(tmp_path):
    path = tmp_path / "e.jsonl"
    cyclic: list = []
    cyclic.append(cyclic)
    with EventLog(path) as log:
        log.log("frame", 1, a=np.float32(1.5), b=np.arange(3), c=Box(np.array([1, 2])), d=WithJson(),
                e=Priority.HAZARD, f=Colour.RED, g=float("nan"), h=object(), i=Unprintable(), j=cyclic,
                k={1: "x", (2, 3): "y"}, m=Path("/tmp/x"), n=b"\x00\x01", o=np.zeros((200, 200)),
                p={"s"}, q=lambda: 0)
    (rec,) = read_events(path, types=["frame"])
    assert rec["a"] == 1.5 and rec["b"] == [0, 1, 2] and rec["c"] == {"xyxy": [1, 2]}
    assert rec["d"] == {"as": "json"} and rec["e"] == 3 and rec["f"] == "red" and rec["g"] is None
    assert rec["h"].startswith("<object") and rec["i"] == "<unrepresentable Unprintable>"
    assert isinstance(rec["j"], list) and rec["k"] == {"1": "x", "[2, 3]": "y"} and rec["m"] == "/tmp/x"
    assert rec["n"] == "<2 bytes>" and rec["o"].startswith("<array shape=[200, 200]") and rec["p"] == ["s"]
    assert "NaN" not in path.read_text()


def test_jsonable_plain_values_unchanged():
    value = {"a": [1, 2.5, None, True, "s"]}
    assert jsonable(value) == value


def test_memory_only_log_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with EventLog(None, keep=3) as log:
        for i in range(10):
            log.log("frame", i)
    assert list(tmp_path.iterdir()) == []
    recs = log.records()
    assert [r["type"] for r in recs] == ["frame", "frame", "stop"]
    assert log.records("frame")[-1]["frame"] == 9
    assert log.counts()["frame"] == 10


def test_lines_are_whole_under_threads(tmp_path):
    path = tmp_path / "e.jsonl"
    with EventLog(path) as log:
        def worker(n):
            for i in range(200):
                log.log("speech", i, text=f"worker {n} " + "x" * 5000)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    recs = read_events(path)
    assert len(recs) == 2 + 800
    ts = [r["t"] for r in recs]
    assert ts == sorted(ts)


def test_each_line_reaches_the_file_at_once(tmp_path):
    path = tmp_path / "e.jsonl"
    log = EventLog(path).open()
    log.log("frame", 1, detections=0)
    assert [r["type"] for r in read_events(path)] == ["start", "frame"]  # before close
    log.close()
    log.log("frame", 2)  # after close: memory only, no error
    assert len(read_events(path)) == 3 and log.records()[-1]["frame"] == 2


def test_appends_and_splits_into_sessions(tmp_path):
    path = tmp_path / "e.jsonl"
    for n in range(2):
        with EventLog(path) as log:
            log.log("frame", n)
    runs = sessions(read_events(path))
    assert [[r["type"] for r in run] for run in runs] == [["start", "frame", "stop"]] * 2


def test_read_events_skips_a_line_cut_short_but_not_a_broken_one(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_text('{"t": 0, "frame": null, "type": "start"}\n{"t": 0.1, "fra')
    assert len(read_events(path)) == 1
    path.write_text('{"t": 0, "frame": null, "type": "start"}\nnot json\n{"t": 1, "frame": 1, "type": "x"}\n')
    with pytest.raises(InputError, match=r"e.jsonl:2"):
        read_events(path)
    with pytest.raises(InputError, match="no events log"):
        read_events(tmp_path / "missing.jsonl")


def test_an_unwritable_path_is_one_line_error(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match="cannot write the events log"):
        EventLog(tmp_path / "file" / "e.jsonl").open()


def test_write_error_while_running_keeps_logging_in_memory(tmp_path):
    log = EventLog(tmp_path / "e.jsonl").open()
    import os
    os.close(log._fd)  # the file goes away under it (disk gone)
    rec = log.log("frame", 1)
    assert rec["frame"] == 1 and log.error and "stopped" in log.error
    log.log("frame", 2)
    log.close()
    assert log.records("frame")[-1]["frame"] == 2
