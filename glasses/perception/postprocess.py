"""Pure functions that turn NanoDet's raw outputs into boxes: DFL decoding and NMS."""

from __future__ import annotations

import numpy as np


def grid_centers(size: int, stride: int) -> np.ndarray:
    """Centres (x, y) in input pixels of a size x size feature map, row-major, shape (size*size, 2).

    NanoDet (GFL head) places the prior of cell (i, j) at ((j + 0.5) * stride, (i + 0.5) * stride)
    for the model shipped here; see tests/test_postprocess.py for the check on real images.
    """
    ys, xs = np.mgrid[0:size, 0:size]
    return (np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32) + 0.5) * stride


def dfl_distances(reg: np.ndarray, bins: int) -> np.ndarray:
    """Distribution focal loss decoding.

    ``reg`` has shape (N, 4 * bins): for each of the four sides (left, top, right, bottom) a
    logit per bin. Returns the expected bin index per side, shape (N, 4), in stride units.
    """
    if reg.ndim != 2 or reg.shape[1] != 4 * bins:
        raise ValueError(f"reg must have shape (N, {4 * bins}), got {reg.shape}")
    logits = reg.reshape(-1, 4, bins)
    logits = logits - logits.max(axis=2, keepdims=True)
    prob = np.exp(logits)
    prob /= prob.sum(axis=2, keepdims=True)
    return prob @ np.arange(bins, dtype=np.float32)


def distances_to_boxes(centers: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """(cx, cy) and (left, top, right, bottom) distances -> boxes (x1, y1, x2, y2)."""
    return np.concatenate([centers - dist[:, :2], centers + dist[:, 2:]], axis=1)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of boxes a (N, 4) and b (M, 4) as x1, y1, x2, y2, shape (N, M); 0 for empty boxes."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy non-maximum suppression; returns kept indices, best score first."""
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    scores = np.asarray(scores, np.float32).reshape(-1)
    if boxes.shape[0] != scores.shape[0]:
        raise ValueError(f"boxes ({boxes.shape[0]}) and scores ({scores.shape[0]}) differ in length")
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        i = order[0]
        keep.append(int(i))
        if order.size == 1:
            break
        ious = iou_matrix(boxes[i : i + 1], boxes[order[1:]])[0]
        order = order[1:][ious <= iou_threshold]
    return np.array(keep, dtype=np.int64)


def class_aware_nms(boxes: np.ndarray, scores: np.ndarray, class_ids: np.ndarray,
                    iou_threshold: float) -> np.ndarray:
    """NMS run separately per class (boxes of different classes never suppress each other)."""
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    if boxes.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    # offset each class into its own region of space: one NMS call does all classes
    span = float(boxes.max()) + 1.0
    shifted = boxes + (np.asarray(class_ids, np.float32) * span)[:, None]
    return nms(shifted, scores, iou_threshold)
