"""glasses run : the live loop, from camera to overlay and speech."""

from __future__ import annotations

import sys
from pathlib import Path

from .common import add_camera_option, add_speech_options, emit_json, load_camera, positive_int, speech_settings


def add_parser(sub) -> None:
    from ..config import BUILTIN_PROFILES

    p = sub.add_parser(
        "run", help="the live assistant: camera -> objects -> directions -> overlay and speech",
        description="Run the assistant on a camera, video file, image folder or stream. With no camera it "
                    "says so and plays the bundled demo clip. Files are paced as if live (frames dropped "
                    "when behind) unless --fast.",
        epilog="While running: keys in the window, or lines on stdin (headless): describe (d, space), "
               "read (r), repeat (a), stop (s: stop speaking), where LABEL, quit (q, Esc). Ctrl-C or "
               "SIGTERM stops cleanly; the recording and events log are finalised.")
    p.add_argument("--source", default=None, metavar="SRC",
                   help="camera index (0), video file, image folder, GStreamer pipeline, rtsp:// URL or "
                        "picamera2 (default: the first camera, else the demo clip)")
    p.add_argument("--headless", action="store_true", help="no window (speech, events and recording still work)")
    p.add_argument("--display", choices=("video", "optical"), default=None,
                   help="video: overlays on the camera image; optical: overlays on black, fullscreen, for "
                        "optical see-through glasses (default: the device profile's)")
    p.add_argument("--record", type=Path, default=None, metavar="OUT.mp4", help="record the annotated video")
    p.add_argument("--events", type=Path, default=None, metavar="OUT.jsonl",
                   help="events log: frames, detections, utterances, errors (JSON lines)")
    p.add_argument("--max-frames", type=positive_int, default=None, metavar="N", help="stop after N frames")
    p.add_argument("--lang", default="en", metavar="L", help="speech language: en or ko (default en)")
    p.add_argument("--verbosity", choices=("quiet", "normal", "detailed"), default="normal",
                   help="quiet: hazards only; normal; detailed: also a summary now and then")
    p.add_argument("--no-speech", action="store_true", help="silence audio; utterances are still logged")
    p.add_argument("--fast", action="store_true", help="process every frame of a file as fast as possible")
    p.add_argument("--loop", action="store_true", help="restart a file or folder at its end")
    p.add_argument("--profile", default="laptop", metavar="DEVICE",
                   help=f"device profile: {', '.join(BUILTIN_PROFILES)} or a .toml file (default laptop)")
    add_camera_option(p)
    add_speech_options(p)
    p.add_argument("--precision", choices=("int8", "fp32"), default=None, help="override the profile's precision")
    p.add_argument("--threads", type=positive_int, default=None, help="override the profile's thread count")
    p.add_argument("--input-size", type=positive_int, default=None, metavar="PX",
                   help="override the profile's detector input size (a multiple of 32)")
    p.add_argument("--route", type=Path, default=None, metavar="FILE.toml",
                   help="a route of ArUco-marked waypoints (overlays/routes/*.toml): guide the wearer")
    p.add_argument("--to", default=None, metavar="PLACE", help="the destination on --route (a waypoint name)")
    p.add_argument("--no-qr", action="store_true", help="do not look for QR codes (read aloud on 'read')")
    p.add_argument("--no-text", action="store_true", help="do not read signs")
    p.add_argument("--translate", default=None, metavar="LANG",
                   help="paint sign translations into the signs: en, ko, ja, zh, es, fr, de (offline phrasebook)")
    p.add_argument("--point", action="store_true",
                   help="point-to-read: the line just beyond your index fingertip is read aloud (mediapipe hands)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object at the end")
    p.set_defaults(func=run)


