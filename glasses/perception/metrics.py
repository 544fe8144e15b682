"""Agreement between two sets of detections (int8 against fp32, a model against ground truth)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .postprocess import iou_matrix
from .types import Detection


@dataclass(frozen=True)
class MatchCounts:
    matched: int
    reference: int
    test: int

    def __add__(self, other: "MatchCounts") -> "MatchCounts":
        return MatchCounts(self.matched + other.matched, self.reference + other.reference, self.test + other.test)

    @property
    def f1(self) -> float:
        """2TP / (|reference| + |test|); 1.0 when both are empty."""
        total = self.reference + self.test
        return 1.0 if total == 0 else 2 * self.matched / total


def match(reference: list[Detection], test: list[Detection], iou_threshold: float = 0.5) -> MatchCounts:
    """Greedy one-to-one matching, best-scoring reference first: same label and IoU >= threshold."""
    ref = sorted(reference, key=lambda d: -d.score)
    tst = list(test)
    if not ref or not tst:
        return MatchCounts(0, len(ref), len(tst))
    ious = iou_matrix(np.array([d.box for d in ref]), np.array([d.box for d in tst]))
    same = np.array([[r.label == t.label for t in tst] for r in ref])
    ious = np.where(same, ious, -1.0)
    used = np.zeros(len(tst), bool)
    matched = 0
    for i in range(len(ref)):
        row = np.where(used, -1.0, ious[i])
        j = int(row.argmax())
        if row[j] >= iou_threshold:
            used[j] = True
            matched += 1
    return MatchCounts(matched, len(ref), len(tst))
