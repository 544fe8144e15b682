"""Display alignment for optical see-through glasses: where a camera pixel appears on the display.

The wearer sees the world through the display, and the camera sees it from a little to the side.
For a far-away wall the two views are related by a homography (3x3): ``camera_to_display``
maps camera pixels to display pixels, so an overlay can be drawn over the real thing.

The procedure (``run_alignment``): a cross is shown at a known display position; the wearer
moves their head until the cross covers the centre of a printed ArUco marker, which the camera
detects, and presses space. After at least 4 such pairs, ``fit_homography`` (RANSAC) solves for
the homography, and ``save_alignment`` stores it in the camera profile (``display_homography``,
``display_width``, ``display_height``), written atomically, keeping every other key.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from ..errors import InputError
from ..fsutil import atomic_path, atomic_write_text
from .live_calibrate import QUIT_KEYS, KeyDisplay, Source

MIN_PAIRS = 4
SPACE = 32
KEYS = ("display_homography", "display_width", "display_height", "display_align_rms_px", "display_align_pairs")
CROSS_COLOUR = (0, 255, 0)  # BGR; black is transparent on an optical see-through display
_SIZE_RE = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")


@dataclass(frozen=True)
class DisplayAlignment:
    """A camera -> display homography and how well it fits the pairs it came from."""

    homography: np.ndarray  # 3x3, camera pixels -> display pixels
    display_size: tuple[int, int]  # (width, height) in display pixels
    rms_px: float = 0.0  # reprojection error over the inlier pairs, display pixels
    pairs: int = 0
    inliers: int = 0

    def __post_init__(self) -> None:
        h = np.asarray(self.homography, np.float64)
        if h.shape != (3, 3) or not np.all(np.isfinite(h)) or abs(np.linalg.det(h)) < 1e-12:
            raise ValueError(f"display_homography must be an invertible finite 3x3 matrix, got shape {h.shape}")
        w, ht = self.display_size
        if w <= 0 or ht <= 0:
            raise ValueError(f"display size must be positive, got {self.display_size}")
        object.__setattr__(self, "homography", h / h[2, 2] if abs(h[2, 2]) > 1e-12 else h)

    def to_display(self, points: np.ndarray) -> np.ndarray:
        return camera_to_display(points, self.homography)


def parse_display_size(text: str) -> tuple[int, int]:
    m = _SIZE_RE.match(text or "")
    if not m or not (16 <= int(m.group(1)) <= 16384 and 16 <= int(m.group(2)) <= 16384):
        raise InputError(f"--display-size must be WIDTHxHEIGHT in pixels like 1920x1080, got {text!r}")
    return int(m.group(1)), int(m.group(2))


def camera_to_display(points: np.ndarray, homography: np.ndarray) -> np.ndarray:
    """Camera pixels (N, 2) -> display pixels (N, 2) through the homography."""
    pts = np.asarray(points, np.float64).reshape(-1, 1, 2)
    if pts.size == 0:
        return np.zeros((0, 2))
    return cv2.perspectiveTransform(pts, np.asarray(homography, np.float64)).reshape(-1, 2)


def reprojection_errors(homography: np.ndarray, camera_points: np.ndarray, display_points: np.ndarray) -> np.ndarray:
    """Distance (display pixels) between each display point and its camera point mapped through H."""
    disp = np.asarray(display_points, np.float64).reshape(-1, 2)
    return np.linalg.norm(camera_to_display(camera_points, homography) - disp, axis=1)


def fit_homography(camera_points: np.ndarray, display_points: np.ndarray, display_size: tuple[int, int],
                   ransac_px: float = 10.0) -> DisplayAlignment:
    """Camera -> display homography from >= 4 pairs (RANSAC, then least squares on the inliers)."""
    cam = np.asarray(camera_points, np.float64).reshape(-1, 2)
    disp = np.asarray(display_points, np.float64).reshape(-1, 2)
    if len(cam) != len(disp):
        raise ValueError(f"{len(cam)} camera points but {len(disp)} display points")
    if len(cam) < MIN_PAIRS:
        raise InputError(f"display alignment needs at least {MIN_PAIRS} point pairs, got {len(cam)}")
    if _spread(cam) < 1.0 or _spread(disp) < 1.0:
        raise InputError("the alignment points are (nearly) on one line; use points spread over the display")
    h, mask = cv2.findHomography(cam, disp, cv2.RANSAC, ransac_px)
    if h is None:
        raise InputError("could not fit the display homography; redo the alignment, holding still at each point")
    inl = mask.reshape(-1).astype(bool)
    if inl.sum() >= MIN_PAIRS and inl.sum() < len(cam):
        h2, _ = cv2.findHomography(cam[inl], disp[inl], 0)
        h = h2 if h2 is not None else h
    err = reprojection_errors(h, cam[inl], disp[inl])
    rms = float(np.sqrt(np.mean(err ** 2))) if len(err) else math.inf
    return DisplayAlignment(h, tuple(int(v) for v in display_size), rms, len(cam), int(inl.sum()))


def _spread(pts: np.ndarray) -> float:
    """Smallest standard deviation of the points along any direction."""
    return float(np.linalg.svd(pts - pts.mean(axis=0), compute_uv=False)[-1] / math.sqrt(len(pts)))


def target_points(n: int, display_size: tuple[int, int], inset: float = 0.15) -> list[tuple[float, float]]:
    """``n`` (4..9) cross positions on a 3x3 grid inset from the edges: corners, centre, then edges."""
    if not MIN_PAIRS <= n <= 9:
        raise InputError(f"--points must be {MIN_PAIRS} to 9, got {n}")
    w, h = display_size
    xs = (inset * w, w / 2, (1 - inset) * w)
    ys = (inset * h, h / 2, (1 - inset) * h)
    order = [(0, 0), (2, 0), (2, 2), (0, 2), (1, 1), (1, 0), (2, 1), (1, 2), (0, 1)]
    return [(xs[i], ys[j]) for i, j in order[:n]]


def draw_cross(display_size: tuple[int, int], point: tuple[float, float], text: str = "",
               arm: int = 40) -> np.ndarray:
    """A black (transparent) display image with a green cross at ``point`` and a line of text."""
    w, h = display_size
    img = np.zeros((h, w, 3), np.uint8)
    x, y = int(round(point[0])), int(round(point[1]))
    cv2.line(img, (x - arm, y), (x + arm, y), CROSS_COLOUR, 2)
    cv2.line(img, (x, y - arm), (x, y + arm), CROSS_COLOUR, 2)
    if text:
        cv2.putText(img, text, (20, h - 24), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2, cv2.LINE_AA)
    return img


def marker_centre(image: np.ndarray, dictionary: str = "DICT_4X4_50", marker_id: int | None = None
                  ) -> tuple[float, float] | None:
    """Centre (intersection of the diagonals) of the ArUco marker seen (the largest one, or
    ``marker_id``), in camera pixels; None when none is seen."""
    from .markers import get_dictionary

    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    detector = cv2.aruco.ArucoDetector(get_dictionary(dictionary), cv2.aruco.DetectorParameters())
    corners, ids, _ = detector.detectMarkers(gray)
    if ids is None or len(ids) == 0:
        return None
    quads = [c.reshape(4, 2).astype(np.float64) for c, i in zip(corners, ids.reshape(-1))
             if marker_id is None or int(i) == marker_id]
    if not quads:
        return None
    q = max(quads, key=lambda c: cv2.contourArea(c.astype(np.float32)))
    return _diagonal_intersection(q)


def _diagonal_intersection(q: np.ndarray) -> tuple[float, float]:
    p, r = q[0], q[2] - q[0]
    s, d = q[1], q[3] - q[1]
    den = r[0] * d[1] - r[1] * d[0]
    if abs(den) < 1e-9:
        c = q.mean(axis=0)
        return float(c[0]), float(c[1])
    t = ((s[0] - p[0]) * d[1] - (s[1] - p[1]) * d[0]) / den
    c = p + t * r
    return float(c[0]), float(c[1])


# --------------------------------------------------------------------------- the procedure

@dataclass(frozen=True)
class AlignmentRun:
    camera_points: tuple[tuple[float, float], ...]
    display_points: tuple[tuple[float, float], ...]
    stopped: str  # "done", "key", "end", "interrupt"
    frames: int


def run_alignment(source: Source, display: KeyDisplay, targets: list[tuple[float, float]],
                  display_size: tuple[int, int], announce: Callable[[str], None],
                  find_point: Callable[[np.ndarray], tuple[float, float] | None] = marker_centre,
                  max_frames: int | None = None) -> AlignmentRun:
    """Show a cross at each target in turn; on space, pair it with the marker centre the camera sees.

    Stops when every target has a pair, on q / Esc, at the end of the source, or on Ctrl-C."""
    from ..camera.types import EndOfStream

    cam: list[tuple[float, float]] = []
    disp: list[tuple[float, float]] = []
    frames = 0
    stopped = "done"
    last = None

    def tell(text: str) -> None:
        nonlocal last
        if text != last:
            last = text
            announce(text)

    try:
        while len(disp) < len(targets):
            i = len(disp)
            tell(f"point {i + 1} of {len(targets)}: line the cross up with the centre of the marker, "
                 "then press space")
            if max_frames is not None and frames >= max_frames:
                stopped = "end"
                break
            try:
                frame = source.read(timeout=1.0)
            except EndOfStream:
                stopped = "end"
                break
            if frame is None:
                continue
            frames += 1
            seen = find_point(frame.image)
            status = f"{i + 1}/{len(targets)}  " + ("marker seen" if seen else "no marker in view")
            key = display.show(draw_cross(display_size, targets[i], status))
            if key is None:
                continue
            if key in QUIT_KEYS:
                stopped = "key"
                break
            if key == SPACE:
                if seen is None:
                    tell("no marker in view: look at the marker and press space again")
                    continue
                cam.append(seen)
                disp.append(targets[i])
    except KeyboardInterrupt:
        stopped = "interrupt"
    return AlignmentRun(tuple(cam), tuple(disp), stopped, frames)


# --------------------------------------------------------------------------- profile storage

def load_alignment(profile: str | Path) -> DisplayAlignment | None:
    """The display alignment stored in a camera profile, or None if it has none."""
    path = Path(profile)
    if not path.is_file():
        raise InputError(f"camera profile {path} does not exist")
    fs = cv2.FileStorage(str(path), cv2.FILE_STORAGE_READ)
    try:
        if not fs.isOpened():
            raise InputError(f"camera profile {path} cannot be opened as OpenCV FileStorage")
        node = fs.getNode("display_homography")
        if node.empty():
            return None
        h = node.mat()
        w, ht = fs.getNode("display_width"), fs.getNode("display_height")
        if h is None or h.shape != (3, 3) or w.empty() or ht.empty():
            raise InputError(f"camera profile {path}: display_homography must be a 3x3 matrix with "
                             "display_width and display_height")
        rms = fs.getNode("display_align_rms_px")
        pairs = fs.getNode("display_align_pairs")
        try:
            return DisplayAlignment(h, (int(w.real()), int(ht.real())), 0.0 if rms.empty() else rms.real(),
                                    0 if pairs.empty() else int(pairs.real()))
        except ValueError as e:
            raise InputError(f"camera profile {path}: {e}") from e
    finally:
        fs.release()


def save_alignment(profile: str | Path, alignment: DisplayAlignment) -> Path:
    """Store the alignment in the camera profile (created if missing), atomically, keeping its other keys.

    YAML profiles are edited as text, so comments and layout survive; XML ones are rewritten."""
    path = Path(profile)
    if path.suffix.lower() not in (".yaml", ".yml", ".xml"):
        raise InputError(f"--out must end in .yaml, .yml or .xml, got {str(path)!r}")
    if path.suffix.lower() == ".xml":
        _rewrite_xml(path, alignment)
        return path
    new = _alignment_text(alignment)
    if path.is_file():
        text = path.read_text(encoding="utf-8")
        if not text.lstrip().startswith("%YAML"):
            raise InputError(f"camera profile {path} is not OpenCV FileStorage YAML (no %YAML header)")
        kept = _drop_yaml_keys(text, KEYS).rstrip("\n") + "\n"
        out = kept + new
    else:
        out = "%YAML:1.0\n---\n" + new
    atomic_write_text(path, out)
    return path


def _alignment_text(alignment: DisplayAlignment) -> str:
    """The alignment keys as FileStorage YAML lines (no header)."""
    fs = cv2.FileStorage(".yaml", cv2.FILE_STORAGE_WRITE | cv2.FILE_STORAGE_MEMORY)
    _write_alignment(fs, alignment)
    text = fs.releaseAndGetString()
    lines = text.splitlines()
    body = [ln for ln in lines if not ln.startswith("%YAML") and ln.strip() != "---"]
    return "\n".join(body).strip("\n") + "\n"


def _write_alignment(fs, alignment: DisplayAlignment) -> None:
    fs.write("display_homography", alignment.homography)
    fs.write("display_width", int(alignment.display_size[0]))
    fs.write("display_height", int(alignment.display_size[1]))
    fs.write("display_align_rms_px", float(alignment.rms_px))
    fs.write("display_align_pairs", int(alignment.pairs))


def _drop_yaml_keys(text: str, keys: tuple[str, ...]) -> str:
    """YAML text without the top-level blocks of ``keys`` (a key's line and its indented lines)."""
    out: list[str] = []
    skipping = False
    for line in text.splitlines():
        top = line[:1] not in ("", " ", "\t")
        if top:
            m = re.match(r"^([A-Za-z_][\w]*)\s*:", line)
            skipping = bool(m and m.group(1) in keys)
        if not skipping:
            out.append(line)
    return "\n".join(out)


def _rewrite_xml(path: Path, alignment: DisplayAlignment) -> None:
    if not path.is_file():
        with atomic_path(path) as tmp:
            dst = cv2.FileStorage(str(tmp), cv2.FILE_STORAGE_WRITE)
            try:
                _write_alignment(dst, alignment)
            finally:
                dst.release()
        return
    src = cv2.FileStorage(str(path), cv2.FILE_STORAGE_READ)
    try:
        if not src.isOpened():
            raise InputError(f"camera profile {path} cannot be opened as OpenCV FileStorage")
        root = src.root()
        with atomic_path(path) as tmp:
            dst = cv2.FileStorage(str(tmp), cv2.FILE_STORAGE_WRITE)
            try:
                for key in root.keys():
                    if key not in KEYS:
                        _copy_node(dst, key, root.getNode(key))
                _write_alignment(dst, alignment)
            finally:
                dst.release()
    finally:
        src.release()


def _copy_node(dst, name: str, node) -> None:
    if node.isMap():
        mat = node.mat() if set(node.keys()) >= {"rows", "cols", "data"} else None
        if mat is not None:
            dst.write(name, mat)
            return
        dst.startWriteStruct(name, cv2.FileNode_MAP)
        for key in node.keys():
            _copy_node(dst, key, node.getNode(key))
        dst.endWriteStruct()
    elif node.isSeq():
        dst.startWriteStruct(name, cv2.FileNode_SEQ)
        for i in range(node.size()):
            _copy_node(dst, "", node.at(i))
        dst.endWriteStruct()
    elif node.isInt():
        dst.write(name, int(node.real()))
    elif node.isReal():
        dst.write(name, float(node.real()))
    elif node.isString():
        dst.write(name, node.string())
