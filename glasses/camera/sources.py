"""open_source(spec): turn a --source string into a FrameSource.

spec: "0" (camera index, V4L2 on Linux) or /dev/videoN; a video file; a folder of images (or
one image); a GStreamer pipeline (contains "!"); an rtsp:// http:// ... URL (FFmpeg);
"picamera2"/"picam". None: the first working camera, else the bundled demo clip (the source's
``fallback_reason`` says so).
"""

from __future__ import annotations

import logging
import re
import sys
import time
from pathlib import Path
from typing import Callable, Iterable

import cv2

from ..errors import InputError
from .live import Backoff, Capture, CaptureFactory, LiveSource, cv2_capture_factory
from .picam import picamera2_factory
from .playback import IMAGE_SUFFIXES, PlaybackSource, open_image_folder, open_video_file
from .types import FrameSource, OutputSize

log = logging.getLogger(__name__)

ALLOWED = ("allowed: a camera index like 0, a video file, a folder of images, a GStreamer pipeline "
           "(with '!'), an rtsp:// or http:// URL, or picamera2")
URL_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://", "srt://")
NETWORK_TIMEOUT_MS = 5000
DEMO_CLIP = Path("demo") / "demo.mp4"  # under models/
NO_CAMERA = "no camera found; playing the demo clip"


def demo_clip_path() -> Path:
    from ..paths import models_dir

    return models_dir() / DEMO_CLIP


def list_video_devices() -> list[str]:
    """/dev/video* in number order (Linux); empty elsewhere."""
    if not sys.platform.startswith("linux"):
        return []
    found = [p for p in Path("/dev").glob("video*") if re.fullmatch(r"video\d+", p.name)]
    return [str(p) for p in sorted(found, key=lambda p: int(p.name[5:]))]


def open_source(spec: str | int | None, *, fast: bool = False, loop: bool = False,
                width: int | None = None, height: int | None = None,
                clock: Callable[[], float] = time.monotonic,
                sleep: Callable[[float], None] | None = None,
                fps: float | None = None,
                cameras: Iterable[int | str] | None = None,
                demo_clip: Path | None = None,
                backoff: Backoff = Backoff()) -> FrameSource:
    """Open a frame source; a one-line InputError saying what is allowed if spec is unusable.

    fast/loop apply to files and folders; fps sets a folder's rate (default 10) or overrides a
    file's. width/height: the frame size wanted (cameras are asked for it; frames of another
    size are resized; one side alone keeps the aspect ratio). sleep: how paced playback waits
    (default: ``clock.sleep`` if the clock has one, else time.sleep with the real clock).
    cameras: candidate devices for spec=None (default /dev/video*); demo_clip: the fallback.
    """
    size = OutputSize(width, height)
    if sleep is None:
        sleep = getattr(clock, "sleep", None)
        if sleep is None:
            if clock is not time.monotonic:
                raise ValueError("a custom clock needs a matching sleep= (or a clock with .sleep)")
            sleep = time.sleep
    play = dict(fast=fast, loop=loop, size=size, clock=clock, sleep=sleep)
    live = dict(size=size, clock=clock, backoff=backoff)

    if spec is None:
        return _first_camera_or_demo(cameras, demo_clip, play, live, size)
    text = str(spec).strip()
    if not text:
        raise InputError(f"empty source; {ALLOWED}")
    if text.isdigit():
        api = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
        return LiveSource(cv2_capture_factory(int(text), api, size=size), name=f"camera {text}", **live)
    if text.lower() in ("picamera2", "picam"):
        return LiveSource(picamera2_factory(size), name="picamera2", **live)
    if "!" in text:
        if not cv2.videoio_registry.hasBackend(cv2.CAP_GSTREAMER):
            raise InputError("this OpenCV is built without GStreamer, so it cannot open a pipeline; use an "
                             "rtsp:// URL or a camera index, or an OpenCV built with GStreamer")
        factory = cv2_capture_factory(text, cv2.CAP_GSTREAMER, size=size, label="the GStreamer pipeline",
                                      hint="check it with gst-launch-1.0")
        return LiveSource(factory, name="gstreamer", **live)
    if text.lower().startswith(URL_SCHEMES):
        params = (cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, NETWORK_TIMEOUT_MS, cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                  NETWORK_TIMEOUT_MS)
        factory = cv2_capture_factory(text, cv2.CAP_FFMPEG, params=params, size=size, label=_redact(text),
                                      hint="is the stream up and the address right?")
        return LiveSource(factory, name=_redact(text), **live)
    if "://" in text:
        raise InputError(f"source '{_redact(text)}': unsupported URL scheme; {ALLOWED}")
    path = Path(text).expanduser()
    if re.fullmatch(r"/dev/video\d+", text):
        if not path.exists():
            raise InputError(f"source '{text}': no such camera device; {ALLOWED}")
        return LiveSource(cv2_capture_factory(text, cv2.CAP_V4L2, size=size), name=text, **live)
    if path.is_dir():
        return open_image_folder(path, fps=fps, **play)
    if path.is_file():
        if path.suffix.lower() in IMAGE_SUFFIXES:
            return open_image_folder(path, fps=fps, **play)
        return open_video_file(path, fps=fps, **play)
    if path.exists():
        raise InputError(f"source '{text}': not a file, folder or camera device; {ALLOWED}")
    raise InputError(f"source '{text}': no such file or folder; {ALLOWED}")


def find_camera(candidates: Iterable[int | str], api: int = cv2.CAP_V4L2) -> tuple[str, Capture] | None:
    """The first candidate that opens and gives a frame, with its open capture."""
    for dev in candidates:
        cap = cv2.VideoCapture(dev, api)
        try:
            if cap.isOpened() and cap.read()[0]:
                return str(dev), cap
        except cv2.error:
            pass
        cap.release()  # not a capture node (metadata), busy, or broken
    return None


def _first_camera_or_demo(cameras, demo_clip, play: dict, live: dict, size: OutputSize) -> FrameSource:
    found = find_camera(list_video_devices() if cameras is None else cameras)
    if found is not None:
        dev, cap = found
        return LiveSource(_reuse_first(cap, cv2_capture_factory(dev, cv2.CAP_V4L2, size=size)),
                          name=f"camera {dev}", **live)
    clip = demo_clip if demo_clip is not None else demo_clip_path()
    if not clip.is_file():
        raise InputError(f"no camera found, and the demo clip {clip} is missing; pass --source ({ALLOWED})")
    log.info("%s (%s)", NO_CAMERA, clip)  # the caller says it, from fallback_reason
    src: PlaybackSource = open_video_file(clip, **play)
    src.fallback_reason = NO_CAMERA
    return src


def _reuse_first(cap: Capture, factory: CaptureFactory) -> CaptureFactory:
    """A factory that first hands out the capture the probe already opened."""
    first = [cap]

    def open_capture() -> Capture:
        return first.pop() if first else factory()

    return open_capture


def _redact(url: str) -> str:
    """A URL without its password (rtsp://user:secret@host -> rtsp://user:***@host)."""
    return re.sub(r"(://[^/:@]+):[^/@]*@", r"\1:***@", url)
