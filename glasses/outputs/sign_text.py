"""Translated sign text painted in place in any script (Hangul, kana, Chinese, accents).

OpenCV's fonts draw ASCII only, so ``overlay.render`` leaves a Korean or Japanese translation
out. ``paint_signs(canvas, quads, font)`` paints each ``QuadLabel(fill=True)`` with Pillow and
a TrueType font instead: a plate of the sign's own colours with the text centred, warped into
the quad (run it after ``render``, on the same canvas). The font is a file the system has:
``find_font()`` looks for WenQuanYi Micro Hei (Debian package ``fonts-wqy-microhei``,
Apache-2.0; Chinese, Japanese and Korean) and Noto Sans CJK (``fonts-noto-cjk``). Nothing is
downloaded; with no font found, ``find_font`` returns None and the caller keeps ASCII drawing.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from .overlay import QuadLabel, quad_colours

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
)


def find_font(candidates: tuple[str, ...] = FONT_CANDIDATES) -> Path | None:
    """The first CJK-capable font file present, or None."""
    for c in candidates:
        if Path(c).is_file():
            return Path(c)
    return None


def plate(text: str, size: tuple[int, int], font_path: Path, bg, ink) -> np.ndarray:
    """A (w, h) BGR plate of colour ``bg`` with ``text`` as large as fits (up to 3 lines), centred."""
    from PIL import Image, ImageDraw, ImageFont

    w, h = size
    img = Image.new("RGB", (w, h), tuple(int(v) for v in bg[::-1]))
    draw = ImageDraw.Draw(img)
    words = text.split() or [text]
    joiner = " "
    if len(words) == 1 and len(text) > 4:  # Chinese or Japanese: any character may end a line
        words, joiner = list(text), ""
    best = None
    for n in range(1, min(3, len(words)) + 1):
        per = math.ceil(len(words) / n)
        lines = [joiner.join(words[i:i + per]) for i in range(0, len(words), per)]
        probe = ImageFont.truetype(str(font_path), 100)
        widths = [draw.textlength(line, font=probe) for line in lines]
        size_px = min(0.9 * w * 100 / max(max(widths), 1), 0.8 * h / (n * 1.15))
        if best is None or size_px > best[0]:
            best = (size_px, lines)
    size_px, lines = best
    if size_px < 6:
        return np.asarray(img)[:, :, ::-1].copy()
    font = ImageFont.truetype(str(font_path), max(6, int(size_px)))
    line_h = size_px * 1.15
    top = (h - line_h * len(lines)) / 2
    for i, line in enumerate(lines):
        tw = draw.textlength(line, font=font)
        draw.text(((w - tw) / 2, top + i * line_h + line_h / 2), line, font=font, anchor="lm",
                  fill=tuple(int(v) for v in ink[::-1]))
    return np.asarray(img)[:, :, ::-1].copy()


def paint_quad(canvas: np.ndarray, quad: np.ndarray, text: str, font_path: Path, source: np.ndarray | None = None) -> bool:
    """Paint ``text`` into ``quad`` (canvas pixels). False when the quad is too small to hold it."""
    h_img, w_img = canvas.shape[:2]
    x0, y0 = max(int(math.floor(quad[:, 0].min())), 0), max(int(math.floor(quad[:, 1].min())), 0)
    x1, y1 = min(int(math.ceil(quad[:, 0].max())) + 1, w_img), min(int(math.ceil(quad[:, 1].max())) + 1, h_img)
    if x1 - x0 < 4 or y1 - y0 < 4 or abs(cv2.contourArea(quad.astype(np.float32))) < 16:
        return False
    local = (quad - [x0, y0]).astype(np.float32)
    inside = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(inside, [np.round(local).astype(np.int32)], 255)
    bg, ink = quad_colours((source if source is not None else canvas)[y0:y1, x0:x1], inside)
    side = lambda a, b: float(np.hypot(*(quad[a] - quad[b])))  # noqa: E731
    pw = int(np.clip(round((side(0, 1) + side(3, 2)) / 2), 8, 2000))
    ph = int(np.clip(round((side(0, 3) + side(1, 2)) / 2), 8, 2000))
    up = max(1.0, 64.0 / ph)  # draw big enough that the strokes survive the warp
    pw, ph = int(round(pw * up)), int(round(ph * up))
    flat = plate(text, (pw, ph), font_path, bg, ink)
    m = cv2.getPerspectiveTransform(np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]]), local)
    warped = cv2.warpPerspective(flat, m, (x1 - x0, y1 - y0), flags=cv2.INTER_AREA,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=bg)
    roi = canvas[y0:y1, x0:x1]
    mask = inside > 0
    roi[mask] = warped[mask]
    return True


def paint_signs(canvas: np.ndarray, quads: tuple[QuadLabel, ...] | list[QuadLabel], font_path: Path,
                scale: tuple[float, float] = (1.0, 1.0), source: np.ndarray | None = None) -> int:
    """Paint every filled QuadLabel's text into its quad; returns how many were painted."""
    done = 0
    for q in quads:
        if q.fill and q.text:
            done += paint_quad(canvas, np.array(q.quad, np.float64) * scale, q.text, font_path, source)
    return done
