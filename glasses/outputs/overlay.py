"""The overlay: what the wearer sees on top of (or instead of) the camera image.

``render(image, scene, size, mode)`` is pure drawing: an ``OverlayScene`` (boxes, quads,
direction arrows, a status line and the caption of the last spoken sentence) in, a BGR image
of ``size`` (width, height) out. It keeps no state between frames.

- mode ``"video"`` (video see-through): the overlays are painted on a copy of the camera image.
- mode ``"optical"`` (optical see-through): black background, which is transparent on the
  glasses' display; overlays only, brighter, thicker and with larger text.

Made to be read by low-vision users: thick outlines with a dark edge, text on a dark plate,
hazards in their own colour, thicker, with a "!" in front. Text is always kept inside the
image (moved, shrunk, then cut with "..."). OpenCV's fonts draw ASCII only: accents are
dropped ("café" -> "cafe"), other characters become "?", and text mostly in another script
(a Korean caption) is not drawn.

Scene coordinates are pixels of the image the perception stage saw: ``scene.frame_size``,
else the size of ``image``, else ``size``. They are scaled to the output size.

``Display`` shows rendered frames in a window and returns key presses without blocking. With
no display (no DISPLAY/WAYLAND_DISPLAY, an unreachable X server, an OpenCV without window
support) it says why in one line (``Display.error``) and does nothing, so the loop runs on.
"""

from __future__ import annotations

import math
import os
import re
import socket
import sys
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

import cv2
import numpy as np

MODES = ("video", "optical")
FONT = cv2.FONT_HERSHEY_SIMPLEX
MIN_FONT_SCALE = 0.35

Colour = tuple[int, int, int]  # BGR


@dataclass(frozen=True)
class BoxLabel:
    """An object's box (x1, y1, x2, y2) and its label."""

    box: tuple[float, float, float, float]
    text: str
    hazard: bool = False
    track_id: int | None = None

    def __post_init__(self) -> None:
        box = tuple(float(v) for v in self.box)
        if len(box) != 4 or not all(math.isfinite(v) for v in box):
            raise ValueError(f"box must be 4 finite numbers (x1, y1, x2, y2), got {self.box}")
        if not (box[2] >= box[0] and box[3] >= box[1]):
            raise ValueError(f"box must have x2 >= x1 and y2 >= y1, got {self.box}")
        object.__setattr__(self, "box", box)


@dataclass(frozen=True)
class QuadLabel:
    """A region seen in perspective (a sign), corners TL, TR, BR, BL. ``fill=True`` paints the
    text into the quad, perspective-warped, on a background of the quad's own colours (a
    translated sign shown in place); otherwise the quad is outlined and labelled."""

    quad: tuple[tuple[float, float], ...]
    text: str
    fill: bool = False

    def __post_init__(self) -> None:
        pts = np.asarray(self.quad, dtype=np.float64)
        if pts.shape != (4, 2) or not np.all(np.isfinite(pts)):
            raise ValueError(f"quad must be 4 finite (x, y) corners TL, TR, BR, BL, got shape {pts.shape}")
        object.__setattr__(self, "quad", tuple((float(x), float(y)) for x, y in pts))


@dataclass(frozen=True)
class Arrow:
    """Points toward a direction: bearing in degrees, 0 straight ahead, + right, 180 behind."""

    bearing_deg: float
    text: str

    def __post_init__(self) -> None:
        if not math.isfinite(float(self.bearing_deg)):
            raise ValueError(f"bearing_deg must be a finite number, got {self.bearing_deg}")
        object.__setattr__(self, "bearing_deg", float(self.bearing_deg))


