"""Multi-object tracker: stable ids, smoothed boxes, velocities and time to contact.

Per class, tracks are matched to detections by IoU with their predicted box, by an optimal
assignment (overlapping pairs first, then centre distance as a fallback for small or fast boxes);
each track's box runs through a constant-velocity Kalman filter (centre and size, one 2-state
filter per coordinate), so an id survives a few missed frames and two objects crossing.

Time to contact comes from how fast the box grows: for an object approaching at constant speed
the inverse of its image size falls linearly to zero at contact, so a weighted least-squares
line through 1/size over the last second gives TTC = -(1/size now) / slope, with no lag bias.
It is reported only when the growth stands out of the box jitter (a t-test on the slope).

Time is passed in (seconds, any origin); going backwards raises ValueError. No clock, no
global state: the same inputs always give the same tracks and events.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ..perception.postprocess import iou_matrix

from ..perception.types import Detection, Detections

if TYPE_CHECKING:
    from ..audio.phrases import Placed
    from .objects import PlacedObject

Box = tuple[float, float, float, float]
EVENT_KINDS = ("appeared", "left", "approaching")
SIZES = ("height", "sqrt_area")


@dataclass(frozen=True)
class TrackerConfig:
    min_hits: int = 3  # matched this many times before it counts (and "appeared" is said)
    max_missed: int = 10  # a confirmed track is dropped ("left") after this many missed updates
    tentative_max_missed: int = 1  # ... an unconfirmed one after this many
    iou_min: float = 0.1  # IoU with the predicted box that counts as a match
    center_gate: float = 1.0  # else: centre distance, in box sizes, that still counts
    max_size_ratio: float = 2.0  # never match boxes whose sizes differ more than this
    accel_noise: float = 2.0  # Kalman process noise: acceleration std, box heights / s^2
    measurement_noise: float = 0.05  # Kalman measurement std, box heights
    ttc_window_s: float = 1.0  # observations used for the growth rate
    ttc_min_obs: int = 5
    ttc_min_span_s: float = 0.3  # ... spread over at least this long
    ttc_z: float = 3.0  # growth must exceed this many standard errors to count
    ttc_noise: float = 0.02  # box sizes jitter at least this much (a fraction), whatever the fit says
    ttc_max_jump: float = 0.25  # a size this far (a fraction) from the predicted one is not used
    ttc_max_s: float = 60.0  # slower growth than this reports no TTC
    approach_ttc_s: float = 3.0  # TTC below this (and growing): "approaching"
    size: str = "height"  # what TTC measures: box "height" or "sqrt_area"
    border_px: float = 2.0  # a box this close to the image edge is cut: its size is not used

    def __post_init__(self) -> None:
        if self.min_hits < 1:
            raise ValueError(f"min_hits must be >= 1, got {self.min_hits}")
        if self.ttc_min_obs < 3:
            raise ValueError(f"ttc_min_obs must be >= 3 (a line and its error), got {self.ttc_min_obs}")
        for key in ("max_missed", "tentative_max_missed"):
            if getattr(self, key) < 0:
                raise ValueError(f"{key} must be >= 0, got {getattr(self, key)}")
        if not 0.0 < self.iou_min <= 1.0:
            raise ValueError(f"iou_min must be in (0, 1], got {self.iou_min}")
        if self.max_size_ratio < 1.0:
            raise ValueError(f"max_size_ratio must be >= 1, got {self.max_size_ratio}")
        for key in ("center_gate", "accel_noise", "measurement_noise", "ttc_window_s", "ttc_z",
                    "ttc_min_span_s", "ttc_noise", "ttc_max_jump",
                    "ttc_max_s", "approach_ttc_s", "border_px"):
            if getattr(self, key) < 0:
                raise ValueError(f"{key} must be >= 0, got {getattr(self, key)}")
        if self.measurement_noise == 0:
            raise ValueError("measurement_noise must be > 0")
        if self.size not in SIZES:
            raise ValueError(f"size must be one of {', '.join(SIZES)}; got {self.size!r}")


@dataclass(frozen=True)
class Track:
    """One tracked object as of one update (a snapshot: later updates do not change it)."""

    id: int
    label: str
    box: Box  # smoothed (x1, y1, x2, y2); predicted while missed
    velocity: tuple[float, float]  # box centre, px/s
    age: int  # updates since it was first seen, that one included
    hits: int  # updates it was matched in
    missed: int  # consecutive updates without a match (0: seen now)
    first_seen: float
    last_seen: float
    confirmed: bool
    ttc_s: float | None  # time to contact from the box's growth; None: not approaching / unknown
    approaching: bool  # ttc_s below the threshold
    score: float  # of the last matched detection
    detection_index: int | None = None  # index of its detection in this update's input
    detection: Detection | None = None

    @property
    def center(self) -> tuple[float, float]:
        x1, y1, x2, y2 = self.box
        return (x1 + x2) / 2, (y1 + y2) / 2

    def to_json(self) -> dict:
        return {
            "id": self.id, "label": self.label, "box": [round(v, 1) for v in self.box],
            "velocity": [round(v, 1) for v in self.velocity], "age": self.age, "hits": self.hits,
            "missed": self.missed, "confirmed": self.confirmed,
            "ttc_s": None if self.ttc_s is None else round(self.ttc_s, 2),
            "approaching": self.approaching,
        }


@dataclass(frozen=True)
class TrackEvent:
    kind: str  # "appeared", "left", "approaching"
    track_id: int
    label: str
    t: float

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"event kind must be one of {', '.join(EVENT_KINDS)}; got {self.kind!r}")

    def to_json(self) -> dict:
        return {"type": f"track_{self.kind}", "track_id": self.track_id, "label": self.label, "t": self.t}


@dataclass(frozen=True)
class TrackerUpdate:
    t: float
    tracks: tuple[Track, ...]  # every live track, tentative and coasting ones included
    events: tuple[TrackEvent, ...]

    def confirmed(self) -> list[Track]:
        return [tr for tr in self.tracks if tr.confirmed]

    def for_detection(self, index: int) -> Track | None:
        """The track that this update's detection number ``index`` went to."""
        for tr in self.tracks:
            if tr.detection_index == index:
                return tr
        return None


