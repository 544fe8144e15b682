"""Text reader stage: PP-OCR detection (DB) + recognition (CTC) -> TextLines.

    image -> detect (probability map -> contours -> unclipped min-area quads)
          -> per-line crop (perspective warp along the quad's long side)
          -> recognise (crops of similar width batched; greedy CTC decode)
          -> lines in reading order (top to bottom, then left to right)

Both models run through any ``session(feeds) -> outputs`` (OrtSession in practice). Quads
are in original-image pixels, corners clockwise from the top-left of the text as read.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from .runtime import InferenceSession
from .types import ImageResult

Quad = tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class TextLine:
    """One line of text: what it says, how sure the recogniser is, and where it is."""

    text: str
    score: float
    quad: Quad  # top-left, top-right, bottom-right, bottom-left of the text as read

    def __post_init__(self) -> None:
        if len(self.quad) != 4 or any(len(p) != 2 for p in self.quad):
            raise ValueError(f"quad must be 4 (x, y) points, got {self.quad!r}")
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score must be in [0, 1], got {self.score}")

    @property
    def center(self) -> tuple[float, float]:
        return (sum(p[0] for p in self.quad) / 4, sum(p[1] for p in self.quad) / 4)

    @property
    def height(self) -> float:
        (x0, y0), _, _, (x3, y3) = self.quad
        return math.hypot(x3 - x0, y3 - y0)

    def to_json(self) -> dict:
        return {"text": self.text, "score": round(self.score, 4),
                "quad": [[round(x, 1), round(y, 1)] for x, y in self.quad]}


@dataclass(frozen=True)
class TextLines(ImageResult):
    """All lines read in one image, in reading order, and how long reading took."""

    items: tuple[TextLine, ...]
    image_size: tuple[int, int]  # (width, height)
    elapsed_ms: float
    timings: dict = field(default_factory=dict, compare=False)

    def texts(self) -> list[str]:
        return [line.text for line in self.items]


@dataclass(frozen=True)
class TextReaderConfig:
    """Detection and recognition settings (the model-given parts come from the manifest)."""

    det_limit: int = 960  # long side of the detector input at most this (multiple of 32)
    det_min: int = 320  # small images are enlarged so their long side is at least this
    det_thresh: float = 0.3  # probability-map binarisation
    box_thresh: float = 0.5  # mean probability inside a candidate box
    unclip_ratio: float = 1.6
    min_size: float = 3.0  # shorter side of a candidate box, in detector-map pixels
    max_candidates: int = 200
    rec_height: int = 48
    rec_max_width: int = 1600  # crops wider than this (after resizing to rec_height) are squeezed
    rec_batch: int = 8
    min_score: float = 0.5  # lines the recogniser is less sure of are dropped
    flip_below: float = 0.9  # lines read less surely than this are read again turned 180 degrees
    # small text: when a box found is less tall than this (detector pixels, after unclip), detect
    # again with the long side at det_limit (0: never). DB misses text under ~10 px tall.
    zoom_below: float = 16.0
    mean: float = 0.5
    std: float = 0.5

    def __post_init__(self) -> None:
        if self.det_limit % 32 or self.det_limit < 32:
            raise ValueError(f"det_limit must be a multiple of 32 and >= 32, got {self.det_limit}")
        if not 32 <= self.det_min <= self.det_limit:
            raise ValueError(f"det_min must be in [32, det_limit], got {self.det_min}")
        for name in ("det_thresh", "box_thresh", "min_score", "flip_below"):
            v = getattr(self, name)
            if not 0.0 <= v < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {v}")
        if self.rec_batch < 1:
            raise ValueError(f"rec_batch must be >= 1, got {self.rec_batch}")
        if self.zoom_below < 0:
            raise ValueError(f"zoom_below must be >= 0 (0: never zoom), got {self.zoom_below}")


# ---------------------------------------------------------------- detection


def det_size(width: int, height: int, cfg: TextReaderConfig) -> tuple[int, int]:
    """Detector input size (w, h): aspect kept, long side within [det_min, det_limit], multiples of 32."""
    long_side = max(width, height)
    ratio = min(1.0, cfg.det_limit / long_side) if long_side > cfg.det_min else cfg.det_min / long_side
    return (max(32, int(round(width * ratio / 32)) * 32), max(32, int(round(height * ratio / 32)) * 32))


def preprocess_det(image: np.ndarray, cfg: TextReaderConfig) -> np.ndarray:
    """BGR uint8 HxWx3 -> normalised float32 1x3xHxW at the detector size."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be HxWx3 uint8 BGR, got shape {image.shape} dtype {image.dtype}")
    w, h = det_size(image.shape[1], image.shape[0], cfg)
    scale = 1.0 / (255.0 * cfg.std)
    params = cv2.dnn.Image2BlobParams(scalefactor=(scale, scale, scale), size=(w, h),
                                      mean=(255 * cfg.mean,) * 3, swapRB=False, ddepth=cv2.CV_32F)
    return cv2.dnn.blobFromImageWithParams(image, params)


