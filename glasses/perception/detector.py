"""Object detector stage: NanoDet (COCO-80), preprocess -> session -> postprocess -> Detections."""

from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np

from .postprocess import class_aware_nms, distances_to_boxes, dfl_distances, grid_centers
from .runtime import InferenceSession
from .types import Detection, Detections


@dataclass(frozen=True)
class DetectorConfig:
    """How to feed the model and read its outputs (from the model manifest) and the thresholds."""

    labels: tuple[str, ...]
    input_size: int = 416
    mean: tuple[float, float, float] = (103.53, 116.28, 123.675)  # BGR
    std: tuple[float, float, float] = (57.375, 57.12, 58.395)
    strides: tuple[int, ...] = (8, 16, 32)
    bins: int = 11
    # 0.45: on the bench photos about half of the detections between 0.35 and 0.45 were wrong
    # (a "vase" on an apple, "kites" that were birds), and a wrong announcement costs a blind
    # wearer more than a late one. See README "Operating threshold".
    score_threshold: float = 0.45
    iou_threshold: float = 0.6
    max_detections: int = 100
    # "float32": normalised 1x3xSxS (the fp32 model); "uint8": the resized image itself as
    # 1xSxSx4 BGRx (the int8 model, whose first convolution does the normalisation)
    input_dtype: str = "float32"

    def __post_init__(self) -> None:
        if not self.labels:
            raise ValueError("labels must not be empty")
        if self.input_size % max(self.strides):
            raise ValueError(f"input_size {self.input_size} must be a multiple of {max(self.strides)}")
        if not 0.0 < self.score_threshold < 1.0:
            raise ValueError(f"score_threshold must be in (0, 1), got {self.score_threshold}")
        if not 0.0 < self.iou_threshold <= 1.0:
            raise ValueError(f"iou_threshold must be in (0, 1], got {self.iou_threshold}")
        if self.input_dtype not in ("float32", "uint8"):
            raise ValueError(f"input_dtype must be float32 or uint8, got {self.input_dtype!r}")


def preprocess(image: np.ndarray, cfg: DetectorConfig) -> np.ndarray:
    """BGR uint8 HxWx3 -> the model's input, stretched to the square input size.

    float32: normalised 1x3xSxS; one OpenCV call does resize, mean, per-channel scale and
    HWC->CHW, 5x faster than numpy. uint8: the resized pixels as 1xSxSx4 BGRx (the same resize,
    so the int8 model sees exactly the pixels the fp32 model normalises).
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be HxWx3 uint8 BGR, got shape {image.shape} dtype {image.dtype}")
    s = cfg.input_size
    if cfg.input_dtype == "uint8":
        resized = image if image.shape[:2] == (s, s) else cv2.resize(image, (s, s), interpolation=cv2.INTER_LINEAR)
        return cv2.cvtColor(resized, cv2.COLOR_BGR2BGRA)[None]
    params = cv2.dnn.Image2BlobParams(
        scalefactor=tuple(1.0 / v for v in cfg.std), size=(s, s), mean=cfg.mean,
        swapRB=False, ddepth=cv2.CV_32F,
    )
    return cv2.dnn.blobFromImageWithParams(image, params)


def split_outputs(outputs: list[np.ndarray], cfg: DetectorConfig) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Pair each stride with its (class scores, box distribution) outputs, by shape."""
    ncls, nreg = len(cfg.labels), 4 * cfg.bins
    cls = {o.shape[1]: o[0] for o in outputs if o.ndim == 3 and o.shape[2] == ncls}
    reg = {o.shape[1]: o[0] for o in outputs if o.ndim == 3 and o.shape[2] == nreg}
    levels = []
    for stride in cfg.strides:
        cells = (cfg.input_size // stride) ** 2
        if cells not in cls or cells not in reg:
            shapes = [tuple(o.shape) for o in outputs]
            raise ValueError(f"model outputs {shapes} lack the stride-{stride} pair (1, {cells}, {ncls}|{nreg})")
        levels.append((stride, cls[cells], reg[cells]))
    return levels


def postprocess(outputs: list[np.ndarray], cfg: DetectorConfig, image_size: tuple[int, int]):
    """Raw outputs -> (boxes in image pixels, scores, class ids), after thresholds and NMS."""
    boxes, scores, classes = [], [], []
    for stride, cls, reg in split_outputs(outputs, cfg):
        best = cls.argmax(axis=1)
        best_score = cls[np.arange(cls.shape[0]), best]
        keep = best_score >= cfg.score_threshold
        if not keep.any():
            continue
        size = cfg.input_size // stride
        centers = grid_centers(size, stride)[keep]
        dist = dfl_distances(reg[keep], cfg.bins) * stride
        boxes.append(distances_to_boxes(centers, dist))
        scores.append(best_score[keep])
        classes.append(best[keep])
    if not boxes:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64)
    boxes_a = np.concatenate(boxes)
    scores_a = np.concatenate(scores)
    classes_a = np.concatenate(classes)
    keep = class_aware_nms(boxes_a, scores_a, classes_a, cfg.iou_threshold)[: cfg.max_detections]
    w, h = image_size
    scale = np.array([w, h, w, h], np.float32) / cfg.input_size
    out = boxes_a[keep] * scale
    out[:, [0, 2]] = out[:, [0, 2]].clip(0, w)
    out[:, [1, 3]] = out[:, [1, 3]].clip(0, h)
    return out, scores_a[keep], classes_a[keep]


