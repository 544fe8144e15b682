"""Routes: named waypoints tied to ArUco markers, the links between them, and the way through.

A route file (``overlays/routes/*.toml``)::

    name = "Ground floor: entrance to the exit"
    dictionary = "DICT_4X4_50"      # optional, the default
    marker_size_m = 0.15            # optional: the size of every marker that gives none
    start = "Entrance"              # optional: where guidance begins (default: the first waypoint)

    [[waypoint]]
    name = "Entrance"
    marker = 1                      # the ArUco id printed at this place
    size_m = 0.15                   # side of its black square, as printed (metres)
    description = "Glass door from the street"
    name_ko = "입구"                 # optional, spoken with --lang ko

    [[link]]
    from = "Entrance"
    to = "Corridor"
    hint = "straight on into the corridor"   # optional, said when heading this way
    hint_ko = "복도로 직진"
    length_m = 12                            # optional weight for planning (default 1)

Links go both ways. ``load_route`` rejects a bad file with a one-line InputError; ``plan``
finds the shortest way (Dijkstra on ``length_m``); ``route_stage`` builds the per-frame
``RouteStage`` (glasses.spatial.guide) for the live loop.
"""

from __future__ import annotations

import heapq
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from .camera import CameraProfile
from .guide import GuideOptions, RouteStage
from .markers import DEFAULT_DICTIONARY, MarkerDetector, MarkerOptions, dictionary_size, get_dictionary

TOP_KEYS = {"name", "dictionary", "marker_size_m", "start", "waypoint", "link"}
WAYPOINT_KEYS = {"name", "marker", "size_m", "description", "name_ko", "description_ko"}
LINK_KEYS = {"from", "to", "hint", "hint_ko", "length_m"}

__all__ = ["Link", "Route", "RouteStage", "Waypoint", "load_route", "plan", "route_stage"]


@dataclass(frozen=True)
class Waypoint:
    name: str
    marker_id: int
    size_m: float
    description: str = ""
    name_ko: str = ""
    description_ko: str = ""

    def spoken(self, lang: str) -> str:
        return self.name_ko if lang == "ko" and self.name_ko else self.name


@dataclass(frozen=True)
class Link:
    a: str
    b: str
    hint: str = ""
    hint_ko: str = ""
    length_m: float = 1.0

    def other(self, name: str) -> str:
        return self.b if name == self.a else self.a

    def spoken_hint(self, lang: str) -> str:
        return self.hint_ko if lang == "ko" and self.hint_ko else self.hint


@dataclass(frozen=True)
class Route:
    name: str
    waypoints: tuple[Waypoint, ...]
    links: tuple[Link, ...]
    start: str
    dictionary: str = DEFAULT_DICTIONARY
    source: str = ""  # the file it came from, for messages
    _by_name: dict = field(init=False, repr=False, compare=False)
    _by_marker: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {w.name: w for w in self.waypoints})
        object.__setattr__(self, "_by_marker", {w.marker_id: w for w in self.waypoints})

    @property
    def names(self) -> list[str]:
        return [w.name for w in self.waypoints]

    @property
    def sizes(self) -> dict[int, float]:
        """Marker id -> side in metres, for MarkerDetector.detect."""
        return {w.marker_id: w.size_m for w in self.waypoints}

    def waypoint(self, name: str) -> Waypoint:
        return self._by_name[name]

    def by_marker(self, marker_id: int) -> Waypoint | None:
        return self._by_marker.get(marker_id)

    def find(self, name: str) -> Waypoint | None:
        """A waypoint by name in any language, ignoring case and a leading 'to ' / 'the '."""
        key = name.strip().casefold().removeprefix("to ").removeprefix("the ").strip()
        for w in self.waypoints:
            if key in (w.name.casefold(), w.name_ko.casefold()) and key:
                return w
        return None

    def link(self, a: str, b: str) -> Link | None:
        for ln in self.links:
            if {ln.a, ln.b} == {a, b}:
                return ln
        return None

    def neighbours(self, name: str) -> list[tuple[str, Link]]:
        return [(ln.other(name), ln) for ln in self.links if name in (ln.a, ln.b)]


def plan(route: Route, start: str, destination: str) -> list[str]:
    """Waypoint names from start to destination, both included (Dijkstra on link lengths).
    InputError when either is unknown or no links lead there."""
    for name in (start, destination):
        if name not in route.names:
            raise InputError(f"no waypoint '{name}' in route '{route.name}'; waypoints: {', '.join(route.names)}")
    best = {start: 0.0}
    prev: dict[str, str] = {}
    heap = [(0.0, 0, start)]
    order = {n: i for i, n in enumerate(route.names)}  # ties broken by file order: deterministic
    while heap:
        cost, _, here = heapq.heappop(heap)
        if here == destination:
            break
        if cost > best[here]:
            continue
        for there, ln in route.neighbours(here):
            c = cost + ln.length_m
            if c < best.get(there, float("inf")):
                best[there], prev[there] = c, here
                heapq.heappush(heap, (c, order[there], there))
    if destination not in best:
        raise InputError(f"route '{route.name}': no links lead from '{start}' to '{destination}'")
    path = [destination]
    while path[-1] != start:
        path.append(prev[path[-1]])
    return path[::-1]


def load_route(path: Path) -> Route:
    """Read and check a route file; a one-line InputError on anything wrong."""
    path = Path(path)
    where = f"route file {path}"
    if not path.is_file():
        raise InputError(f"{where} does not exist")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{where} is not valid TOML: {e}") from e
    return route_from_dict(data, where)