def run(args) -> int:
    import signal
    import threading
    from contextlib import ExitStack

    from ..audio.announcer import Announcer
    from ..audio.narrator import Narrator, NarratorConfig
    from ..audio.phrases import LANGUAGES
    from ..camera.sources import open_source
    from ..config import load_profile
    from ..errors import InputError
    from ..outputs.events import EventLog
    from ..outputs.overlay import Display
    from ..outputs.recorder import VideoRecorder, codec_for
    from ..perception.detector import load_detector
    from ..perception.runtime import RuntimeOptions
    from ..pipeline import Assistant, LoopOptions, stdin_commands
    from ..stages import WorkerStage
    from ..spatial.tracker import Tracker

    if args.lang not in LANGUAGES:
        raise InputError(f"--lang must be one of {', '.join(LANGUAGES)}; got {args.lang!r}")
    if args.record is not None:
        codec_for(args.record)
    if (args.route is None) != (args.to is None):
        raise InputError("--route and --to go together: --route overlays/routes/example.toml --to Exit")
    device = load_profile(args.profile)
    display_mode = args.display or (device.display if device.display != "none" else "video")
    headless = args.headless or device.display == "none"
    camera = load_camera(args)
    detector = load_detector(args.precision or device.precision,
                             RuntimeOptions(threads=args.threads or device.threads),
                             input_size=args.input_size or device.input_size)
    guide = None
    if args.route is not None:  # checked before the camera opens: a bad route is a one-line error
        from ..spatial.routes import route_stage

        guide = route_stage(args.route, args.to, camera, lang=args.lang)
    text_stage = painter = None
    if not args.no_text:  # loaded before the camera opens: a bad --translate is a one-line error
        text_stage, painter = _text_stage(args)
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    say = (lambda s: print(s, file=sys.stderr, flush=True))
    try:
        with ExitStack() as stack:
            source = stack.enter_context(open_source(args.source, fast=args.fast, loop=args.loop))
            if getattr(source, "fallback_reason", None):
                say(f"glasses run: {source.fallback_reason}")
            events = stack.enter_context(EventLog(args.events))
            speech = earcons = None
            if not args.no_speech:
                from ..audio.earcons import Earcons
                from ..audio.speech import SpeechWorker

                speech = stack.enter_context(SpeechWorker(speech_settings(args)))
                earcons = stack.enter_context(Earcons())
            recorder = None
            if args.record is not None:
                recorder = _LazyRecorder(lambda size: VideoRecorder(args.record, fps=source.fps or 15.0, size=size))
                stack.callback(recorder.close)
            display = None
            if not headless:
                display = stack.enter_context(Display(fullscreen=display_mode == "optical"))
                if display.error:
                    say(f"glasses run: {display.error}; running headless")
                    display = None
                elif display_mode == "optical" and args.camera is not None:
                    from ..spatial.display_align import load_alignment

                    alignment = load_alignment(args.camera)  # from glasses calibrate --display-align
                    if alignment is not None:
                        display = _AlignedDisplay(display, alignment.homography, alignment.display_size)
            stages = []
            if guide is not None:
                stages.append(stack.enter_context(WorkerStage(guide, rate_hz=5.0, name="route")))
            if not args.no_text:
                stages.append(stack.enter_context(WorkerStage(text_stage, rate_hz=max(device.text_rate_hz, 0.2),
                                                              name="text")))
            if not args.no_qr:
                from ..spatial.qr import qr_stage

                stages.append(stack.enter_context(WorkerStage(qr_stage(args.lang), rate_hz=2.0, name="qr")))
            assistant = Assistant(
                source, detector, camera,
                Narrator(NarratorConfig(lang=args.lang, verbosity=args.verbosity)),
                Announcer(speech, earcons), events, tracker=Tracker(), recorder=recorder, display=display,
                options=LoopOptions(detect_every=device.detect_every, max_frames=args.max_frames,
                                    display_mode=display_mode),
                stages=stages, painter=painter)
            if sys.stdin is not None and not sys.stdin.closed:
                stdin_commands(assistant, sys.stdin, stop)
            try:
                summary = assistant.run(stop)
            except KeyboardInterrupt:
                stop.set()
                summary = assistant.summary
    finally:
        signal.signal(signal.SIGTERM, previous)
    report = summary.to_json()
    if args.json:
        emit_json(report)
    else:
        lat = report["latency_ms"]
        print(f"{report['frames']} frames at {report['fps']} fps; latency p50 {lat['p50']} ms, p95 {lat['p95']} ms; "
              f"{report['utterances']} utterances; {report['errors']} errors")
        if args.record is not None:
            print(f"recording: {args.record}")
        if args.events is not None:
            print(f"events: {args.events}")
    return 0


def _text_stage(args):
    """The sign-reading stage and, when a CJK-capable font is installed, the painter that draws
    translations the overlay's own (ASCII) font cannot."""
    from ..errors import InputError
    from ..outputs.sign_text import find_font, paint_signs
    from ..perception.runtime import RuntimeOptions
    from ..perception.text import load_text_reader
    from ..text_stage import TextStage

    phrasebook = None
    if args.translate is not None:
        from ..translate.phrasebook import load_phrasebook

        phrasebook = load_phrasebook()
        if args.translate not in phrasebook.languages:
            raise InputError(f"--translate must be one of {', '.join(phrasebook.languages)}, got {args.translate!r}")
    pointer = None
    if args.point:
        from ..perception.fingertip import MediapipeFingertip

        pointer = MediapipeFingertip()
    stage = TextStage(load_text_reader(RuntimeOptions(threads=1)), phrasebook, target=args.translate,
                      lang=args.lang, pointer=pointer)
    font = find_font()

    def paint(canvas, quads, frame_image):
        paint_signs(canvas, quads, font, source=frame_image)

    return stage, (paint if font is not None else None)


class _AlignedDisplay:
    """Optical see-through: overlays drawn in camera pixels, shown where the wearer sees those
    things through the glasses (the camera-to-display homography of the camera profile)."""

    def __init__(self, display, homography, size: tuple[int, int]):
        self._display, self._h, self._size = display, homography, size

    def show(self, frame):
        import cv2

        return self._display.show(cv2.warpPerspective(frame, self._h, self._size))

    @property
    def closed(self) -> bool:
        return self._display.closed


class _LazyRecorder:
    """Opens the recording at the first frame, at that frame's size."""

    def __init__(self, make):
        self._make = make
        self._rec = None

    def write(self, image) -> None:
        if self._rec is None:
            self._rec = self._make((image.shape[1], image.shape[0])).open()
        self._rec.write(image)

    def close(self) -> None:
        if self._rec is not None:
            self._rec.close()
