"""Head motion between frames, so overlays computed on an older frame stay on their place.

Slow stages (sign reading, markers) finish on a frame the camera has already moved away from.
``MotionTracker`` follows the whole image from frame to frame (corners tracked with pyramidal
Lucas-Kanade flow on a small copy, a RANSAC homography per step) and keeps, for recent frames,
the homography into the newest one; ``to_current(points, frame_index)`` moves points drawn on
an older frame to where they are now. A homography is exact for a rotating head and for flat
things such as signs on a wall; for the rest it is the best planar guess.
"""

from __future__ import annotations

from collections import OrderedDict

import cv2
import numpy as np


class MotionTracker:
    def __init__(self, work_width: int = 320, keep: int = 90, max_corners: int = 200):
        self.work_width = work_width
        self.keep = keep
        self.max_corners = max_corners
        self._prev: np.ndarray | None = None
        self._scale = 1.0
        self._world: OrderedDict[int, np.ndarray] = OrderedDict()  # frame -> homography into frame 0's view
        self._current: int | None = None

    def update(self, index: int, image: np.ndarray) -> None:
        """Take the newest frame (in order)."""
        h, w = image.shape[:2]
        scale = min(1.0, self.work_width / w)
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        small = cv2.resize(gray, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else gray
        step = np.eye(3)
        if self._prev is not None and self._prev.shape == small.shape and scale == self._scale:
            step = self._step(self._prev, small, scale)
        if self._current is None or step is None:
            world = np.eye(3)
            if step is None:  # lost the thread (a cut, a blank frame): older overlays no longer map
                self._world.clear()
        else:
            world = self._world[self._current] @ np.linalg.inv(step)
        self._world[index] = world
        while len(self._world) > self.keep:
            self._world.popitem(last=False)
        self._prev, self._scale, self._current = small, scale, index

    def _step(self, prev: np.ndarray, cur: np.ndarray, scale: float) -> np.ndarray | None:
        """Homography from the previous frame to this one, in full-resolution pixels."""
        pts = cv2.goodFeaturesToTrack(prev, self.max_corners, 0.01, 7, blockSize=7)
        if pts is None or len(pts) < 8:
            return None
        nxt, st, _ = cv2.calcOpticalFlowPyrLK(prev, cur, pts, None, winSize=(21, 21), maxLevel=3)
        if nxt is None:
            return None
        ok = st.ravel() == 1
        if ok.sum() < 8:
            return None
        hom, mask = cv2.findHomography(pts[ok], nxt[ok], cv2.RANSAC, 2.0)
        if hom is None or mask is None or mask.sum() < 8:
            return None
        s = np.diag([scale, scale, 1.0])
        return np.linalg.inv(s) @ hom @ s

    def homography(self, frame_index: int) -> np.ndarray | None:
        """Homography from an older frame to the newest one; None if that frame is not kept."""
        if self._current is None or frame_index not in self._world:
            return None
        return np.linalg.inv(self._world[self._current]) @ self._world[frame_index]

    def to_current(self, points, frame_index: int | None) -> np.ndarray | None:
        """Points (N, 2) drawn on ``frame_index`` moved to the newest frame (None: cannot say)."""
        if frame_index is None:
            return None
        hom = self.homography(frame_index)
        if hom is None:
            return None
        pts = np.asarray(points, np.float64).reshape(-1, 1, 2)
        return cv2.perspectiveTransform(pts, hom).reshape(-1, 2)
