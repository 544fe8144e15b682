"""The sign phrasebook: offline translation of sign text between en, ko, ja, zh, es, fr and de.

Data: overlays/phrasebooks/*.tsv, one concept a row, one language a column (header row of
language codes); " / " separates alternatives in a cell (the first is the one shown), and
``{n}`` is a slot for a number or short code ("platform {n}" -> "{n}번 승강장").

A line is translated, in this order:
1. **phrase**: the whole line is a known phrase (in any of the languages);
2. **template**: the whole line is a phrase with a number slot ("PLATFORM 2");
3. **words**: the line splits into known phrases and words, longest first, plus bare
   numbers and times, which pass through;
otherwise it is **untranslated**: ``text`` None, never guessed.

Matching ignores case, accents-as-written width (NFKC), punctuation, spacing (NOPARKING is
NO PARKING) and the usual OCR confusions (0/O, 1/l/I/|, 5/S).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..errors import GlassesError, InputError

MATCHES = ("phrase", "template", "words", "neural", "none")
NO_SPACE_LANGS = frozenset({"ja", "zh"})  # words are joined without spaces
_CONFUSABLE = str.maketrans({"0": "o", "1": "i", "l": "i", "|": "i", "!": "i", "5": "s", "$": "s"})
_CLASS = {"o": "[o0]", "i": "[il1|!]", "l": "[il1|!]", "s": "[s5$]"}
_NUMBER = re.compile(r"^(-|\d+([.:,/h-]\d+)*([ap]m)?|\d+[a-z]?|[a-z]\d+)$")
SLOT = "{n}"


class PhrasebookError(GlassesError):
    """A phrasebook file is malformed."""


def normalise(text: str) -> str:
    """NFKC, case-folded, punctuation dropped (but '!' '|' '$' kept for the OCR folding), single spaces."""
    t = unicodedata.normalize("NFKC", text).casefold()
    t = re.sub(r"[’'`´]", "", t)
    t = re.sub(r"[‐‑‒–—−]", "-", t)
    t = re.sub(r"[^\w\s|!$:.-]|_", " ", t)
    t = re.sub(r"(?<!\d)[.:]|[.:](?!\d)", " ", t)  # keep 9:30 and 2.5, drop other dots and colons
    t = re.sub(r"(?<!\w)[|!$]+|[|!$]+(?!\w)", " ", t)  # look-alikes count only inside a word
    t = re.sub(r"(?<=\d)-(?=\d)", "\x00", t)  # 1-4 and 9:00-17:00 stay whole
    t = re.sub(r"(?<=\S)-|-(?=\S)", " ", t).replace("\x00", "-")  # wi-fi -> wi fi; a lone dash stays
    return re.sub(r"\s+", " ", t).strip()


def fold(text: str) -> str:
    """The matching key: normalised, OCR look-alikes folded, '!' '|' '$' kept only as folded letters."""
    key = normalise(text).translate(_CONFUSABLE).replace(":", "").replace(".", "").replace("-", "")
    return re.sub(r"\s+", " ", key).strip()


def compact(key: str) -> str:
    return key.replace(" ", "")


@dataclass(frozen=True)
class Translation:
    """One line's translation. ``text`` is None when the line could not be translated."""

    source: str
    target: str
    text: str | None
    match: str  # phrase | template | words | none
    source_lang: str | None = None
    joined: int = 1  # > 1: the phrase spans this many consecutive lines of one sign, all carry it

    def __post_init__(self) -> None:
        if self.match not in MATCHES:
            raise ValueError(f"match must be one of {', '.join(MATCHES)}, got {self.match!r}")
        if (self.text is None) != (self.match == "none"):
            raise ValueError("text must be None exactly when match is 'none'")

    @property
    def translated(self) -> bool:
        return self.text is not None


@dataclass(frozen=True)
class Entry:
    """One concept: its phrases per language (first alternative = the one shown)."""

    phrases: dict  # lang -> tuple of alternatives
    origin: str  # file:line

    def shown(self, lang: str) -> str:
        return self.phrases[lang][0]


@dataclass(frozen=True)
class _Template:
    pattern: re.Pattern
    entry: Entry
    lang: str


def _slot_regex(alternative: str) -> re.Pattern:
    """A template alternative as a regex over normalised text: look-alike letters, optional spaces."""
    before, after = (normalise(part) for part in alternative.split(SLOT, 1))

    def literal(s: str) -> str:
        return "".join(r"\s?" if c == " " else _CLASS.get(c, re.escape(c)) for c in s)

    return re.compile(rf"^{literal(before)}\s?(?P<n>\d{{1,4}}[a-z]?|[a-z]\d{{0,3}})\s?{literal(after)}$")


