"""Result types of the perception stage, validated when built."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Detection:
    """One object: class label, confidence and box in original-image pixels (x1, y1, x2, y2)."""

    label: str
    class_id: int
    score: float
    box: tuple[float, float, float, float]

    def __post_init__(self) -> None:
        if len(self.box) != 4:
            raise ValueError(f"box must have 4 values (x1, y1, x2, y2), got {len(self.box)}")
        x1, y1, x2, y2 = self.box
        if not (x2 >= x1 and y2 >= y1):
            raise ValueError(f"box must have x2 >= x1 and y2 >= y1, got {self.box}")
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score must be in [0, 1], got {self.score}")

    @property
    def center(self) -> tuple[float, float]:
        x1, y1, x2, y2 = self.box
        return (x1 + x2) / 2, (y1 + y2) / 2

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]


class ImageResult:
    """What every perception result over one image shares: ``items`` found in an image of
    ``image_size`` (width, height), validated when built, iterable and sized by its items."""

    items: tuple
    image_size: tuple[int, int]

    def __post_init__(self) -> None:
        w, h = self.image_size
        if w <= 0 or h <= 0:
            raise ValueError(f"image_size must be positive (width, height), got {self.image_size}")

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return iter(self.items)


@dataclass(frozen=True)
class Detections(ImageResult):
    """All objects found in one image, and how long finding them took."""

    items: tuple[Detection, ...]
    image_size: tuple[int, int]  # (width, height)
    elapsed_ms: float
    precision: str
    timings: dict = field(default_factory=dict, compare=False)

    def boxes(self) -> np.ndarray:
        return np.array([d.box for d in self.items], dtype=np.float32).reshape(-1, 4)

    def labels(self) -> list[str]:
        return [d.label for d in self.items]
