"""The narrator: world state in, a few short prioritised utterances out.

Rules, in order:
  1. hazards (a vehicle close by, anything close straight ahead, a short time to contact) are
     always said, with their own short cooldown;
  2. new objects (a label appearing in a direction, or more of them than a moment ago) are said
     once, grouped per label ("three people ahead, 11 to 1 o'clock"), then not again for the
     cooldown (default 10 s) - changes, not states;
  3. in detailed mode, a short ambient summary when nothing was said for a while.
Quiet mode says hazards only. Time is passed in (seconds, any origin), never read from a clock,
so the same inputs always give the same utterances.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from enum import IntEnum

from . import phrases
from .phrases import Placed


class Priority(IntEnum):
    """Higher cuts off lower in the speech worker."""

    AMBIENT = 0
    NEW_OBJECT = 1
    REQUESTED = 2
    HAZARD = 3


VERBOSITIES = ("quiet", "normal", "detailed")
VEHICLES = frozenset({"car", "bus", "truck", "motorcycle", "bicycle", "train"})
# How much a wearer cares, before distance: people and vehicles first, then things to walk into.
IMPORTANCE = {**{v: 3 for v in VEHICLES}, "person": 3, "dog": 2, "horse": 2, "cow": 2, "bench": 2,
              "chair": 2, "fire hydrant": 2, "potted plant": 2, "stop sign": 2, "traffic light": 2,
              "parking meter": 2, "suitcase": 2, "dining table": 2, "couch": 2, "bicycle": 3}


@dataclass(frozen=True)
class Utterance:
    """One thing to say, and why (for the events log: "why did it say that?")."""

    text: str
    priority: Priority
    reason: str
    lang: str = "en"
    t: float = 0.0  # the world time it was decided at (seconds)
    labels: tuple[str, ...] = ()
    bearing_deg: float | None = None  # of the nearest object it is about: for panning an earcon
    earcon: str | None = None  # earcon to play first ("hazard", "new"), or none

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError("an utterance needs text")
        object.__setattr__(self, "priority", Priority(self.priority))
        phrases.check_language(self.lang)


@dataclass(frozen=True)
class HazardRules:
    vehicle_m: float = 6.0  # a vehicle this close, anywhere in view
    ahead_m: float = 1.5  # anything this close ...
    ahead_deg: float = 20.0  # ... within this many degrees of straight ahead
    contact_s: float = 3.0  # time to contact below this (needs a tracker) ...
    contact_max_m: float = 5.0  # ... and no farther than this when the distance is known

    def is_hazard(self, obj: Placed) -> bool:
        if (obj.time_to_contact_s is not None and 0 <= obj.time_to_contact_s < self.contact_s
                and (obj.distance_m is None or obj.distance_m <= self.contact_max_m)):
            return True
        if obj.distance_m is None:
            return False
        if obj.label in VEHICLES and obj.distance_m < self.vehicle_m:
            return True
        return obj.distance_m < self.ahead_m and abs(obj.bearing_deg) <= self.ahead_deg


@dataclass(frozen=True)
class NarratorConfig:
    lang: str = "en"
    verbosity: str = "normal"
    cooldown_s: float = 10.0  # a label in a direction is not announced again within this
    hazard_cooldown_s: float = 4.0
    ambient_interval_s: float = 30.0  # detailed mode: a summary after this long in silence
    max_new_per_update: int = 2
    # Budget for everything that is not a hazard or an answer: at most this many utterances
    # (of any kind) in any 60 s, and this long between two of them. Hazards are never held back.
    max_per_minute: int = 12
    hazard_reserve: int = 4  # of those, room kept for hazards: news stops at max_per_minute - this
    min_gap_s: float = 3.0
    hazards: HazardRules = field(default_factory=HazardRules)

    def __post_init__(self) -> None:
        phrases.check_language(self.lang)
        if self.verbosity not in VERBOSITIES:
            raise ValueError(f"verbosity must be one of {', '.join(VERBOSITIES)}; got {self.verbosity!r}")
        if self.max_per_minute < 1:
            raise ValueError(f"max_per_minute must be >= 1, got {self.max_per_minute}")
        if not 0 <= self.hazard_reserve < self.max_per_minute:
            raise ValueError(f"hazard_reserve must be 0..max_per_minute-1, got {self.hazard_reserve}")
        for key in ("cooldown_s", "hazard_cooldown_s", "ambient_interval_s", "min_gap_s"):
            if getattr(self, key) < 0:
                raise ValueError(f"{key} must be >= 0, got {getattr(self, key)}")
        if self.max_new_per_update < 1:
            raise ValueError(f"max_new_per_update must be >= 1, got {self.max_new_per_update}")


def object_key(obj: Placed) -> str:
    """Identity for change detection and cooldowns: the track id when there is a tracker, else the
    label in a coarse direction (so a person drifting from 12 to 1 o'clock is not 'new')."""
    if obj.track_id is not None:
        return f"{obj.label}#{obj.track_id}"
    return zone_key(obj)


def zone_key(obj: Placed) -> str:
    """The label in a coarse direction, whatever its track id."""
    return f"{obj.label}@{phrases.zone(obj.clock)}"


def _nearest(objs: list[Placed]) -> Placed:
    return min(objs, key=lambda o: (o.distance_m is None, o.distance_m or 0.0, abs(o.bearing_deg)))


def rank_groups(objects: list[Placed], rules: HazardRules | None = None) -> list[list[Placed]]:
    """Objects grouped per label, most important group first: hazards, then people and vehicles,
    then the nearest, then the most numerous."""
    rules = rules or HazardRules()
    by_label: dict[str, list[Placed]] = defaultdict(list)
    for o in objects:
        by_label[o.label].append(o)

    def rank(objs: list[Placed]):
        near = [o.distance_m for o in objs if o.distance_m is not None]
        return (not any(rules.is_hazard(o) for o in objs), -IMPORTANCE.get(objs[0].label, 1),
                min(near) if near else float("inf"), -len(objs), objs[0].label)

    return sorted(by_label.values(), key=rank)


def describe_scene(objects: list[Placed], lang: str = "en", max_sentences: int = 3,
                   rules: HazardRules | None = None) -> list[str]:
    """At most max_sentences short sentences about the most important objects, with direction and
    distance; the rest summed up in the last sentence ("Also two chairs and a cup.")."""
    phrases.check_language(lang)
    if max_sentences < 1:
        raise ValueError(f"max_sentences must be >= 1, got {max_sentences}")
    groups = rank_groups(objects, rules)
    if not groups:
        return [phrases.sentence(phrases.nothing(lang))]
    if len(groups) <= max_sentences:
        return [phrases.sentence(phrases.group(g, lang)) for g in groups]
    head, rest = groups[:max_sentences - 1], groups[max_sentences - 1:]
    out = [phrases.sentence(phrases.group(g, lang)) for g in head]
    out.append(phrases.sentence(phrases.others([(g[0].label, len(g)) for g in rest[:4]], lang)))
    return out


class Narrator:
    """Remembers what was said and when; ``update(t, objects)`` returns what to say now."""

    def __init__(self, config: NarratorConfig | None = None):
        self.config = config or NarratorConfig()
        self._said: dict[str, float] = {}  # key -> time last announced
        self._hazard_said: dict[str, float] = {}
        self._previous: dict[str, int] = {}  # key -> count in the previous update
        self._last_spoke: float | None = None
        self._last_t: float | None = None
        self._spoken: deque[float] = deque()  # times of every utterance in the last minute
        self._last_optional: float | None = None  # time of the last new-object/ambient utterance
        self._pending: dict[str, float] = {}  # news held back by the budget: key -> when it was news
        self._zone_count: dict[str, int] = {}  # label@zone -> how many there were when announced

    def _check_time(self, t: float) -> None:
        if self._last_t is not None and t < self._last_t:
            raise ValueError(f"time went backwards: {t} after {self._last_t}")
        self._last_t = t

    def _cooled(self, table: dict[str, float], key: str, t: float, cooldown: float) -> bool:
        last = table.get(key)
        return last is None or t - last >= cooldown

    def _budget_allows(self, t: float) -> bool:
        """Whether a new-object or ambient utterance fits the budget now."""
        while self._spoken and t - self._spoken[0] >= 60.0:
            self._spoken.popleft()
        if len(self._spoken) >= self.config.max_per_minute - self.config.hazard_reserve:
            return False
        last = self._last_optional
        # several groups announced in one update are one moment; the gap is between moments
        return last is None or last == t or t - last >= self.config.min_gap_s

    def _spend(self, t: float, optional: bool) -> None:
        self._spoken.append(t)
        if optional:
            self._last_optional = t

    def _news(self, t: float, objects: list[Placed], counts: dict[str, int]) -> list[Utterance]:
        """New objects, grouped per label, within the budget.

        An object is news when its key is new or more numerous than in the previous update (or
        it was news but held back by the budget: pending), it was not announced within the
        cooldown, and its label in that direction was not announced within the cooldown unless
        there are now more of them than then (a tracked object flickering into a new track id is
        not news; a second person joining the first is).
        """
        cfg = self.config
        zone_counts: dict[str, int] = defaultdict(int)
        for o in objects:
            zone_counts[zone_key(o)] += 1
        present = set(counts)
        self._pending = {k: t0 for k, t0 in self._pending.items() if k in present and t - t0 <= cfg.cooldown_s}

        def is_news(o: Placed) -> bool:
            k, z = object_key(o), zone_key(o)
            if not (counts[k] > self._previous.get(k, 0) or k in self._pending):
                return False
            if not self._cooled(self._said, k, t, cfg.cooldown_s):
                return False
            return self._cooled(self._said, z, t, cfg.cooldown_s) or zone_counts[z] > self._zone_count.get(z, 0)

        limit = cfg.max_new_per_update + (1 if cfg.verbosity == "detailed" else 0)
        groups = rank_groups([o for o in objects if is_news(o)], cfg.hazards)
        out: list[Utterance] = []
        for i, g in enumerate(groups):
            if i >= limit or not self._budget_allows(t):
                for o in g:  # held back, not forgotten: said when there is room, if still there
                    self._pending.setdefault(object_key(o), t)
                continue
            keys = sorted({object_key(o) for o in g})
            for k in keys:
                self._said[k] = t
                self._pending.pop(k, None)
            for o in g:
                self._said[zone_key(o)] = t
                self._zone_count[zone_key(o)] = zone_counts[zone_key(o)]
            self._spend(t, optional=True)
            near = _nearest(g)
            out.append(Utterance(phrases.sentence(phrases.group(g, cfg.lang)), Priority.NEW_OBJECT,
                                 f"new: {', '.join(keys)}", cfg.lang, t, (g[0].label,), near.bearing_deg, "new"))
        return out

    def update(self, t: float, objects: list[Placed]) -> list[Utterance]:
        """What to say at time t (seconds) about the objects seen now, most urgent first."""
        self._check_time(t)
        cfg = self.config
        out: list[Utterance] = []

        # 1. hazards, nearest first, each on its own
        hazards = sorted((o for o in objects if cfg.hazards.is_hazard(o)),
                         key=lambda o: (o.distance_m is None, o.distance_m or 0.0))
        for o in hazards:
            key = object_key(o)
            if not self._cooled(self._hazard_said, key, t, cfg.hazard_cooldown_s):
                continue
            self._hazard_said[key] = t
            self._said[key] = t  # said as a hazard: no need to say it again as new
            why = f"hazard: {o.label} at {o.clock} o'clock"
            why += f", {o.distance_m:.1f} m" if o.distance_m is not None else ""
            why += f", contact in {o.time_to_contact_s:.1f} s" if o.time_to_contact_s is not None else ""
            out.append(Utterance(phrases.sentence(phrases.hazard(o, cfg.lang)), Priority.HAZARD, why,
                                 cfg.lang, t, (o.label,), o.bearing_deg, "hazard"))
            self._spend(t, optional=False)

        # 2. new objects: a key that is new or more numerous than in the previous update
        counts: dict[str, int] = defaultdict(int)
        for o in objects:
            counts[object_key(o)] += 1
        if cfg.verbosity != "quiet":
            out += self._news(t, objects, counts)
        self._previous = dict(counts)

        # 3. ambient summary after a long silence (detailed mode)
        if (cfg.verbosity == "detailed" and not out and objects and self._budget_allows(t)
                and t - (self._last_spoke if self._last_spoke is not None else t) >= cfg.ambient_interval_s):
            self._spend(t, optional=True)
            text = " ".join(describe_scene(objects, cfg.lang, 2, cfg.hazards))
            out.append(Utterance(text, Priority.AMBIENT, f"ambient: {cfg.ambient_interval_s:g} s quiet",
                                 cfg.lang, t, tuple(sorted({o.label for o in objects}))))
        if out or self._last_spoke is None:
            self._last_spoke = t
        return out

    def request(self, t: float, objects: list[Placed], max_sentences: int = 3) -> Utterance:
        """The wearer asked "what is around me?": the scene now, cooldowns ignored (and reset)."""
        self._check_time(t)
        for o in objects:
            self._said[object_key(o)] = t
        self._last_spoke = t
        self._spend(t, optional=False)
        text = " ".join(describe_scene(objects, self.config.lang, max_sentences, self.config.hazards))
        near = _nearest(objects).bearing_deg if objects else None
        return Utterance(text, Priority.REQUESTED, "requested", self.config.lang, t,
                         tuple(sorted({o.label for o in objects})), near, "confirm")