# ---------------------------------------------------------------------------------------------
# time to contact


def _t_quantile(z: float, dof: int) -> float:
    """Student's t with ``dof`` degrees of freedom at the tail probability of z normal standard
    deviations (Cornish-Fisher, two terms: within 5 % from 6 dof, low below): with few points the
    scatter itself is uncertain, so the bar is higher."""
    if dof < 1:
        return math.inf
    return z + (z ** 3 + z) / (4 * dof) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * dof * dof)


class GrowthFit(NamedTuple):
    """Weighted line through 1/size over time: 1/size(t) = a + b (t - t_ref). (A named tuple: one
    is made per track per frame.)"""

    a: float
    b: float
    t_ref: float
    n: int
    span_s: float  # time from the first observation to the last
    rms: float  # relative scatter of the sizes about the line
    stt: float  # weighted spread of the times (for the slope's standard error)

    def se_b(self, noise_floor: float = 0.0) -> float:
        """Standard error of the slope, the scatter taken as at least noise_floor (a fraction of
        the size) so that a few points that happen to line up do not look certain."""
        return max(self.rms, noise_floor) / math.sqrt(self.stt)

    def ttc(self, t: float, z: float = 3.0, max_s: float = 60.0, noise_floor: float = 0.0) -> float | None:
        """Time to contact at time t; None unless the size grows by more than z standard errors
        and contact is less than max_s away."""
        if self.b >= 0 or -self.b <= _t_quantile(z, self.n - 2) * self.se_b(noise_floor):
            return None
        ttc = -(self.a + self.b * (t - self.t_ref)) / self.b
        if ttc > max_s:
            return None
        return max(0.0, ttc)


def _fit_sums(n: int, s0: float, s1: float, s2: float, su: float, stu: float,
              t_ref: float, span_s: float) -> GrowthFit | None:
    """The line from the weighted sums (w = s^2, u = 1/s, tau = t - t_ref): s0 = sum w,
    s1 = sum w tau, s2 = sum w tau^2, su = sum w u = sum s, stu = sum w tau u = sum s tau."""
    if n < 3:
        return None
    stt = s2 - s1 * s1 / s0
    if not stt > 1e-12 * s2:  # no spread in time
        return None
    b = (stu - s1 * su / s0) / stt
    a = (su - b * s1) / s0
    ssr = max(n - a * su - b * stu, 0.0)  # sum of squared relative residuals s * (u - fit); w u^2 = 1
    return GrowthFit(a, b, t_ref, n, span_s, math.sqrt(ssr / (n - 2)), stt)


