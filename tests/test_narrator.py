"""Narrator: events -> utterances tables in English and Korean; cooldown, grouping, priority,
verbosity. Time is passed in, so every case is deterministic."""

from __future__ import annotations

import pytest

from glasses.audio import phrases
from glasses.audio.narrator import (HazardRules, Narrator, NarratorConfig, Priority, Utterance,
                                    describe_scene, object_key)
from glasses.audio.phrases import Placed


def P(label, clock, dist=None, bearing=None, **kw):
    """An object at a clock position; bearing defaults to the clock's centre."""
    if bearing is None:
        bearing = ((clock % 12) * 30 + 180) % 360 - 180
    return Placed(label, float(bearing), clock, dist, **kw)


@pytest.mark.parametrize("objs, lang, expected", [
    ([P("person", 2, 3.0)], "en", "Person, 2 o'clock, 3 metres."),
    ([P("person", 3, 2.0)], "ko", "3시 방향 2미터에 사람."),
    ([P("cup", 12, None)], "en", "Cup, 12 o'clock."),
    ([P("cup", 12, None)], "ko", "12시 방향에 컵."),
    ([P("chair", 10, 0.6)], "en", "Chair, 10 o'clock, under a metre."),
    ([P("chair", 10, 0.6)], "ko", "10시 방향 1미터 이내에 의자."),
    ([P("person", 11, 4.2, -25), P("person", 12, 6.0, 0), P("person", 1, 5.1, 28)], "en",
     "Three people ahead, 11 to 1 o'clock, nearest 4 metres."),
    ([P("person", 11, 4.2, -25), P("person", 12, 6.0, 0), P("person", 1, 5.1, 28)], "ko",
     "11시에서 1시 방향에 사람 3명, 가장 가까운 것은 4미터."),
    ([P("car", 9, 12.4), P("car", 10, 17.0)], "en", "Two cars on the left, 9 to 10 o'clock, nearest 10 metres."),
    ([P("car", 9, 12.4), P("car", 10, 17.0)], "ko", "9시에서 10시 방향에 자동차 2대, 가장 가까운 것은 10미터."),
    ([], "en", "Nothing recognised."),
    ([], "ko", "인식된 물체가 없습니다."),
])
def test_describe_one_group(objs, lang, expected):
    assert describe_scene(objs, lang) == [expected]


def test_describe_at_most_three_sentences_most_important_first():
    objs = [P("cup", 12, None), P("chair", 10, 2.0), P("person", 1, 5.0), P("person", 12, 3.0),
            P("dog", 2, 3.0), P("book", 11)]
    en = describe_scene(objs, "en")
    # people first; then the nearer of the things to walk into; the rest in one breath
    assert en == ["Two people ahead, 12 to 1 o'clock, nearest 3 metres.", "Chair, 10 o'clock, 2 metres.",
                  "Also a dog, a book and a cup."]
    ko = describe_scene(objs, "ko")
    assert len(ko) == 3 and ko[0].startswith("12시에서 1시 방향에 사람 2명") and ko[2] == "그 밖에 개 1마리, 책 1개, 컵 1개."


@pytest.mark.parametrize("label, n, lang, expected", [
    ("person", 1, "en", "a person"), ("person", 2, "en", "two people"), ("apple", 1, "en", "an apple"),
    ("bus", 3, "en", "three buses"), ("knife", 2, "en", "two knives"), ("cup", 12, "en", "12 cups"),
    ("person", 2, "ko", "사람 2명"), ("car", 3, "ko", "자동차 3대"), ("dog", 1, "ko", "개 1마리"),
    ("cup", 4, "ko", "컵 4개"),
])
def test_counted(label, n, lang, expected):
    assert phrases.counted(label, n, lang) == expected


@pytest.mark.parametrize("d, en, ko", [
    (0.4, "under a metre", "1미터 이내"), (1.2, "1 metre", "1미터"), (2.6, "3 metres", "3미터"),
    (9.4, "9 metres", "9미터"), (12.0, "10 metres", "10미터"), (23.0, "25 metres", "25미터"),
])
def test_metres(d, en, ko):
    assert phrases.metres(d, "en") == en and phrases.metres(d, "ko") == ko


def test_every_coco_label_has_a_korean_name():
    labels = [s.strip() for s in open("models/coco80.txt", encoding="utf-8") if s.strip()]
    assert len(labels) == 80
    assert all(phrases.name(lb, "ko") != lb for lb in labels)


