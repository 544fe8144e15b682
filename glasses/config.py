"""Device profiles: how hard the loop may work on a given board (``glasses run --profile``).

Built-in profiles:

    name    threads precision input detect_every text_rate_hz display  why
    pi4     4       fp32      320   2            0.5          none     Cortex-A72: int8 gains little
                                                                       without dot-product; a smaller
                                                                       input, every 2nd frame; audio only
    pi5     4       int8      416   1            1.0          optical  Cortex-A76 has int8 dot-product
    jetson  4       int8      416   1            2.0          optical  Orin CPU (GPU via onnxruntime-gpu)
    laptop  2       int8      416   1            2.0          video    leaves cores for the rest

input_size is the detector's square input in pixels, a multiple of 32 (the model takes any):
smaller is faster and misses small, far objects.

A TOML file may start from a built-in and change some fields (see calibration/devices/):

    base = "pi5"
    threads = 3
    display = "video"

Without ``base`` every field must be given. ``name`` defaults to the file's stem. Unknown
keys and bad values are one-line InputErrors that say what is allowed.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from types import MappingProxyType

from .errors import InputError

PRECISIONS = ("int8", "fp32")
DISPLAYS = ("video", "optical", "none")
MAX_TEXT_RATE_HZ = 30.0


def _whole(key: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(f"{key} must be a whole number >= {low}" + (f" and <= {high}" if high < 10**6 else "")
                         + f", got {value!r}")
    return value


def _choice(key: str, value, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InputError(f"{key} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _rate(key: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0 <= value <= MAX_TEXT_RATE_HZ:
        raise InputError(f"{key} must be a number of times a second from 0 (only on request) to "
                         f"{MAX_TEXT_RATE_HZ:g}, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class DeviceProfile:
    """How the loop runs on one kind of device."""

    name: str
    threads: int  # onnxruntime intra-op threads for the detector
    precision: str  # "int8" | "fp32": which detector model
    detect_every: int  # run the detector on every Nth frame (1 = all); the tracker fills in between
    text_rate_hz: float  # sign reading passes a second (0 = only on request)
    display: str  # "video" | "optical" | "none" (headless: speech and events only)
    input_size: int = 416  # detector input, pixels square, a multiple of 32

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InputError(f"name must be a non-empty string, got {self.name!r}")
        _whole("threads", self.threads, 1, 256)
        _choice("precision", self.precision, PRECISIONS)
        _whole("detect_every", self.detect_every, 1, 1000)
        object.__setattr__(self, "text_rate_hz", _rate("text_rate_hz", self.text_rate_hz))
        _choice("display", self.display, DISPLAYS)
        _whole("input_size", self.input_size, 128, 1280)
        if self.input_size % 32:
            raise InputError(f"input_size must be a multiple of 32 (320, 416, 512 ...), got {self.input_size}")

    def to_json(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


BUILTIN_PROFILES = MappingProxyType({p.name: p for p in (
    DeviceProfile("pi4", threads=4, precision="fp32", detect_every=2, text_rate_hz=0.5, display="none",
                  input_size=320),
    DeviceProfile("pi5", threads=4, precision="int8", detect_every=1, text_rate_hz=1.0, display="optical"),
    DeviceProfile("jetson", threads=4, precision="int8", detect_every=1, text_rate_hz=2.0, display="optical"),
    DeviceProfile("laptop", threads=2, precision="int8", detect_every=1, text_rate_hz=2.0, display="video"),
)})
FIELDS = tuple(f.name for f in fields(DeviceProfile))
KEYS = ("base",) + FIELDS  # what a profile file may hold


def profile_from_mapping(data: dict, default_name: str = "custom", source: str = "profile") -> DeviceProfile:
    """A profile from a parsed config table (``base`` plus any fields); errors name ``source``."""
    unknown = [k for k in data if k not in KEYS]
    if unknown:
        key = unknown[0]
        hint = difflib.get_close_matches(str(key), KEYS, n=1)
        raise InputError(f"{source}: unknown key {key!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
                         + f"; allowed: {', '.join(KEYS)}")
    values = dict(data)
    base_name = values.pop("base", None)
    try:
        if base_name is not None:
            if base_name not in BUILTIN_PROFILES:
                raise InputError(f"base must be one of {', '.join(BUILTIN_PROFILES)}, got {base_name!r}")
            values.setdefault("name", default_name)
            return replace(BUILTIN_PROFILES[base_name], **values)
        missing = [f for f in FIELDS if f not in values and f not in ("name", "input_size")]
        if missing:
            raise InputError(f"{', '.join(missing)} missing: give {'it' if len(missing) == 1 else 'them'}, "
                             f"or start from a built-in with base = one of {', '.join(BUILTIN_PROFILES)}")
        values.setdefault("name", default_name)
        return DeviceProfile(**values)
    except InputError as e:
        raise InputError(f"{source}: {e}") from None


def load_profile(name_or_path: str | Path) -> DeviceProfile:
    """A built-in profile by name (pi4, pi5, jetson, laptop), or one from a TOML file."""
    text = str(name_or_path)
    if text in BUILTIN_PROFILES:
        return BUILTIN_PROFILES[text]
    path = Path(name_or_path)
    if path.suffix.lower() != ".toml" and not path.is_file():
        raise InputError(f"--profile must be one of {', '.join(BUILTIN_PROFILES)} or a .toml file, got {text!r}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"no device profile file at {path}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read the device profile {path}: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{path.name}: not valid TOML: {e}") from None
    return profile_from_mapping(data, default_name=path.stem, source=path.name)
