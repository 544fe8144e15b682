"""OCR bench: our TextReader against RapidOCR's own pipeline, same photos, same run.

RapidOCR is never imported here: it depends on opencv-python-headless, and this project's
environment keeps exactly one OpenCV. It runs in its OWN virtual environment, as a child
process of that environment's python (for example one made with
``python3 -m venv /tmp/rapidocr-venv && /tmp/rapidocr-venv/bin/pip install rapidocr==3.10.0 onnxruntime``),
never both at once, so the two never share the cores.

Both sides read each image ``repeats`` times after one warm-up call, from decoded pixels
(file reading is not timed), with the same number of onnxruntime threads, image by image in
turn (ours, then RapidOCR), so that other load on the machine falls on both alike. Reported per side:
the median of the per-image medians, the 10th-90th percentile spread, the total, and word
accuracy against ground truth (the share of the truth's words found, case-insensitive).
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

# Run by the peer venv's python, threads as argv[1]: one JSON request {"path": ..., "repeats": n}
# a line on stdin, one JSON answer {"ms": [...], "lines": [...]} a line on stdout.
PEER_SCRIPT = r"""
import json, sys, time
import cv2
from rapidocr import RapidOCR
threads = int(sys.argv[1])
engine = RapidOCR(params={"EngineConfig.onnxruntime.intra_op_num_threads": threads,
                          "EngineConfig.onnxruntime.inter_op_num_threads": 1, "Global.log_level": "error"})
print(json.dumps({"ready": True}), flush=True)
for request in sys.stdin:
    job = json.loads(request)
    img = cv2.imread(job["path"])
    res = engine(img)
    times = []
    for _ in range(job["repeats"]):
        t0 = time.perf_counter()
        res = engine(img)
        times.append((time.perf_counter() - t0) * 1e3)
    print(json.dumps({"ms": times, "lines": list(res.txts or ())}), flush=True)