@pytest.mark.parametrize("obj, hazard", [
    (P("car", 2, 3.0), True),  # vehicle close, anywhere
    (P("car", 2, 8.0), False),
    (P("chair", 12, 1.0), True),  # anything close straight ahead
    (P("chair", 3, 1.0), False),  # close but to the side
    (P("person", 12, None, time_to_contact_s=2.0), True),  # about to collide (tracker)
    (P("person", 12, 4.0, time_to_contact_s=8.0), False),
    (P("bicycle", 12, None), False),  # no distance, no time to contact: cannot say
])
def test_hazard_rules(obj, hazard):
    assert HazardRules().is_hazard(obj) is hazard


def test_new_object_said_once_then_cooldown_then_again():
    n = Narrator(NarratorConfig(cooldown_s=10.0))
    person = [P("person", 12, 4.0)]
    first = n.update(0.0, person)
    assert [u.text for u in first] == ["Person, 12 o'clock, 4 metres."]
    assert first[0].priority == Priority.NEW_OBJECT and first[0].earcon == "new" and "person@ahead" in first[0].reason
    assert n.update(0.5, person) == []  # still there: a state, not a change
    assert n.update(1.0, []) == []  # gone
    assert n.update(3.0, person) == []  # back within the cooldown (detector flicker): quiet
    assert n.update(4.0, []) == []
    again = n.update(12.0, person)  # back after the cooldown
    assert [u.text for u in again] == ["Person, 12 o'clock, 4 metres."]


def test_cooldown_is_configurable():
    n = Narrator(NarratorConfig(cooldown_s=2.0, min_gap_s=0.0))
    assert n.update(0.0, [P("dog", 2, 3.0)])
    assert n.update(1.0, []) == []
    assert n.update(2.5, [P("dog", 2, 3.0)])


def test_cooldown_is_per_label_and_direction():
    n = Narrator(NarratorConfig(min_gap_s=0.0))
    assert n.update(0.0, [P("person", 12, 4.0)])
    out = n.update(1.0, [P("person", 12, 4.0), P("person", 3, 2.0), P("dog", 12, 3.0)])
    texts = [u.text for u in out]
    assert "Person, 3 o'clock, 2 metres." in texts and "Dog, 12 o'clock, 3 metres." in texts
    assert len(out) == 2


def test_a_moving_object_in_the_same_direction_is_not_new():
    n = Narrator()
    assert n.update(0.0, [P("person", 12, 4.0)])
    assert n.update(0.5, [P("person", 1, 3.5)]) == []  # drifted from 12 to 1: still 'ahead'


def test_tracker_ids_key_objects():
    assert object_key(P("person", 12, track_id=7)) == "person#7"
    n = Narrator(NarratorConfig(min_gap_s=0.0))
    assert n.update(0.0, [P("person", 12, 4.0, track_id=1)])
    out = n.update(0.5, [P("person", 12, 4.0, track_id=1), P("person", 12, 6.0, track_id=2)])
    assert len(out) == 1 and out[0].reason == "new: person#2"


def test_grouping_new_people_into_one_utterance():
    n = Narrator()
    crowd = [P("person", 11, 4.2, -25), P("person", 12, 6.0, 0), P("person", 1, 5.1, 28)]
    out = n.update(0.0, crowd)
    assert [u.text for u in out] == ["Three people ahead, 11 to 1 o'clock, nearest 4 metres."]
    n_ko = Narrator(NarratorConfig(lang="ko"))
    assert [u.text for u in n_ko.update(0.0, crowd)] == ["11시에서 1시 방향에 사람 3명, 가장 가까운 것은 4미터."]


def test_more_of_a_label_is_a_change():
    n = Narrator(NarratorConfig(cooldown_s=0.0, min_gap_s=0.0))
    assert n.update(0.0, [P("person", 12, 4.0)])
    out = n.update(0.5, [P("person", 12, 4.0), P("person", 12, 5.0)])
    assert [u.text for u in out] == ["Two people ahead, 12 o'clock, nearest 4 metres."]


def test_hazard_first_and_not_repeated_as_new():
    n = Narrator()
    out = n.update(0.0, [P("person", 2, 5.0), P("car", 1, 3.0), P("chair", 10, 2.0)])
    assert out[0].priority == Priority.HAZARD and out[0].text == "Careful! Car, 1 o'clock, 3 metres."
    assert out[0].earcon == "hazard" and out[0].bearing_deg == 30.0
    assert [u.priority for u in out] == sorted((u.priority for u in out), reverse=True)
    assert not any(u.priority == Priority.NEW_OBJECT and "car" in u.labels for u in out)


def test_hazard_korean():
    n = Narrator(NarratorConfig(lang="ko"))
    out = n.update(0.0, [P("car", 12, 2.0)])
    assert [u.text for u in out] == ["조심하세요! 12시 방향 2미터에 자동차."]


def test_hazard_repeats_after_its_own_cooldown():
    n = Narrator(NarratorConfig(hazard_cooldown_s=4.0))
    car = [P("car", 12, 3.0)]
    assert n.update(0.0, car)[0].priority == Priority.HAZARD
    assert n.update(2.0, car) == []
    assert n.update(4.5, car)[0].priority == Priority.HAZARD


