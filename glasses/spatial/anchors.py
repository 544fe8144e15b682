"""Anchors: keep hold of a place in the world (a sign, a door) by its appearance.

An ``Anchor`` is made from a rectangular region of a reference frame. ``Anchor.locate`` finds
it again in any later frame from local features (SIFT) matched with a ratio test and a robust
(MAGSAC) homography; it says ``found`` only with enough inliers and a sane, convex quad.
``AnchorTracker`` follows it frame to frame cheaply (pyramidal Lucas-Kanade flow + homography),
falls back to ``locate`` when the flow loses it, and hides it only after several missed frames
in a row, so an overlay does not flicker.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from ..errors import InputError


@dataclass(frozen=True)
class Region:
    """An axis-aligned rectangle of pixels: top-left (x, y), width w, height h."""

    x: int
    y: int
    w: int
    h: int

    def __post_init__(self) -> None:
        if self.w <= 0 or self.h <= 0:
            raise ValueError(f"region width and height must be positive, got {self.w}x{self.h}")
        if self.x < 0 or self.y < 0:
            raise ValueError(f"region must start inside the image, got x={self.x}, y={self.y}")

    def corners(self) -> np.ndarray:
        """(4, 2) float64 corners in the order TL, TR, BR, BL."""
        x0, y0, x1, y1 = self.x, self.y, self.x + self.w, self.y + self.h
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)

    def fits(self, width: int, height: int) -> bool:
        return self.x + self.w <= width and self.y + self.h <= height


def parse_region(text: str) -> Region:
    """``"120,80,200,150"`` -> Region(120, 80, 200, 150); a one-line InputError otherwise."""
    parts = [p.strip() for p in (text or "").split(",")]
    usage = f"--region must be x,y,w,h in whole pixels like 120,80,200,150, got {text!r}"
    if len(parts) != 4:
        raise InputError(usage)
    try:
        x, y, w, h = (int(p) for p in parts)
    except ValueError:
        raise InputError(usage) from None
    if w <= 0 or h <= 0:
        raise InputError(f"--region width and height must be at least 1 pixel, got {w}x{h}")
    if x < 0 or y < 0:
        raise InputError(f"--region must start inside the image (x, y >= 0), got {x},{y}")
    return Region(x, y, w, h)


@dataclass(frozen=True)
class AnchorOptions:
    """How an anchor is matched and when a match counts as found."""

    ratio: float = 0.8  # Lowe's ratio test: best match distance / second best
    ransac_px: float = 3.0  # homography inlier threshold, pixels in the (working-size) target
    min_inliers: int = 15  # fewer inliers than this: not found
    max_side: int = 1280  # images are matched at most this large (longer side), then scaled back
    max_features: int = 4000  # SIFT features kept per image
    max_scale: float = 8.0  # the found region may be at most this much larger or smaller (linear)
    min_spread: float = 0.02  # inliers must span at least this fraction of the region's area
    refine: bool = True  # polish the feature homography by direct image alignment (ECC)
    refine_max_side: int = 400  # the reference region is aligned at most this large
    refine_min_cc: float = 0.6  # ECC correlation below this: keep the feature homography

    def __post_init__(self) -> None:
        if not 0 < self.ratio < 1:
            raise ValueError(f"ratio must be in (0, 1), got {self.ratio}")
        if self.min_inliers < 4:
            raise ValueError(f"min_inliers must be at least 4 (a homography needs 4 points), got {self.min_inliers}")
        if self.ransac_px <= 0 or self.max_side < 64 or self.max_scale <= 1:
            raise ValueError("ransac_px must be > 0, max_side >= 64 and max_scale > 1")


@dataclass(frozen=True)
class Sighting:
    """Where an anchor was seen in one frame. ``quad`` (TL, TR, BR, BL) is None when not found."""

    found: bool
    quad: np.ndarray | None = field(default=None, repr=False)  # (4, 2) float64, target pixels
    inliers: int = 0
    homography: np.ndarray | None = field(default=None, repr=False)  # reference -> target pixels

    def __post_init__(self) -> None:
        if self.found and (self.quad is None or np.shape(self.quad) != (4, 2)):
            raise ValueError(f"a found sighting needs a (4, 2) quad, got {None if self.quad is None else np.shape(self.quad)}")

    def to_json(self) -> dict:
        quad = None if self.quad is None else [[round(float(x), 2), round(float(y), 2)] for x, y in self.quad]
        return {"found": bool(self.found), "quad": quad, "inliers": int(self.inliers)}


def _gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    raise ValueError(f"image must be gray, BGR or BGRA, got shape {image.shape}")


def _working(gray: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """The image at most max_side on its longer side, and the factor working = original * factor."""
    s = min(1.0, max_side / max(gray.shape[:2]))
    if s < 1.0:
        gray = cv2.resize(gray, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    return gray, s


def _signed_area(quad: np.ndarray) -> float:
    x, y = quad[:, 0], quad[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def quad_is_sane(quad: np.ndarray, ref_quad: np.ndarray, homography: np.ndarray, max_scale: float) -> bool:
    """A plausible view of a flat rectangle: finite, convex, same orientation, not behind the
    camera (all corners on one side of the homography's horizon) and a plausible size."""
    if quad is None or not np.all(np.isfinite(quad)):
        return False
    w = np.c_[ref_quad, np.ones(4)] @ homography[2]
    if not (np.all(w > 0) or np.all(w < 0)):
        return False
    if not cv2.isContourConvex(quad.astype(np.float32).reshape(-1, 1, 2)):
        return False
    a, a_ref = _signed_area(quad), _signed_area(ref_quad)
    if a * a_ref <= 0:
        return False  # mirrored or collapsed
    ratio = abs(a) / abs(a_ref)
    if not (1 / max_scale ** 2 <= ratio <= max_scale ** 2):
        return False
    # No corner angle so sharp that the quad is nearly a triangle or a sliver.
    for i in range(4):
        u, v = quad[i - 1] - quad[i], quad[(i + 1) % 4] - quad[i]
        cos = float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v) + 1e-12))
        if cos > math.cos(math.radians(12)):
            return False
    return True