@dataclass(frozen=True)
class OverlayScene:
    """Everything drawn on one frame. ``caption`` is the last spoken sentence."""

    boxes: tuple[BoxLabel, ...] = ()
    quads: tuple[QuadLabel, ...] = ()
    arrows: tuple[Arrow, ...] = ()
    status: str = ""
    caption: str = ""
    frame_size: tuple[int, int] | None = None  # (width, height) the coordinates refer to

    def __post_init__(self) -> None:
        for name, kind in (("boxes", BoxLabel), ("quads", QuadLabel), ("arrows", Arrow)):
            items = tuple(getattr(self, name))
            bad = [type(i).__name__ for i in items if not isinstance(i, kind)]
            if bad:
                raise ValueError(f"{name} must hold {kind.__name__} items, got {bad[0]}")
            object.__setattr__(self, name, items)
        if self.frame_size is not None:
            w, h = (int(v) for v in self.frame_size)
            if w <= 0 or h <= 0:
                raise ValueError(f"frame_size must be positive (width, height), got {self.frame_size}")
            object.__setattr__(self, "frame_size", (w, h))


@dataclass(frozen=True)
class Style:
    """Colours (BGR) and sizes; ``for_mode`` gives the look of each display mode."""

    label: Colour = (0, 255, 255)  # yellow: the most visible colour for low vision
    hazard: Colour = (0, 0, 255)  # red, and thicker, and "!" in front
    arrow: Colour = (0, 255, 0)
    quad: Colour = (255, 255, 0)
    text: Colour = (255, 255, 255)
    plate: Colour = (0, 0, 0)
    edge: Colour = (0, 0, 0)  # dark edge around lines so they show on any background
    font_scale: float = 0.6  # at 480 pixels (the shorter side); scaled with the image
    line: float = 3.0  # box outline thickness at 480 pixels
    hazard_line: float = 6.0

    @classmethod
    def for_mode(cls, mode: str) -> "Style":
        if mode == "optical":  # on the see-through display: larger, thicker, brighter
            return cls(font_scale=0.9, line=4.0, hazard_line=8.0, text=(255, 255, 255))
        return cls()


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")


def _as_bgr(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"image must be uint8, got {image.dtype}")
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1):
        return cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    raise ValueError(f"image must be (H, W), (H, W, 3) or (H, W, 4), got shape {image.shape}")


def ascii_text(text: str) -> str:
    """What OpenCV's fonts can draw, on one line: accents dropped, other characters as "?".
    Text mostly in a script the font lacks (Korean, Chinese...) gives "" rather than "????"."""
    text = " ".join(str(text).split())
    decomposed = unicodedata.normalize("NFKD", text)
    out, unknown = [], 0
    for ch in decomposed:
        if unicodedata.combining(ch):
            continue
        if 32 <= ord(ch) < 127:
            out.append(ch)
        else:
            out.append("?")
            unknown += 1
    visible = sum(1 for ch in out if ch != " ")
    return "" if visible and unknown * 2 > visible else "".join(out)


@dataclass(frozen=True)
class _Placed:
    text: str
    scale: float
    rect: tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)
    org: tuple[int, int]  # where putText starts


