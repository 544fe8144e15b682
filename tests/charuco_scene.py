"""Synthetic views of a ChArUco board through a known camera with strong lens distortion.

The board plane is ray-cast for every sub-pixel sample of the distorted image (supersampled,
box-filtered: anti-aliased edges): the chessboard squares are drawn exactly, the markers
sampled from OpenCV's own board image. Used by the ChArUco and live-calibration tests.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from glasses.spatial.charuco import CharucoSpec

W, H, SS = 640, 480, 3
K_TRUE = np.array([[612.0, 0, 323.5], [0, 608.0, 236.0], [0, 0, 1]])
D_TRUE = np.array([-0.25, 0.08, 0.0008, -0.0006, 0.0])
SPEC = CharucoSpec(7, 5, 0.03, 0.022, "DICT_5X5_100")
TEX_PX = 160  # texture pixels per square


@functools.lru_cache(maxsize=2)  # computed once per test process (2 s)
def ray_map(w: int = W, h: int = H) -> np.ndarray:
    """Undistorted normalised ray (x/z, y/z) of every sub-pixel sample of the distorted image (read-only)."""
    xs = (np.arange(w * SS) + 0.5) / SS - 0.5
    ys = (np.arange(h * SS) + 0.5) / SS - 0.5
    gx, gy = np.meshgrid(xs, ys)
    pts = np.stack([gx.ravel(), gy.ravel()], 1).reshape(-1, 1, 2)
    crit = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 50, 1e-12)
    rays = cv2.undistortPointsIter(pts, K_TRUE, D_TRUE, None, None, crit).reshape(h * SS, w * SS, 2)
    rays.flags.writeable = False
    return rays


def board_texture(spec: CharucoSpec = SPEC) -> np.ndarray:
    return spec.cv_board().generateImage((spec.cols * TEX_PX, spec.rows * TEX_PX), marginSize=0, borderBits=1)


def render_clean(rays: np.ndarray, rvec, tvec, tex: np.ndarray, spec: CharucoSpec = SPEC) -> np.ndarray:
    """Float gray image (no noise) of the board at pose (rvec, tvec): board coordinates in metres."""
    r, _ = cv2.Rodrigues(np.asarray(rvec, float))
    hi = np.linalg.inv(np.column_stack([r[:, 0], r[:, 1], np.asarray(tvec, float)]))
    x, y = rays[..., 0], rays[..., 1]
    w = hi[2, 0] * x + hi[2, 1] * y + hi[2, 2]
    u = (hi[0, 0] * x + hi[0, 1] * y + hi[0, 2]) / w
    v = (hi[1, 0] * x + hi[1, 1] * y + hi[1, 2]) / w
    sq = spec.square_m
    behind = w <= 0
    iu, iv = np.floor(u / sq).astype(np.int64), np.floor(v / sq).astype(np.int64)
    on_board = (iu >= 0) & (iu < spec.cols) & (iv >= 0) & (iv < spec.rows) & ~behind
    on_paper = (u > -0.6 * sq) & (u < (spec.cols + 0.6) * sq) & (v > -0.6 * sq) & (v < (spec.rows + 0.6) * sq) & ~behind
    img = np.full(u.shape, 70.0)
    img[on_paper] = 225.0
    tu = np.clip((u[on_board] / sq * TEX_PX).astype(np.int64), 0, tex.shape[1] - 1)
    tv = np.clip((v[on_board] / sq * TEX_PX).astype(np.int64), 0, tex.shape[0] - 1)
    black_square = tex[(np.arange(spec.rows) * TEX_PX + TEX_PX // 20)[:, None],
                       (np.arange(spec.cols) * TEX_PX + TEX_PX // 20)[None, :]] < 128  # in the white margin
    is_black = black_square[iv[on_board], iu[on_board]]
    vals = np.where(is_black, 25.0, np.where(tex[tv, tu] < 128, 25.0, 225.0))
    img[on_board] = vals
    h, w_ = rays.shape[0] // SS, rays.shape[1] // SS
    return img.reshape(h, SS, w_, SS).mean(axis=(1, 3))


def add_noise(img: np.ndarray, rng, sigma: float = 2.0) -> np.ndarray:
    return np.clip(img + rng.normal(0, sigma, img.shape), 0, 255).astype(np.uint8)


def pose_at(pixel: tuple[float, float], z: float, tilt_deg: tuple[float, float, float],
            spec: CharucoSpec = SPEC) -> tuple[np.ndarray, np.ndarray]:
    """A pose whose board centre is seen at ``pixel`` (undistorted), ``z`` m away, tilted (ax, ay, az) degrees."""
    ax, ay, az = np.radians(tilt_deg)
    r = (cv2.Rodrigues(np.array([ax, 0.0, 0.0]))[0] @ cv2.Rodrigues(np.array([0.0, ay, 0.0]))[0]
         @ cv2.Rodrigues(np.array([0.0, 0.0, az]))[0])
    centre = np.array([spec.cols / 2, spec.rows / 2, 0]) * spec.square_m
    ray = np.linalg.inv(K_TRUE) @ np.array([pixel[0], pixel[1], 1.0])
    t = ray * z - r @ centre
    return cv2.Rodrigues(r)[0].ravel(), t


def varied_poses(n: int, seed: int = 1, partial: bool = True) -> list[tuple[np.ndarray, np.ndarray]]:
    """Board centres all over the image (some boards cut by the edge when ``partial``), tilts up to 40 deg."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        if partial:
            px = (rng.uniform(-0.05, 1.05) * W, rng.uniform(-0.05, 1.05) * H)
        else:
            px = (rng.uniform(0.35, 0.65) * W, rng.uniform(0.35, 0.65) * H)
        tilt = (rng.uniform(-40, 40), rng.uniform(-40, 40), rng.uniform(-20, 20))
        out.append(pose_at(px, rng.uniform(0.3, 0.55), tilt))
    return out
