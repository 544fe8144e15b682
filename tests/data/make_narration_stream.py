"""Record the narrator's input on a busy scene: the demo clip looped 4 times (72 s of street
with people, vans and cars) through the real int8 detector, placement and tracker.

    python tests/data/make_narration_stream.py   # writes tests/data/demo_stream.jsonl.gz

Each line: {"t": media seconds, "objects": [[label, bearing_deg, clock, distance_m, track_id,
time_to_contact_s], ...]}. tests/test_announcement_budget.py replays it through the narrator,
so the announcement budget is checked without running the models.
"""

import gzip
import json
from pathlib import Path

from glasses.camera.sources import demo_clip_path, open_source
from glasses.camera.types import EndOfStream
from glasses.paths import calibration_dir
from glasses.perception.detector import load_detector
from glasses.spatial.camera import load_profile
from glasses.spatial.objects import place
from glasses.spatial.tracker import Tracker, placed_with_tracks

OUT = Path(__file__).with_name("demo_stream.jsonl.gz")


def main(loops: int = 4) -> None:
    detector = load_detector("int8")
    camera = load_profile(calibration_dir() / "default.yaml")
    tracker = Tracker()
    lines = []
    with open_source(str(demo_clip_path()), fast=True, loop=True) as src:
        frames = 0
        while True:
            try:
                frame = src.read(1.0)
            except EndOfStream:
                break
            if frame is None:
                continue
            dets = detector(frame.image)
            placed = placed_with_tracks(place(dets, camera), tracker.update(dets, frame.media_ts))
            lines.append({"t": round(frame.media_ts, 3), "objects": [
                [p.label, round(p.bearing_deg, 2), p.clock, None if p.distance_m is None else round(p.distance_m, 2),
                 p.track_id, None if p.time_to_contact_s is None else round(p.time_to_contact_s, 2)]
                for p in placed]})
            frames += 1
            if frames >= 360 * loops:
                break
    with gzip.open(OUT, "wt", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line) + "\n")
    print(f"wrote {len(lines)} frames to {OUT}")


if __name__ == "__main__":
    main()