class _Painter:
    """Drawing helpers bound to one canvas and one style (lives for one render call)."""

    def __init__(self, canvas: np.ndarray, style: Style):
        self.canvas = canvas
        self.style = style
        h, w = canvas.shape[:2]
        self.w, self.h = w, h
        self.unit = max(min(w, h), 1) / 480.0
        self.scale = max(style.font_scale * self.unit, MIN_FONT_SCALE)
        self.pad = max(2, round(4 * self.unit))
        self.occupied: list[tuple[int, int, int, int]] = []  # plates placed so far
        self.labels: list[tuple[_Placed, Colour, Colour | None]] = []  # drawn after the shapes

    def thickness(self, base: float) -> int:
        return max(1, round(base * self.unit))

    def text_thickness(self, scale: float) -> int:
        return max(1, round(scale * 2))

    def measure(self, text: str, scale: float) -> tuple[int, int, int]:
        (tw, th), base = cv2.getTextSize(text, FONT, scale, self.text_thickness(scale))
        return tw, th, base

    def fit(self, text: str, scale: float, max_w: int) -> tuple[str, float]:
        """Shrink, then cut with "...", until the text plus padding is at most max_w wide."""
        room = max_w - 2 * self.pad
        while scale > MIN_FONT_SCALE and self.measure(text, scale)[0] > room:
            scale = max(MIN_FONT_SCALE, scale * 0.85)
        if self.measure(text, scale)[0] > room:
            while text and self.measure(text + "...", scale)[0] > room:
                text = text[:-1]
            text = text + "..." if text else ""
            if self.measure(text, scale)[0] > room:
                text = ""
        return text, scale

    def place(self, text: str, x: float, y: float, scale: float | None = None,
              anchor: str = "bottom-left", avoid: bool = True) -> "_Placed | None":
        """Lay out a text plate whose corner ``anchor`` is at (x, y), moved to lie wholly
        inside the image and, when ``avoid``, off the plates already placed. None when even
        the smallest text does not fit."""
        text = ascii_text(text)
        if not text:
            return None
        text, scale = self.fit(text, scale or self.scale, self.w)
        if not text:
            return None
        tw, th, base = self.measure(text, scale)
        pw, ph = tw + 2 * self.pad, th + base + 2 * self.pad
        if pw > self.w or ph > self.h:
            return None
        x0 = x - pw / 2 if "center" in anchor else x
        y0 = y - ph if anchor.startswith("bottom") else y
        x0 = int(min(max(round(x0), 0), self.w - pw))
        y0 = int(min(max(round(y0), 0), self.h - ph))
        if avoid:
            y0 = self._free_y(x0, y0, pw, ph)
        placed = _Placed(text, scale, (x0, y0, x0 + pw, y0 + ph), (x0 + self.pad, y0 + self.pad + th))
        self.occupied.append(placed.rect)
        return placed

    def _free_y(self, x0: int, y0: int, pw: int, ph: int) -> int:
        def hits(y: int) -> bool:
            return any(x0 < r[2] and x0 + pw > r[0] and y < r[3] and y + ph > r[1] for r in self.occupied)

        if not hits(y0):
            return y0
        candidates = {r[3] for r in self.occupied} | {r[1] - ph for r in self.occupied}
        for y in sorted(candidates, key=lambda c: abs(c - y0)):
            if 0 <= y <= self.h - ph and not hits(y):
                return y
        return y0

    def draw(self, placed: "_Placed | None", fg: Colour, bg: Colour | None) -> None:
        if placed is None:
            return
        x0, y0, x1, y1 = placed.rect
        if bg is not None:
            cv2.rectangle(self.canvas, (x0, y0), (x1 - 1, y1 - 1), bg, -1)
        thick = self.text_thickness(placed.scale)
        if bg is None:  # no plate: a dark outline keeps the text readable
            cv2.putText(self.canvas, placed.text, placed.org, FONT, placed.scale, self.style.edge, thick + 3,
                        cv2.LINE_AA)
        cv2.putText(self.canvas, placed.text, placed.org, FONT, placed.scale, fg, thick, cv2.LINE_AA)

    def label(self, text: str, x: float, y: float, fg: Colour, bg: Colour | None,
              anchor: str = "bottom-left") -> None:
        """Place a label now (so later ones keep off it); it is drawn after all the shapes."""
        placed = self.place(text, x, y, None, anchor)
        if placed is not None:
            self.labels.append((placed, fg, bg))

    def polyline(self, pts: np.ndarray, colour: Colour, thick: int, closed: bool = True) -> None:
        p = np.round(pts).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(self.canvas, [p], closed, self.style.edge, thick + 2 * max(1, thick // 2), cv2.LINE_AA)
        cv2.polylines(self.canvas, [p], closed, colour, thick, cv2.LINE_AA)

    def wrap(self, text: str, scale: float, max_w: int, max_lines: int) -> list[str]:
        words, lines, cur = ascii_text(text).split(), [], ""
        room = max_w - 2 * self.pad
        for word in words:
            cand = f"{cur} {word}" if cur else word
            if self.measure(cand, scale)[0] <= room or not cur:
                cur = cand
            else:
                lines.append(cur)
                cur = word
        if cur:
            lines.append(cur)
        if len(lines) > max_lines:
            lines = lines[:max_lines]
            lines[-1] = lines[-1] + " ..."
        return lines


def _draw_box(p: _Painter, b: BoxLabel, sx: float, sy: float) -> None:
    st = p.style
    colour = st.hazard if b.hazard else st.label
    thick = p.thickness(st.hazard_line if b.hazard else st.line)
    x1, y1, x2, y2 = b.box[0] * sx, b.box[1] * sy, b.box[2] * sx, b.box[3] * sy
    pts = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]])
    p.polyline(pts, colour, thick)
    text = b.text if b.track_id is None else f"{b.text} #{b.track_id}"
    if b.hazard:
        text = f"! {text}"
    fg, bg = (st.text, st.hazard) if b.hazard else (st.label, st.plate)
    # above the box when there is room, else inside its top edge (place() clamps either way)
    _, th, base = p.measure(ascii_text(text) or "X", p.scale)
    ph = th + base + 2 * p.pad
    if y1 - thick - ph >= 0:
        p.label(text, x1 - thick / 2, y1 - thick / 2, fg, bg, anchor="bottom-left")
    else:
        p.label(text, x1 + thick / 2, y1 + thick / 2, fg, bg, anchor="top-left")


