"""Distance from a known real-world size: an object of height H metres that spans h pixels
at focal length f pixels is about f * H / h metres away (pinhole model)."""

from __future__ import annotations

# Typical heights in metres of COCO classes (adult standing person, car body, ...). Classes whose
# size varies too much to say (tables, books, phones seen at any angle) have none.
TYPICAL_HEIGHT_M: dict[str, float] = {
    "person": 1.7,
    "bicycle": 1.05,
    "car": 1.5,
    "motorcycle": 1.1,
    "bus": 3.2,
    "train": 3.8,
    "truck": 3.0,
    "traffic light": 0.9,
    "fire hydrant": 0.75,
    "stop sign": 0.75,
    "parking meter": 1.4,
    "bench": 0.85,
    "dog": 0.55,
    "horse": 1.6,
    "cow": 1.4,
    "chair": 0.9,
    "toilet": 0.75,
    "refrigerator": 1.75,
    "potted plant": 0.6,
    "suitcase": 0.65,
}


def distance_from_height(label: str, box_height_px: float, fy: float) -> float | None:
    """Metres to an object of this class whose box is box_height_px tall; None if unknown.

    Boxes cut by the image border underestimate the height, so the result is then an upper
    bound; callers may prefer to drop those.
    """
    real = TYPICAL_HEIGHT_M.get(label)
    if real is None or box_height_px < 2 or fy <= 0:
        return None
    return fy * real / box_height_px