def fit_growth(times, sizes) -> GrowthFit | None:
    """Least-squares line through u = 1/size over time, weighted by size^2 (box jitter is roughly a
    fixed fraction of the size, so the error of u is a fixed fraction of u). None with fewer than 3
    points or no spread in time."""
    n = len(times)
    if n != len(sizes):
        raise ValueError(f"times and sizes must have the same length, got {n} and {len(sizes)}")
    if n < 3:
        return None
    window = GrowthWindow(math.inf)
    for t, s in zip(times, sizes):
        window.add(t, s)
    return window.fit()


class GrowthWindow:
    """Box sizes over the last ``span_s`` seconds, with running sums: adding one and fitting the
    line cost the same whatever the window holds."""

    REBASE_S = 30.0  # sums are re-added from scratch this often, so rounding cannot build up

    def __init__(self, span_s: float):
        self.span_s = span_s
        self.obs: deque[tuple[float, float]] = deque()
        self._t0 = 0.0
        self._sums = [0.0] * 5

    def __len__(self) -> int:
        return len(self.obs)

    def _acc(self, t: float, s: float, sign: float) -> None:
        tau, w, sums = t - self._t0, s * s, self._sums
        sums[0] += sign * w
        sums[1] += sign * w * tau
        sums[2] += sign * w * tau * tau
        sums[3] += sign * s
        sums[4] += sign * s * tau

    def add(self, t: float, s: float) -> None:
        if not s > 0:
            raise ValueError(f"sizes must be positive, got {s}")
        if self.obs and t < self.obs[-1][0]:
            raise ValueError(f"time went backwards: {t} after {self.obs[-1][0]}")
        if not self.obs:
            self._t0 = t
        self.obs.append((t, s))
        self._acc(t, s, 1.0)
        self.trim(t)
        if t - self._t0 > self.REBASE_S:
            self._t0, self._sums = self.obs[0][0], [0.0] * 5
            for ot, os_ in self.obs:
                self._acc(ot, os_, 1.0)

    def trim(self, t: float) -> None:
        """Forget sizes older than span_s before t."""
        while self.obs and self.obs[0][0] < t - self.span_s:
            self._acc(*self.obs.popleft(), -1.0)
        if not self.obs:
            self._sums = [0.0] * 5

    def fit(self) -> GrowthFit | None:
        if not self.obs:
            return None
        return _fit_sums(len(self.obs), *self._sums, self._t0, self.obs[-1][0] - self.obs[0][0])


def time_to_contact(times, sizes, t: float | None = None, z: float = 3.0, max_s: float = 60.0,
                    noise_floor: float = 0.0) -> float | None:
    """TTC (seconds) at time t (default: the last observation) from box sizes over time; None when
    the box is not growing significantly or there are fewer than 3 observations."""
    times, sizes = list(times), list(sizes)
    fit = fit_growth(times, sizes)
    if fit is None:
        return None
    return fit.ttc(times[-1] if t is None else t, z, max_s, noise_floor)


# ---------------------------------------------------------------------------------------------
# association


def _hungarian(cost: np.ndarray) -> list[tuple[int, int]]:
    """Minimum-cost assignment of every row of a finite (n, m) matrix, n <= m (shortest
    augmenting paths with potentials, vectorised over columns)."""
    n, m = cost.shape
    u, v = np.zeros(n + 1), np.zeros(m + 1)
    p = np.zeros(m + 1, np.int64)  # p[j]: row (1-based) holding column j, 0 = free
    way = np.zeros(m + 1, np.int64)
    for i in range(1, n + 1):
        p[0], j0 = i, 0
        minv = np.full(m + 1, np.inf)
        used = np.zeros(m + 1, bool)
        while True:
            used[j0] = True
            i0 = p[j0]
            cur = cost[i0 - 1] - u[i0] - v[1:]
            free = ~used[1:]
            better = free & (cur < minv[1:])
            minv[1:][better] = cur[better]
            way[1:][better] = j0
            masked = np.where(free, minv[1:], np.inf)
            j1 = int(np.argmin(masked)) + 1
            delta = masked[j1 - 1]
            u[p[used]] += delta
            v[used] -= delta
            minv[~used] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
    return [(int(p[j]) - 1, j - 1) for j in range(1, m + 1) if p[j]]


