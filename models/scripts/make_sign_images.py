"""Make the real-sign test set in models/images/signs/ (reproducible).

    python models/scripts/make_sign_images.py [--data DIR] [--out models/images/signs]

- frames of the bundled demo clip (models/demo/demo.mp4) showing its EXIT and NO PARKING signs;
- OpenCV's real text photos imageTextN.png / imageTextR.png (a scanned page, upright and rotated);
- real photos with small printed text (box_in_scene.png: an upside-down book title and food
  boxes; board.jpg: a circuit board's FCC notice), for the bench: small_*.jpg;
- signs printed with cv2.putText and perspective-warped onto walls of real photos (building.jpg,
  leuvenA.jpg, home.jpg from OpenCV's samples/data, Debian package opencv-doc: unpack with
  ``apt-get download opencv-doc && dpkg -x opencv-doc_*.deb /tmp/deb/x``), one of them rotated.

truth.tsv lists, per image, the lines a reader must find (in reading order, " | " between lines).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[2]
DATA = Path("/tmp/deb/x/usr/share/doc/opencv-doc/examples/data")

DEMO_FRAMES = {"demo_exit_0200.jpg": (200, ["EXIT"]), "demo_exit_0230.jpg": (230, ["EXIT"]),
               "demo_noparking_0260.jpg": (260, ["NO", "PARKING"]),
               "demo_noparking_0300.jpg": (300, ["NO", "PARKING"])}

# (output, photo, sign lines, fg BGR, bg BGR, sign size, quad on the photo TL TR BR BL)
RENDERED = [
    ("wall_toilets.jpg", "building.jpg", ["TOILETS"], (255, 255, 255), (120, 60, 20), (900, 300),
     [(180, 300), (420, 292), (420, 372), (180, 384)]),
    ("wall_no_smoking.jpg", "leuvenA.jpg", ["NO SMOKING"], (255, 255, 255), (30, 30, 190), (1000, 260),
     [(160, 120), (440, 140), (436, 208), (156, 186)]),
    ("wall_platform.jpg", "home.jpg", ["PLATFORM 2", "WAY OUT"], (20, 20, 20), (40, 200, 240), (900, 480),
     [(150, 60), (420, 70), (420, 210), (150, 215)]),
    ("wall_emergency_exit.jpg", "building.jpg", ["EMERGENCY EXIT"], (255, 255, 255), (40, 130, 20), (1100, 240),
     [(120, 470), (520, 430), (530, 500), (130, 545)]),
    ("wall_rotated_push.jpg", "leuvenA.jpg", ["PUSH", "TO OPEN"], (30, 30, 30), (235, 235, 235), (700, 480),
     [(260, 250), (400, 210), (440, 330), (300, 370)]),
    ("wall_lift.jpg", "home.jpg", ["LIFT", "FLOORS 1-4"], (255, 255, 255), (90, 90, 90), (800, 480),
     [(290, 210), (490, 218), (488, 340), (288, 334)]),
]

TEXT_PAGE = ("technical details are too complex to cover in the book itself. | In teaching our courses, we have "
             "found it useful for the students to attempt a number of")


# Real photos with small printed text (for the bench only: no exact reading is expected).
SMALL_TEXT = [
    ("small_box_in_scene.jpg", "box_in_scene.png", "OLIVIER FAUGERAS | Casbah | BASTONCINI | PAN DUCALE | BASMATI"),
    ("small_board.jpg", "board.jpg", "Tested To Comply | With FCC Standards | FOR HOME OR OFFICE USE"),
]


def load_demo_module():
    spec = importlib.util.spec_from_file_location("make_demo_clip", ROOT / "models/scripts/make_demo_clip.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--out", type=Path, default=ROOT / "models/images/signs")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    demo = load_demo_module()
    truth: list[tuple[str, str]] = []

    cap = cv2.VideoCapture(str(ROOT / "models/demo/demo.mp4"))
    frames, i = {}, 0
    wanted = {idx: name for name, (idx, _) in DEMO_FRAMES.items()}
    while wanted and len(frames) < len(wanted):
        ok, frame = cap.read()
        if not ok:
            break
        if i in wanted:
            frames[wanted[i]] = frame
        i += 1
    cap.release()
    for name, (_, lines) in DEMO_FRAMES.items():
        cv2.imwrite(str(args.out / name), frames[name], [cv2.IMWRITE_JPEG_QUALITY, 92])
        truth.append((name, " | ".join(lines)))

    for name, photo, lines, fg, bg, (sw, sh), quad in RENDERED:
        sign = demo.sign_image(lines, fg=fg, bg=bg, width=sw, height=sh)
        img = demo.put_sign(cv2.imread(str(args.data / photo)), sign, quad, 1)
        cv2.imwrite(str(args.out / name), img, [cv2.IMWRITE_JPEG_QUALITY, 92])
        truth.append((name, " | ".join(lines)))

    for name in ("imageTextN.png", "imageTextR.png"):
        img = cv2.imread(str(args.data / name))
        cv2.imwrite(str(args.out / name), img, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        truth.append((name, TEXT_PAGE))

    for name, source, text in SMALL_TEXT:
        img = cv2.imread(str(args.data / source))
        cv2.imwrite(str(args.out / name), img, [cv2.IMWRITE_JPEG_QUALITY, 92])
        truth.append((name, text))

    rows = ["# image\tlines a reader must find, in reading order (' | ' between lines); the first lines only "
            "where the image holds more"] + [f"{n}\t{t}" for n, t in truth]
    (args.out / "truth.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    print(f"{len(truth)} images in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
