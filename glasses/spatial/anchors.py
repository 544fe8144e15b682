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
    Returns None when less than half the region is inside the target, ECC fails, its correlation is
    below ``min_cc``, or it moves a corner more than ``max_shift`` pixels.
    """
    ref_quad = region.corners()
    quad = cv2.perspectiveTransform(ref_quad.reshape(-1, 1, 2), homography).reshape(4, 2)
    th, tw = gray.shape[:2]
    inside = quad.min() >= 1 and np.all(quad[:, 0] <= tw - 2) and np.all(quad[:, 1] <= th - 2)
    if not inside:
        # Partly out of view: align on the visible part only (ECC skips pixels the mask marks
        # invalid, and those that fall outside the image), if at least half of it is visible.
        clipped, _ = cv2.intersectConvexConvex(quad.astype(np.float32),
                                               np.array([[0, 0], [tw, 0], [tw, th], [0, th]], np.float32))
        if clipped < 0.5 * abs(_signed_area(quad)):
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
        mask = None if inside else np.full(gray.shape[:2], 255, np.uint8)
        cc, w1 = cv2.findTransformECC(tmpl, gray.astype(np.float32), w0, cv2.MOTION_HOMOGRAPHY, criteria, mask, 5)
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


@dataclass(frozen=True)
class FollowOptions:
    """How ``AnchorTracker`` follows an anchor between frames, and when it shows or hides it."""

    max_points: int = 300  # corners tracked by optical flow inside the anchor
    min_points: int = 12  # fewer flow points agree than this: lost, re-detect from features
    fb_max_px: float = 1.0  # forward-backward flow disagreement allowed per point
    ransac_px: float = 2.0  # homography inlier threshold for the flow points
    lk_window: int = 21
    lk_levels: int = 3
    show_after: int = 1  # consecutive frames seen before the anchor is shown
    hide_after: int = 5  # consecutive frames missed before it is hidden (it coasts until then)
    redetect_every: int = 0  # also re-detect every N tracked frames to cancel flow drift (0: never)

    def __post_init__(self) -> None:
        if self.min_points < 4 or self.max_points < self.min_points:
            raise ValueError(f"need 4 <= min_points <= max_points, got {self.min_points}, {self.max_points}")
        if self.show_after < 1 or self.hide_after < 1 or self.redetect_every < 0:
            raise ValueError("show_after and hide_after must be >= 1, redetect_every >= 0")


@dataclass(frozen=True)
class AnchorState:
    """The anchor in one frame, as an overlay should use it.

    ``visible``: draw it (with hysteresis: shown after ``show_after`` sightings, hidden only after
    ``hide_after`` misses). ``quad``: where (TL, TR, BR, BL); while coasting, the last quad seen.
    ``seen``: found in this very frame. ``mode``: "detected" (from features), "tracked" (by
    optical flow), "coasting" (missed, still shown) or "lost".
    """

    visible: bool
    quad: np.ndarray | None = field(repr=False)
    seen: bool
    mode: str
    points: int = 0


class AnchorTracker:
    """Follow one anchor through a stream of frames (one thread; frames in time order).

    Between detections each frame is warped back into the reference region's coordinates with
    the last homography, and Lucas-Kanade flow measures what is left against the reference
    pixels themselves; so errors do not add up from frame to frame (no drift), and the flow
    only ever sees the small motion since the last frame.
    """

    def __init__(self, anchor: Anchor, options: FollowOptions | None = None) -> None:
        if anchor.template is None:
            raise ValueError("the anchor has no reference pixels to follow (make it with Anchor.from_region)")
        self.anchor = anchor
        self.options = options or FollowOptions()
        tpl = anchor.template
        pts = cv2.goodFeaturesToTrack(tpl, self.options.max_points, 0.01, 5, blockSize=5)
        self._tpl_pts = (np.empty((0, 1, 2), np.float32) if pts is None else pts.astype(np.float32))
        r = anchor.region
        self._crop_to_ref = np.array([[1.0, 0, r.x], [0, 1.0, r.y], [0, 0, 1]])
        self._hom: np.ndarray | None = None  # reference -> previous frame, while followed
        self._quad: np.ndarray | None = None
        self._visible = False
        self._hits = 0
        self._misses = 0
        self._since_detect = 0

    def update(self, frame: np.ndarray) -> AnchorState:
        opt = self.options
        gray = _gray(frame)
        hom, mode, n = None, "lost", 0
        if self._hom is not None:
            hom, n = self._track(gray, self._hom)
            mode = "tracked"
        if hom is None or (opt.redetect_every and self._since_detect >= opt.redetect_every):
            s = self.anchor.locate(frame)
            if s.found:
                hom, mode, n = s.homography, "detected", s.inliers
                self._since_detect = 0
        self._hom = hom
        seen = hom is not None
        if seen:
            self._quad = cv2.perspectiveTransform(self.anchor.region.corners().reshape(-1, 1, 2), hom).reshape(4, 2)
            self._hits, self._misses = self._hits + 1, 0
            self._since_detect += 1
            if self._hits >= opt.show_after:
                self._visible = True
        else:
            self._hits, self._misses = 0, self._misses + 1
            if self._misses >= opt.hide_after:
                self._visible, self._quad = False, None
            mode = "coasting" if self._visible else "lost"
        quad = self._quad if (seen or self._visible) else None
        return AnchorState(self._visible, None if quad is None else quad.copy(), seen, mode, n)

    def _track(self, gray: np.ndarray, hom_prev: np.ndarray) -> tuple[np.ndarray | None, int]:
        """Refine the last homography on this frame by flow against the reference pixels."""
        opt = self.options
        tpl = self.anchor.template
        if len(self._tpl_pts) < opt.min_points:
            return None, 0
        crop_to_frame = hom_prev @ self._crop_to_ref
        th, tw = tpl.shape[:2]
        rectified = cv2.warpPerspective(gray, crop_to_frame, (tw, th), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                        borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        lk = dict(winSize=(opt.lk_window, opt.lk_window), maxLevel=opt.lk_levels,
                  criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01))
        p1, st, _ = cv2.calcOpticalFlowPyrLK(tpl, rectified, self._tpl_pts, None, **lk)
        if p1 is None:
            return None, 0
        p0, st_back, _ = cv2.calcOpticalFlowPyrLK(rectified, tpl, p1, None, **lk)
        fb = np.linalg.norm((p0 - self._tpl_pts).reshape(-1, 2), axis=1)
        # Only points whose whereabouts lie inside this frame count (the rest read the black border).
        cur = cv2.perspectiveTransform(p1.astype(np.float64), crop_to_frame).reshape(-1, 2)
        h, w = gray.shape[:2]
        inside = (cur[:, 0] >= 0) & (cur[:, 1] >= 0) & (cur[:, 0] <= w - 1) & (cur[:, 1] <= h - 1)
        good = (st.ravel() == 1) & (st_back.ravel() == 1) & (fb < opt.fb_max_px) & inside
        if good.sum() < opt.min_points:
            return None, int(good.sum())
        ref = cv2.perspectiveTransform(self._tpl_pts[good].astype(np.float64), self._crop_to_ref).reshape(-1, 2)
        hom, mask = cv2.findHomography(ref, cur[good], cv2.RANSAC, opt.ransac_px)
        if hom is None or mask is None:
            return None, 0
        n = int(mask.sum())
        ref_quad = self.anchor.region.corners()
        quad = cv2.perspectiveTransform(ref_quad.reshape(-1, 1, 2), hom).reshape(4, 2)
        if n < opt.min_points or not quad_is_sane(quad, ref_quad, hom, self.anchor.options.max_scale):
            return None, n
        return hom, n