class ObjectDetector:
    """Finds COCO objects in a BGR image. The session is any ``session(feeds) -> outputs``."""

    def __init__(self, session: InferenceSession, config: DetectorConfig, precision: str = "int8"):
        self.session = session
        self.config = config
        self.precision = precision

    def __call__(self, image: np.ndarray) -> Detections:
        t0 = time.perf_counter()
        h, w = image.shape[:2]
        x = preprocess(image, self.config)
        t1 = time.perf_counter()
        outputs = self.session({self.session.input_name: x})
        t2 = time.perf_counter()
        boxes, scores, classes = postprocess(outputs, self.config, (w, h))
        items = tuple(
            Detection(
                label=self.config.labels[int(c)],
                class_id=int(c),
                score=float(min(max(s, 0.0), 1.0)),
                box=tuple(float(v) for v in b),
            )
            for b, s, c in zip(boxes, scores, classes)
        )
        t3 = time.perf_counter()
        timings = {"preprocess_ms": (t1 - t0) * 1e3, "inference_ms": (t2 - t1) * 1e3,
                   "postprocess_ms": (t3 - t2) * 1e3}
        return Detections(items=items, image_size=(w, h), elapsed_ms=(t3 - t0) * 1e3,
                          precision=self.precision, timings=timings)


def load_detector(precision: str = "int8", runtime=None, models_folder=None,
                  input_size: int | None = None) -> ObjectDetector:
    """The manifest's detector of this precision, checked (SHA-256) and loaded.

    input_size: the square input in pixels (default the manifest's, 416); the model takes any
    multiple of 32.
    """
    from ..models.manifest import check_file, find, load_manifest
    from .runtime import OrtSession, RuntimeOptions

    if input_size is not None and (input_size % 32 or not 128 <= input_size <= 1280):
        from ..errors import InputError

        raise InputError(f"input size must be a multiple of 32 from 128 to 1280 (320, 416, 512 ...), got {input_size}")
    specs = load_manifest(models_folder)
    spec = find(specs, "detector", precision)
    path = check_file(spec)
    inp = spec.input
    config = DetectorConfig(
        labels=spec.labels_list(),
        input_size=int(input_size or inp.get("size", 416)),
        mean=tuple(inp.get("mean", DetectorConfig.mean)),
        std=tuple(inp.get("std", DetectorConfig.std)),
        strides=tuple(inp.get("strides", DetectorConfig.strides)),
        bins=int(inp.get("bins", DetectorConfig.bins)),
        input_dtype=str(inp.get("dtype", "float32")),
    )
    session = OrtSession(path, runtime or RuntimeOptions())
    return ObjectDetector(session, config, precision=precision)
