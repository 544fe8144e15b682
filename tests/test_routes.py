"""Routes: the file format and its one-line errors, planning, and guidance along a rendered walk."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from glasses.camera.types import Frame
from glasses.errors import InputError
from glasses.paths import project_root
from glasses.spatial.camera import CameraProfile, bearing_to_clock
from glasses.spatial.guide import GuideOptions, RouteStage
from glasses.spatial.routes import load_route, plan, route_from_dict, route_stage
from glasses.stages import StageOutput
from marker_scene import Camera, generic_k, marker_plane, render

W, H = 640, 480
K = generic_k(W, H, 65.0)
PROFILE = CameraProfile((W, H), K, np.zeros(5))

ROUTE = """
name = "Test corridor"
marker_size_m = 0.2
[[waypoint]]
name = "Entrance"
name_ko = "입구"
marker = 1
[[waypoint]]
name = "Corridor"
name_ko = "복도"
marker = 2
[[waypoint]]
name = "Lift"
name_ko = "엘리베이터"
marker = 3
[[waypoint]]
name = "Exit"
name_ko = "출구"
marker = 4
[[waypoint]]
name = "Stairs"
marker = 5
size_m = 0.2
[[link]]
from = "Entrance"
to = "Corridor"
hint = "straight on into the corridor"
[[link]]
from = "Corridor"
to = "Lift"
hint = "through the double doors"
hint_ko = "양문을 지나서"
[[link]]
from = "Lift"
to = "Exit"
[[link]]
from = "Corridor"
to = "Stairs"
hint = "up the stairs"
"""


@pytest.fixture()
def route_file(tmp_path: Path) -> Path:
    p = tmp_path / "test.toml"
    p.write_text(ROUTE, encoding="utf-8")
    return p


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "r.toml"
    p.write_text(text, encoding="utf-8")
    return p


# -- the file format -----------------------------------------------------------------------------

def test_example_route_loads_and_plans():
    route = load_route(project_root() / "overlays" / "routes" / "example.toml")
    assert route.names == ["Entrance", "Corridor", "Lift", "Exit"]
    assert route.sizes == {1: 0.15, 2: 0.15, 3: 0.15, 4: 0.15}
    assert plan(route, route.start, "Exit") == ["Entrance", "Corridor", "Lift", "Exit"]
    assert route.link("Lift", "Corridor").hint == "through the double doors"
    assert route.find("출구").name == "Exit" and route.find("to the exit").name == "Exit"


def test_example_markers_are_shipped_at_300_dpi():
    folder = project_root() / "overlays" / "routes" / "markers"
    pngs = sorted(folder.glob("*.png"))
    assert [p.name for p in pngs] == ["marker-01-entrance.png", "marker-02-corridor.png", "marker-03-lift.png",
                                      "marker-04-exit.png"]
    data = pngs[0].read_bytes()
    i = data.index(b"pHYs")
    ppm = int.from_bytes(data[i + 4:i + 8], "big")
    assert round(ppm * 0.0254) == 300


def test_default_size_and_optional_fields(route_file):
    route = load_route(route_file)
    assert route.start == "Entrance" and route.dictionary == "DICT_4X4_50"
    assert route.waypoint("Lift").size_m == 0.2 and route.waypoint("Lift").spoken("ko") == "엘리베이터"
    assert route.waypoint("Stairs").spoken("ko") == "Stairs"  # no Korean name: the English one
    assert route.by_marker(3).name == "Lift" and route.by_marker(9) is None


WP = '[[waypoint]]\nname = "A"\nmarker = 1\nsize_m = 0.15\n[[waypoint]]\nname = "B"\nmarker = 2\nsize_m = 0.15\n'
LINK = '[[link]]\nfrom = "A"\nto = "B"\n'

BAD = [
    ("name = 'x'\n", "no [[waypoint]]"),
    (WP.replace("marker = 2", "marker = 60") + LINK, "marker 60 is not in DICT_4X4_50 (ids 0..49)"),
    (WP.replace("marker = 2", "marker = -1") + LINK, "marker -1 is not in DICT_4X4_50"),
    (WP.replace("marker = 2", "marker = 'two'") + LINK, "needs 'marker', an ArUco id"),
    (WP.replace('name = "B"', 'name = "A"') + LINK, "two waypoints are named 'A'"),
    (WP.replace("marker = 2", "marker = 1") + LINK, "marker 1 is used by both 'A' and 'B'"),
    (WP + '[[link]]\nfrom = "A"\nto = "C"\n', "'C' is not a waypoint; waypoints: A, B"),
    (WP + '[[link]]\nfrom = "A"\nto = "A"\n', "from 'A' to itself"),
    (WP.replace("size_m = 0.15\n[[waypoint]]", "[[waypoint]]") + LINK, "waypoint 'A' has no size_m"),
    (WP.replace("size_m = 0.15\n[[waypoint]]", "size_m = 15\n[[waypoint]]") + LINK, "0.01..2"),
    (WP.replace("size_m = 0.15\n[[waypoint]]", "size_m = '15cm'\n[[waypoint]]") + LINK, "0.01..2"),
    (WP, "no links lead from 'A' to 'B'"),
    (WP.replace("size_m = 0.15\n[[waypoint]]", "sise_m = 0.15\n[[waypoint]]") + LINK, "unknown key 'sise_m'"),
    ("start = 'C'\n" + WP + LINK, "start 'C' is not a waypoint"),
    ("dictionary = 'DICT_4X4_51'\n" + WP + LINK, "DICT_4X4_50"),
    ("colour = 'red'\n" + WP + LINK, "unknown key 'colour'"),
    (WP + LINK + "length_m = -3\n", "length_m must be a positive number"),
    (WP + LINK + "[oops\n", "not valid TOML"),
]


@pytest.mark.parametrize("text,message", BAD)
def test_bad_route_files_give_one_line_errors(tmp_path, text, message):
    with pytest.raises(InputError) as err:
        load_route(_write(tmp_path, text))
    assert message in str(err.value)
    assert "\n" not in str(err.value)
    assert str(tmp_path) in str(err.value)  # says which file


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_route(tmp_path / "nope.toml")


def test_unreachable_destination_from_a_dict():
    data = {"waypoint": [{"name": "A", "marker": 1, "size_m": 0.1}, {"name": "B", "marker": 2, "size_m": 0.1},
                         {"name": "Roof", "marker": 3, "size_m": 0.1}],
            "link": [{"from": "A", "to": "B"}]}
    with pytest.raises(InputError, match="no links lead from 'A' to 'Roof'"):
        route_from_dict(data)


# -- planning ------------------------------------------------------------------------------------

def test_plan_shortest_by_length():
    data = {"marker_size_m": 0.1,
            "waypoint": [{"name": n, "marker": i} for i, n in enumerate(["A", "B", "C", "D"], 1)],
            "link": [{"from": "A", "to": "D", "length_m": 30}, {"from": "A", "to": "B", "length_m": 5},
                     {"from": "B", "to": "C", "length_m": 5}, {"from": "C", "to": "D", "length_m": 5}]}
    route = route_from_dict(data)
    assert plan(route, "A", "D") == ["A", "B", "C", "D"]  # 15 m through B and C beats 30 m direct
    assert plan(route, "D", "A") == ["D", "C", "B", "A"]  # links go both ways
    assert plan(route, "B", "B") == ["B"]
    with pytest.raises(InputError, match="no waypoint 'E'.*waypoints: A, B, C, D"):
        plan(route, "A", "E")


def test_plan_with_equal_lengths_is_fewest_hops(route_file):
    route = load_route(route_file)
    assert plan(route, "Stairs", "Exit") == ["Stairs", "Corridor", "Lift", "Exit"]


def test_route_stage_factory(route_file):
    stage = route_stage(route_file, "exit", PROFILE)
    assert isinstance(stage, RouteStage) and stage.name == "route"
    assert stage.path == ["Entrance", "Corridor", "Lift", "Exit"] and stage.target.name == "Entrance"
    with pytest.raises(ValueError, match="Roof"):
        RouteStage(stage.route, ["Entrance", "Roof"], PROFILE)
    with pytest.raises(ValueError, match="language"):
        route_stage(route_file, "Exit", PROFILE, lang="fr")
    assert route_stage(route_file, "엘리베이터", PROFILE, lang="ko").path[-1] == "Lift"
    with pytest.raises(InputError) as err:
        route_stage(route_file, "Roof", PROFILE)
    assert "Entrance, Corridor, Lift, Exit, Stairs" in str(err.value) and "'Roof'" in str(err.value)


# -- guidance on single frames --------------------------------------------------------------------

def _frame(planes, cam: Camera | None = None, index: int = 0, seed: int = 0) -> Frame:
    cam = cam or Camera(K, (W, H))
    return Frame(index, index * 0.1, index * 0.1, render(cam, planes, seed=seed))


def test_not_in_view_when_asked(route_file):
    stage = route_stage(route_file, "Exit", PROFILE)
    out = stage(_frame([]), 0.0)
    assert isinstance(out, StageOutput) and out.utterances == () and out.arrows == ()
    (u,) = stage.command("route", "", 0.1)
    assert u.text == "Next: Entrance. Its marker is not in view."
    assert stage.command("describe", "", 0.1) == [] and stage.command("read", "", 0.1) == []


def test_in_view_said_once_then_repeated_and_on_request(route_file):
    stage = route_stage(route_file, "Exit", PROFILE, options=GuideOptions(repeat_s=8.0, lost_s=2.0))
    frame = _frame([marker_plane(1, 0.2, (1.8, 0.0, 5.4), k=20)])  # 18.4 deg right, 5.69 m
    said = {t: [u.text for u in stage(frame, t).utterances] for t in np.arange(0.0, 20.0, 0.5)}
    spoken = {t: s for t, s in said.items() if s}
    assert list(spoken) == [0.0, 8.0, 16.0]
    assert spoken[0.0] == ["Entrance: 6 metres, 1 o'clock."]
    out = stage(frame, 20.0)
    assert out.arrows[0].bearing_deg == pytest.approx(math.degrees(math.atan2(1.8, 5.4)), abs=0.5)
    assert out.arrows[0].text == "Entrance 6m" and out.quads[0].text.startswith("Entrance 5.")
    (u,) = stage.command("route", "", 20.2)
    assert u.text == "Entrance: 6 metres, 1 o'clock." and u.priority == 2
    assert stage.command("route", "", 25.0)[0].text.endswith("Its marker is not in view.")  # sighting too old
    stage(_frame([]), 22.0)  # out of view for more than lost_s ...
    assert stage(_frame([]), 24.5).utterances == ()
    assert [u.text for u in stage(frame, 25.0).utterances] == ["Entrance: 6 metres, 1 o'clock."]  # ... said again


def test_korean(route_file):
    stage = route_stage(route_file, "Exit", PROFILE, lang="ko")
    (u,) = stage(_frame([marker_plane(1, 0.2, (1.8, 0.0, 5.4), k=20)]), 0.0).utterances
    assert u.text == "입구: 1시 방향 6미터." and u.lang == "ko"
    assert stage.command("route", "", 5.0)[0].text == "다음은 입구. 표지가 보이지 않습니다."


def test_a_later_waypoint_in_view_is_headed_for(route_file):
    stage = route_stage(route_file, "Exit", PROFILE)
    out = stage(_frame([marker_plane(3, 0.2, (-1.5, 0.0, 4.0), k=20)]), 0.0)
    assert [u.text for u in out.utterances] == ["Lift: 4 metres, 11 o'clock."]
    assert stage.target.name == "Lift"
    assert [e["event"] for e in out.events] == ["skipped", "seen"]


def test_reaching_a_waypoint_off_the_path_plans_again(route_file):
    stage = route_stage(route_file, "Exit", PROFILE)
    out = stage(_frame([marker_plane(5, 0.2, (0.1, 0.0, 1.2), k=30)]), 0.0)
    assert stage.path == ["Stairs", "Corridor", "Lift", "Exit"] and stage.target.name == "Corridor"
    assert [u.text for u in out.utterances] == ["Stairs reached. Next: Corridor, up the stairs."]


def test_new_destination_on_request(route_file):
    stage = route_stage(route_file, "Exit", PROFILE)
    (u,) = stage.command("route", "to the stairs", 0.0)
    assert u.text == "Route to Stairs: Entrance, Corridor, Stairs."
    assert stage.path == ["Entrance", "Corridor", "Stairs"] and stage.target.name == "Entrance"
    (u,) = stage.command("route", "roof", 0.0)
    assert u.text.startswith("No place called roof. Places: Entrance, Corridor")


def test_markers_outside_the_route_are_ignored(route_file):
    stage = route_stage(route_file, "Exit", PROFILE)
    out = stage(_frame([marker_plane(9, 0.2, (0.0, 0.0, 2.0), k=20)]), 0.0)
    assert out == StageOutput(frame_index=0)


# -- a rendered walk -------------------------------------------------------------------------------

MARKERS = {1: (-1.6, -0.1, 4.5), 2: (1.0, -0.1, 9.7), 3: (-1.2, -0.1, 14.7), 4: (-0.9, -0.1, 19.7),
           9: (2.5, -0.1, 12.0)}  # 9: not on the route
STOPS = [(0.0, 0.0, 0.0)] + [(x, 0.0, z - 1.2) for i, (x, _, z) in sorted(MARKERS.items()) if i != 9]
STEP_M, DT = 0.2, 0.2  # 1 m/s


def _walk():
    """Camera positions along straight legs from stop to stop (1.2 m in front of each marker),
    looking down the corridor (yaw 0)."""
    for a, b in zip(STOPS, STOPS[1:]):
        a, b = np.array(a), np.array(b)
        n = int(math.ceil(np.linalg.norm(b - a) / STEP_M))
        for j in range(n):
            yield a + (b - a) * j / n
    yield np.array(STOPS[-1])


def test_walk_along_the_route(route_file):
    planes = [marker_plane(i, 0.2, c, k=12) for i, c in MARKERS.items()]
    en = route_stage(route_file, "Exit", PROFILE)
    ko = route_stage(route_file, "Exit", PROFILE, lang="ko")
    said, said_ko, seen = [], [], []
    asked = None
    for i, pos in enumerate(_walk()):
        cam = Camera(K, (W, H), tuple(pos))
        frame = Frame(i, i * DT, i * DT, render(cam, planes, seed=i))
        out = en(frame, i * DT)
        said += [u.text for u in out.utterances]
        said_ko += [u.text for u in ko(frame, i * DT).utterances]
        for e in out.events:
            if e["event"] == "seen":
                truth = MARKERS[e["marker"]]
                seen.append((e["waypoint"], e["clock"], bearing_to_clock(cam.bearing_deg(truth)),
                             e["distance_m"], cam.distance_m(truth)))
        if i == 5:
            asked = en.command("route", "", i * DT)[0].text
    assert en.arrived and ko.arrived
    # waypoints in order, each in the right direction and at the right distance when first seen
    assert [s[0] for s in seen] == ["Entrance", "Corridor", "Lift", "Exit"]
    assert [s[1] for s in seen] == [11, 1, 11, 12]
    for name, clock, true_clock, d, true_d in seen:
        assert clock == true_clock, name
        assert d == pytest.approx(true_d, rel=0.03), name
    assert said[0] == "Entrance: 5 metres, 11 o'clock."
    assert asked.startswith("Entrance: ") and asked.endswith("11 o'clock.")
    reached = [s for s in said if "reached" in s]
    assert reached == ["Entrance reached. Next: Corridor, straight on into the corridor.",
                       "Corridor reached. Next: Lift, through the double doors.",
                       "Lift reached. Next: Exit."]
    assert said.index(reached[0]) < said.index(next(s for s in said if s.startswith("Corridor:")))
    assert said[-1] == "You have arrived at Exit."
    assert said_ko[0] == "입구: 11시 방향 5미터."
    assert "복도에 도착했습니다. 다음은 엘리베이터, 양문을 지나서." in said_ko
    assert said_ko[-1] == "목적지 출구에 도착했습니다."
    assert en.command("route", "", 100.0)[0].text == "You have arrived at Exit."


def test_runs_inside_a_worker_stage(route_file):
    """As the live loop runs it: in a WorkerStage thread, commands answered from the loop's thread."""
    import time

    from glasses.stages import WorkerStage

    frame = _frame([marker_plane(1, 0.2, (1.8, 0.0, 5.4), k=20)])
    with WorkerStage(route_stage(route_file, "Exit", PROFILE), rate_hz=50) as worker:
        worker.submit(frame, 1.0)
        deadline = time.monotonic() + 10
        out = None
        while out is None and time.monotonic() < deadline:
            time.sleep(0.01)
            out = worker.poll()
        assert worker.errors == []
        assert [u.text for u in out.utterances] == ["Entrance: 6 metres, 1 o'clock."]
        assert worker.overlay().arrows and worker.overlay().quads
        assert worker.command("route", "", 1.2)[0].text == "Entrance: 6 metres, 1 o'clock."
        assert worker.command("read", "", 1.2) == []