def quad_colours(image: np.ndarray, mask: np.ndarray) -> tuple[Colour, Colour]:
    """(background, ink) colours of the pixels under ``mask``: split by brightness (Otsu); the
    larger part is the background, the median of each part its colour. When the two are too
    close in brightness, the ink is black or white, whichever contrasts."""
    pix = image[mask > 0].reshape(-1, 3)
    if len(pix) == 0:
        return (0, 0, 0), (255, 255, 255)
    if len(pix) > 4000:
        pix = pix[:: len(pix) // 4000 + 1]
    lum = (0.114 * pix[:, 0] + 0.587 * pix[:, 1] + 0.299 * pix[:, 2]).astype(np.uint8)
    thr, _ = cv2.threshold(lum.reshape(1, -1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    bright = lum > thr
    big = bright if bright.sum() * 2 >= len(pix) else ~bright
    bg = np.median(pix[big], axis=0)
    ink = np.median(pix[~big], axis=0) if (~big).any() else None

    def luma(c: np.ndarray) -> float:
        return 0.114 * c[0] + 0.587 * c[1] + 0.299 * c[2]

    if ink is None or abs(luma(ink) - luma(bg)) < 80:
        ink = np.array([0, 0, 0]) if luma(bg) > 128 else np.array([255, 255, 255])
    return tuple(int(v) for v in bg), tuple(int(v) for v in ink)


def _fill_quad(p: _Painter, source: np.ndarray | None, quad: np.ndarray, text: str) -> None:
    """Paint ``text`` into ``quad`` (output pixels): a flat plate of the quad's background
    colour with the text centred, warped into the quad. Only pixels inside the quad change."""
    x0 = max(int(math.floor(quad[:, 0].min())), 0)
    y0 = max(int(math.floor(quad[:, 1].min())), 0)
    x1 = min(int(math.ceil(quad[:, 0].max())) + 1, p.w)
    y1 = min(int(math.ceil(quad[:, 1].max())) + 1, p.h)
    if x1 - x0 < 2 or y1 - y0 < 2 or abs(cv2.contourArea(quad.astype(np.float32))) < 16:
        return
    local = (quad - [x0, y0]).astype(np.float32)
    rw, rh = x1 - x0, y1 - y0
    inside = np.zeros((rh, rw), np.uint8)
    cv2.fillPoly(inside, [np.round(local).astype(np.int32)], 255)
    if source is not None:
        bg, ink = quad_colours(source[y0:y1, x0:x1], inside)
    else:
        bg, ink = (0, 0, 0), p.style.text
    side = lambda a, b: float(np.hypot(*(quad[a] - quad[b])))  # noqa: E731
    pw = int(np.clip(round((side(0, 1) + side(3, 2)) / 2), 8, 2000))
    ph = int(np.clip(round((side(0, 3) + side(1, 2)) / 2), 8, 2000))
    # draw at least 48 px tall so the letters survive the warp
    up = max(1.0, 48.0 / ph)
    pw, ph = int(round(pw * up)), int(round(ph * up))
    flat = np.empty((ph, pw, 3), np.uint8)
    flat[:] = bg
    _text_into(flat, text, ink)
    src = np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]])
    m = cv2.getPerspectiveTransform(src, local)
    warped = cv2.warpPerspective(flat, m, (rw, rh), flags=cv2.INTER_AREA if up == 1 else cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=bg)
    covered = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), m, (rw, rh), flags=cv2.INTER_NEAREST)
    mask = (covered > 0) & (inside > 0)
    roi = p.canvas[y0:y1, x0:x1]
    roi[mask] = warped[mask]