class Anchor:
    """A region of a reference frame, remembered by its SIFT features (reference pixel coordinates)."""

    def __init__(self, region: Region, ref_size: tuple[int, int], points: np.ndarray, descriptors: np.ndarray,
                 options: AnchorOptions, template: np.ndarray | None = None) -> None:
        self.region = region
        self.template = template  # the region's gray pixels (for refinement), or None
        self.ref_size = ref_size  # (width, height) of the reference frame
        self.points = np.asarray(points, np.float32).reshape(-1, 2)
        self.descriptors = np.asarray(descriptors, np.float32)
        self.options = options
        self._sift = cv2.SIFT_create(nfeatures=options.max_features)
        self._matcher = cv2.BFMatcher(cv2.NORM_L2)

    @classmethod
    def from_region(cls, image: np.ndarray, region: Region, options: AnchorOptions | None = None) -> "Anchor":
        """Remember ``region`` of ``image``. InputError when the region is outside the image or has no texture."""
        options = options or AnchorOptions()
        gray = _gray(image)
        h, w = gray.shape[:2]
        if not region.fits(w, h):
            raise InputError(f"region {region.x},{region.y},{region.w},{region.h} reaches outside the "
                             f"{w}x{h} reference image")
        work, s = _working(gray, options.max_side)
        mask = np.zeros(work.shape, np.uint8)
        x0, y0 = int(math.floor(region.x * s)), int(math.floor(region.y * s))
        x1, y1 = int(math.ceil((region.x + region.w) * s)), int(math.ceil((region.y + region.h) * s))
        mask[y0:y1, x0:x1] = 255
        sift = cv2.SIFT_create(nfeatures=options.max_features)
        kps, desc = sift.detectAndCompute(work, mask)
        if desc is None or len(kps) < options.min_inliers:
            raise InputError(f"region {region.x},{region.y},{region.w},{region.h} has too little texture to "
                             f"anchor ({0 if desc is None else len(kps)} features, {options.min_inliers} needed); "
                             "choose a larger or more detailed region")
        pts = np.array([k.pt for k in kps], np.float32) / s
        template = gray[region.y:region.y + region.h, region.x:region.x + region.w].copy()
        return cls(region, (w, h), pts, desc, options, template)

    def locate(self, image: np.ndarray) -> Sighting:
        """Find the anchored region in ``image`` (any size): a Sighting, found or not."""
        opt = self.options
        work, s = _working(_gray(image), opt.max_side)
        kps, desc = self._sift.detectAndCompute(work, None)
        if desc is None or len(kps) < opt.min_inliers:
            return Sighting(False)
        pairs = self._matcher.knnMatch(self.descriptors, desc, k=2)
        good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < opt.ratio * p[1].distance]
        if len(good) < opt.min_inliers:
            return Sighting(False, inliers=0)
        src = self.points[[m.queryIdx for m in good]].astype(np.float64)
        dst = np.array([kps[m.trainIdx].pt for m in good], np.float64) / s
        found = self._fit(src, dst, opt.ransac_px / s)
        if found.found and opt.refine and self.template is not None:
            found = self.refined(found, _gray(image))
        return found

    def refined(self, sighting: Sighting, gray: np.ndarray) -> Sighting:
        """The sighting with its homography polished by ECC alignment of the region's pixels, when
        that converges close by with a good correlation; otherwise the sighting unchanged."""
        opt = self.options
        h_new = refine_homography(self.template, self.region, sighting.homography, gray,
                                  opt.refine_max_side, opt.refine_min_cc, max_shift=4 * opt.ransac_px + 4)
        if h_new is None:
            return sighting
        ref_quad = self.region.corners()
        quad = cv2.perspectiveTransform(ref_quad.reshape(-1, 1, 2), h_new).reshape(4, 2)
        if not quad_is_sane(quad, ref_quad, h_new, opt.max_scale):
            return sighting
        return Sighting(True, quad, sighting.inliers, h_new)

    def _fit(self, src: np.ndarray, dst: np.ndarray, threshold: float) -> Sighting:
        opt = self.options
        if len(src) < 4:
            return Sighting(False)
        h, mask = cv2.findHomography(src, dst, cv2.USAC_MAGSAC, threshold, maxIters=5000, confidence=0.999)
        if h is None or mask is None:
            return Sighting(False)
        inl = mask.ravel().astype(bool)
        # Polish: least squares on the inliers, then keep whichever fits the inliers better.
        if inl.sum() >= 8:
            h_ls, _ = cv2.findHomography(src[inl], dst[inl], 0)
            if h_ls is not None and _reproj(h_ls, src[inl], dst[inl]) < _reproj(h, src[inl], dst[inl]):
                h = h_ls
        n = int(inl.sum())
        ref_quad = self.region.corners()
        quad = cv2.perspectiveTransform(ref_quad.reshape(-1, 1, 2), h).reshape(4, 2)
        if n < opt.min_inliers or not quad_is_sane(quad, ref_quad, h, opt.max_scale):
            return Sighting(False, inliers=n)
        if len(src[inl]) >= 3:
            hull = cv2.convexHull(src[inl].astype(np.float32))
            if cv2.contourArea(hull) < opt.min_spread * self.region.w * self.region.h:
                return Sighting(False, inliers=n)
        return Sighting(True, quad, n, h)


