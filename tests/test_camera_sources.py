"""Frame sources: pacing (fake clock), fast/loop playback, folders, a flaky live camera, bad specs."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from glasses.camera import EndOfStream, Frame, open_source
from glasses.camera.fakes import FakeClock, FlakyCamera, frame_number
from glasses.camera.live import Backoff, LiveSource, cv2_capture_factory
from glasses.camera.sources import NO_CAMERA
from glasses.errors import InputError

N_FRAMES = 20
FPS = 10.0
FAST_BACKOFF = Backoff(initial=0.01, factor=2.0, cap=0.04)


def gray_level(frame: Frame) -> int:
    """Which synthetic frame this is: frame i is a flat gray of 10 * i."""
    return round(float(frame.image.mean()) / 10)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("clip") / "clip.avi"
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (64, 48))
    assert out.isOpened()
    for i in range(N_FRAMES):
        out.write(np.full((48, 64, 3), 10 * i, np.uint8))
    out.release()
    return path


def wait_for(cond, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.005)
    return False


@pytest.fixture(autouse=True)
def no_thread_left_behind():
    yield
    left = [t.name for t in threading.enumerate() if t.name.startswith("glasses-camera")]
    assert not left, f"threads still running after the test: {left}"


# -- files and folders --------------------------------------------------------------------

def test_fast_file_delivers_every_frame_in_order_then_ends(clip):
    with open_source(str(clip), fast=True) as src:
        assert not src.is_live and src.fps == FPS and src.fallback_reason is None
        frames = [src.read() for _ in range(N_FRAMES)]
        with pytest.raises(EndOfStream):
            src.read()
        assert src.status == "ended"
    assert [f.index for f in frames] == list(range(N_FRAMES))
    assert [gray_level(f) for f in frames] == list(range(N_FRAMES))
    assert [f.media_ts for f in frames] == pytest.approx([i / FPS for i in range(N_FRAMES)])
    assert frames[0].image.shape == (48, 64, 3) and frames[0].image.dtype == np.uint8
    assert src.stats.delivered == src.stats.grabbed == N_FRAMES and src.stats.dropped == 0


def test_paced_file_waits_for_due_frames_and_drops_when_consumer_is_slow(clip):
    clock = FakeClock(start=50.0)
    with open_source(str(clip), clock=clock) as src:
        f0 = src.read()
        assert (f0.index, f0.capture_ts, clock.sleeps) == (0, 50.0, [])
        f1 = src.read()  # consumer is early: it waits (on the fake clock) until frame 1 is due
        assert f1.index == 1 and clock() == pytest.approx(50.1)
        clock.advance(0.35)  # a slow consumer: frames 2 and 3 came and went
        f4 = src.read()
        assert (f4.index, gray_level(f4)) == (4, 4)
        assert f4.media_ts == pytest.approx(0.4) and f4.capture_ts == pytest.approx(50.45)
        assert src.stats.dropped == 2 and src.stats.delivered == 3 and src.stats.grabbed == 5
        clock.advance(10.0)  # far past the end
        with pytest.raises(EndOfStream):
            src.read()


def test_paced_read_times_out_when_next_frame_is_not_due(clip):
    clock = FakeClock()
    with open_source(str(clip), clock=clock) as src:
        src.read()
        t = clock()
        assert src.read(timeout=0.03) is None
        assert clock() - t == pytest.approx(0.03)
        assert src.read(timeout=1.0).index == 1


def test_loop_restarts_and_keeps_time_going_forward(clip):
    with open_source(str(clip), fast=True, loop=True) as src:
        frames = [src.read() for _ in range(2 * N_FRAMES + 5)]
    assert [f.index for f in frames] == list(range(N_FRAMES)) * 2 + list(range(5))
    media = [f.media_ts for f in frames]
    assert all(b > a for a, b in zip(media, media[1:]))
    assert src.status == "ended"  # closed


def test_paced_loop_skips_across_the_end(clip):
    clock = FakeClock()
    with open_source(str(clip), loop=True, clock=clock) as src:
        src.read()
        clock.advance(2.55)  # 25.5 frames later: second pass, position 5
        f = src.read()
    assert (f.index, gray_level(f)) == (5, 5) and f.media_ts == pytest.approx(2.5)
    assert src.stats.dropped == 24


def test_folder_in_name_order_skips_and_counts_unreadable_images(tmp_path):
    for i in range(5):
        img = np.full((30, 40), 10 * i, np.uint8) if i == 2 else np.full((30, 40, 3), 10 * i, np.uint8)
        cv2.imwrite(str(tmp_path / f"img_{i:02d}.png"), img)  # img_02 is gray: converted to BGR
    (tmp_path / "img_03b.png").write_bytes(b"not a png")
    (tmp_path / "notes.txt").write_text("ignored")
    with open_source(str(tmp_path), fast=True) as src:
        assert src.fps == 10.0
        frames = []
        with pytest.raises(EndOfStream):
            while True:
                frames.append(src.read())
    assert [gray_level(f) for f in frames] == [0, 1, 2, 3, 4]
    assert all(f.image.shape == (30, 40, 3) for f in frames)
    assert src.stats.corrupt == 1 and src.stats.delivered == 5
    assert [f.index for f in frames] == [0, 1, 2, 3, 5]  # index = position in the folder


def test_folder_fps_and_output_size(tmp_path):
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i}.jpg"), np.full((40, 80, 3), 50, np.uint8))
    clock = FakeClock()
    with open_source(str(tmp_path), fps=4, width=40, clock=clock) as src:
        a, b = src.read(), src.read()
    assert b.media_ts == pytest.approx(0.25) and clock.sleeps == [pytest.approx(0.25)]
    assert a.image.shape == (20, 40, 3)


def test_all_corrupt_folder_with_loop_ends_instead_of_spinning(tmp_path):
    (tmp_path / "a.png").write_bytes(b"junk")
    with open_source(str(tmp_path), fast=True, loop=True) as src, pytest.raises(EndOfStream):
        src.read()


# -- live sources ---------------------------------------------------------------------------

def test_live_camera_that_fails_mid_stream_comes_back():
    cam = FlakyCamera(sessions=(15, 15, 10**6), failed_opens=2)
    src = LiveSource(cam, name="flaky", backoff=FAST_BACKOFF)
    seen_status, indices, lost_then_frame = [], [], False
    with src:
        assert src.is_live and src.running
        end = time.monotonic() + 10
        while time.monotonic() < end and src.stats.reconnects < 2:
            f = src.read(timeout=0.05)
            seen_status.append(src.status)
            if f is not None:
                indices.append(f.index)
                lost_then_frame |= "lost" in seen_status
    assert src.stats.reconnects == 2 and lost_then_frame
    assert "lost" in seen_status and seen_status[-1] == "ok"
    assert cam.open_failures >= 4  # two failed opens after each unplug
    assert indices == sorted(set(indices))  # newest-first, never repeated, never backwards
    assert not src.running and src.status == "ended"
    assert cam.releases == cam.opens - cam.open_failures  # every opened capture was released


def test_live_keeps_only_the_newest_frame():
    cam = FlakyCamera(frame_interval=0.001)
    with LiveSource(cam, name="fast cam") as src:
        first = src.read(timeout=2)
        assert wait_for(lambda: cam.reads >= frame_number(first.image) + 10)  # the consumer is busy
        reads_before = cam.reads
        f = src.read(timeout=2)
    # The frame handed out is the newest grab (the grabber may be one read further along).
    assert frame_number(f.image) >= reads_before - 1
    assert src.stats.dropped >= 8
    assert src.stats.grabbed - src.stats.delivered - src.stats.dropped in (0, 1)
    assert f.media_ts == pytest.approx(f.capture_ts - src._open_ts)


def test_live_garbage_frames_are_skipped_and_counted():
    cam = FlakyCamera(garbage_every=3)
    with LiveSource(cam, name="noisy") as src:
        frames = [src.read(timeout=2) for _ in range(10)]
        assert wait_for(lambda: src.stats.corrupt >= 4)
        assert src.status == "ok" and src.stats.reconnects == 0
    assert all(isinstance(f, Frame) and f.image.shape == (48, 64, 3) for f in frames)
    assert all(frame_number(f.image) % 3 for f in frames)  # no garbage read was delivered


def test_camera_that_never_comes_back_stays_lost_until_closed():
    cam = FlakyCamera(sessions=(3,))
    with LiveSource(cam, name="gone", backoff=FAST_BACKOFF) as src:
        assert wait_for(lambda: src.status == "lost")
        src.read(timeout=0)  # the last frame grabbed before the loss, if not yet taken
        assert src.read(timeout=0.1) is None
        assert wait_for(lambda: cam.open_failures >= 3)  # it keeps trying
        assert src.stats.grabbed == 3 and src.stats.reconnects == 0
    assert not src.running
    with pytest.raises(EndOfStream):
        src.read(timeout=0.1)


def test_close_does_not_hang_on_a_capture_blocked_in_read():
    release = threading.Event()

    class Stuck:
        def read(self):
            release.wait(5)
            return False, None

        def release(self):
            pass

    src = LiveSource(lambda: Stuck(), name="stuck", join_timeout=0.1)
    t = time.monotonic()
    src.close()
    assert time.monotonic() - t < 1.0 and src.status == "ended"
    release.set()
    assert wait_for(lambda: not src.running)


def test_live_source_over_a_real_opencv_capture_reconnects_at_its_end(clip):
    # A video file read as if it were a stream: at its end reads fail, the source reports the
    # feed lost, reopens it through OpenCV and the frames come back.
    factory = cv2_capture_factory(str(clip), cv2.CAP_FFMPEG)
    with LiveSource(factory, name="file as stream", backoff=FAST_BACKOFF) as src:
        assert src.fps == FPS
        assert wait_for(lambda: src.stats.reconnects >= 1)
        f = src.read(timeout=2)
        assert f is not None and f.image.shape == (48, 64, 3)
    assert src.stats.grabbed > N_FRAMES and not src.running


def test_unreachable_stream_is_an_input_error_without_the_password():
    with pytest.raises(InputError) as err:
        open_source("rtsp://user:secret@127.0.0.1:9/stream")
    msg = str(err.value)
    assert "cannot open" in msg and "secret" not in msg and "user:***@" in msg and "\n" not in msg


def test_live_source_that_cannot_open_says_so_in_one_line():
    with pytest.raises(InputError) as err:
        LiveSource(FlakyCamera(sessions=()), name="camera 7")
    assert "camera 7: cannot open" in str(err.value) and "\n" not in str(err.value)


# -- specs --------------------------------------------------------------------------------

@pytest.mark.parametrize("spec, expected", [
    ("", "empty source"),
    ("no/such/video.mp4", "no such file or folder"),
    ("ftp://example.com/x", "unsupported URL scheme"),
    ("videotestsrc ! appsink", "GStreamer"),
    ("picamera2", "picamera2 is not installed"),
    ("/dev/video99", "no such camera device"),
])
def test_bad_specs_give_one_line_input_errors(spec, expected):
    with pytest.raises(InputError) as err:
        open_source(spec)
    msg = str(err.value)
    assert expected in msg and "\n" not in msg
    if expected in ("empty source", "no such file or folder", "unsupported URL scheme"):
        assert "allowed: a camera index" in msg


def test_unreadable_video_and_empty_folder(tmp_path):
    bad = tmp_path / "fake.mp4"
    bad.write_text("not a video")
    with pytest.raises(InputError, match="not a video OpenCV can read|no frames"):
        open_source(str(bad))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="folder has no images"):
        open_source(str(tmp_path / "empty"))


def test_custom_clock_needs_a_sleep(clip):
    with pytest.raises(ValueError, match="sleep"):
        open_source(str(clip), clock=lambda: 0.0)


def test_frame_validates_its_image():
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        Frame(index=0, capture_ts=0.0, media_ts=0.0, image=np.zeros((4, 4), np.uint8))


def test_no_camera_falls_back_to_the_demo_clip(clip):
    with open_source(None, cameras=[], demo_clip=clip, fast=True) as src:
        assert src.fallback_reason == NO_CAMERA == "no camera found; playing the demo clip"
        assert src.read().index == 0


def test_no_camera_and_no_demo_clip(tmp_path):
    with pytest.raises(InputError, match="no camera found, and the demo clip .* is missing"):
        open_source(None, cameras=[], demo_clip=tmp_path / "missing.mp4")
