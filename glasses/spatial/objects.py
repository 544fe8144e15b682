"""Detections placed in the wearer's frame: bearing, elevation, clock face and distance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..perception.types import Detection, Detections
from .camera import CameraProfile, bearing_to_clock
from .distance import distance_from_height

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


def place(detections: Detections, profile: CameraProfile) -> list[PlacedObject]:
    """Bearing and clock from the box centre through the (undistorted) camera; distance from the
    class's typical height when the box is not cut by the top or bottom of the image."""
    w, h = detections.image_size
    cam = profile.scaled_to(w, h)
    if not len(detections):
        return []
    centers = np.array([d.center for d in detections], np.float64)
    bearings, elevations = cam.bearing_elevation(centers)
    placed = []
    for d, b, e in zip(detections, bearings, elevations):
        cut = d.box[1] <= BORDER_PX or d.box[3] >= h - BORDER_PX
        dist = None if cut else distance_from_height(d.label, d.height, cam.fy)
        placed.append(PlacedObject(d, float(b), float(e), bearing_to_clock(float(b)), dist))
    return placed
