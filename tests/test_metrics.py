"""Tables for detection matching (int8 fidelity against fp32)."""

import pytest

from glasses.perception.metrics import MatchCounts, match
from glasses.perception.types import Detection


def det(label, box, score=0.9):
    return Detection(label=label, class_id=0, score=score, box=tuple(float(v) for v in box))


@pytest.mark.parametrize("ref, test, counts", [
    ([], [], (0, 0, 0)),
    ([det("person", (0, 0, 10, 10))], [], (0, 1, 0)),
    ([det("person", (0, 0, 10, 10))], [det("person", (0, 0, 10, 10))], (1, 1, 1)),
    ([det("person", (0, 0, 10, 10))], [det("car", (0, 0, 10, 10))], (0, 1, 1)),  # label must agree
    ([det("person", (0, 0, 10, 10))], [det("person", (5, 0, 15, 10))], (0, 1, 1)),  # IoU 1/3 < 0.5
    ([det("person", (0, 0, 10, 10))], [det("person", (0, 0, 10, 10)), det("person", (0, 0, 10, 10))], (1, 1, 2)),
    ([det("person", (0, 0, 10, 10), 0.9), det("person", (1, 0, 11, 10), 0.5)],
     [det("person", (0, 0, 10, 10))], (1, 2, 1)),  # one-to-one
])
def test_match_table(ref, test, counts):
    assert match(ref, test) == MatchCounts(*counts)


@pytest.mark.parametrize("counts, f1", [((0, 0, 0), 1.0), ((0, 2, 0), 0.0), ((3, 4, 4), 0.75), ((5, 5, 5), 1.0)])
def test_f1(counts, f1):
    assert MatchCounts(*counts).f1 == pytest.approx(f1)


def test_counts_add():
    assert MatchCounts(1, 2, 3) + MatchCounts(4, 5, 6) == MatchCounts(5, 7, 9)


@pytest.mark.parametrize("kwargs, message", [
    (dict(box=(0, 0, 10)), "4 values"),
    (dict(box=(10, 0, 0, 10)), "x2 >= x1"),
    (dict(score=1.5), r"score must be in \[0, 1\]"),
])
def test_detection_validates(kwargs, message):
    args = dict(label="person", class_id=0, score=0.5, box=(0, 0, 1, 1)) | kwargs
    with pytest.raises(ValueError, match=message):
        Detection(**args)