def _text_into(flat: np.ndarray, text: str, ink: Colour) -> None:
    """The largest text (up to 3 lines) that fits the flat plate, centred."""
    h, w = flat.shape[:2]
    text = ascii_text(text)
    if not text:
        return
    words = text.split()
    best = None
    for n_lines in range(1, min(3, len(words)) + 1):
        per = math.ceil(len(words) / n_lines)
        lines = [" ".join(words[i:i + per]) for i in range(0, len(words), per)]
        sizes = [cv2.getTextSize(s, FONT, 1.0, 2) for s in lines]
        tw = max(sz[0][0] for sz in sizes)
        lh = max(sz[0][1] + sz[1] for sz in sizes)
        scale = min(0.9 * w / max(tw, 1), 0.85 * h / (lh * len(lines) * 1.2))
        if best is None or scale > best[0]:
            best = (scale, lines)
    scale, lines = best
    if scale < 0.2:
        return
    thick = max(1, round(scale * 2))
    metrics = [cv2.getTextSize(s, FONT, scale, thick) for s in lines]
    line_h = max(m[0][1] + m[1] for m in metrics) * 1.2
    top = (h - line_h * len(lines)) / 2
    for i, (s, ((tw, th), base)) in enumerate(zip(lines, metrics)):
        org = (int(round((w - tw) / 2)), int(round(top + i * line_h + th + (line_h - th - base) / 2)))
        cv2.putText(flat, s, org, FONT, scale, ink, thick, cv2.LINE_AA)


def _draw_quad(p: _Painter, q: QuadLabel, source: np.ndarray | None, sx: float, sy: float) -> None:
    quad = np.array(q.quad, np.float64) * [sx, sy]
    if q.fill:
        _fill_quad(p, source, quad, q.text)
        return
    p.polyline(quad, p.style.quad, p.thickness(p.style.line))
    top = quad[:, 1].min()
    p.label(q.text, quad[0, 0], top - p.thickness(p.style.line), p.style.quad, p.style.plate)


def arrow_points(bearing_deg: float, size: tuple[int, int]) -> tuple[tuple[float, float], tuple[float, float]]:
    """(tail, head) of the arrow toward a bearing: up the screen is straight ahead, right is
    90 degrees right, down is behind; the head sits near the screen edge in that direction."""
    w, h = size
    b = math.radians(bearing_deg)
    dx, dy = math.sin(b), -math.cos(b)
    cx, cy = w / 2, h / 2
    head = (cx + dx * w * 0.40, cy + dy * h * 0.40)
    length = 0.18 * min(w, h)
    tail = (head[0] - dx * length, head[1] - dy * length)
    return tail, head


def _draw_arrow(p: _Painter, a: Arrow) -> None:
    tail, head = arrow_points(a.bearing_deg, (p.w, p.h))
    t = tuple(int(round(v)) for v in tail)
    hd = tuple(int(round(v)) for v in head)
    thick = p.thickness(p.style.hazard_line)
    cv2.arrowedLine(p.canvas, t, hd, p.style.edge, thick + 4, cv2.LINE_AA, tipLength=0.35)
    cv2.arrowedLine(p.canvas, t, hd, p.style.arrow, thick, cv2.LINE_AA, tipLength=0.35)
    # the label behind the tail, toward the centre
    b = math.radians(a.bearing_deg)
    lx, ly = tail[0] - math.sin(b) * 8 * p.unit, tail[1] + math.cos(b) * 8 * p.unit
    anchor = "top-center" if math.cos(b) >= 0 else "bottom-center"
    p.label(a.text, lx, ly, p.style.arrow, p.style.plate, anchor=anchor)


