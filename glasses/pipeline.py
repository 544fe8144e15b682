"""The camera loop: camera -> perception -> spatial -> outputs, one frame at a time.

Per processed frame: detect -> place (bearing, clock, distance) -> track (ids, time to
contact) -> narrate (few prioritised utterances) -> overlay, recording and events. The loop
never blocks on speech (the speech worker runs in its own process) and never works on a stale
image (live sources keep only the newest frame; files are paced as if live unless --fast).

Every part is passed in as an object, so a test can run the loop with a fake camera, and a
Jetson with another detector, without touching the loop.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from .audio.narrator import Narrator, Utterance
from .audio.phrases import Placed
from .camera.types import EndOfStream, Frame
from .outputs.overlay import BoxLabel, OverlayScene, render
from .spatial.motion import MotionTracker
from .spatial.objects import PlacedObject, place
from .stages import StageOutput

log = logging.getLogger(__name__)

COMMANDS = ("describe", "read", "repeat", "stop", "quit", "where", "route")
KEYS = {ord("d"): "describe", ord(" "): "describe", ord("r"): "read", ord("a"): "repeat",
        ord("s"): "stop", ord("q"): "quit", 27: "quit", ord("w"): "route"}
HELP = ("commands: describe (d, space), read (r), repeat (a), stop (s: stop speaking), "
        "where LABEL, route (w: the way to the destination), quit (q, Esc)")


def parse_command(line: str) -> tuple[str, str] | None:
    """A stdin line -> (command, argument), or None when it is not a command."""
    words = line.strip().lower().split(maxsplit=1)
    if not words:
        return None
    aliases = {"d": "describe", "r": "read", "a": "repeat", "again": "repeat", "s": "stop",
               "silence": "stop", "q": "quit", "exit": "quit", "where's": "where", "w": "route",
               "way": "route"}
    cmd = aliases.get(words[0], words[0])
    if cmd not in COMMANDS:
        return None
    arg = words[1].strip() if len(words) > 1 else ""
    if arg.startswith("is "):
        arg = arg[3:]
    return cmd, arg


@dataclass(frozen=True)
class LoopOptions:
    detect_every: int = 1  # run the detector on every Nth frame (1 = all)
    max_frames: int | None = None  # stop after this many processed frames
    display_mode: str = "video"  # how overlays are drawn for the window and the recording
    read_timeout_s: float = 0.25

    def __post_init__(self) -> None:
        if self.detect_every < 1:
            raise ValueError(f"detect_every must be >= 1, got {self.detect_every}")
        if self.max_frames is not None and self.max_frames < 1:
            raise ValueError(f"max_frames must be >= 1, got {self.max_frames}")


@dataclass
class LoopSummary:
    frames: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    utterances: int = 0
    errors: int = 0
    camera_lost: int = 0
    first_frame_s: float | None = None  # from loop start to the first processed frame
    source: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        lat = np.asarray(self.latencies_ms, np.float64)
        p50, p95 = (np.percentile(lat, [50, 95]) if lat.size else (None, None))
        return {
            "frames": self.frames,
            "fps": round(self.frames / self.seconds, 2) if self.seconds > 0 else 0.0,
            "latency_ms": {"p50": None if p50 is None else round(float(p50), 1),
                           "p95": None if p95 is None else round(float(p95), 1)},
            "utterances": self.utterances,
            "errors": self.errors,
            "camera_lost": self.camera_lost,
            "first_frame_s": None if self.first_frame_s is None else round(self.first_frame_s, 3),
            "source": self.source,
        }


@dataclass
class WorldState:
    """What the loop knows now: the last placed objects and the last thing said."""

    t: float = 0.0
    frame: int | None = None
    objects: list[PlacedObject] = field(default_factory=list)
    track_ids: list[int | None] = field(default_factory=list)  # aligned with objects
    placed: list[Placed] = field(default_factory=list)  # what the narrator gets (confirmed tracks)
    last_said: Utterance | None = None
    caption: str = ""


class Assistant:
    """The loop. ``run(stop)`` until the source ends, ``quit``, ``stop`` is set or max_frames."""

    def __init__(self, source, detector, camera, narrator: Narrator, announcer, events,
                 tracker=None, recorder=None, display=None, options: LoopOptions = LoopOptions(),
                 clock: Callable[[], float] = time.monotonic, stages: list | None = None,
                 painter: Callable | None = None):
        self.source = source
        self.detector = detector
        self.camera = camera
        self.narrator = narrator
        self.announcer = announcer
        self.events = events
        self.tracker = tracker
        self.recorder = recorder
        self.display = display
        self.options = options
        self.clock = clock
        self.stages = list(stages or [])  # WorkerStage objects (glasses.stages): markers, text, hands
        self.painter = painter  # painter(canvas, quads, frame_image): text the overlay font cannot draw
        # slow stages finish on an older frame: their overlays are moved with the head since then
        self.motion = MotionTracker() if self.stages else None
        self.commands: queue.Queue[tuple[str, str]] = queue.Queue()
        self.state = WorldState()
        self.summary = LoopSummary()
        self._recent = deque(maxlen=30)  # processed-frame times, for the fps shown

    # -- commands -------------------------------------------------------------------------
    def command(self, name: str, arg: str = "") -> None:
        """Queue a wearer's command (from keys, stdin or the Python API); thread-safe."""
        if name not in COMMANDS:
            raise ValueError(f"command must be one of {', '.join(COMMANDS)}; got {name!r}")
        self.commands.put((name, arg))

    def _handle(self, name: str, arg: str, t: float, capture_ts: float | None) -> bool:
        """Run one command; False means quit."""
        if name == "quit":
            return False
        if name == "stop":
            speech = getattr(self.announcer, "speech", None)
            if speech is not None:
                speech.stop()
            self.events.log("command", self.state.frame, command="stop")
            return True
        answers = [u for st in self.stages for u in st.command(name, arg, t)]
        if answers:  # a stage that owns this command (the route stage for "route", text for "read")
            for u in answers:
                self._say(u, capture_ts)
        elif name == "describe":
            self._say(self.narrator.request(t, self.state.placed), capture_ts)
        elif name == "route":
            self._say(Utterance("No route is set. Start with --route FILE --to PLACE.", 2, "requested: route",
                                self.narrator.config.lang, t), capture_ts)
        elif name == "repeat":
            if self.state.last_said is not None:
                u = self.state.last_said
                self._say(Utterance(u.text, u.priority, "repeat: " + u.reason, u.lang, t, u.labels,
                                    u.bearing_deg, u.earcon), capture_ts)
        elif name == "read":
            self._say(Utterance("Text reading is off." if self.narrator.config.lang == "en" else "글자 읽기가 꺼져 있습니다.",
                                2, "requested: read", self.narrator.config.lang, t), capture_ts)
        elif name == "where":
            self._say(self._where(arg, t), capture_ts)
        self.events.log("command", self.state.frame, command=name, arg=arg or None)
        return True

    def _where(self, label: str, t: float) -> Utterance:
        lang = self.narrator.config.lang
        label = label.strip().rstrip("?").removeprefix("the ").removeprefix("a ").strip()
        if not label:
            return Utterance("Where is what? Say: where person.", 2, "requested: where", lang, t)
        now = [o for o in self.state.objects if o.detection.label == label]
        if now:
            o = min(now, key=lambda o: o.distance_m if o.distance_m is not None else 1e9)
            dist = f", {o.distance_m:.0f} metres" if o.distance_m is not None else ""
            return Utterance(f"{label.capitalize()}, {o.clock} o'clock{dist}.", 2, f"requested: where {label}",
                             lang, t, (label,), o.bearing_deg)
        seen = self.tracker.last_seen(label) if self.tracker is not None and hasattr(self.tracker, "last_seen") else None
        if seen is not None:
            when, box = seen[0], seen[1]
            ago = max(0, round(t - when))
            x = (box[0] + box[2]) / 2
            bearing = self.camera.bearing_deg(x, (box[1] + box[3]) / 2) if hasattr(self.camera, "bearing_deg") else 0.0
            from .spatial.camera import bearing_to_clock

            return Utterance(f"{label.capitalize()} last seen {ago} seconds ago at {bearing_to_clock(bearing)} o'clock.",
                             2, f"requested: where {label}", lang, t, (label,), bearing)
        return Utterance(f"No {label} seen.", 2, f"requested: where {label}", lang, t, (label,))

    def _say(self, u: Utterance, capture_ts: float | None) -> None:
        self.events.write(self.announcer.announce(u, capture_ts), self.state.frame)
        self.summary.utterances += 1
        if not u.reason.startswith("repeat"):
            self.state.last_said = u
        self.state.caption = u.text

    # -- one frame ------------------------------------------------------------------------
    def process(self, frame: Frame) -> np.ndarray:
        """Perception -> spatial -> narration for one frame; returns the rendered overlay image."""
        t = frame.media_ts
        self.state.frame = frame.index
        self.state.t = t
        run_detector = (self.summary.frames % self.options.detect_every) == 0
        if run_detector:
            try:
                detections = self.detector(frame.image)
            except Exception as e:  # one stage failing must not stop the loop
                self.summary.errors += 1
                self.events.log("error", frame.index, stage="detector", message=f"{type(e).__name__}: {e}")
                detections = None
            if detections is not None:
                objects = place(detections, self.camera)
                placed = [Placed.from_placed_object(o) for o in objects]
                ids: list[int | None] = [None] * len(objects)
                if self.tracker is not None:
                    try:
                        placed, ids = self._track(detections, objects, t, frame.index)
                    except Exception as e:
                        self.summary.errors += 1
                        self.events.log("error", frame.index, stage="tracker", message=f"{type(e).__name__}: {e}")
                self.state.objects = objects
                self.state.track_ids = ids
                self.state.placed = placed
                for u in self.narrator.update(t, placed):
                    self._say(u, frame.capture_ts)
        self._run_stages(frame, t)
        return self._render(frame)

    def _run_stages(self, frame: Frame, t: float) -> None:
        if self.motion is not None:
            self.motion.update(frame.index, frame.image)
        for st in self.stages:
            st.submit(frame, t)
            out = st.poll()
            while st.errors:
                self.summary.errors += 1
                self.events.log("error", frame.index, stage=st.name, message=st.errors.pop(0))
            if out is None:
                continue
            for record in out.events:
                self.events.write(record, out.frame_index)
            for u in out.utterances:
                self._say(u, frame.capture_ts)

    def _track(self, detections, objects: list[PlacedObject], t: float,
               index: int) -> tuple[list[Placed], list[int | None]]:
        from .spatial.tracker import placed_with_tracks

        update = self.tracker.update(detections, t)
        for ev in update.events:
            self.events.log("detection", index, change=ev.kind, label=ev.label, track_id=ev.track_id)
        ids = []
        for i in range(len(objects)):
            tr = update.for_detection(i)
            ids.append(tr.id if tr is not None else None)
        return placed_with_tracks(objects, update), ids

    def _render(self, frame: Frame) -> np.ndarray:
        hazards = self.narrator.config.hazards
        tracked = {p.track_id: p for p in self.state.placed if p.track_id is not None}
        boxes = []
        for o, tid in zip(self.state.objects, self.state.track_ids):
            p = tracked.get(tid) or Placed.from_placed_object(o)  # tracked: with time to contact
            dist = f" {o.distance_m:.0f}m" if o.distance_m is not None else ""
            boxes.append(BoxLabel(o.detection.box, f"{o.detection.label} {o.clock}h{dist}",
                                  hazard=hazards.is_hazard(p), track_id=tid))
        fps = self._fps()
        status = f"{fps:4.1f} fps  {self.source.name}"
        if getattr(self.source, "status", "ok") == "lost":
            status += "  CAMERA LOST"
        extra = [self._follow(st.overlay()) for st in self.stages]
        scene = OverlayScene(boxes=tuple(boxes) + tuple(b for o in extra for b in o.boxes),
                             quads=tuple(q for o in extra for q in o.quads),
                             arrows=tuple(a for o in extra for a in o.arrows),
                             status=status, caption=self.state.caption)
        canvas = render(frame.image, scene, frame.size, mode=self.options.display_mode)
        if self.painter is not None and scene.quads:
            self.painter(canvas, scene.quads, frame.image)
        return canvas

    def _follow(self, out: StageOutput) -> StageOutput:
        """A stage's overlay moved from the frame it was computed on to the current one."""
        if self.motion is None or (not out.quads and not out.boxes):
            return out
        quads = []
        for q in out.quads:
            moved = self.motion.to_current(q.quad, out.frame_index)
            quads.append(q if moved is None else replace(q, quad=tuple(map(tuple, moved))))
        boxes = []
        for b in out.boxes:
            x1, y1, x2, y2 = b.box
            moved = self.motion.to_current([(x1, y1), (x2, y1), (x2, y2), (x1, y2)], out.frame_index)
            if moved is not None:
                (x1, y1), (x2, y2) = moved.min(axis=0), moved.max(axis=0)
                b = replace(b, box=(float(x1), float(y1), float(x2), float(y2)))
            boxes.append(b)
        return replace(out, quads=tuple(quads), boxes=tuple(boxes))

    def _fps(self) -> float:
        if len(self._recent) < 2:
            return 0.0
        span = self._recent[-1] - self._recent[0]
        return (len(self._recent) - 1) / span if span > 0 else 0.0

    # -- the loop -------------------------------------------------------------------------
    def run(self, stop: threading.Event | None = None) -> LoopSummary:
        stop = stop or threading.Event()
        start = self.clock()
        last_status = getattr(self.source, "status", "ok")
        reason = getattr(self.source, "fallback_reason", None)
        if reason:
            self.events.log("camera", None, state="fallback", source=self.source.name, message=reason)
            lang = self.narrator.config.lang
            text = "No camera found. Playing the demo clip." if lang == "en" else "카메라가 없어 데모 영상을 재생합니다."
            self._say(Utterance(text, 2, "camera fallback", lang, self.state.t), None)
        try:
            while not stop.is_set():
                if not self._drain_commands(self.state.t, None):
                    break
                try:
                    frame = self.source.read(timeout=self.options.read_timeout_s)
                except EndOfStream:
                    break
                status = getattr(self.source, "status", "ok")
                if status != last_status:
                    self._camera_changed(status)
                    last_status = status
                if frame is None:
                    continue
                image = self.process(frame)
                if not self._drain_commands(frame.media_ts, frame.capture_ts):
                    break
                done = self.clock()
                latency = (done - frame.capture_ts) * 1000.0
                self._recent.append(done)
                self.summary.frames += 1
                self.summary.latencies_ms.append(latency)
                if self.summary.first_frame_s is None:
                    self.summary.first_frame_s = done - start
                self.events.log("frame", frame.index, detections=len(self.state.objects),
                                latency_ms=round(latency, 2), fps=round(self._fps(), 2))
                self._output(image)
                if self.display is not None and getattr(self.display, "closed", False):
                    break
                if self.options.max_frames is not None and self.summary.frames >= self.options.max_frames:
                    break
        finally:
            self.summary.seconds = self.clock() - start
            stats = getattr(self.source, "stats", None)
            if stats is not None:
                self.summary.source = {k: getattr(stats, k) for k in ("grabbed", "delivered", "dropped",
                                                                        "corrupt", "reconnects")}
        return self.summary

    def _output(self, image: np.ndarray) -> None:
        if self.recorder is not None:
            try:
                self.recorder.write(image)
            except Exception as e:
                self.summary.errors += 1
                self.events.log("error", self.state.frame, stage="recorder", message=f"{type(e).__name__}: {e}")
        if self.display is not None:
            key = self.display.show(image)
            if key is not None and key in KEYS:
                self.commands.put((KEYS[key], ""))

    def _drain_commands(self, t: float, capture_ts: float | None) -> bool:
        while True:
            try:
                name, arg = self.commands.get_nowait()
            except queue.Empty:
                return True
            if not self._handle(name, arg, t, capture_ts):
                return False

    def _camera_changed(self, status: str) -> None:
        lang = self.narrator.config.lang
        if status == "lost":
            self.summary.camera_lost += 1
            self.events.log("camera", self.state.frame, state="lost", source=self.source.name)
            text = "Camera lost." if lang == "en" else "카메라 연결이 끊겼습니다."
            self._say(Utterance(text, 3, "camera lost", lang, self.state.t, earcon="hazard"), None)
        elif status == "ok":
            self.events.log("camera", self.state.frame, state="restored", source=self.source.name)
            text = "Camera back." if lang == "en" else "카메라가 다시 연결되었습니다."
            self._say(Utterance(text, 2, "camera restored", lang, self.state.t), None)


def stdin_commands(assistant: Assistant, stream, stop: threading.Event) -> threading.Thread:
    """Read commands from lines of ``stream`` (headless control) in a daemon thread."""

    def pump() -> None:
        try:
            for line in stream:
                if stop.is_set():
                    return
                parsed = parse_command(line)
                if parsed is None:
                    if line.strip():
                        print(HELP, flush=True)
                    continue
                assistant.command(*parsed)
                if parsed[0] == "quit":
                    return
        except (OSError, ValueError) as e:  # stdin closed or unreadable: no commands from it
            log.debug("stdin commands stopped: %s", e)

    thread = threading.Thread(target=pump, name="glasses-stdin", daemon=True)
    thread.start()
    return thread
