"""Make the demo clip models/demo/demo.mp4 that `glasses run` plays when there is no camera.

A virtual head-worn camera (smooth pans and zooms, a slight head-bob and roll) looks at real
footage: people walking and parked vans (consecutive frames of OpenCV's vtest.avi), a person
(messi5.jpg), and two signs printed with cv2.putText and perspective-warped onto walls of real
photos ("EXIT" on building.jpg, "NO PARKING" on leuvenA.jpg), so the clip exercises detection
and text reading. (licenseplate_motion.jpg was tried for a car: the detector does not find the
car in that close-up, so the vans of vtest.avi are the vehicles.)

Source: Debian package `opencv-doc` (4.6.0+dfsg-12), folder /usr/share/doc/opencv-doc/
examples/data (OpenCV's samples/data; Apache-2.0 AND BSD-3-Clause). Get it with

    apt-get download opencv-doc && dpkg -x opencv-doc_*.deb /tmp/opencv-doc

then run (the output is byte-identical for the same OpenCV build; the script warns if a
view ever reaches outside its photo):

    python models/scripts/make_demo_clip.py /tmp/opencv-doc/usr/share/doc/opencv-doc/examples/data

The camera model: each source image is a photo taken with focal length 0.9 x its width; the
virtual camera rotates (a pure-rotation homography K_v R K_s^-1) to look at a point, with its
own focal length (the zoom). Output: 640x480, 20 fps, 18 s, MPEG-4 Part 2 (mp4v).
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "models" / "demo" / "demo.mp4"
W, H = 640, 480
FPS = 20
CROSSFADE_S = 0.35
VTEST_FPS = 10.0


@dataclass(frozen=True)
class View:
    """Where the virtual camera looks: a point (u, v) in source pixels, a zoom, a roll (degrees)."""

    u: float
    v: float
    zoom: float
    roll: float = 0.0


@dataclass(frozen=True)
class Shot:
    """Source images over time (t seconds into the shot -> image) seen from a moving view."""

    name: str
    image_at: Callable[[float], np.ndarray]
    seconds: float
    start: View
    end: View


def smoothstep(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3 - 2 * x)


def look_at(u: float, v: float, f: float, cx: float, cy: float) -> np.ndarray:
    """Rotation taking the source camera's ray through pixel (u, v) to the optical axis."""
    z = np.array([(u - cx) / f, (v - cy) / f, 1.0])
    z /= np.linalg.norm(z)
    x = np.cross([0.0, 1.0, 0.0], z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return np.stack([x, y, z])


def render(src: np.ndarray, view: View) -> np.ndarray:
    """The virtual camera's 640x480 image of src (a pure-rotation homography plus zoom)."""
    h, w = src.shape[:2]
    f_s = 0.9 * w
    k_s = np.array([[f_s, 0, w / 2], [0, f_s, h / 2], [0, 0, 1.0]])
    cover = max(W / w, H / h)  # zoom 1 fills the frame with the whole photo's short side
    f_v = f_s * cover * view.zoom
    k_v = np.array([[f_v, 0, W / 2], [0, f_v, H / 2], [0, 0, 1.0]])
    r = math.radians(view.roll)
    roll = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1.0]])
    hom = k_v @ roll @ look_at(view.u, view.v, f_s, w / 2, h / 2) @ np.linalg.inv(k_s)
    return cv2.warpPerspective(src, hom, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)


def outside_px(src: np.ndarray, view: View) -> float:
    """How far (source pixels) the view's border reaches outside the photo; 0 when inside."""
    h, w = src.shape[:2]
    f_s = 0.9 * w
    k_s = np.array([[f_s, 0, w / 2], [0, f_s, h / 2], [0, 0, 1.0]])
    f_v = f_s * max(W / w, H / h) * view.zoom
    k_v = np.array([[f_v, 0, W / 2], [0, f_v, H / 2], [0, 0, 1.0]])
    r = math.radians(view.roll)
    roll = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1.0]])
    hom = k_v @ roll @ look_at(view.u, view.v, f_s, w / 2, h / 2) @ np.linalg.inv(k_s)
    border = np.float32([[x, y] for x in np.linspace(0, W, 9) for y in (0, H)]
                        + [[x, y] for y in np.linspace(0, H, 7) for x in (0, W)])
    pts = cv2.perspectiveTransform(border[None], np.linalg.inv(hom))[0]
    over = np.maximum.reduce([-pts[:, 0], pts[:, 0] - w, -pts[:, 1], pts[:, 1] - h])
    return float(max(0.0, over.max()))


