"""Reading user images robustly: any depth, any channel count, or a one-line InputError."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .errors import InputError

MAX_PIXELS = 100_000_000  # 100 MP: larger images are refused rather than exhausting memory
MIN_SIDE = 2


def to_bgr8(img: np.ndarray, name: str = "image") -> np.ndarray:
    """Any 2-D or 3-D uint8/uint16/float image -> HxWx3 uint8 BGR."""
    if img is None or img.size == 0:
        raise InputError(f"{name}: empty image")
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    elif img.dtype in (np.float32, np.float64):
        scale = 255.0 if float(np.nanmax(img)) <= 1.0 else 1.0
        img = np.clip(np.nan_to_num(img) * scale, 0, 255).astype(np.uint8)
    elif img.dtype != np.uint8:
        raise InputError(f"{name}: unsupported pixel type {img.dtype} (8/16-bit integer or float allowed)")
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    elif img.ndim == 3 and img.shape[2] == 1:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    elif img.ndim == 3 and img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    elif not (img.ndim == 3 and img.shape[2] == 3):
        raise InputError(f"{name}: unsupported image shape {img.shape} (gray, BGR or BGRA allowed)")
    h, w = img.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise InputError(f"{name}: image is {w}x{h}; at least {MIN_SIDE}x{MIN_SIDE} pixels needed")
    return np.ascontiguousarray(img)


def read_image(path: str | Path) -> np.ndarray:
    """Load an image file as HxWx3 uint8 BGR; a one-line InputError if it cannot be used."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not an image")
    data = np.fromfile(str(path), dtype=np.uint8)
    if data.size == 0:
        raise InputError(f"{path}: file is empty")
    # Refuse huge images before decoding them fully (a 1 GP image takes GBs): decode at 1/8
    # scale first. (OpenCV itself refuses images over 2^30 pixels.)
    try:
        small = cv2.imdecode(data, cv2.IMREAD_REDUCED_GRAYSCALE_8)
    except cv2.error:
        small = None  # tiny images cannot be reduced; decode them as they are
    if small is not None and small.size * 64 > MAX_PIXELS:
        raise InputError(f"{path}: image is larger than {MAX_PIXELS // 1_000_000} megapixels")
    try:
        img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    except cv2.error as e:
        raise InputError(f"{path}: cannot decode image ({str(e).strip().splitlines()[-1][:80]})") from e
    if img is None:
        raise InputError(f"{path}: not an image OpenCV can read (JPEG, PNG, BMP, TIFF, WebP ...)")
    if img.shape[0] * img.shape[1] > MAX_PIXELS:
        raise InputError(f"{path}: image is larger than {MAX_PIXELS // 1_000_000} megapixels")
    return to_bgr8(img, str(path))
