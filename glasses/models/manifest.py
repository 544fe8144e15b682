"""The model manifest (models/manifest.toml): what each model file is, where it came from,
and the SHA-256 it must have. Reading it needs nothing but the standard library."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ModelError
from ..paths import models_dir

MANIFEST_NAME = "manifest.toml"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    file: str
    sha256: str
    task: str
    precision: str
    license: str
    source: dict
    input: dict
    build: str
    labels: str | None = None
    quantization: dict = field(default_factory=dict)
    folder: Path = field(default=Path("."), compare=False)

    @property
    def path(self) -> Path:
        return self.folder / self.file

    def labels_list(self) -> tuple[str, ...]:
        if not self.labels:
            raise ModelError(f"model {self.name} names no labels file in {MANIFEST_NAME}")
        path = self.folder / self.labels
        if not path.is_file():
            raise ModelError(f"labels file {path} of model {self.name} is missing (it is tracked in git)")
        labels = tuple(line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
        return labels


_REQUIRED = ("file", "sha256", "task", "precision", "license", "source", "input", "build")


def load_manifest(folder: Path | None = None) -> dict[str, ModelSpec]:
    folder = Path(folder) if folder else models_dir()
    path = folder / MANIFEST_NAME
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ModelError(f"model manifest {path} is missing") from e
    except tomllib.TOMLDecodeError as e:
        raise ModelError(f"model manifest {path} is not valid TOML: {e}") from e
    specs = {}
    for name, entry in data.get("models", {}).items():
        missing = [k for k in _REQUIRED if k not in entry]
        if missing:
            raise ModelError(f"{path}: model {name} lacks {', '.join(missing)}")
        known = {k: entry[k] for k in ModelSpec.__dataclass_fields__ if k in entry and k not in ("name", "folder")}
        specs[name] = ModelSpec(name=name, folder=folder, **known)
    if not specs:
        raise ModelError(f"{path} lists no models")
    return specs


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def check_file(spec: ModelSpec) -> Path:
    """The model's path if its file exists and has the pinned SHA-256; a one-line ModelError if not."""
    path = spec.path
    if not path.is_file():
        raise ModelError(f"model file {path} is missing; rebuild it with: {spec.build}")
    digest = sha256_of(path)
    if digest != spec.sha256:
        raise ModelError(
            f"model file {path} is corrupt (sha256 {digest[:12]}..., expected {spec.sha256[:12]}...); "
            f"rebuild it with: {spec.build}"
        )
    return path


def find(specs: dict[str, ModelSpec], task: str, precision: str) -> ModelSpec:
    for spec in specs.values():
        if spec.task == task and spec.precision == precision:
            return spec
    have = sorted({s.precision for s in specs.values() if s.task == task})
    raise ModelError(f"no {task} model with precision {precision!r} in the manifest (have: {', '.join(have) or 'none'})")
