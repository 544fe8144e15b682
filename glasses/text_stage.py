"""The text stage for the live loop: reads signs, says new ones, shows translations in place,
and reads the line the wearer points at.

``TextStage(reader, ...)`` is a ``stage(frame, t) -> StageOutput`` meant to run in a
``WorkerStage`` at a low rate (reading takes 0.1-0.5 s on a 2-core board). Per frame it:

- reads the lines (TextReader) and groups the ones stacked on one sign;
- with a target language, translates each sign with the phrasebook and paints the
  translation into the sign's quad (``QuadLabel(fill=True)``); untranslated lines are outlined
  with what was read;
- says a sign's text once when it first appears (not again for ``repeat_s`` seconds);
- with a ``pointer`` (for example ``MediapipeFingertip``), says the line just beyond the index
  fingertip at REQUESTED priority.

``command("read", "", t)`` says every line in view now.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from .audio.narrator import Priority, Utterance
from .camera.types import Frame
from .outputs.overlay import QuadLabel
from .perception.text import TextLine, TextLines, sign_blocks
from .stages import StageOutput

SPOKEN_LANGS = ("en", "ko")  # what the speech side can say (glasses.audio.phrases)
SIGN_WORD = {"en": "Sign: {}", "ko": "표지판: {}"}


def speakable(text: str, lang: str) -> bool:
    """Whether the voice of ``lang`` can say the text: it needs a Latin letter or a digit (and,
    for Korean, Hangul too), and at least two such characters."""
    import re

    pattern = r"[A-Za-z0-9\u00C0-\u024F]" if lang == "en" else r"[A-Za-z0-9\u00C0-\u024F\uAC00-\uD7A3]"
    return len(re.findall(pattern, text)) >= 2


class Pointer(Protocol):
    """Where the wearer points in an image: (x, y) pixels of the index fingertip, or None."""

    def __call__(self, image: np.ndarray) -> tuple[float, float] | None: ...


def _bounds(line: TextLine) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in line.quad], [p[1] for p in line.quad]
    return min(xs), min(ys), max(xs), max(ys)


def line_at_finger(lines: tuple[TextLine, ...] | list[TextLine], tip: tuple[float, float],
                   reach: float = 3.0) -> TextLine | None:
    """The line the fingertip touches, else the nearest line just beyond it (above the tip, within
    ``reach`` line heights, and spanning the tip's x give or take half a line height)."""
    x, y = tip
    best, best_d = None, float("inf")
    for line in lines:
        x0, y0, x1, y1 = _bounds(line)
        h = max(line.height, 1.0)
        if x0 <= x <= x1 and y0 <= y <= y1:
            return line
        if not (x0 - 0.5 * h <= x <= x1 + 0.5 * h):
            continue
        d = y - y1  # how far above the tip the line's bottom is
        if -0.25 * h <= d <= reach * h and d < best_d:
            best, best_d = line, d
    return best


def union_quad(lines: list[TextLine]) -> tuple[tuple[float, float], ...]:
    """One rectangle over stacked lines, in the first line's own frame (so a turned sign stays turned)."""
    q0 = np.array(lines[0].quad)
    u = (q0[1] - q0[0]) / max(np.linalg.norm(q0[1] - q0[0]), 1e-6)
    v = np.array([-u[1], u[0]])
    pts = np.array([p for line in lines for p in line.quad])
    a, b = pts @ u, pts @ v
    corners = [(a.min(), b.min()), (a.max(), b.min()), (a.max(), b.max()), (a.min(), b.max())]
    return tuple((float(x * u[0] + y * v[0]), float(x * u[1] + y * v[1])) for x, y in corners)


@dataclass(frozen=True)
class SignReading:
    """One sign (lines stacked together) and its translation, if any."""

    lines: tuple[TextLine, ...]
    text: str
    translation: str | None

    @property
    def quad(self) -> tuple[tuple[float, float], ...]:
        return union_quad(list(self.lines))


class TextStage:
    """Reads signs in frames for the live loop (see the module docstring)."""

    name = "text"

    def __init__(self, reader: Callable[[np.ndarray], TextLines], phrasebook=None, target: str | None = None,
                 lang: str = "en", pointer: Pointer | None = None, repeat_s: float = 30.0,
                 change_threshold: float = 3.0):
        if lang not in SPOKEN_LANGS:
            raise ValueError(f"lang must be one of {', '.join(SPOKEN_LANGS)}, got {lang!r}")
        if target is not None:
            if phrasebook is None:
                raise ValueError("a target language needs a phrasebook")
            phrasebook.check_language(target)
        self.reader = reader
        self.phrasebook = phrasebook
        self.target = target
        self.lang = lang
        self.pointer = pointer
        self.repeat_s = repeat_s
        self._said: dict[str, float] = {}
        self._signs: tuple[SignReading, ...] = ()
        # signs are re-read only when the view changed: mean grey-level change of a thumbnail
        self.change_threshold = change_threshold
        self._thumb: np.ndarray | None = None
        self._last: TextLines | None = None
        self.reads = 0  # how many times the reader actually ran

    def signs(self, lines: TextLines) -> tuple[SignReading, ...]:
        out = []
        for block in sign_blocks(lines.items):
            group = [lines.items[i] for i in block]
            texts = [l.text for l in group]
            if self.phrasebook is None or self.target is None:
                out.append(SignReading(tuple(group), " ".join(texts), None))
                continue
            trs = self.phrasebook.translate_block(texts, self.target)
            i = 0
            while i < len(group):  # a joined phrase stays one sign; other lines are their own
                n = trs[i].joined
                out.append(SignReading(tuple(group[i:i + n]), " ".join(texts[i:i + n]), trs[i].text))
                i += n
        return tuple(out)

    def _say(self, sign: SignReading) -> str:
        if sign.translation and self.target == self.lang:
            return sign.translation
        return sign.text

    def _changed(self, image: np.ndarray) -> bool:
        import cv2

        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        thumb = cv2.resize(gray, (64, 48), interpolation=cv2.INTER_AREA).astype(np.float32)
        changed = self._thumb is None or float(np.abs(thumb - self._thumb).mean()) > self.change_threshold
        if changed:
            self._thumb = thumb
        return changed

    def __call__(self, frame: Frame, t: float) -> StageOutput:
        changed = self._changed(frame.image)
        if self._last is None or self.pointer is not None or changed:
            self._last = self.reader(frame.image)  # (with a pointer, every frame: the finger moves)
            self.reads += 1
        lines = self._last
        signs = self.signs(lines)
        self._signs = signs
        quads = tuple(QuadLabel(s.quad, s.translation, fill=True) if s.translation else QuadLabel(s.quad, s.text)
                      for s in signs)
        utterances = []
        for s in signs:
            key = s.text.casefold()
            if not speakable(self._say(s), self.lang):
                continue  # e.g. one Chinese character read off a shirt: drawn, not read out in English
            if t - self._said.get(key, -1e9) >= self.repeat_s:
                self._said[key] = t
                utterances.append(Utterance(SIGN_WORD[self.lang].format(self._say(s)), Priority.AMBIENT,
                                            f"new sign text: {s.text!r}", self.lang, t))
        events = [{"type": "text", "ms": round(lines.elapsed_ms, 1),
                   "lines": [{"text": s.text, "translation": s.translation} for s in signs]}]
        if self.pointer is not None:
            tip = self.pointer(frame.image)
            line = line_at_finger(lines.items, tip) if tip else None
            if line is not None:
                sign = next((s for s in signs if line in s.lines), None)
                said = self._say(sign) if sign else line.text
                utterances.insert(0, Utterance(said, Priority.REQUESTED, f"pointed at {line.text!r}", self.lang, t))
                events.append({"type": "point", "tip": [round(v, 1) for v in tip], "text": line.text})
        return StageOutput(utterances=tuple(utterances), quads=quads, events=tuple(events),
                           elapsed_ms=lines.elapsed_ms)

    def command(self, name: str, arg: str, t: float) -> list[Utterance]:
        if name != "read":
            return []
        if not self._signs:
            return [Utterance("No text in view." if self.lang == "en" else "보이는 글자가 없습니다.",
                              Priority.REQUESTED, "read command: nothing read", self.lang, t)]
        return [Utterance(self._say(s), Priority.REQUESTED, "read command", self.lang, t) for s in self._signs]
