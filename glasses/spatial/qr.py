"""QR codes in view: decoded with OpenCV's QR detectors (detectAndDecodeMulti), outlined on
the overlay, read on request.

``QRStage(frame, t)`` looks for codes on every call; it says nothing by itself (a code on a
poster is not worth interrupting anyone for) but logs each new text once. The wearer's "read"
command gets "QR code: <text>" while a code is in view, and ``[]`` otherwise, so that another
stage (text reading) or the loop can answer instead.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import cv2
import numpy as np

from ..audio import phrases
from ..audio.narrator import Priority, Utterance
from ..camera.types import Frame
from ..outputs.overlay import QuadLabel
from ..stages import StageOutput


@dataclass(frozen=True)
class QRCode:
    """A decoded code: its text (whitespace runs made single spaces) and its corners in pixels."""

    text: str
    quad: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        pts = np.asarray(self.quad, np.float64)
        if pts.shape != (4, 2) or not np.all(np.isfinite(pts)):
            raise ValueError(f"quad must be 4 finite (x, y) corners, got shape {pts.shape}")
        object.__setattr__(self, "quad", tuple((float(x), float(y)) for x, y in pts))

    def to_json(self) -> dict:
        return {"text": self.text, "quad": [[round(x, 1), round(y, 1)] for x, y in self.quad]}


def _decode(detector, image: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(text, (4, 2) corners) of every candidate; text is '' for one found but not read."""
    try:
        ok, texts, points, _ = detector.detectAndDecodeMulti(image)
    except cv2.error:  # OpenCV raises on some degenerate candidate quads
        return []
    if not ok or points is None:
        return []
    return [(t or "", q.astype(np.float64)) for t, q in zip(texts, np.asarray(points).reshape(-1, 4, 2))]


def detect_qr(image: np.ndarray) -> list[QRCode]:
    """Every QR code in the image that decodes, left to right.

    OpenCV's ArUco-based QR finder first (it finds small, tilted and noisy codes the classic
    one misses); a code it finds but cannot read is tried again on a 2x enlarged crop (small
    modules); when it finds nothing the classic ``cv2.QRCodeDetector`` has a go.
    """
    found = _decode(cv2.QRCodeDetectorAruco(), image)
    h, w = image.shape[:2]
    results: list[tuple[str, np.ndarray]] = []
    for text, quad in found:
        if text:
            results.append((text, quad))
            continue
        pad = 0.25 * float(np.ptp(quad, axis=0).max()) + 8
        x0, y0 = (max(int(v - pad), 0) for v in quad.min(axis=0))
        x1, y1 = min(int(quad[:, 0].max() + pad) + 1, w), min(int(quad[:, 1].max() + pad) + 1, h)
        crop = cv2.resize(image[y0:y1, x0:x1], None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
        results += [(t, q / 2 + (x0, y0)) for t, q in _decode(cv2.QRCodeDetectorAruco(), crop) if t]
    if not found:
        results = [(t, q) for t, q in _decode(cv2.QRCodeDetector(), image) if t]
    codes, seen = [], set()
    for text, quad in results:
        clean = re.sub(r"\s+", " ", text).strip()
        key = (clean, tuple(np.round(quad.mean(axis=0) / 20).astype(int)))  # the same code found twice
        if clean and key not in seen:
            seen.add(key)
            codes.append(QRCode(clean, quad))
    codes.sort(key=lambda c: min(x for x, _ in c.quad))
    return codes


def say_codes(codes: list[QRCode], lang: str, max_chars: int = 200) -> str:
    """'QR code: <text>' (several: 'QR codes: a; b'), each text cut to max_chars."""
    texts = [c.text if len(c.text) <= max_chars else c.text[:max_chars].rstrip() + "..." for c in codes]
    if lang == "ko":
        return f"QR 코드: {'; '.join(texts)}"
    return f"QR code{'s' if len(texts) > 1 else ''}: {'; '.join(texts)}"


class QRStage:
    """Per-frame QR decoding; ``command("read", ...)`` reads what is in view.

    stale_s: a detection older than this (by the ``t`` passed in) no longer answers "read".
    """

    name = "qr"

    def __init__(self, lang: str = "en", stale_s: float = 1.5, max_chars: int = 200):
        if not stale_s > 0:
            raise ValueError(f"stale_s must be > 0, got {stale_s}")
        if max_chars < 10:
            raise ValueError(f"max_chars must be >= 10, got {max_chars}")
        self.lang = phrases.check_language(lang)
        self.stale_s = stale_s
        self.max_chars = max_chars
        self._lock = threading.Lock()
        self._latest: tuple[float, list[QRCode]] = (-1e9, [])
        self._logged: set[str] = set()  # texts already in the events log while in view

    def __call__(self, frame: Frame, t: float) -> StageOutput:
        codes = detect_qr(frame.image)
        texts = {c.text for c in codes}
        with self._lock:
            self._latest = (t, codes)
            new = [c for c in codes if c.text not in self._logged]
            self._logged = texts
        quads = tuple(QuadLabel(c.quad, "QR " + (c.text if len(c.text) <= 24 else c.text[:23] + "...")) for c in codes)
        events = tuple({"type": "qr", "event": "seen", "text": c.text, "world_t": round(t, 3)} for c in new)
        return StageOutput(quads=quads, events=events, frame_index=frame.index)

    @property
    def codes(self) -> list[QRCode]:
        with self._lock:
            return list(self._latest[1])

    def command(self, name: str, arg: str, t: float) -> list[Utterance]:
        if name != "read":
            return []
        with self._lock:
            at, codes = self._latest
        if not codes or abs(t - at) > self.stale_s:
            return []
        return [Utterance(say_codes(codes, self.lang, self.max_chars), Priority.REQUESTED, "requested: read (QR)",
                          self.lang, t)]


def qr_stage(lang: str = "en", stale_s: float = 1.5) -> QRStage:
    """The live loop's QR stage (wrap it in glasses.stages.WorkerStage)."""
    return QRStage(lang=lang, stale_s=stale_s)
