"""The events log: everything said, drawn and measured, one JSON object per line (JSONL), so a
session can be replayed and "why did it say that?" answered.

Every line carries:

    t       seconds since the log was opened (time.monotonic, never decreasing)
    frame   the frame number it is about (int), or null
    type    what kind of event (below)

plus the fields of that type. Types written by the pipeline (others may be added; readers
should skip types they do not know):

    start       the log was opened: time (UTC wall clock, ISO 8601), monotonic (time.monotonic()
                at t = 0, to relate capture_ts / enqueue_ts to t), pid
    frame       one processed frame: detections (count), latency_ms (capture -> overlay and
                narration updated), fps (processed frames per second, recent)
    detection   an object's state changed: change ("appeared" | "left" | "changed"), label,
                clock (1-12), distance_m (or null), track_id (or null)
    speech      one utterance, exactly as glasses.audio.announcer.Announcer.announce returns it:
                text, priority, priority_name, reason, lang, earcon, voiced, speech_id,
                capture_ts, enqueue_ts (both time.monotonic() seconds)
    utterance   the same fields as speech, when logged under that name
    error       a stage failed and the loop went on: stage, message
    camera      the camera changed: state ("lost" | "restored" | "fallback"), source, message
    command     a wearer's command (key, stdin): command, arg
    stop        the log was closed: records (how many were logged, by type)

Lines are appended to the file (a service restarted after a crash keeps the earlier session;
``start`` begins each session). Each line is written whole in one write and reaches the file
at once. Values that JSON has no form for are converted: numpy scalars and arrays to numbers
and lists, dataclasses to their ``to_json()`` or fields, enums to their value or name, paths
to strings, NaN/inf to null, anything else to its repr - logging never raises.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import json
import math
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import numpy as np

from ..errors import InputError

EVENT_TYPES = ("start", "frame", "detection", "speech", "utterance", "error", "camera", "command", "stop")
RESERVED = ("t", "frame", "type")
MAX_ARRAY_ITEMS = 10_000  # larger arrays are logged as a summary, not element by element
MAX_DEPTH = 12


def jsonable(value, depth: int = 0):
    """``value`` as plain JSON types (dict, list, str, int, float, bool, None); never raises."""
    try:
        return _jsonable(value, depth)
    except Exception:  # noqa: BLE001 - a log line must never take the loop down
        return _safe_repr(value)


def _safe_repr(value) -> str:
    try:
        return repr(value)
    except Exception:  # noqa: BLE001
        return f"<unrepresentable {type(value).__name__}>"


def _jsonable(value, depth: int):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, enum.Enum):
        return int(value) if isinstance(value, int) else jsonable(value.value if isinstance(
            value.value, (str, int, float)) else value.name, depth + 1)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if depth >= MAX_DEPTH:
        return _safe_repr(value)
    if isinstance(value, np.generic):
        return jsonable(value.item(), depth + 1)
    if isinstance(value, np.ndarray):
        if value.size > MAX_ARRAY_ITEMS:
            return f"<array shape={list(value.shape)} dtype={value.dtype}>"
        return jsonable(value.tolist(), depth + 1)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        to_json = getattr(value, "to_json", None)
        if callable(to_json):
            return jsonable(to_json(), depth + 1)
        return {f.name: jsonable(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {k if isinstance(k, str) else str(jsonable(k, depth + 1)): jsonable(v, depth + 1)
                for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset, deque)):
        return [jsonable(v, depth + 1) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    return _safe_repr(value)


def _frame_number(frame) -> int | None:
    """An int frame number, or None when ``frame`` is not a whole number."""
    value = jsonable(frame)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


class EventLog:
    """JSONL events log; also keeps the last ``keep`` records in memory (``records()``).

    ``path`` None: in memory only, nothing touches the disk. The file is opened by ``open()``
    or ``with`` (or the first ``log``), appended to, and closed by ``close()``. Thread-safe:
    the speech worker's thread may log while the loop does.
    """

    def __init__(self, path: str | Path | None = None, keep: int = 1000,
                 clock: Callable[[], float] = time.monotonic):
        if keep < 1:
            raise ValueError(f"keep must be >= 1, got {keep}")
        self.path = None if path is None else Path(path)
        self.clock = clock
        self.error: str | None = None  # set (one line) when writing the file failed; memory goes on
        self._recent: deque[dict] = deque(maxlen=keep)
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._t0: float | None = None
        self._last_t = 0.0
        self._closed = False

    # -- life cycle --
    def open(self) -> "EventLog":
        """Start the clock (t = 0) and open the file; writes the ``start`` record."""
        with self._lock:
            if self._t0 is not None:
                return self
            self._t0 = self.clock()
            self._closed = False
            if self.path is not None:
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                except OSError as e:
                    raise InputError(f"cannot write the events log {self.path}: {e.strerror or e}") from None
        self.log("start", None, time=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds"),
                 monotonic=self._t0, pid=os.getpid())
        return self

    def close(self) -> None:
        """Write the ``stop`` record and close the file. Later ``log`` calls stay in memory."""
        with self._lock:
            if self._t0 is None or self._closed:
                return
        self.log("stop", None, records=dict(self._counts))
        with self._lock:
            self._closed = True
            if self._fd is not None:
                try:
                    os.fsync(self._fd)
                except OSError:
                    pass
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> "EventLog":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- logging --
    def log(self, type: str, frame: int | None = None, /, **fields) -> dict:
        """Log one event; returns the record as written. Never raises on the values.

        ``type`` and ``frame`` are positional, so the fields may hold any names; a field
        named ``frame`` counts as the frame when none was given; fields named ``t`` or
        ``type`` do not replace the log's own and are kept as ``t_given`` / ``type_given``.
        """
        if frame is None and "frame" in fields:
            frame = fields.pop("frame")
        else:
            fields.pop("frame", None)
        for key in ("t", "type"):
            if key in fields:
                fields[f"{key}_given"] = fields.pop(key)
        return self._write(str(type), frame, fields)

    def write(self, record: Mapping, frame: int | None = None) -> dict:
        """Log a ready-made record (one with a ``type``, such as the Announcer's speech
        records) unchanged, adding ``t`` and ``frame``."""
        try:
            fields = dict(record)
        except Exception:  # noqa: BLE001
            fields = {"record": _safe_repr(record)}
        rtype = fields.pop("type", "event")
        if frame is None:
            frame = fields.pop("frame", None)
        else:
            fields.pop("frame", None)
        if "t" in fields:
            fields["t_given"] = fields.pop("t")
        return self._write(str(rtype), frame, fields)

    def _write(self, type_: str, frame, fields: dict) -> dict:
        if self._t0 is None and not self._closed:
            try:
                self.open()
            except InputError as e:
                self.error = str(e)
                self._t0 = self.clock() if self._t0 is None else self._t0
        frame_v = _frame_number(frame)
        if frame_v is None and frame is not None:
            fields["frame_given"] = frame
        body = {k if isinstance(k, str) else str(k): jsonable(v) for k, v in fields.items()}
        with self._lock:
            t = max(round(self.clock() - self._t0, 6), self._last_t)
            self._last_t = t
            record = {"t": t, "frame": frame_v, "type": type_, **body}
            self._recent.append(record)
            self._counts[type_] += 1
            if self._fd is not None:
                self._append(record)
        return record

    def _append(self, record: dict) -> None:
        try:
            line = json.dumps(record, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"
        except (TypeError, ValueError) as e:  # jsonable() should make this unreachable
            line = json.dumps({"t": record["t"], "frame": None, "type": "error", "stage": "events",
                               "message": f"unserialisable record: {e}"}) + "\n"
        data = line.encode("utf-8")
        try:
            while data:  # one write for a regular file; a short write (disk full) is finished
                n = os.write(self._fd, data)
                data = data[n:]
        except OSError as e:
            self.error = f"events log {self.path} stopped: {e.strerror or e}"
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None

    # -- reading back --
    def records(self, type: str | None = None) -> list[dict]:
        """The last records kept in memory (oldest first), optionally of one type."""
        with self._lock:
            items = list(self._recent)
        return items if type is None else [r for r in items if r["type"] == type]

    def counts(self) -> dict[str, int]:
        """How many records of each type were logged since the log opened."""
        with self._lock:
            return dict(self._counts)


def read_events(path: str | Path, types: Iterable[str] | None = None) -> list[dict]:
    """The records of an events log file, optionally only some types. A last line cut short
    (the process was killed mid-write) is skipped; any other bad line is an InputError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"no events log at {path}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read the events log {path}: {e}") from None
    wanted = None if types is None else set(types)
    lines = text.split("\n")
    out = []
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            if i == len(lines):  # no newline after it: cut short
                continue
            raise InputError(f"{path}:{i}: not a JSON line") from None
        if not isinstance(rec, dict) or "type" not in rec or "t" not in rec:
            raise InputError(f"{path}:{i}: an events line must be an object with t and type")
        if wanted is None or rec["type"] in wanted:
            out.append(rec)
    return out


def sessions(records: list[dict]) -> list[list[dict]]:
    """Split the records of an appended-to log into sessions, at each ``start``."""
    out: list[list[dict]] = []
    for rec in records:
        if rec.get("type") == "start" or not out:
            out.append([])
        out[-1].append(rec)
    return out
