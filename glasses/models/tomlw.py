"""A minimal TOML writer for the model manifest (tables of strings, numbers, bools, lists, inline tables)."""

from __future__ import annotations

import json
import math


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"TOML cannot hold {v}")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # JSON string escapes are valid TOML basic strings
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else json.dumps(k)


def dumps(doc: dict, header: str = "") -> str:
    """``{"models": {"name": {...}}}`` -> TOML text with one [models.name] table per model."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    for top, tables in doc.items():
        for name, fields in tables.items():
            lines += ["", f"[{_key(top)}.{_key(name)}]"]
            lines += [f"{_key(k)} = {_value(v)}" for k, v in fields.items()]
    return "\n".join(lines).lstrip("\n") + "\n"
