"""Assemble the real-image sets used for int8 calibration and for `glasses bench`.

Source: Debian package `opencv-doc` (4.6.0+dfsg-12), folder
/usr/share/doc/opencv-doc/examples/data (OpenCV's samples/data, Apache-2.0 AND
BSD-3-Clause per the package's copyright file). Get it with:

    apt-get download opencv-doc && dpkg -x opencv-doc_*.deb /tmp/opencv-doc

then run:

    python models/scripts/collect_images.py /tmp/opencv-doc/usr/share/doc/opencv-doc/examples/data

Images are downscaled so the longer side is at most 640 px and stored as JPEG
(quality 90) in models/images/{calib,bench}/. The two sets share no image; the
video frames of each set are taken at different times.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2

BENCH_STILLS = [
    "messi5.jpg", "basketball1.png", "licenseplate_motion.jpg", "building.jpg", "home.jpg",
    "leuvenA.jpg", "aero1.jpg", "fruits.jpg", "chicky_512.png", "squirrel_cls.jpg",
    "box_in_scene.png", "stuff.jpg", "smarties.png", "butterfly.jpg", "apple.jpg",
]
BENCH_FRAMES = {"vtest.avi": [0, 150, 300, 450, 600, 750]}

CALIB_STILLS = [
    "basketball2.png", "leuvenB.jpg", "aero3.jpg", "aloeL.jpg", "baboon.jpg", "orange.jpg",
    "rubberwhale1.png", "ela_original.jpg", "starry_night.jpg", "graf1.png", "board.jpg",
    "text_defocus.jpg", "blox.jpg", "HappyFish.jpg",
]
CALIB_FRAMES = {
    "vtest.avi": [40, 110, 225, 375, 525, 675, 790],
    "Megamind.avi": [30, 120, 200],
    "tree.avi": [50, 200],
}

MAX_SIDE = 640


def _save(img, out: Path) -> None:
    h, w = img.shape[:2]
    scale = MAX_SIDE / max(h, w)
    if scale < 1:
        img = cv2.resize(img, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), img, [cv2.IMWRITE_JPEG_QUALITY, 90]):
        raise SystemExit(f"could not write {out}")


def _frames(video: Path, indices: list[int]):
    cap = cv2.VideoCapture(str(video))
    try:
        for idx in indices:
            cap.set(cv2.CAP_PROP_POS_FRAMES, idx)
            ok, frame = cap.read()
            if not ok:
                raise SystemExit(f"{video}: cannot read frame {idx}")
            yield idx, frame
    finally:
        cap.release()


def collect(src: Path, dst: Path, stills: list[str], frames: dict[str, list[int]]) -> int:
    n = 0
    for name in stills:
        img = cv2.imread(str(src / name), cv2.IMREAD_COLOR)
        if img is None:
            raise SystemExit(f"cannot read {src / name}")
        _save(img, dst / (Path(name).stem + ".jpg"))
        n += 1
    for video, idxs in frames.items():
        for idx, frame in _frames(src / video, idxs):
            _save(frame, dst / f"{Path(video).stem}_{idx:04d}.jpg")
            n += 1
    return n


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    src = Path(argv[0])
    root = Path(__file__).resolve().parents[1] / "images"
    nb = collect(src, root / "bench", BENCH_STILLS, BENCH_FRAMES)
    nc = collect(src, root / "calib", CALIB_STILLS, CALIB_FRAMES)
    print(f"bench: {nb} images, calib: {nc} images in {root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
