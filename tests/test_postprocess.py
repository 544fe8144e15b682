"""Tables for the pure decoding functions: grid priors, DFL, boxes, IoU, NMS."""

import numpy as np
import pytest

from glasses.perception.postprocess import (class_aware_nms, dfl_distances, distances_to_boxes, grid_centers,
                                            iou_matrix, nms)


def test_grid_centers_row_major_half_cell_offset():
    c = grid_centers(2, 8)
    assert c.tolist() == [[4, 4], [12, 4], [4, 12], [12, 12]]


@pytest.mark.parametrize("hot_bin, expected", [(0, 0.0), (3, 3.0), (10, 10.0)])
def test_dfl_one_hot_bins_give_their_index(hot_bin, expected):
    reg = np.full((1, 44), -50.0, np.float32)
    for side in range(4):
        reg[0, side * 11 + hot_bin] = 50.0
    assert np.allclose(dfl_distances(reg, 11), expected, atol=1e-4)


def test_dfl_two_equal_bins_give_their_mean():
    reg = np.full((1, 44), -50.0, np.float32)
    reg[0, [2, 3]] = 10.0  # left side: bins 2 and 3 equally likely
    assert dfl_distances(reg, 11)[0, 0] == pytest.approx(2.5, abs=1e-4)


def test_dfl_rejects_wrong_width():
    with pytest.raises(ValueError, match=r"shape \(N, 44\)"):
        dfl_distances(np.zeros((3, 40), np.float32), 11)


def test_distances_to_boxes():
    boxes = distances_to_boxes(np.array([[100.0, 50.0]]), np.array([[10.0, 20.0, 30.0, 40.0]]))
    assert boxes.tolist() == [[90.0, 30.0, 130.0, 90.0]]


@pytest.mark.parametrize("a, b, iou", [
    ([0, 0, 10, 10], [0, 0, 10, 10], 1.0),
    ([0, 0, 10, 10], [5, 0, 15, 10], 50 / 150),
    ([0, 0, 10, 10], [20, 20, 30, 30], 0.0),
    ([0, 0, 10, 10], [2, 2, 4, 4], 4 / 100),
    ([0, 0, 0, 0], [0, 0, 0, 0], 0.0),  # degenerate boxes: no division by zero
])
def test_iou_table(a, b, iou):
    assert iou_matrix(np.array([a]), np.array([b]))[0, 0] == pytest.approx(iou)


def test_nms_keeps_best_of_overlapping_and_separate_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.6, 0.9, 0.5])
    assert nms(boxes, scores, 0.5).tolist() == [1, 2]


def test_nms_threshold_is_inclusive_upper_bound():
    boxes = np.array([[0, 0, 10, 10], [5, 0, 15, 10]], np.float32)  # IoU 1/3
    assert nms(boxes, np.array([0.9, 0.8]), 0.34).tolist() == [0, 1]
    assert nms(boxes, np.array([0.9, 0.8]), 0.33).tolist() == [0]


def test_class_aware_nms_does_not_suppress_other_classes():
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]], np.float32)
    keep = class_aware_nms(boxes, np.array([0.9, 0.8, 0.7]), np.array([0, 1, 0]), 0.5)
    assert sorted(keep.tolist()) == [0, 1]


def test_nms_empty_and_mismatched():
    assert class_aware_nms(np.zeros((0, 4)), np.zeros(0), np.zeros(0), 0.5).tolist() == []
    with pytest.raises(ValueError, match="differ in length"):
        nms(np.zeros((2, 4)), np.zeros(3), 0.5)
