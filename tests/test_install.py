"""The installation itself: exactly one OpenCV distribution, the contrib modules, the console script."""

import shutil
import subprocess
import sys
from pathlib import Path

from glasses.doctor import opencv_distributions


def test_exactly_one_opencv_distribution():
    # mediapipe 0.10 needs opencv-contrib-python; a second OpenCV package beside it breaks cv2.
    assert opencv_distributions() == ["opencv-contrib-python"]


def test_cv2_has_contrib_modules():
    import cv2

    assert hasattr(cv2, "aruco") and hasattr(cv2, "SIFT_create")


def test_mediapipe_hands_model_ships_offline():
    import mediapipe as mp

    with mp.solutions.hands.Hands(static_image_mode=True, max_num_hands=1):
        pass  # loads the bundled TFLite files; offline, no download


def test_console_script_and_module_entry():
    exe = Path(sys.executable).parent / "glasses"  # beside the interpreter, activated or not
    assert exe.is_file() or shutil.which("glasses"), "console script 'glasses' not installed"
    out = subprocess.run([sys.executable, "-m", "glasses", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "detect" in out.stdout and "bench" in out.stdout


def test_importing_has_no_side_effects():
    # cv2 sets Qt variables when imported; snapshot after it, so only our own effects count
    code = ("import sys, os, cv2, numpy; before = dict(os.environ); import glasses.cli, glasses.perception.detector, "
            "glasses.spatial.objects; assert dict(os.environ) == before; "
            "assert 'onnxruntime' not in sys.modules, 'heavy import at import time'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
