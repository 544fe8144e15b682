"""Detections placed in the wearer's frame: bearing, elevation, clock face and distance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..perception.types import Detection, Detections
from .camera import CameraProfile, bearing_to_clock
from .distance import distance_from_height
from .ground import foot_distance

BORDER_PX = 2.0  # a box this close to the top or bottom edge is cut: its height says nothing


@dataclass(frozen=True)
class PlacedObject:
    detection: Detection
    bearing_deg: float  # + right of straight ahead
    elevation_deg: float  # + above the optical axis
    clock: int  # 1..12, 12 straight ahead
    distance_m: float | None

    def to_json(self) -> dict:
        d = self.detection
        return {
            "label": d.label,
            "score": round(d.score, 4),
            "box": [round(v, 1) for v in d.box],
            "bearing_deg": round(self.bearing_deg, 2),
            "clock": self.clock,
            "distance_m": None if self.distance_m is None else round(self.distance_m, 2),
        }


# Things that stand on the floor: with the camera's height known, the foot of their box gives
# a distance even when their height cannot (the head cut off by the top of the image, up close).
ON_THE_FLOOR = frozenset({"person", "bicycle", "car", "motorcycle", "bus", "truck", "fire hydrant",
                          "parking meter", "bench", "dog", "horse", "cow", "chair", "couch",
                          "potted plant", "dining table", "toilet", "refrigerator", "suitcase"})


def place(detections: Detections, profile: CameraProfile) -> list[PlacedObject]:
    """Bearing and clock from the box centre through the (undistorted) camera. Distance from the
    class's typical height when the box is not cut by the top or bottom of the image; else, for
    things standing on the floor whose foot is in view, from the ground plane (the profile's
    camera_height_m and camera_pitch_deg)."""
    w, h = detections.image_size
    cam = profile.scaled_to(w, h)
    if not len(detections):
        return []
    centers = np.array([d.center for d in detections], np.float64)
    bearings, elevations = cam.bearing_elevation(centers)
    placed = []
    for d, b, e in zip(detections, bearings, elevations):
        cut_bottom = d.box[3] >= h - BORDER_PX
        cut = d.box[1] <= BORDER_PX or cut_bottom
        dist = None if cut else distance_from_height(d.label, d.height, cam.fy)
        if dist is None and not cut_bottom and d.label in ON_THE_FLOOR and cam.camera_height_m:
            dist = foot_distance(cam, d.box)
        placed.append(PlacedObject(d, float(b), float(e), bearing_to_clock(float(b)), dist))
    return placed
