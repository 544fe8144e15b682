"""From the narrator's utterances to the wearer's ears: earcon first (panned to the object),
then the words, and one events-log record per utterance whether or not it was voiced."""

from __future__ import annotations

import time
from dataclasses import dataclass

from .narrator import Priority, Utterance


@dataclass(frozen=True)
class AnnounceOptions:
    earcons: bool = True
    stale_s: float = 5.0  # non-hazard speech older than this is dropped unsaid (the world moved on)

    def __post_init__(self) -> None:
        if self.stale_s <= 0:
            raise ValueError(f"stale_s must be > 0, got {self.stale_s}")


class Announcer:
    """``announce(u)`` never blocks. speech / earcons may be None (``--no-speech``): the utterance
    is still returned as an events-log record, so "why did it say that?" can be answered."""

    def __init__(self, speech=None, earcons=None, options: AnnounceOptions | None = None):
        self.speech = speech  # a SpeechWorker (or anything with say(text, priority, max_age_s))
        self.earcons = earcons  # an Earcons (or anything with play(name, bearing_deg))
        self.options = options or AnnounceOptions()

    def announce(self, u: Utterance, capture_ts: float | None = None) -> dict:
        """Start the utterance; returns its events-log record (``type`` "speech")."""
        enqueue_ts = time.monotonic()
        if self.earcons is not None and self.options.earcons and u.earcon:
            self.earcons.play(u.earcon, u.bearing_deg or 0.0)
        speech_id = None
        if self.speech is not None:
            max_age = None if u.priority >= Priority.HAZARD else self.options.stale_s
            speech_id = self.speech.say(u.text, int(u.priority), max_age_s=max_age)
        return {"type": "speech", "text": u.text, "priority": int(u.priority),
                "priority_name": u.priority.name.lower(), "reason": u.reason, "lang": u.lang,
                "earcon": u.earcon if self.options.earcons else None, "voiced": speech_id is not None,
                "speech_id": speech_id, "capture_ts": capture_ts, "enqueue_ts": enqueue_ts}
