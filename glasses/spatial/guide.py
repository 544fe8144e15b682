"""Guidance along a route: a per-frame stage that finds the route's markers and says the way.

``RouteStage(frame, t)`` detects markers on every call. The waypoint being headed for is
announced ("Exit: 6 metres, 2 o'clock.") when its marker comes into view, again at most every
``repeat_s`` while it stays in view, and whenever the wearer asks (``command("route", ...)``).
Within ``reach_m`` of it the stage moves on and says where to head next, with the link's hint;
at the destination it says "You have arrived at Exit." If the marker of a later waypoint on
the path is in view while the one headed for is not, the stage skips ahead to it; reaching a
waypoint off the path plans again from there.

Time ``t`` is passed in (seconds, any origin), never read from a clock. ``__call__`` runs in a
worker thread and ``command`` in the loop's, so the state they share is behind a lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ..audio import phrases
from ..audio.narrator import Priority, Utterance
from ..camera.types import Frame
from ..outputs.overlay import Arrow, QuadLabel
from ..stages import StageOutput
from .camera import CameraProfile
from .markers import MarkerDetector, MarkerSighting

if TYPE_CHECKING:
    from .routes import Route, Waypoint


@dataclass(frozen=True)
class GuideOptions:
    reach_m: float = 1.5  # this close to a waypoint's marker = there
    repeat_s: float = 8.0  # say the way again at most this often while the marker stays in view
    lost_s: float = 2.0  # out of view this long, then seen again = "comes into view" (said again)
    stale_s: float = 1.0  # a sighting older than this does not answer a request

    def __post_init__(self) -> None:
        for key in ("reach_m", "repeat_s", "lost_s", "stale_s"):
            if not getattr(self, key) > 0:
                raise ValueError(f"{key} must be > 0, got {getattr(self, key)}")


# -- wording (en / ko) --------------------------------------------------------------------------

def say_where(name: str, s: MarkerSighting, lang: str) -> str:
    """'Exit: 6 metres, 2 o'clock.' / '출구: 2시 방향 6미터.'"""
    if lang == "ko":
        return f"{name}: {s.clock}시 방향 {phrases.metres(s.distance_m, lang)}."
    return f"{name}: {phrases.metres(s.distance_m, lang)}, {s.clock} o'clock."


def say_next(name: str, hint: str, lang: str) -> str:
    """'Next: Lift, through the double doors.' / '다음은 엘리베이터, 양문을 지나서.'"""
    if lang == "ko":
        return f"다음은 {name}" + (f", {hint}." if hint else ".")
    return f"Next: {name}" + (f", {hint}." if hint else ".")


def say_reached(name: str, lang: str) -> str:
    return f"{name}에 도착했습니다." if lang == "ko" else f"{name} reached."


def say_arrived(name: str, lang: str) -> str:
    return f"목적지 {name}에 도착했습니다." if lang == "ko" else f"You have arrived at {name}."


def say_not_in_view(lang: str) -> str:
    return "표지가 보이지 않습니다." if lang == "ko" else "Its marker is not in view."


def say_plan(destination: str, names: list[str], lang: str) -> str:
    if lang == "ko":
        return f"{destination}까지 경로: {', '.join(names)}."
    return f"Route to {destination}: {', '.join(names)}."


def say_unknown_place(arg: str, names: list[str], lang: str) -> str:
    if lang == "ko":
        return f"{arg}(이)라는 장소가 없습니다. 장소: {', '.join(names)}."
    return f"No place called {arg}. Places: {', '.join(names)}."


# -- the stage ----------------------------------------------------------------------------------