def assign(cost: np.ndarray) -> list[tuple[int, int]]:
    """Pairs (row, col) of least total cost; inf marks a pair that may not match. As many pairs as
    possible are made, then the cheapest. The matrix is split into independent groups first, so
    the usual frame (each track near one detection) costs no search at all."""
    cost = np.asarray(cost, np.float64)
    if cost.ndim != 2:
        raise ValueError(f"cost must be a 2-D matrix, got shape {cost.shape}")
    n, m = cost.shape
    finite = np.isfinite(cost)
    row_n, col_n = finite.sum(1), finite.sum(0)
    lone = finite & (row_n[:, None] == 1) & (col_n[None, :] == 1)  # nothing to choose
    out = list(zip(*(k.tolist() for k in np.nonzero(lone))))
    rows, cols = np.nonzero(finite & ~lone)
    if not len(rows):
        return sorted(out)
    parent = list(range(n + m))

    def find(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for r, c in zip(rows.tolist(), cols.tolist()):
        ra, rb = find(r), find(n + c)
        if ra != rb:
            parent[ra] = rb
    groups: dict[int, tuple[list[int], list[int]]] = {}
    for r in set(rows.tolist()):
        groups.setdefault(find(r), ([], []))[0].append(r)
    for c in set(cols.tolist()):
        groups.setdefault(find(n + c), ([], []))[1].append(c)
    for rs, cs in groups.values():
        rs.sort()
        cs.sort()
        sub = cost[np.ix_(rs, cs)]
        if len(rs) == 1 or len(cs) == 1:
            k = int(np.argmin(sub))
            out.append((rs[k // len(cs)], cs[k % len(cs)]))
            continue
        finite = np.isfinite(sub)
        big = (float(sub[finite].max()) + 1.0) * (min(sub.shape) + 1)
        sub = np.where(finite, sub, big)
        flip = sub.shape[0] > sub.shape[1]
        pairs = _hungarian(sub.T if flip else sub)
        for a, b in pairs:
            i, j = (b, a) if flip else (a, b)
            if finite[i, j]:
                out.append((rs[i], cs[j]))
    return sorted(out)


def assign_in_tiers(cost: np.ndarray, tier: float = 1.0) -> list[tuple[int, int]]:
    """Pairs costing less than ``tier`` (overlapping boxes) first, then the rest among what is
    left: a track that overlaps its detection is never robbed of it so that more pairs can be
    made through the looser centre-distance fallback."""
    cost = np.asarray(cost, np.float64)
    first = assign(np.where(cost < tier, cost, np.inf))
    taken_r, taken_c = {r for r, _ in first}, {c for _, c in first}
    rows = [r for r in range(cost.shape[0]) if r not in taken_r]
    cols = [c for c in range(cost.shape[1]) if c not in taken_c]
    if not rows or not cols:
        return first
    rest = cost[np.ix_(rows, cols)]
    if not np.isfinite(rest).any():
        return first
    return sorted(first + [(rows[r], cols[c]) for r, c in assign(rest)])


def match_cost(predicted: np.ndarray, detected: np.ndarray, missed: np.ndarray,
               config: TrackerConfig) -> np.ndarray:
    """Cost of giving each detection to each track: 1 - IoU where the IoU reaches iou_min, else
    1 + centre distance in box sizes within the gate (widened by half for every missed frame),
    inf where neither holds or the sizes differ by more than max_size_ratio."""
    p, d = predicted[:, None, :], detected[None, :, :]
    pw, ph = p[..., 2] - p[..., 0], p[..., 3] - p[..., 1]
    dw, dh = d[..., 2] - d[..., 0], d[..., 3] - d[..., 1]
    iou = iou_matrix(predicted, detected)
    p_size = np.sqrt(np.maximum(pw, 1.0) * np.maximum(ph, 1.0))
    d_size = np.sqrt(np.maximum(dw, 1.0) * np.maximum(dh, 1.0))
    ratio = np.maximum(p_size / d_size, d_size / p_size)
    dist = np.hypot(p[..., 0] + p[..., 2] - d[..., 0] - d[..., 2],
                    p[..., 1] + p[..., 3] - d[..., 1] - d[..., 3]) / (p_size + d_size)  # halves cancel
    gate = config.center_gate * (1.0 + 0.5 * np.asarray(missed, np.float64))[:, None]
    cost = np.where(iou >= config.iou_min, 1.0 - iou, np.where(dist <= gate, 1.0 + dist, np.inf))
    cost[ratio > config.max_size_ratio] = np.inf
    return cost


# ---------------------------------------------------------------------------------------------
# the tracker


class BoxFilter:
    """Constant-velocity Kalman filters for N boxes, one 2-state (position, velocity) filter per
    coordinate (cx, cy, w, h), all rows at once. Noise scales with each box's height, so a far
    (small) object and a near (large) one are smoothed alike."""

    def __init__(self, accel_noise: float, measurement_noise: float, init_velocity: float = 5.0):
        self.accel_noise, self.measurement_noise = accel_noise, measurement_noise
        self.init_velocity = init_velocity  # velocity std of a new box, in heights / s
        self.x = np.zeros((0, 4))  # cx, cy, w, h
        self.v = np.zeros((0, 4))  # their rates, px / s
        self.p00 = np.zeros((0, 4))  # covariance, per coordinate: var(x), cov(x, v), var(v)
        self.p01 = np.zeros((0, 4))
        self.p11 = np.zeros((0, 4))

    def __len__(self) -> int:
        return len(self.x)

    def add(self, boxes: np.ndarray) -> None:
        z = _to_cxcywh(boxes)
        h = z[:, 3:4]
        ones = np.ones((1, 4))
        self.x = np.vstack([self.x, z])
        self.v = np.vstack([self.v, np.zeros_like(z)])
        self.p00 = np.vstack([self.p00, (self.measurement_noise * h) ** 2 * ones])
        self.p01 = np.vstack([self.p01, np.zeros_like(z)])
        self.p11 = np.vstack([self.p11, (self.init_velocity * h) ** 2 * ones])

    def keep(self, rows: np.ndarray) -> None:
        for name in ("x", "v", "p00", "p01", "p11"):
            setattr(self, name, getattr(self, name)[rows])

    def predict(self, dt: float) -> None:
        if dt <= 0 or not len(self.x):
            return
        q = (self.accel_noise * self.x[:, 3:4]) ** 2  # white-noise acceleration
        self.x = self.x + self.v * dt
        p00, p01, p11 = self.p00, self.p01, self.p11
        self.p00 = p00 + 2 * dt * p01 + dt * dt * p11 + q * (dt ** 3 / 3)
        self.p01 = p01 + dt * p11 + q * (dt * dt / 2)
        self.p11 = p11 + q * dt
        np.maximum(self.x[:, 2:], 1.0, out=self.x[:, 2:])

    def correct(self, rows: np.ndarray, boxes: np.ndarray) -> None:
        if not len(rows):
            return
        z = _to_cxcywh(boxes)
        x, p00, p01 = self.x[rows], self.p00[rows], self.p01[rows]
        r = (self.measurement_noise * x[:, 3:4]) ** 2
        k0, k1 = p00 / (p00 + r), p01 / (p00 + r)
        y = z - x
        self.x[rows] = x + k0 * y
        self.v[rows] += k1 * y
        self.p00[rows] = (1 - k0) * p00
        self.p01[rows] = (1 - k0) * p01
        self.p11[rows] -= k1 * p01
        np.maximum(self.x[:, 2:], 1.0, out=self.x[:, 2:])

    def boxes(self) -> np.ndarray:
        """(N, 4) x1, y1, x2, y2."""
        half = self.x[:, 2:] / 2
        return np.hstack([self.x[:, :2] - half, self.x[:, :2] + half])


def _to_cxcywh(boxes: np.ndarray) -> np.ndarray:
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    return np.column_stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2,
                            np.maximum(b[:, 2] - b[:, 0], 1.0), np.maximum(b[:, 3] - b[:, 1], 1.0)])


class _State:
    """A live track's bookkeeping (its box lives in the tracker's BoxFilter, same row)."""

    __slots__ = ("id", "label", "age", "hits", "missed", "first_seen", "last_seen", "confirmed",
                 "obs", "fit", "warned", "score", "det_index", "detection")

    def __init__(self, tid: int, det: Detection, index: int, t: float, window_s: float):
        self.id, self.label = tid, det.label
        self.age = self.hits = 1
        self.missed = 0
        self.first_seen = self.last_seen = t
        self.confirmed = False
        self.obs = GrowthWindow(window_s)
        self.fit: GrowthFit | None = None
        self.warned = False
        self.score = det.score
        self.det_index: int | None = index
        self.detection: Detection | None = det


class Tracker:
    """``update(detections, t)`` -> TrackerUpdate (live tracks and what changed)."""

    def __init__(self, config: TrackerConfig | None = None):
        self.config = config or TrackerConfig()
        self._tracks: list[_State] = []
        self._filter = BoxFilter(self.config.accel_noise, self.config.measurement_noise)
        self._next_id = 1
        self._last_t: float | None = None
        self._seen: dict[str, tuple[float, Box]] = {}

    def last_seen(self, label: str) -> tuple[float, Box] | None:
        """When and where (observed box) a confirmed ``label`` was last seen, even if it has left."""
        return self._seen.get(label)

    def update(self, detections: Detections | list[Detection], t: float) -> TrackerUpdate:
        """Match this frame's detections (taken at time t, seconds) to the tracks."""
        cfg = self.config
        t = float(t)
        if not math.isfinite(t):
            raise ValueError(f"t must be a finite number of seconds, got {t}")
        if self._last_t is not None and t < self._last_t:
            raise ValueError(f"time went backwards: {t} after {self._last_t}")
        dt = 0.0 if self._last_t is None else t - self._last_t
        self._last_t = t
        if isinstance(detections, Detections):
            items, image_size = list(detections.items), detections.image_size
        else:
            items, image_size = list(detections), None
        for d in items:
            if not isinstance(d, Detection):
                raise TypeError(f"detections must be Detection objects, got {type(d).__name__}")

        self._filter.predict(dt)
        predicted = self._filter.x[:, 2:].tolist()  # (w, h) per track, before this frame's boxes
        for st in self._tracks:
            st.det_index = st.detection = None
            st.age += 1
            st.missed += 1
        matches = self._associate(items)
        if matches:
            rows, cols = (np.array(k) for k in zip(*matches))
            self._filter.correct(rows, np.array([items[i].box for i in cols.tolist()], np.float64))
        matched_dets = set()
        for ti, di in matches:
            st, det = self._tracks[ti], items[di]
            matched_dets.add(di)
            st.hits += 1
            st.missed = 0
            st.last_seen, st.score, st.det_index, st.detection = t, det.score, di, det
            self._observe(st, det.box, t, image_size, predicted[ti])
        fresh = [di for di in range(len(items)) if di not in matched_dets]
        if fresh:
            self._filter.add(np.array([items[di].box for di in fresh], np.float64))
            for di in fresh:
                st = _State(self._next_id, items[di], di, t, cfg.ttc_window_s)
                self._next_id += 1
                self._observe(st, items[di].box, t, image_size)
                self._tracks.append(st)

        events: list[TrackEvent] = []
        keep = []
        for st in self._tracks:
            if not st.confirmed and st.hits >= cfg.min_hits:
                st.confirmed = True
                events.append(TrackEvent("appeared", st.id, st.label, t))
            limit = cfg.max_missed if st.confirmed else cfg.tentative_max_missed
            keep.append(st.missed <= limit)
            if st.missed > limit and st.confirmed:
                events.append(TrackEvent("left", st.id, st.label, t))
        if not all(keep):
            self._tracks = [st for st, k in zip(self._tracks, keep) if k]
            self._filter.keep(np.array(keep, bool))

        tracks = []
        boxes, vel = self._filter.boxes().tolist(), self._filter.v[:, :2].tolist()
        for st, box, v in zip(self._tracks, boxes, vel):
            ttc = None if st.fit is None else st.fit.ttc(t, cfg.ttc_z, cfg.ttc_max_s, cfg.ttc_noise)
            approaching = st.confirmed and ttc is not None and ttc < cfg.approach_ttc_s
            if approaching and not st.warned:
                st.warned = True
                events.append(TrackEvent("approaching", st.id, st.label, t))
            if st.confirmed and st.detection is not None:
                self._seen[st.label] = (t, st.detection.box)
            tracks.append(Track(st.id, st.label, tuple(box), tuple(v), st.age, st.hits, st.missed,
                                st.first_seen, st.last_seen, st.confirmed, ttc, approaching,
                                st.score, st.det_index, st.detection))
        order = {"left": 0, "approaching": 1, "appeared": 2}
        events.sort(key=lambda e: (order[e.kind], e.track_id))
        return TrackerUpdate(t, tuple(tracks), tuple(events))

    def _observe(self, st: _State, box: Box, t: float, image_size,
                 predicted: list[float] | None = None) -> None:
        """Add the box's size to the track's growth window and refit; not when the image edge cuts
        the box, nor when the size jumps away from the predicted one (a partial occlusion, a
        detection that was someone else's)."""
        cfg = self.config
        x1, y1, x2, y2 = box
        by_height = cfg.size == "height"
        cut = False
        if image_size is not None:
            w, h, e = image_size[0], image_size[1], cfg.border_px
            cut = y1 <= e or y2 >= h - e or (not by_height and (x1 <= e or x2 >= w - e))
        size = (y2 - y1) if by_height else math.sqrt((x2 - x1) * (y2 - y1))
        if predicted is not None and size > 0:
            expected = predicted[1] if by_height else math.sqrt(predicted[0] * predicted[1])
            cut = cut or abs(size / expected - 1.0) > cfg.ttc_max_jump
        if not cut and size > 0:
            st.obs.add(t, size)
        else:
            st.obs.trim(t)
        fit = st.obs.fit() if len(st.obs) >= cfg.ttc_min_obs else None
        st.fit = fit if fit is not None and fit.span_s >= cfg.ttc_min_span_s else None

    def _associate(self, items: list[Detection]) -> list[tuple[int, int]]:
        """(track index, detection index) pairs; a track only ever takes its own class."""
        if not self._tracks or not items:
            return []
        pred = self._filter.boxes()
        dets = np.array([d.box for d in items], np.float64)
        missed = np.array([st.missed - 1 for st in self._tracks], np.float64)  # before this frame
        codes: dict[str, int] = {}
        t_cls = np.array([codes.setdefault(st.label, len(codes)) for st in self._tracks])
        d_cls = np.array([codes.setdefault(d.label, len(codes)) for d in items])
        cost = match_cost(pred, dets, missed, self.config)
        cost[t_cls[:, None] != d_cls[None, :]] = np.inf
        return assign_in_tiers(cost)


# ---------------------------------------------------------------------------------------------
# for the narrator


def placed_with_tracks(placed: list[PlacedObject], update: TrackerUpdate,
                       confirmed_only: bool = True) -> list[Placed]:
    """The narrator's objects (glasses.audio.phrases.Placed) for ``place(dets)`` and
    ``tracker.update(dets, t)`` of the same Detections: each with its track id and time to
    contact. ``confirmed_only`` leaves out detections whose track is not confirmed yet (one-frame
    false positives are then never announced)."""
    from ..audio.phrases import Placed  # noqa: F811 - the output stage's type, imported when asked for

    by_index = {tr.detection_index: tr for tr in update.tracks if tr.detection_index is not None}
    out = []
    for i, p in enumerate(placed):
        tr = by_index.get(i)
        if tr is not None and tr.detection != p.detection:
            raise ValueError(f"placed object {i} ({p.detection.label}) is not the detection the "
                             f"tracker saw there ({tr.label}): pass the same Detections to both")
        if tr is not None and not tr.confirmed and confirmed_only:
            continue
        out.append(Placed(p.detection.label, p.bearing_deg, p.clock, p.distance_m,
                          None if tr is None else tr.id, None if tr is None else tr.ttc_s))
    return out