def test_quiet_mode_says_hazards_only():
    n = Narrator(NarratorConfig(verbosity="quiet"))
    assert n.update(0.0, [P("person", 12, 4.0), P("dog", 2, 3.0)]) == []
    out = n.update(1.0, [P("person", 12, 4.0), P("truck", 11, 4.0)])
    assert [u.priority for u in out] == [Priority.HAZARD]


def test_normal_mode_limits_new_utterances_per_update():
    objs = [P("person", 12, 4.0), P("dog", 2, 3.0), P("chair", 10, 2.0), P("cup", 11)]
    assert len(Narrator().update(0.0, objs)) == 2
    assert len(Narrator(NarratorConfig(verbosity="detailed")).update(0.0, objs)) == 3


def test_detailed_mode_ambient_summary_after_silence():
    n = Narrator(NarratorConfig(verbosity="detailed", ambient_interval_s=30.0))
    room = [P("chair", 10, 2.0), P("cup", 12)]
    assert n.update(0.0, room)
    assert n.update(10.0, room) == []
    out = n.update(31.0, room)
    assert len(out) == 1 and out[0].priority == Priority.AMBIENT
    assert out[0].text == "Chair, 10 o'clock, 2 metres. Cup, 12 o'clock."
    assert Narrator(NarratorConfig(verbosity="normal")).update(31.0, room)  # normal: only as new


def test_request_ignores_cooldown():
    n = Narrator()
    objs = [P("person", 12, 4.0)]
    assert n.update(0.0, objs)
    u = n.request(1.0, objs)
    assert u.priority == Priority.REQUESTED and u.text == "Person, 12 o'clock, 4 metres."


def test_time_must_not_go_backwards():
    n = Narrator()
    n.update(5.0, [])
    with pytest.raises(ValueError, match="backwards"):
        n.update(4.0, [])


@pytest.mark.parametrize("kwargs, match", [
    ({"lang": "fr"}, "language must be one of en, ko"),
    ({"verbosity": "loud"}, "verbosity must be one of quiet, normal, detailed"),
    ({"cooldown_s": -1}, "cooldown_s must be >= 0"),
])
def test_config_rejects_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        NarratorConfig(**kwargs)


def test_utterance_validated():
    with pytest.raises(ValueError):
        Utterance("  ", Priority.HAZARD, "x")
    assert Utterance("hi", 3, "x").priority is Priority.HAZARD
    assert Priority.HAZARD > Priority.REQUESTED > Priority.NEW_OBJECT > Priority.AMBIENT


def test_a_tracked_object_in_a_new_track_is_not_news():
    n = Narrator(NarratorConfig(min_gap_s=0.0))
    assert n.update(0.0, [P("car", 1, 20.0, 30, track_id=26)])
    assert n.update(1.0, [P("car", 1, 20.0, 30, track_id=31)]) == []  # same car, tracker lost it once


def test_budget_holds_news_back_but_not_hazards():
    n = Narrator(NarratorConfig(min_gap_s=3.0))
    assert n.update(0.0, [P("dog", 9, 8.0, -90)])
    assert n.update(1.0, [P("dog", 9, 8.0, -90), P("bench", 3, 8.0, 90)]) == []  # too soon after the dog
    hazard = n.update(1.5, [P("dog", 9, 8.0, -90), P("bench", 3, 8.0, 90), P("car", 12, 3.0)])
    assert [u.priority for u in hazard] == [Priority.HAZARD]  # hazards are never held back
    later = n.update(4.0, [P("dog", 9, 8.0, -90), P("bench", 3, 8.0, 90), P("car", 12, 3.0)])
    assert [u.text for u in later] == ["Bench, 3 o'clock, 8 metres."]  # held back, then said


def test_held_back_news_is_dropped_when_it_is_gone():
    n = Narrator(NarratorConfig(min_gap_s=3.0))
    assert n.update(0.0, [P("dog", 9, 8.0, -90)])
    assert n.update(1.0, [P("bench", 3, 8.0, 90)]) == []
    assert n.update(4.0, []) == []
    assert n.update(5.0, [P("cup", 12)]) != []  # the bench is no longer news to catch up on


def test_at_most_max_per_minute():
    n = Narrator(NarratorConfig(max_per_minute=12, hazard_reserve=4, min_gap_s=0.0, cooldown_s=0.0))
    said = 0
    for i in range(120):  # a new object every half second for a minute
        said += len(n.update(i * 0.5, [P(["dog", "cat", "bench", "chair"][i % 4], 1 + i % 12, 8.0)]))
    assert said == 8  # the other 4 of the 12 are kept for hazards
