"""Plug-in for a neural translation model the user supplies (none ships with glasses).

No neural MT weights ship in any registry package this project can use, so the phrasebook is
the offline core. A user who has a model file (for example an Opus-MT export) provides a
factory that turns the file into a ``NeuralModel``; ``load_neural_translator`` checks the file
first and wraps the factory's failures in one-line errors. ``ChainTranslator`` asks the
phrasebook first and the model only for lines the phrasebook cannot translate.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from ..errors import ModelError
from .phrasebook import Phrasebook, Translation


class NeuralModel(Protocol):
    """What a neural backend must do: text in a known or unknown language -> text in ``target``."""

    languages: tuple[str, ...]

    def translate(self, text: str, target: str) -> str | None: ...


class Translator(Protocol):
    languages: tuple[str, ...]

    def translate(self, text: str, target: str) -> Translation: ...


def load_neural_translator(path: Path | str, factory: Callable[[Path], NeuralModel]) -> NeuralModel:
    """The user's model file, loaded by their factory; a one-line ModelError when it cannot be."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"translation model {path} is missing: glasses ships no neural translation model; "
                         "supply your own file (the phrasebook works without one)")
    try:
        model = factory(path)
    except Exception as e:  # noqa: BLE001 - any failure of user code becomes one line
        raise ModelError(f"translation model {path} does not load: {type(e).__name__}: {e}") from e
    if not callable(getattr(model, "translate", None)) or not getattr(model, "languages", None):
        raise ModelError(f"translation model {path}: the factory must return an object with "
                         "'languages' and 'translate(text, target)'")
    return model


@dataclass
class ChainTranslator:
    """Phrasebook first; the neural model only for lines it cannot translate (match 'neural')."""

    phrasebook: Phrasebook
    model: NeuralModel

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(l for l in self.phrasebook.languages if l in self.model.languages)

    def translate(self, text: str, target: str) -> Translation:
        first = self.phrasebook.translate(text, target)
        if first.translated or target not in self.model.languages:
            return first
        out = self.model.translate(text, target)
        return Translation(text, target, out, "neural") if out else first
