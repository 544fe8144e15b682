"""Announcement budget on a recorded event stream (a regression baseline).

tests/data/demo_stream.jsonl.gz holds the narrator's input for 72 s of a busy street (the demo
clip looped, through the real detector, placement and tracker; see make_narration_stream.py).
Hazards are injected at known times. At normal verbosity at most 12 utterances may fall in any
60 s, and every injected hazard must still be announced; quiet mode says hazards only.
"""

import gzip
import json
from pathlib import Path

import pytest

from glasses.audio.narrator import Narrator, NarratorConfig, Priority
from glasses.audio.phrases import Placed

STREAM = Path(__file__).parent / "data" / "demo_stream.jsonl.gz"
# (time, object): a car closing in, a person straight ahead at arm's length, a bicycle approaching
HAZARDS = [
    (12.0, Placed("car", 25.0, 1, 4.0, 9001, None)),
    (31.5, Placed("person", -3.0, 12, 1.0, 9002, None)),
    (50.2, Placed("bicycle", 10.0, 12, 4.5, 9003, 1.8)),
    (50.3, Placed("car", -40.0, 11, 5.0, 9004, None)),  # a second hazard right after the first
]
HAZARD_FOR = 1.0  # seconds each injected hazard stays in view


def frames():
    with gzip.open(STREAM, "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            objs = [Placed(label, bearing, clock, dist, tid, ttc) for label, bearing, clock, dist, tid, ttc
                    in rec["objects"]]
            t = rec["t"]
            objs += [h for start, h in HAZARDS if start <= t < start + HAZARD_FOR]
            yield t, objs


def replay(config: NarratorConfig):
    n = Narrator(config)
    return [u for t, objs in frames() for u in n.update(t, objs)]


def max_in_window(times, window=60.0):
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while t - times[j] >= window:
            j += 1
        best = max(best, i - j + 1)
    return best


def test_stream_is_a_busy_scene():
    ts, counts, labels = [], [], set()
    for t, objs in frames():
        ts.append(t)
        counts.append(len(objs))
        labels |= {o.label for o in objs}
    assert ts[-1] - ts[0] > 70 and sum(counts) / len(counts) > 2.5
    assert {"person", "car", "truck"} <= labels


def test_normal_verbosity_budget_and_hazards():
    said = replay(NarratorConfig(verbosity="normal"))
    assert max_in_window([u.t for u in said]) <= 12
    hazards = [u for u in said if u.priority == Priority.HAZARD]
    announced = {(u.labels[0], round(u.t)) for u in hazards}
    for start, h in HAZARDS:
        assert any(label == h.label and abs(t - start) <= 1 for label, t in announced), f"{h} not announced"
    assert len(said) > len(hazards)  # it still says what is around, within the budget


def test_quiet_mode_is_hazards_only():
    said = replay(NarratorConfig(verbosity="quiet"))
    assert said and all(u.priority == Priority.HAZARD for u in said)
    assert len({u.labels[0] + str(round(u.t)) for u in said}) >= len(HAZARDS) - 1


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_budget_holds_in_both_languages(lang):
    said = replay(NarratorConfig(lang=lang))
    assert max_in_window([u.t for u in said]) <= 12