def oriented_quad(center, size, angle_deg: float) -> np.ndarray:
    """A rotated rectangle as a 4x2 quad ordered as the text reads: tl, tr, br, bl.

    The reading direction is the long side, pointing rightwards (or upwards when the box is
    vertical: such text is read bottom to top, as a tall crop rotated a quarter turn).
    Nearly square boxes read along the axis closer to horizontal.
    """
    (cx, cy), (w, h) = center, size
    a = math.radians(angle_deg)
    axes = [(np.array([math.cos(a), math.sin(a)]), w), (np.array([-math.sin(a), math.cos(a)]), h)]
    long_first = sorted(axes, key=lambda ax: -ax[1])
    if long_first[0][1] < 1.5 * long_first[1][1]:
        long_first = sorted(axes, key=lambda ax: -abs(ax[0][0]))
    (u, length), (_, thick) = long_first
    if u[0] < -1e-6 or (abs(u[0]) <= 1e-6 and u[1] > 0):
        u = -u
    v = np.array([-u[1], u[0]])  # a quarter turn clockwise on screen (y down): "below" the text
    c = np.array([cx, cy])
    hu, hv = u * length / 2, v * thick / 2
    return np.array([c - hu - hv, c + hu - hv, c + hu + hv, c - hu + hv], np.float32)


def box_score(prob: np.ndarray, quad: np.ndarray) -> float:
    """Mean probability inside the quad."""
    h, w = prob.shape
    x0, y0 = np.clip(np.floor(quad.min(0)).astype(int), 0, [w - 1, h - 1])
    x1, y1 = np.clip(np.ceil(quad.max(0)).astype(int), 0, [w - 1, h - 1])
    mask = np.zeros((y1 - y0 + 1, x1 - x0 + 1), np.uint8)
    cv2.fillPoly(mask, [np.round(quad - [x0, y0]).astype(np.int32)], 1)
    return float(cv2.mean(prob[y0:y1 + 1, x0:x1 + 1], mask)[0])


