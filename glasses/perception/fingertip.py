"""Index fingertip from mediapipe Hands (the legacy TFLite solution shipped in the wheel), for
point-to-read. mediapipe is imported when the object is made, never at import time."""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import ModelError

INDEX_TIP = 8  # mediapipe hand landmark: index finger tip
INDEX_PIP = 6  # the joint below it: the tip must lie beyond it (a pointing finger, not a fist)


class MediapipeFingertip:
    """``pointer(image) -> (x, y)`` of the most confident hand's extended index fingertip, or None."""

    def __init__(self, min_confidence: float = 0.5, still_images: bool = False):
        try:
            import mediapipe as mp
        except ImportError as e:
            raise ModelError("point-to-read needs mediapipe 0.10.x (pip install 'mediapipe<0.11')") from e
        # still_images: every image is looked at afresh (no tracking from the previous one)
        self._hands = mp.solutions.hands.Hands(static_image_mode=still_images, max_num_hands=1, model_complexity=0,
                                               min_detection_confidence=min_confidence)

    def __call__(self, image: np.ndarray) -> tuple[float, float] | None:
        result = self._hands.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        if not result.multi_hand_landmarks:
            return None
        lm = result.multi_hand_landmarks[0].landmark
        h, w = image.shape[:2]
        tip, pip, wrist = lm[INDEX_TIP], lm[INDEX_PIP], lm[0]
        reach = np.hypot(tip.x - wrist.x, tip.y - wrist.y)
        if reach <= np.hypot(pip.x - wrist.x, pip.y - wrist.y):
            return None  # index finger bent: not pointing
        return float(tip.x * w), float(tip.y * h)

    def close(self) -> None:
        if self._hands is not None:
            self._hands.close()
            self._hands = None

    def __enter__(self) -> "MediapipeFingertip":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