class Phrasebook:
    """Phrase tables in memory; ``translate(text, target)`` -> Translation."""

    def __init__(self, entries: list[Entry], languages: tuple[str, ...]):
        if not entries:
            raise PhrasebookError("the phrasebook has no entries")
        self.entries = tuple(entries)
        self.languages = languages
        self._keys: dict[str, tuple[tuple[int, int], Entry, str]] = {}
        self._templates: list[_Template] = []
        self.max_words = 1
        for order, entry in enumerate(entries):
            for lang, alts in entry.phrases.items():
                for rank, alt in enumerate(alts):
                    if SLOT in alt:
                        self._templates.append(_Template(_slot_regex(alt), entry, lang))
                        continue
                    key = fold(alt)
                    if not key:
                        continue
                    self.max_words = max(self.max_words, key.count(" ") + 1)
                    for k in {key, compact(key)}:
                        prio = (rank, order)
                        if k not in self._keys or prio < self._keys[k][0]:
                            self._keys[k] = (prio, entry, lang)

    def __len__(self) -> int:
        return len(self.entries)

    def check_language(self, lang: str) -> str:
        if lang not in self.languages:
            raise InputError(f"--to must be one of {', '.join(self.languages)}, got {lang!r}")
        return lang

    def lookup(self, text: str) -> tuple[Entry, str] | None:
        """The entry whose phrase the whole text is (spacing ignored), and the phrase's language."""
        key = fold(text)
        hit = self._keys.get(key) or self._keys.get(compact(key))
        return (hit[1], hit[2]) if hit else None

    def translate(self, text: str, target: str) -> Translation:
        self.check_language(target)
        hit = self.lookup(text)
        if hit:
            return Translation(text, target, hit[0].shown(target), "phrase", hit[1])
        norm = normalise(text)
        for tpl in self._templates:
            m = tpl.pattern.match(norm)
            if m:
                n = m.group("n").upper()
                return Translation(text, target, tpl.entry.shown(target).replace(SLOT, n), "template", tpl.lang)
        words = self._by_words(norm, target)
        if words:
            return Translation(text, target, words[0], "words", words[1])
        return Translation(text, target, None, "none")

    def translate_block(self, texts: list[str], target: str) -> list[Translation]:
        """Lines of one sign, top to bottom: runs of lines that together make a phrase ("NO" +
        "PARKING") are translated as one, longest runs first; other lines one by one."""
        self.check_language(target)
        out: list[Translation | None] = [None] * len(texts)
        i = 0
        while i < len(texts):
            for j in range(len(texts), i + 1, -1):  # the longest run starting at line i
                whole = self.translate(" ".join(texts[i:j]), target)
                if whole.match in ("phrase", "template"):
                    for k in range(i, j):
                        out[k] = Translation(texts[k], target, whole.text, whole.match, whole.source_lang, j - i)
                    i = j
                    break
            else:
                out[i] = self.translate(texts[i], target)
                i += 1
        return out  # type: ignore[return-value]

    def _by_words(self, norm: str, target: str) -> tuple[str, str | None] | None:
        """Longest known phrases first, left to right; bare numbers pass; None if any word is unknown."""
        tokens = norm.split(" ")
        out, langs, i = [], [], 0
        while i < len(tokens):
            for n in range(min(self.max_words, len(tokens) - i), 0, -1):
                if "-" in tokens[i:i + n]:
                    continue  # a lone dash (Monday - Friday) is kept, never swallowed
                hit = self.lookup(" ".join(tokens[i:i + n]))
                if hit:
                    out.append(hit[0].shown(target))
                    langs.append(hit[1])
                    i += n
                    break
            else:
                if not _NUMBER.match(tokens[i]):
                    return None
                out.append(tokens[i].upper() if re.search(r"[a-z]", tokens[i]) and not tokens[i].endswith("m")
                           else tokens[i])
                i += 1
        if not langs:
            return None  # numbers alone are not a translation
        joiner = "" if target in NO_SPACE_LANGS else " "
        return joiner.join(out), max(set(langs), key=langs.count)


def default_folder() -> Path:
    from ..paths import project_root

    return project_root() / "overlays" / "phrasebooks"


def load_phrasebook(folder: Path | None = None) -> Phrasebook:
    """Every ``*.tsv`` in the folder (default overlays/phrasebooks), checked row by row."""
    folder = Path(folder) if folder else default_folder()
    files = sorted(folder.glob("*.tsv"))
    if not files:
        raise PhrasebookError(f"no phrasebook tables (*.tsv) in {folder}")
    entries: list[Entry] = []
    languages: tuple[str, ...] | None = None
    for path in files:
        header: list[str] | None = None
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not raw.strip() or raw.startswith("#"):
                continue
            cells = raw.split("\t")
            where = f"{path.name}:{number}"
            if header is None:
                header = [c.strip() for c in cells]
                if languages is None:
                    languages = tuple(header)
                elif tuple(header) != languages:
                    raise PhrasebookError(f"{where}: columns {header} differ from {list(languages)}")
                continue
            if len(cells) != len(header):
                raise PhrasebookError(f"{where}: {len(cells)} cells, expected {len(header)} ({', '.join(header)})")
            phrases = {}
            for lang, cell in zip(header, cells):
                alts = tuple(a.strip() for a in cell.split(" / ") if a.strip())
                if not alts:
                    raise PhrasebookError(f"{where}: empty {lang} cell")
                phrases[lang] = alts
            slots = {lang: any(SLOT in a for a in alts) for lang, alts in phrases.items()}
            if any(slots.values()) and not all(SLOT in alts[0] for alts in phrases.values()):
                raise PhrasebookError(f"{where}: a {SLOT} row needs {SLOT} in every language's first phrase")
            entries.append(Entry(phrases, where))
    return Phrasebook(entries, languages or ())