def postprocess_det(prob: np.ndarray, cfg: TextReaderConfig, image_size: tuple[int, int]) -> list[tuple[np.ndarray, float]]:
    """Probability map (H, W) -> [(quad in image pixels, score)] of unclipped text boxes."""
    mh, mw = prob.shape
    bitmap = cv2.dilate((prob > cfg.det_thresh).astype(np.uint8), np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    w, h = image_size
    sx, sy = w / mw, h / mh
    out = []
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[: cfg.max_candidates]:
        (cx, cy), (bw, bh), angle = cv2.minAreaRect(contour)
        if min(bw, bh) < cfg.min_size:
            continue
        score = box_score(prob, cv2.boxPoints(((cx, cy), (bw, bh), angle)))
        if score < cfg.box_thresh:
            continue
        d = bw * bh * cfg.unclip_ratio / (2 * (bw + bh))  # offset of the DB "unclip" of a rectangle
        bw, bh = bw + 2 * d, bh + 2 * d
        if min(bw, bh) < cfg.min_size + 2:
            continue
        quad = oriented_quad((cx, cy), (bw, bh), angle) * [sx, sy]
        quad[:, 0] = quad[:, 0].clip(0, w)
        quad[:, 1] = quad[:, 1].clip(0, h)
        if np.linalg.norm(quad[1] - quad[0]) <= 3 or np.linalg.norm(quad[3] - quad[0]) <= 3:
            continue
        out.append((quad.astype(np.float32), score))
    return out


# ---------------------------------------------------------------- recognition


def crop_line(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The quad's pixels warped upright (reading direction to the right)."""
    w = int(round(max(np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[2] - quad[3]))))
    h = int(round(max(np.linalg.norm(quad[3] - quad[0]), np.linalg.norm(quad[2] - quad[1]))))
    w, h = max(w, 1), max(h, 1)
    dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    m = cv2.getPerspectiveTransform(quad.astype(np.float32), dst)
    crop = cv2.warpPerspective(image, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    if h >= 1.5 * w:  # a tall crop: one column of text, read after a quarter turn
        crop = np.ascontiguousarray(np.rot90(crop))
    return crop


def rec_width(crop: np.ndarray, cfg: TextReaderConfig) -> int:
    h, w = crop.shape[:2]
    return int(min(cfg.rec_max_width, max(8, math.ceil(cfg.rec_height * w / h))))


def preprocess_rec(crops: list[np.ndarray], cfg: TextReaderConfig) -> np.ndarray:
    """Crops -> Nx3xHxW float32, each resized to height H, right-padded to the widest (multiple of 8)."""
    widths = [rec_width(c, cfg) for c in crops]
    batch_w = int(math.ceil(max(widths) / 8) * 8)
    out = np.zeros((len(crops), 3, cfg.rec_height, batch_w), np.float32)
    for i, (crop, w) in enumerate(zip(crops, widths)):
        resized = cv2.resize(crop, (w, cfg.rec_height), interpolation=cv2.INTER_LINEAR)
        out[i, :, :, :w] = ((resized.astype(np.float32) / 255.0 - cfg.mean) / cfg.std).transpose(2, 0, 1)
    return out


def ctc_decode(probs: np.ndarray, keys: tuple[str, ...]) -> list[tuple[str, float]]:
    """Greedy CTC: (N, T, C) softmax -> [(text, mean probability of the kept characters)].

    Class 0 is the blank, 1..len(keys) the keys, and one more is the space.
    """
    if probs.shape[-1] != len(keys) + 2:
        raise ValueError(f"recogniser has {probs.shape[-1]} classes, keys file gives {len(keys)} + blank + space")
    idx = probs.argmax(axis=2)
    best = probs.max(axis=2)
    table = ("",) + tuple(keys) + (" ",)
    results = []
    for row, p in zip(idx, best):
        keep = row != 0
        keep[1:] &= row[1:] != row[:-1]
        chars = row[keep]
        text = "".join(table[c] for c in chars).strip()
        results.append((text, float(p[keep].mean()) if chars.size else 0.0))
    return results


def reading_order(lines: list[TextLine]) -> list[TextLine]:
    """Top to bottom; lines whose vertical centres lie within half a line height share a row, left to right."""
    rows: list[list[TextLine]] = []
    for line in sorted(lines, key=lambda l: l.center[1]):
        if rows:
            ref = rows[-1]
            ref_y = sum(l.center[1] for l in ref) / len(ref)
            ref_h = max(l.height for l in ref)
            if abs(line.center[1] - ref_y) < 0.5 * max(ref_h, line.height):
                ref.append(line)
                continue
        rows.append([line])
    return [line for row in rows for line in sorted(row, key=lambda l: l.center[0])]


def sign_blocks(lines: list[TextLine] | tuple[TextLine, ...]) -> list[list[int]]:
    """Indexes of lines (in reading order) that stack into one sign: measured in the upper
    line's own frame (so turned signs work), each line starts below the one before within 0.8
    line heights, overlaps it sideways, and has a comparable height."""
    blocks: list[list[int]] = []
    for i, line in enumerate(lines):
        if blocks:
            prev = lines[blocks[-1][-1]]
            q, p = np.array(prev.quad), np.array(line.quad)
            u = (q[1] - q[0]) / max(np.linalg.norm(q[1] - q[0]), 1e-6)  # along the text
            v = (q[3] - q[0]) / max(np.linalg.norm(q[3] - q[0]), 1e-6)  # down the text
            h = max(prev.height, line.height)
            gap = float(np.dot((p[0] + p[1]) / 2 - (q[3] + q[2]) / 2, v))
            qx, px = q @ u, p @ u
            overlap = min(qx.max(), px.max()) - max(qx.min(), px.min())
            if -0.3 * h < gap < 0.8 * h and overlap > 0 and h < 2.5 * max(min(prev.height, line.height), 1e-6):
                blocks[-1].append(i)
                continue
        blocks.append([i])
    return blocks


class TextReader:
    """Reads text in a BGR image. ``det`` and ``rec`` are any ``session(feeds) -> outputs``."""

    name = "text"

    def __init__(self, det: InferenceSession, rec: InferenceSession, keys: tuple[str, ...],
                 config: TextReaderConfig = TextReaderConfig()):
        self.det = det
        self.rec = rec
        self.keys = keys
        self.config = config

    def detect(self, image: np.ndarray) -> list[tuple[np.ndarray, float]]:
        """Text boxes; looked for again at det_limit when small text shows up at the first size."""
        boxes, scale = self._detect_at(image, self.config)
        cfg = self.config
        if cfg.zoom_below > 0 and round(max(image.shape[:2]) * scale) < cfg.det_limit:
            heights = [np.linalg.norm(q[3] - q[0]) * scale for q, _ in boxes]
            if any(h < cfg.zoom_below for h in heights):
                boxes, _ = self._detect_at(image, replace(cfg, det_min=cfg.det_limit))
        return boxes

    def _detect_at(self, image: np.ndarray, cfg: TextReaderConfig) -> tuple[list[tuple[np.ndarray, float]], float]:
        x = preprocess_det(image, cfg)
        prob = self.det({self.det.input_name: x})[0][0, 0]
        return postprocess_det(prob, cfg, (image.shape[1], image.shape[0])), x.shape[3] / image.shape[1]

    def recognise(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        """Text and score per crop; crops of similar width share a batch."""
        cfg = self.config
        order = sorted(range(len(crops)), key=lambda i: rec_width(crops[i], cfg))
        results: list[tuple[str, float]] = [("", 0.0)] * len(crops)
        for start in range(0, len(order), cfg.rec_batch):
            chunk = order[start:start + cfg.rec_batch]
            probs = self.rec({self.rec.input_name: preprocess_rec([crops[i] for i in chunk], cfg)})[0]
            for i, res in zip(chunk, ctc_decode(probs, self.keys)):
                results[i] = res
        return results

    def __call__(self, image: np.ndarray) -> TextLines:
        t0 = time.perf_counter()
        boxes = self.detect(image)
        t1 = time.perf_counter()
        crops = [crop_line(image, quad) for quad, _ in boxes]
        texts = self.recognise(crops) if crops else []
        quads = [quad for quad, _ in boxes]
        unsure = [i for i, (_, score) in enumerate(texts) if score < self.config.flip_below]
        if unsure:  # upside-down text reads badly one way round and well the other
            flipped = self.recognise([np.ascontiguousarray(crops[i][::-1, ::-1]) for i in unsure])
            for i, (text, score) in zip(unsure, flipped):
                if text and score > texts[i][1]:
                    texts[i] = (text, score)
                    quads[i] = np.roll(quads[i], 2, axis=0)  # the text's top-left is the other corner
        t2 = time.perf_counter()
        lines = [
            TextLine(text=text, score=min(max(score, 0.0), 1.0),
                     quad=tuple((float(x), float(y)) for x, y in quad))
            for quad, (text, score) in zip(quads, texts)
            if text and score >= self.config.min_score
        ]
        ordered = tuple(reading_order(lines))
        t3 = time.perf_counter()
        timings = {"detect_ms": (t1 - t0) * 1e3, "recognise_ms": (t2 - t1) * 1e3, "lines": len(boxes)}
        return TextLines(items=ordered, image_size=(image.shape[1], image.shape[0]),
                         elapsed_ms=(t3 - t0) * 1e3, timings=timings)

    def close(self) -> None:
        for s in (self.det, self.rec):
            close = getattr(s, "close", None)
            if close:
                close()

    def __enter__(self) -> "TextReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_keys(path: Path) -> tuple[str, ...]:
    """The recogniser's characters, one a line (a character may itself be whitespace-like, so no strip)."""
    text = Path(path).read_text(encoding="utf-8")
    keys = text.split("\n")
    if keys and keys[-1] == "":
        keys.pop()
    return tuple(keys)


def load_text_reader(runtime=None, models_folder=None, config: TextReaderConfig | None = None) -> TextReader:
    """The manifest's text detector + recogniser, checked (SHA-256) and loaded."""
    from ..errors import ModelError
    from ..models.manifest import check_file, find, load_manifest
    from .runtime import OrtSession, RuntimeOptions

    specs = load_manifest(models_folder)
    det_spec = find(specs, "text-detector", "fp32")
    rec_spec = find(specs, "text-recognizer", "fp32")
    det_path, rec_path = check_file(det_spec), check_file(rec_spec)
    keys_path = rec_spec.folder / (rec_spec.labels or "")
    if not rec_spec.labels or not keys_path.is_file():
        raise ModelError(f"keys file {keys_path} of model {rec_spec.name} is missing; rebuild it with: {rec_spec.build}")
    cfg = config or TextReaderConfig(rec_height=int(rec_spec.input.get("height", 48)))
    options = runtime or RuntimeOptions()
    return TextReader(OrtSession(det_path, options), OrtSession(rec_path, options), read_keys(keys_path), cfg)