def _place_caption(p: _Painter, caption: str) -> list[_Placed]:
    """The caption's lines, centred at the bottom (placed first, so labels keep off it)."""
    scale = p.scale * 1.15
    lines = p.wrap(caption, scale, p.w, 3)
    _, th, base = p.measure("Xg", scale)
    step = th + base + 2 * p.pad
    y = p.h - step * len(lines)
    placed = [p.place(line, p.w / 2, y + i * step, scale=scale, anchor="top-center", avoid=False)
              for i, line in enumerate(lines)]
    return [pl for pl in placed if pl is not None]


def render(image: np.ndarray | None, scene: OverlayScene, size: tuple[int, int], mode: str = "video",
           style: Style | None = None) -> np.ndarray:
    """Draw ``scene`` on a new BGR image of ``size`` (width, height); ``image`` is not changed.

    mode "video": on the camera image (scaled to size; black when image is None).
    mode "optical": on black (transparent on the glasses); ``image`` is used only to fill
    quads with the sign's colours and to know the coordinates' frame size.
    """
    _check_mode(mode)
    w, h = (int(v) for v in size)
    if w <= 0 or h <= 0:
        raise ValueError(f"size must be positive (width, height), got {size}")
    style = style or Style.for_mode(mode)
    source = None
    if image is not None:
        bgr = _as_bgr(image)
        source = bgr if bgr.shape[:2] == (h, w) else cv2.resize(bgr, (w, h), interpolation=cv2.INTER_AREA)
    if mode == "video" and source is not None:
        canvas = source.copy()
    else:
        canvas = np.zeros((h, w, 3), np.uint8)
    fw, fh = scene.frame_size or ((image.shape[1], image.shape[0]) if image is not None else (w, h))
    sx, sy = w / fw, h / fh
    p = _Painter(canvas, style)
    # the status line and the caption are laid out first so that labels keep off them, and
    # drawn last so that nothing covers them
    status = p.place(scene.status, 0, 0, scale=p.scale * 0.8, anchor="top-left", avoid=False) if scene.status else None
    caption = _place_caption(p, scene.caption) if scene.caption else []
    for q in scene.quads:
        _draw_quad(p, q, source, sx, sy)
    for b in sorted(scene.boxes, key=lambda b: b.hazard):  # hazards on top
        _draw_box(p, b, sx, sy)
    for a in scene.arrows:
        _draw_arrow(p, a)
    for placed, fg, bg in p.labels:
        p.draw(placed, fg, bg)
    p.draw(status, style.text, style.plate)
    for line in caption:
        p.draw(line, style.text, style.plate)
    return canvas


# --- the window -------------------------------------------------------------------------

def _gui_backend() -> str:
    """OpenCV's window backend from its build information ("QT5", "GTK3", ...; "" when none)."""
    m = re.search(r"^\s*GUI:\s*(\S+)", cv2.getBuildInformation(), re.MULTILINE)
    value = m.group(1).upper() if m else ""
    return "" if value in ("NONE", "NO") else value


def _x_server_reachable(display: str, timeout_s: float = 0.5) -> bool:
    """Whether an X server answers at DISPLAY (":0", "unix:0", "host:10.0"), by connecting to
    its socket. Paths (macOS XQuartz) and forms not understood are given the benefit of doubt."""
    m = re.fullmatch(r"([^:]*):(\d+)(?:\.\d+)?", display)
    if not m or display.startswith("/"):
        return True
    host, num = m.group(1), int(m.group(2))
    if host in ("", "unix"):
        path = f"/tmp/.X11-unix/X{num}"
        for address in (path, "\0" + path):  # the file, then Linux's abstract socket
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.settimeout(timeout_s)
                s.connect(address)
                return True
            except OSError:
                continue
            finally:
                s.close()
        if host == "unix":
            return False
        host = "localhost"
    try:
        with socket.create_connection((host, 6000 + num), timeout=timeout_s):
            return True
    except OSError:
        return False