class RouteStage:
    """Per-frame route guidance (see the module docstring). ``path``: waypoint names from the
    start to the destination; ``planner(route, start, destination) -> path`` plans again when
    the wearer reaches a waypoint off the path or asks for another destination."""

    name = "route"

    def __init__(self, route: "Route", path: list[str], profile: CameraProfile, lang: str = "en",
                 options: GuideOptions | None = None, detector: MarkerDetector | None = None,
                 planner: Callable[["Route", str, str], list[str]] | None = None):
        if not path:
            raise ValueError("a route stage needs a path of at least one waypoint")
        unknown = [n for n in path if n not in route.names]
        if unknown:
            raise ValueError(f"path has waypoints the route lacks: {', '.join(unknown)}")
        self.route = route
        self.profile = profile
        self.lang = phrases.check_language(lang)
        self.options = options or GuideOptions()
        self.detector = detector or MarkerDetector()
        self.planner = planner
        self._lock = threading.Lock()
        self._path = list(path)
        self._i = 0  # index in the path of the waypoint headed for
        self._arrived = False
        self._last_seen: float | None = None  # of the target's marker
        self._last_said = -1e9  # when the target's direction was last said
        self._latest: tuple[float, dict[int, MarkerSighting]] = (-1e9, {})

    # -- state, for callers and tests ------------------------------------------------------------
    @property
    def path(self) -> list[str]:
        with self._lock:
            return list(self._path)

    @property
    def target(self) -> "Waypoint":
        with self._lock:
            return self.route.waypoint(self._path[self._i])

    @property
    def arrived(self) -> bool:
        with self._lock:
            return self._arrived

    # -- per frame --------------------------------------------------------------------------------
    def __call__(self, frame: Frame, t: float) -> StageOutput:
        sightings = self.detector.detect(frame.image, self.profile, self.route.sizes)
        seen = {s.id: s for s in sightings if s.distance_m is not None and self.route.by_marker(s.id)}
        said: list[Utterance] = []
        events: list[dict] = []
        with self._lock:
            self._latest = (t, seen)
            if not self._arrived:
                self._step(seen, t, said, events)
            arrows, quads = self._overlay(seen)
        return StageOutput(utterances=tuple(said), quads=tuple(quads), arrows=tuple(arrows), events=tuple(events),
                           frame_index=frame.index)

    def _step(self, seen: dict[int, MarkerSighting], t: float, said: list[Utterance], events: list[dict]) -> None:
        self._replan_if_off_path(seen, t, said, events)
        if self._arrived:
            return
        target = self.route.waypoint(self._path[self._i])
        if target.marker_id not in seen:  # a later waypoint of the path in view: head there
            for j in range(self._i + 1, len(self._path)):
                if self.route.waypoint(self._path[j]).marker_id in seen:
                    events.append(self._event("skipped", target, None, t, to=self._path[j]))
                    self._set_target(j)
                    target = self.route.waypoint(self._path[j])
                    break
        for _ in range(len(self._path)):  # reaching one may put the next in reach in the same frame
            s = seen.get(target.marker_id)
            if s is None:
                return
            if s.distance_m >= self.options.reach_m:
                fresh = self._last_seen is None or t - self._last_seen > self.options.lost_s
                self._last_seen = t
                if fresh or t - self._last_said >= self.options.repeat_s:
                    self._last_said = t
                    reason = "route: waypoint in view" if fresh else "route: waypoint still in view"
                    said.append(self._utter(say_where(target.spoken(self.lang), s, self.lang),
                                            Priority.REQUESTED if fresh else Priority.NEW_OBJECT, reason, t, s))
                    events.append(self._event("seen", target, s, t))
                return
            said.append(self._reach(target, t, s, events))
            if self._arrived:
                return
            target = self.route.waypoint(self._path[self._i])

    def _replan_if_off_path(self, seen, t, said, events) -> None:
        if self.planner is None:
            return
        on_path = set(self._path)  # passed ones too: still in reach just after reaching them
        for s in seen.values():
            w = self.route.by_marker(s.id)
            if w.name in on_path or s.distance_m >= self.options.reach_m:
                continue
            new_path = self.planner(self.route, w.name, self._path[-1])
            events.append(self._event("replanned", w, s, t, path=new_path))
            self._path = new_path
            self._set_target(0)
            said.append(self._reach(w, t, s, events))
            return

    def _reach(self, w: "Waypoint", t: float, s: MarkerSighting, events: list[dict]) -> Utterance:
        """At waypoint w (the one headed for): move on, and say so."""
        if self._i >= len(self._path) - 1:
            self._arrived = True
            events.append(self._event("arrived", w, s, t))
            return self._utter(say_arrived(w.spoken(self.lang), self.lang), Priority.REQUESTED, "route: arrived", t)
        self._set_target(self._i + 1)
        nxt = self.route.waypoint(self._path[self._i])
        events.append(self._event("reached", w, s, t, next=nxt.name))
        text = f"{say_reached(w.spoken(self.lang), self.lang)} {self._next_text()}"
        return self._utter(text, Priority.REQUESTED, f"route: reached {w.name}", t)

    def _next_text(self) -> str:
        """'Next: Lift, through the double doors.' for the waypoint headed for."""
        nxt = self.route.waypoint(self._path[self._i])
        link = self.route.link(self._path[self._i - 1], nxt.name) if self._i > 0 else None
        return say_next(nxt.spoken(self.lang), link.spoken_hint(self.lang) if link else "", self.lang)

    def _set_target(self, i: int) -> None:
        self._i = i
        self._last_seen = None
        self._last_said = -1e9

    def _overlay(self, seen: dict[int, MarkerSighting]) -> tuple[list[Arrow], list[QuadLabel]]:
        arrows, quads = [], []
        target = None if self._arrived else self.route.waypoint(self._path[self._i])
        for s in seen.values():  # labels in the file's own names: the overlay font draws ASCII only
            w = self.route.by_marker(s.id)
            quads.append(QuadLabel(s.quad, f"{w.name} {s.distance_m:.1f}m"))
            if target is not None and w.name == target.name:
                arrows.append(Arrow(s.bearing_deg, f"{w.name} {s.distance_m:.0f}m"))
        return arrows, quads

    def _utter(self, text: str, priority: Priority, reason: str, t: float,
               s: MarkerSighting | None = None) -> Utterance:
        return Utterance(text, priority, reason, self.lang, t, bearing_deg=None if s is None else s.bearing_deg)

    def _event(self, kind: str, w: "Waypoint", s: MarkerSighting | None, t: float, **extra) -> dict:
        rec = {"type": "route", "event": kind, "waypoint": w.name, "marker": w.marker_id, "world_t": round(t, 3)}
        if s is not None:
            rec.update(distance_m=round(s.distance_m, 2), bearing_deg=round(s.bearing_deg, 1), clock=s.clock)
        rec.update(extra)
        return rec

    # -- the wearer's commands --------------------------------------------------------------------
    def command(self, name: str, arg: str, t: float) -> list[Utterance]:
        """"route": where the waypoint headed for is (or that its marker is not in view);
        "route PLACE": plan the way to another destination. Other commands: []."""
        if name != "route":
            return []
        with self._lock:
            if arg.strip():
                return [self._new_destination(arg.strip(), t)]
            if self._arrived:
                w = self.route.waypoint(self._path[-1])
                return [self._utter(say_arrived(w.spoken(self.lang), self.lang), Priority.REQUESTED,
                                    "requested: route", t)]
            target = self.route.waypoint(self._path[self._i])
            at, seen = self._latest
            s = seen.get(target.marker_id) if abs(t - at) <= self.options.stale_s else None
            if s is not None:
                self._last_said = t
                return [self._utter(say_where(target.spoken(self.lang), s, self.lang), Priority.REQUESTED,
                                    "requested: route", t, s)]
            text = f"{self._next_text()} {say_not_in_view(self.lang)}"
            return [self._utter(text, Priority.REQUESTED, "requested: route", t)]

    def _new_destination(self, arg: str, t: float) -> Utterance:
        w = self.route.find(arg)
        if w is None or self.planner is None:
            return self._utter(say_unknown_place(arg, [x.spoken(self.lang) for x in self.route.waypoints], self.lang),
                               Priority.REQUESTED, "requested: route", t)
        if self._arrived:
            here, moved = self._path[-1], True
        elif self._i > 0:
            here, moved = self._path[self._i - 1], True  # the last waypoint reached
        else:
            here, moved = self._path[0], False  # not even at the start yet: head there first
        self._path = self.planner(self.route, here, w.name)
        self._arrived = False
        self._set_target(1 if moved and len(self._path) > 1 else 0)
        names = [self.route.waypoint(n).spoken(self.lang) for n in self._path]
        return self._utter(say_plan(w.spoken(self.lang), names, self.lang), Priority.REQUESTED, "requested: route", t)
