"""What works on this device: camera, models, speech, display, each with a fix when missing."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata


@dataclass(frozen=True)
class Check:
    area: str
    ok: bool
    detail: str
    fix: str = ""
    essential: bool = False

    def to_json(self) -> dict:
        return {"area": self.area, "ok": self.ok, "detail": self.detail, "fix": self.fix or None}


OPENCV_DISTRIBUTIONS = ("opencv-python", "opencv-contrib-python", "opencv-python-headless",
                        "opencv-contrib-python-headless")


def opencv_distributions() -> list[str]:
    names = {(d.metadata["Name"] or "").lower() for d in metadata.distributions()}
    return sorted(n for n in names if n in OPENCV_DISTRIBUTIONS)


def check_opencv() -> Check:
    dists = opencv_distributions()
    if dists == ["opencv-contrib-python"]:
        import cv2

        return Check("opencv", True, f"opencv-contrib-python {cv2.__version__}, aruco {'yes' if hasattr(cv2, 'aruco') else 'no'}",
                     essential=True)
    if not dists:
        return Check("opencv", False, "no OpenCV distribution installed", "pip install opencv-contrib-python",
                     essential=True)
    extra = [d for d in dists if d != "opencv-contrib-python"]
    return Check("opencv", False, f"several OpenCV distributions installed: {', '.join(dists)}",
                 f"pip uninstall -y {' '.join(extra)} && pip install --force-reinstall --no-deps opencv-contrib-python",
                 essential=True)


def check_cameras(probe: int = 4) -> Check:
    devices = sorted(glob.glob("/dev/video*"))
    picam = _has_module("picamera2")
    if not devices and not picam:
        return Check("camera", False, "no camera found (no /dev/video*, no picamera2)",
                     "plug in a USB camera or enable the Raspberry Pi camera; until then `glasses run` "
                     "plays the bundled demo clip")
    import cv2

    working = []
    for dev in devices[:probe]:
        cap = cv2.VideoCapture(dev, cv2.CAP_V4L2)
        try:
            ok, frame = cap.read() if cap.isOpened() else (False, None)
            if ok and frame is not None:
                working.append(f"{dev} {frame.shape[1]}x{frame.shape[0]}")
        finally:
            cap.release()
    if picam:
        working.append("picamera2 installed")
    if working:
        return Check("camera", True, "; ".join(working))
    return Check("camera", False, f"{', '.join(devices)} present but no frame could be read",
                 "check permissions (add yourself to the 'video' group) and that no other program holds the camera")


def check_models() -> list[Check]:
    from .errors import GlassesError
    from .models.manifest import check_file, load_manifest
    from .perception.runtime import OrtSession, RuntimeOptions

    try:
        specs = load_manifest()
    except GlassesError as e:
        return [Check("models", False, str(e), "git checkout models/ (the files are tracked)", essential=True)]
    out = []
    for spec in specs.values():
        try:
            with OrtSession(check_file(spec), RuntimeOptions(threads=1)) as s:
                out.append(Check(f"model {spec.name}", True, f"sha256 ok, runs on {s.provider}", essential=True))
        except GlassesError as e:
            out.append(Check(f"model {spec.name}", False, str(e), spec.build, essential=True))
    return out


def check_providers() -> Check:
    import onnxruntime as ort

    providers = ort.get_available_providers()
    gpu = [p for p in providers if p in ("TensorrtExecutionProvider", "CUDAExecutionProvider")]
    from .bench import int8_dot_product

    advice = "int8 is the right default here" if int8_dot_product() else \
        "this CPU lacks int8 dot-product instructions; int8 still helps on x86 AVX2, on Pi 4 / Jetson Nano try --precision fp32"
    return Check("onnxruntime", True, f"{ort.__version__}, providers {', '.join(providers)}; {advice}",
                 "" if gpu else "")


def check_speech(timeout: float = 15.0) -> Check:
    espeak = shutil.which("espeak-ng") or shutil.which("espeak")
    if not espeak:
        return Check("speech", False, "espeak-ng not found", "sudo apt-get install espeak-ng")
    code = ("import pyttsx3; e = pyttsx3.init(); v = e.getProperty('voices'); "
            "print(len(v)); e.stop()")
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Check("speech", False, f"pyttsx3 did not start within {timeout:.0f} s (known to hang on some boards)",
                     "glasses runs speech in a child process it restarts; check `espeak-ng hello` works")
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["unknown error"])[-1]
        return Check("speech", False, f"pyttsx3 fails: {last}", "pip install pyttsx3; sudo apt-get install espeak-ng")
    voices = proc.stdout.strip() or "?"
    return Check("speech", True, f"{os.path.basename(espeak)} with {voices} voices via pyttsx3")


def check_sound() -> Check:
    from .audio.playback import audio_report

    report = audio_report()
    if report["player"]:
        return Check("sound output", True, f"earcons and speech play through {report['player']}")
    if report["sounddevice"]:
        return Check("sound output", True, "earcons and speech play through sounddevice (PortAudio)")
    return Check("sound output", False, "no audio player (aplay) and no PortAudio: speech stays silent",
                 "sudo apt-get install alsa-utils")


def check_display() -> Check:
    import cv2

    gui = "GTK" in cv2.getBuildInformation() or "QT" in cv2.getBuildInformation().upper()
    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if has_display and gui:
        return Check("display", True, f"DISPLAY={os.environ.get('DISPLAY') or os.environ.get('WAYLAND_DISPLAY')}")
    if not gui:
        return Check("display", False, "this OpenCV build has no window support", "use --headless, or reinstall opencv-contrib-python")
    return Check("display", False, "no display (DISPLAY/WAYLAND_DISPLAY unset)",
                 "run with --headless (speech and events still work), or start it from the desktop session")


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def run_checks() -> list[Check]:
    checks = [check_opencv()]
    checks += check_models()
    checks += [check_providers(), check_cameras(), check_speech(), check_sound(), check_display()]
    return checks