def _reproj(h: np.ndarray, src: np.ndarray, dst: np.ndarray) -> float:
    proj = cv2.perspectiveTransform(src.reshape(-1, 1, 2), h).reshape(-1, 2)
    return float(np.mean(np.sum((proj - dst) ** 2, axis=1)))


def refine_homography(template: np.ndarray, region: Region, homography: np.ndarray, gray: np.ndarray,
                      max_side: int = 400, min_cc: float = 0.6, max_shift: float = 16.0) -> np.ndarray | None:
    """Polish a reference->target homography by ECC alignment of the region's pixels (``template``).

    The template is aligned at about the size it appears in the target (at most ``max_side``).
    Returns None when the region is not wholly inside the target, ECC fails, its correlation is
    below ``min_cc``, or it moves a corner more than ``max_shift`` pixels.
    """
    ref_quad = region.corners()
    quad = cv2.perspectiveTransform(ref_quad.reshape(-1, 1, 2), homography).reshape(4, 2)
    th, tw = gray.shape[:2]
    if quad.min() < 1 or np.any(quad[:, 0] > tw - 2) or np.any(quad[:, 1] > th - 2):
        return None
    lin = math.sqrt(abs(_signed_area(quad)) / (region.w * region.h))
    st = min(1.0, lin, max_side / max(region.w, region.h))
    nw, nh = max(8, round(region.w * st)), max(8, round(region.h * st))
    if nw > region.w or nh > region.h:
        return None  # region too small to align
    tmpl = cv2.resize(template, (nw, nh), interpolation=cv2.INTER_AREA).astype(np.float32)
    sx, sy = nw / region.w, nh / region.h
    # template pixel -> reference pixel (resize maps pixel centres: src = (dst + 0.5) / s - 0.5)
    a = np.array([[1 / sx, 0, 0.5 / sx - 0.5 + region.x], [0, 1 / sy, 0.5 / sy - 0.5 + region.y], [0, 0, 1]])
    w0 = homography @ a
    w0 = (w0 / w0[2, 2]).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 60, 1e-5)
    try:
        cc, w1 = cv2.findTransformECC(tmpl, gray.astype(np.float32), w0, cv2.MOTION_HOMOGRAPHY, criteria, None, 5)
    except cv2.error:
        return None
    if not np.isfinite(cc) or cc < min_cc or not np.all(np.isfinite(w1)):
        return None
    h1 = w1.astype(np.float64) @ np.linalg.inv(a)
    h1 /= h1[2, 2]
    quad1 = cv2.perspectiveTransform(ref_quad.reshape(-1, 1, 2), h1).reshape(4, 2)
    if np.linalg.norm(quad1 - quad, axis=1).max() > max_shift:
        return None
    return h1