def display_problem(env: Mapping[str, str] | None = None, platform: str | None = None,
                    backend: str | None = None) -> str | None:
    """None when a window can be opened here, else one line saying why not and what to do.

    Checked before any window call: OpenCV's Qt backend aborts the whole process (it does not
    raise) when it cannot reach a display."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    backend = _gui_backend() if backend is None else backend
    if not backend:
        return "no window: this OpenCV build has no window support (use --headless)"
    if not platform.startswith("linux"):
        return None
    x, wl = env.get("DISPLAY", ""), env.get("WAYLAND_DISPLAY", "")
    if not x and not wl:
        return ("no window: no display (DISPLAY and WAYLAND_DISPLAY are unset); use --headless, "
                "or start it from the desktop session")
    if not x and backend.startswith("QT"):
        return ("no window: OpenCV's Qt windows need X, and only WAYLAND_DISPLAY is set; "
                "enable XWayland (DISPLAY) or use --headless")
    if x and not _x_server_reachable(x):
        return f"no window: cannot reach the X display DISPLAY={x}; use --headless or fix DISPLAY"
    return None


class Display:
    """A window for the rendered frames. ``show(frame)`` returns the key pressed (0-255) or
    None, never blocking (cv2.waitKey(1)). With no display, ``error`` says why in one line and
    ``show`` does nothing; a window error while running disables it the same way. ``closed``
    turns True when the wearer closes the window.

    fullscreen and ``position`` (the top-left of the chosen monitor on the desktop, e.g.
    (1920, 0) for a second screen to the right) are for the glasses' own display.
    """

    def __init__(self, name: str = "glasses", fullscreen: bool = False,
                 position: tuple[int, int] | None = None, enabled: bool = True):
        self.name = name
        self.fullscreen = fullscreen
        self.position = position
        self.enabled = enabled
        self.error: str | None = None if enabled else "display off"
        self.closed = False
        self._open = False

    @property
    def available(self) -> bool:
        return self._open and self.error is None and not self.closed

    def open(self) -> bool:
        """Open the window; False (and ``error`` set) when there is no display."""
        if self._open or not self.enabled or self.error is not None:
            return self.available
        problem = display_problem()
        if problem:
            self.error = problem
            return False
        try:
            flags = cv2.WINDOW_NORMAL if self.fullscreen else cv2.WINDOW_AUTOSIZE
            cv2.namedWindow(self.name, flags)
            if self.position is not None:
                cv2.moveWindow(self.name, int(self.position[0]), int(self.position[1]))
            if self.fullscreen:
                cv2.setWindowProperty(self.name, cv2.WND_PROP_FULLSCREEN, cv2.WINDOW_FULLSCREEN)
        except cv2.error as e:
            self.error = _one_line(f"no window: {e}")
            return False
        self._open = True
        return True

    def show(self, frame: np.ndarray) -> int | None:
        """Show one frame; the key pressed since the last call (or None). Never raises."""
        if not self._open and not self.open():
            return None
        if not self.available:
            return None
        try:
            cv2.imshow(self.name, frame)
            key = cv2.waitKey(1)
            if cv2.getWindowProperty(self.name, cv2.WND_PROP_VISIBLE) < 1:
                self.closed = True
        except cv2.error as e:
            self.error = _one_line(f"window stopped: {e}")
            return None
        return None if key is None or key < 0 else key & 0xFF

    def close(self) -> None:
        if not self._open:
            return
        self._open = False
        try:
            cv2.destroyWindow(self.name)
            cv2.waitKey(1)  # lets the GUI thread actually remove the window
        except cv2.error:
            pass

    def __enter__(self) -> "Display":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