def _unknown(keys, allowed: set[str], what: str) -> None:
    extra = sorted(set(keys) - allowed)
    if extra:
        raise InputError(f"{what}: unknown key '{extra[0]}'; allowed: {', '.join(sorted(allowed))}")


def _tables(raw: list, kind: str, where: str, allowed: set[str]):
    """Each [[kind]] table of ``raw`` with its label for messages ("FILE: kind N"), checked."""
    for i, table in enumerate(raw, 1):
        what = f"{where}: {kind} {i}"
        if not isinstance(table, dict):
            raise InputError(f"{what} must be a table")
        _unknown(table, allowed, what)
        yield what, table


def _text(d: dict, key: str, what: str, required: bool = False) -> str:
    v = d.get(key, "")
    if not isinstance(v, str) or (required and not v.strip()):
        raise InputError(f"{what}: '{key}' must be {'a non-empty' if required else 'a'} string, got {v!r}")
    return v.strip()


def _size(v, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.01 <= v <= 2.0:
        raise InputError(f"{what}: marker size must be a number of metres in 0.01..2, got {v!r}")
    return float(v)


def route_from_dict(data: dict, where: str = "route") -> Route:
    _unknown(data, TOP_KEYS, where)
    dictionary = data.get("dictionary", DEFAULT_DICTIONARY)
    try:
        get_dictionary(str(dictionary))
    except ValueError as e:
        raise InputError(f"{where}: {e}") from e
    n_ids = dictionary_size(dictionary)
    default_size = data.get("marker_size_m")
    if default_size is not None:
        default_size = _size(default_size, where)
    raw_wps = data.get("waypoint", [])
    if not isinstance(raw_wps, list) or not raw_wps:
        raise InputError(f"{where} has no [[waypoint]] tables")
    waypoints: list[Waypoint] = []
    for what, w in _tables(raw_wps, "waypoint", where, WAYPOINT_KEYS):
        name = _text(w, "name", what, required=True)
        what = f"{where}: waypoint '{name}'"
        marker = w.get("marker")
        if isinstance(marker, bool) or not isinstance(marker, int):
            raise InputError(f"{what} needs 'marker', an ArUco id (integer), got {marker!r}")
        if not 0 <= marker < n_ids:
            raise InputError(f"{what}: marker {marker} is not in {dictionary} (ids 0..{n_ids - 1})")
        if "size_m" in w:
            size = _size(w["size_m"], what)
        elif default_size is not None:
            size = default_size
        else:
            raise InputError(f"{what} has no size_m (and the file gives no marker_size_m)")
        if name in (x.name for x in waypoints):
            raise InputError(f"{where}: two waypoints are named '{name}'")
        twin = next((x for x in waypoints if x.marker_id == marker), None)
        if twin is not None:
            raise InputError(f"{where}: marker {marker} is used by both '{twin.name}' and '{name}'")
        waypoints.append(Waypoint(name, marker, size, _text(w, "description", what), _text(w, "name_ko", what),
                                  _text(w, "description_ko", what)))
    names = [w.name for w in waypoints]
    raw_links = data.get("link", [])
    if not isinstance(raw_links, list):
        raise InputError(f"{where}: 'link' must be [[link]] tables")
    links: list[Link] = []
    for what, ln in _tables(raw_links, "link", where, LINK_KEYS):
        a, b = _text(ln, "from", what, required=True), _text(ln, "to", what, required=True)
        for end in (a, b):
            if end not in names:
                raise InputError(f"{what}: '{end}' is not a waypoint; waypoints: {', '.join(names)}")
        if a == b:
            raise InputError(f"{what} goes from '{a}' to itself")
        length = ln.get("length_m", 1.0)
        if isinstance(length, bool) or not isinstance(length, (int, float)) or not length > 0:
            raise InputError(f"{what}: length_m must be a positive number, got {length!r}")
        links.append(Link(a, b, _text(ln, "hint", what), _text(ln, "hint_ko", what), float(length)))
    start = data.get("start", names[0])
    if start not in names:
        raise InputError(f"{where}: start '{start}' is not a waypoint; waypoints: {', '.join(names)}")
    route = Route(_text(data, "name", where) or where, tuple(waypoints), tuple(links), start, dictionary, where)
    reachable = {start}
    todo = [start]
    while todo:
        for there, _ in route.neighbours(todo.pop()):
            if there not in reachable:
                reachable.add(there)
                todo.append(there)
    cut_off = [n for n in names if n not in reachable]
    if cut_off:
        raise InputError(f"{where}: no links lead from '{start}' to '{cut_off[0]}' (unreachable waypoint)")
    return route


def route_stage(route_path: Path, destination: str, camera_profile: CameraProfile, lang: str = "en",
                options: GuideOptions | None = None) -> RouteStage:
    """The live loop's route stage: guidance from the route's start to ``destination`` (a
    waypoint name, any case, English or Korean). InputError for a bad file or an unknown
    destination (listing the waypoint names)."""
    route = load_route(Path(route_path))
    target = route.find(destination)
    if target is None:
        raise InputError(f"--to must be a waypoint of {route.source}: {', '.join(route.names)}; got '{destination}'")
    try:
        detector = MarkerDetector(MarkerOptions(route.dictionary))
    except ValueError as e:  # pragma: no cover - the dictionary was checked when loading
        raise InputError(str(e)) from e
    return RouteStage(route, plan(route, route.start, target.name), camera_profile, lang=lang, options=options,
                      detector=detector, planner=plan)
