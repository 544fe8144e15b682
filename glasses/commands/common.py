"""Helpers shared by the command modules: JSON output and common options."""

from __future__ import annotations

import json
import sys


def emit_json(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def positive_int(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


def add_runtime_options(parser) -> None:
    parser.add_argument("--precision", choices=("int8", "fp32"), default="int8",
                        help="detector precision (default int8; fp32 for boards without int8 dot-product, "
                             "e.g. Raspberry Pi 4, Jetson Nano)")
    parser.add_argument("--threads", type=positive_int, default=2,
                        help="onnxruntime intra-op threads (default 2)")
    parser.add_argument("--input-size", type=positive_int, default=None, metavar="PX",
                        help="detector input size, a multiple of 32 (default 416; 320 is faster, misses "
                             "small far objects)")


def add_camera_option(parser) -> None:
    from pathlib import Path

    parser.add_argument("--camera", type=Path, default=None, metavar="CAM.yaml",
                        help="camera calibration profile (default: calibration/default.yaml, a generic "
                             "65-degree camera; make your own with glasses calibrate)")


def load_camera(args):
    """The camera profile named by --camera, or the generic default."""
    from ..paths import calibration_dir
    from ..spatial.camera import load_profile

    return load_profile(args.camera or calibration_dir() / "default.yaml")


def _ranged(kind, low, high, what):
    def parse(text: str):
        import argparse

        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what} from {low} to {high}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {what} from {low} to {high}, got {text!r}")
        return value

    return parse


def add_speech_options(parser) -> None:
    parser.add_argument("--rate", type=_ranged(int, 80, 450, "words a minute"), default=190, metavar="WPM",
                        help="speech rate in words a minute, 80-450 (default 190)")
    parser.add_argument("--volume", type=_ranged(float, 0.0, 1.0, "a number"), default=1.0,
                        help="speech volume 0-1 (default 1)")


def speech_settings(args):
    from ..audio.speech import SpeechSettings

    return SpeechSettings(rate_wpm=args.rate, lang=args.lang, volume=args.volume)
