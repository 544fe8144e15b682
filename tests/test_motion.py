"""Head-motion compensation: overlays from an older frame land where the thing is now."""

from pathlib import Path

import cv2
import numpy as np

from glasses.spatial.motion import MotionTracker

ROOT = Path(__file__).resolve().parents[1]


def shifted_views(n=10, dx=6.0, dy=-3.0):
    photo = cv2.imread(str(ROOT / "models/images/bench/leuvenA.jpg"))
    for i in range(n):
        m = np.array([[1, 0, -40 + dx * i], [0, 1, 20 + dy * i]], np.float64)  # the view pans
        yield i, cv2.warpAffine(photo, m, (560, 400), borderMode=cv2.BORDER_REFLECT), m


def test_points_follow_the_pan():
    tracker = MotionTracker()
    views = list(shifted_views())
    for i, img, _ in views:
        tracker.update(i, img)
    corner = np.array([[300.0, 200.0]])  # drawn on frame 2, e.g. a sign's corner
    moved = tracker.to_current(corner, 2)
    expected = corner + [6.0 * 7, -3.0 * 7]  # seven more steps of the pan
    assert np.abs(moved - expected).max() < 1.0


def test_unknown_or_forgotten_frames_do_not_map():
    tracker = MotionTracker(keep=3)
    for i, img, _ in shifted_views(6):
        tracker.update(i, img)
    assert tracker.to_current([[1.0, 2.0]], 1) is None  # older than kept
    assert tracker.to_current([[1.0, 2.0]], None) is None
    assert np.allclose(tracker.to_current([[10.0, 20.0]], 5), [[10.0, 20.0]])  # the newest frame itself


def test_a_cut_forgets_older_frames():
    tracker = MotionTracker()
    for i, img, _ in shifted_views(3):
        tracker.update(i, img)
    tracker.update(3, np.zeros((400, 560, 3), np.uint8))  # a blank frame: nothing to follow
    assert tracker.to_current([[1.0, 2.0]], 1) is None