def view_at(shot: Shot, t: float, t_global: float, scale: float) -> View:
    """The shot's view t seconds in: eased pan/zoom plus a walking head's bob and roll."""
    a = smoothstep(t / shot.seconds)
    s, e = shot.start, shot.end
    zoom = s.zoom + (e.zoom - s.zoom) * a
    bob = scale / zoom  # bob of a few output pixels, whatever the zoom
    u = s.u + (e.u - s.u) * a + 3.0 * bob * math.sin(2 * math.pi * 0.9 * t_global)
    v = s.v + (e.v - s.v) * a + 5.0 * bob * math.sin(2 * math.pi * 1.8 * t_global + 0.4)
    roll = s.roll + (e.roll - s.roll) * a + 0.7 * math.sin(2 * math.pi * 0.45 * t_global)
    return View(u, v, zoom, roll)


# -- sources --------------------------------------------------------------------------------

def read_still(data: Path, name: str) -> np.ndarray:
    img = cv2.imread(str(data / name), cv2.IMREAD_COLOR)
    if img is None:
        raise SystemExit(f"cannot read {data / name}")
    return img


def read_video_frames(path: Path, first: int, count: int) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    try:
        cap.set(cv2.CAP_PROP_POS_FRAMES, first)
        for _ in range(count):
            ok, img = cap.read()
            if not ok:
                break
            frames.append(img)
    finally:
        cap.release()
    if len(frames) < count:
        raise SystemExit(f"{path}: wanted frames {first}..{first + count - 1}, got {len(frames)}")
    return frames


def sign_image(lines: list[str], fg: tuple[int, int, int], bg: tuple[int, int, int], width: int = 900,
               height: int = 500) -> np.ndarray:
    """A printed sign: coloured board, a border, big centred Hershey-font text."""
    img = np.full((height, width, 3), bg, np.uint8)
    cv2.rectangle(img, (14, 14), (width - 15, height - 15), fg, 12, cv2.LINE_AA)
    font, thick = cv2.FONT_HERSHEY_DUPLEX, 18
    box_h = (height - 80) / len(lines)
    for i, line in enumerate(lines):
        (tw, th), _ = cv2.getTextSize(line, font, 1.0, thick)
        scale = min((width - 110) / tw, (box_h * 0.72) / th)
        (tw, th), _ = cv2.getTextSize(line, font, scale, thick)
        x = (width - tw) // 2
        y = int(40 + box_h * i + (box_h + th) / 2)
        cv2.putText(img, line, (x, y), font, scale, fg, thick, cv2.LINE_AA)
    return img


def put_sign(photo: np.ndarray, sign: np.ndarray, quad: list[tuple[float, float]], upscale: int) -> np.ndarray:
    """The photo upscaled, with the sign warped onto quad (photo pixels, TL TR BR BL) and lit
    like the wall around it."""
    big = cv2.resize(photo, None, fx=upscale, fy=upscale, interpolation=cv2.INTER_CUBIC)
    dst = np.float32(quad) * upscale
    sh, sw = sign.shape[:2]
    src = np.float32([[0, 0], [sw, 0], [sw, sh], [0, sh]])
    hom = cv2.getPerspectiveTransform(src, dst)
    size = (big.shape[1], big.shape[0])
    warped = cv2.warpPerspective(sign, hom, size, flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full((sh, sw), 255, np.uint8), hom, size, flags=cv2.INTER_AREA)
    # Light: the wall's local brightness relative to a mid-grey, softened.
    gray = cv2.cvtColor(big, cv2.COLOR_BGR2GRAY).astype(np.float32)
    light = cv2.GaussianBlur(gray, (0, 0), 25 * upscale) / 128.0
    light = np.clip(0.55 + 0.45 * light, 0.6, 1.15)[..., None]
    lit = np.clip(warped.astype(np.float32) * light, 0, 255)
    lit = cv2.GaussianBlur(lit, (0, 0), 0.6 * upscale)  # as sharp as the photo, not sharper
    alpha = (mask.astype(np.float32) / 255.0)[..., None]
    return (big * (1 - alpha) + lit * alpha).astype(np.uint8)