"""


class PeerReader:
    """RapidOCR running in its own environment's python, answering one image at a time."""

    def __init__(self, python: Path, threads: int):
        self.python = python
        self.proc = subprocess.Popen([str(python), "-c", PEER_SCRIPT, str(threads)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._answer()  # ready

    def _answer(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read().strip().splitlines() or ["no output"]
            raise RuntimeError(f"RapidOCR in {self.python} failed: {err[-1]}")
        return json.loads(line)

    def read(self, path: Path, repeats: int) -> dict:
        self.proc.stdin.write(json.dumps({"path": str(path), "repeats": repeats}) + "\n")
        self.proc.stdin.flush()
        return self._answer()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> "PeerReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(frozen=True)
class OcrSide:
    """One reader's figures over the image set."""

    name: str
    median_ms: float  # median over images of each image's median time
    p10_ms: float
    p90_ms: float
    total_ms: float  # sum of the per-image medians
    word_accuracy: float  # share of the truth's words found (0..1)
    per_image: dict  # image name -> {"ms": median, "lines": [text, ...], "words_found": k, "words": n}


@dataclass(frozen=True)
class OcrBench:
    images: int
    repeats: int
    threads: int
    ours: OcrSide
    peer: OcrSide | None
    speedup: float | None  # peer total / our total
    median_speedup: float | None  # peer median / our median
    skipped: str | None = None  # why the peer side did not run

    def to_json(self) -> dict:
        return asdict(self)


def load_truth(folder: Path) -> dict[str, list[str]]:
    """truth.tsv: image name -> lines (" | " between lines)."""
    rows = {}
    for line in (folder / "truth.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, text = line.split("\t")
            rows[name] = text.split(" | ")
    return rows


def words(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        for w in line.split():
            w = re.sub(r"^\W+|\W+$", "", w.casefold())
            if w:
                out.append(w)
    return out


def word_hits(truth: list[str], found: list[str]) -> tuple[int, int]:
    """(truth words found, truth words), counting repeats."""
    want, got = Counter(words(truth)), Counter(words(found))
    return sum(min(n, got[w]) for w, n in want.items()), sum(want.values())


def summarise(name: str, runs: dict[str, dict], truth: dict[str, list[str]]) -> OcrSide:
    per_image, found, total = {}, 0, 0
    for image, run in runs.items():
        k, n = word_hits(truth[image], run["lines"])
        found, total = found + k, total + n
        per_image[image] = {"ms": round(float(np.median(run["ms"])), 2), "lines": run["lines"],
                            "words_found": k, "words": n}
    meds = np.array([v["ms"] for v in per_image.values()])
    return OcrSide(name, round(float(np.median(meds)), 2), round(float(np.percentile(meds, 10)), 2),
                   round(float(np.percentile(meds, 90)), 2), round(float(meds.sum()), 2),
                   round(found / total, 4) if total else 0.0, per_image)


def time_ours(reader, path: Path, repeats: int) -> dict:
    from .imageio import read_image

    img = read_image(path)
    res = reader(img)  # warm-up (and the shapes' first allocation)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = reader(img)
        times.append((time.perf_counter() - t0) * 1e3)
    return {"ms": times, "lines": res.texts()}


def peer_problem(python: Path | None) -> str | None:
    """Why the peer side cannot run, or None."""
    if python is None:
        return "no RapidOCR environment given"
    if not Path(python).is_file():
        return (f"RapidOCR peer skipped: {python} not found (make it with: python3 -m venv /tmp/rapidocr-venv && "
                "/tmp/rapidocr-venv/bin/pip install rapidocr==3.10.0 onnxruntime)")
    check = subprocess.run([str(python), "-c", "import rapidocr, onnxruntime"], capture_output=True, text=True)
    if check.returncode != 0:
        return f"RapidOCR peer skipped: {python} cannot import rapidocr and onnxruntime"
    return None


def bench_ocr(peer_python: Path | str | None, images: Path | None = None, repeats: int = 3,
              threads: int = 2, config=None) -> OcrBench:
    """Our TextReader (``config``: a TextReaderConfig, default settings if None), then RapidOCR
    from ``peer_python``'s environment, on the images listed in the folder's truth.tsv."""
    from .paths import models_dir
    from .perception.runtime import RuntimeOptions
    from .perception.text import TextReaderConfig, load_text_reader

    config = config or TextReaderConfig()

    if repeats < 1 or threads < 1:
        raise ValueError(f"repeats and threads must be >= 1, got {repeats}, {threads}")
    folder = Path(images) if images else models_dir() / "images" / "signs"
    truth = load_truth(folder)
    paths = [folder / name for name in truth]
    name = f"glasses TextReader (PP-OCRv6 small, fp32, detector long side {config.det_min}-{config.det_limit})"
    peer_python = Path(peer_python) if peer_python else None
    problem = peer_problem(peer_python)
    ours_runs: dict[str, dict] = {}
    peer_runs: dict[str, dict] = {}
    with contextlib.ExitStack() as stack:
        reader = stack.enter_context(load_text_reader(RuntimeOptions(threads=threads), config=config))
        peer = None if problem else stack.enter_context(PeerReader(peer_python, threads))
        for path in paths:  # one image at a time, each side in turn: a busy machine slows both alike
            ours_runs[path.name] = time_ours(reader, path, repeats)
            if peer is not None:
                peer_runs[path.name] = peer.read(path, repeats)
    ours = summarise(name, ours_runs, truth)
    if problem:
        return OcrBench(len(paths), repeats, threads, ours, None, None, None, problem)
    theirs = summarise("RapidOCR 3.10.0 (own pipeline, PP-OCRv6 small + cls)", peer_runs, truth)
    return OcrBench(len(paths), repeats, threads, ours, theirs, round(theirs.total_ms / ours.total_ms, 2),
                    round(theirs.median_ms / ours.median_ms, 2))