def shots(data: Path) -> list[Shot]:
    walk_a = read_video_frames(data / "vtest.avi", 250, 66)
    walk_b = read_video_frames(data / "vtest.avi", 520, 36)
    messi = read_still(data, "messi5.jpg")
    up = 3
    exit_sign = sign_image(["EXIT"], fg=(255, 255, 255), bg=(40, 130, 20))
    building = put_sign(read_still(data, "building.jpg"), exit_sign,
                        [(598, 412), (730, 405), (730, 500), (598, 503)], up)
    no_parking = sign_image(["NO", "PARKING"], fg=(30, 30, 200), bg=(245, 245, 245), width=760, height=560)
    leuven = put_sign(read_still(data, "leuvenA.jpg"), no_parking,
                      [(372, 338), (470, 342), (470, 410), (372, 410)], up)

    def video(frames: list[np.ndarray], start: float = 0.0) -> Callable[[float], np.ndarray]:
        return lambda t: frames[min(int(round((start + t) * VTEST_FPS, 6)), len(frames) - 1)]

    def still(img: np.ndarray) -> Callable[[float], np.ndarray]:
        return lambda t: img

    return [
        Shot("people walking (vtest.avi 250-)", video(walk_a), 3.2,
             View(384, 300, 1.08), View(420, 310, 1.35, 0.5)),
        Shot("parked vans (vtest.avi, continued)", video(walk_a, start=3.2), 3.0,
             View(420, 310, 1.35, 0.5), View(582, 188, 2.55)),
        Shot("person (messi5.jpg)", still(messi), 2.6, View(274, 171, 1.08), View(250, 165, 1.3)),
        Shot("EXIT sign on building.jpg", still(building), 3.2,
             View(434 * up, 310 * up, 1.12), View(664 * up, 440 * up, 2.9)),
        Shot("NO PARKING sign on leuvenA.jpg", still(leuven), 3.0,
             View(400 * up, 330 * up, 1.6), View(421 * up, 372 * up, 2.9)),
        Shot("people walking (vtest.avi 520-)", video(walk_b), 3.0,
             View(420, 330, 1.3), View(384, 290, 1.1)),
    ]


def frame_at(all_shots: list[Shot], starts: list[float], t_global: float) -> np.ndarray:
    i = max(k for k, s in enumerate(starts) if s <= t_global)
    shot, t = all_shots[i], t_global - starts[i]
    scale = 1.0 * all_shots[i].image_at(0).shape[1] / W
    view = view_at(shot, t, t_global, scale)
    img = render(shot.image_at(t), view)
    over = outside_px(shot.image_at(t), view)
    if over > 1.0:
        print(f"warning: {t_global:.2f} s ({shot.name}): view {over:.0f} px outside the photo", file=sys.stderr)
    if i > 0 and t < CROSSFADE_S:
        prev = all_shots[i - 1]
        tp = prev.seconds + t
        pscale = prev.image_at(0).shape[1] / W
        before = render(prev.image_at(tp), view_at(prev, tp, t_global, pscale))
        a = smoothstep(t / CROSSFADE_S)
        img = cv2.addWeighted(before, 1 - a, img, a, 0)
    return img


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path, help="opencv-doc's examples/data folder")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--preview", type=Path, help="also write one PNG per second here")
    args = ap.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from glasses.fsutil import atomic_path

    all_shots = shots(args.data)
    starts = list(np.cumsum([0.0] + [s.seconds for s in all_shots[:-1]]))
    total = sum(s.seconds for s in all_shots)
    n = round(total * FPS)
    with atomic_path(args.out) as tmp:
        out = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (W, H))
        if not out.isOpened():
            raise SystemExit("OpenCV cannot write mp4v video here")
        try:
            for k in range(n):
                img = frame_at(all_shots, starts, k / FPS)
                out.write(img)
                if args.preview and k % FPS == 0:
                    args.preview.mkdir(parents=True, exist_ok=True)
                    cv2.imwrite(str(args.preview / f"t{k // FPS:02d}.png"), img)
        finally:
            out.release()
    size = args.out.stat().st_size
    print(f"{args.out}: {n} frames, {W}x{H}, {FPS} fps, {total:.1f} s, {size / 1e6:.2f} MB")
    for s, t0 in zip(all_shots, starts):
        print(f"  {t0:5.1f} s  {s.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
