"""glasses read IMAGE... [--to LANG] : the text in images, optionally translated by the sign phrasebook."""

from __future__ import annotations

import sys

from .common import emit_json, positive_int


def add_parser(sub) -> None:
    p = sub.add_parser("read", help="read the text in images (signs), optionally translated",
                       description="Read the text lines in images (PP-OCRv6), in reading order. With --to, "
                                   "translate each line with the offline sign phrasebook; a line it cannot "
                                   "translate gets translation null (it is never guessed).")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (JPEG, PNG, ...)")
    p.add_argument("--to", metavar="LANG", default=None,
                   help="translate into this language (en, ko, ja, zh, es, fr, de)")
    p.add_argument("--json", action="store_true", help="one JSON object per image on stdout")
    p.add_argument("--size", type=detector_size, default=None, metavar="N",
                   help="detector input long side in pixels, a multiple of 32 (default: the image's own "
                        "size within 320-960); 960 finds smaller text, at about twice the time")
    p.add_argument("--threads", type=positive_int, default=2, help="onnxruntime intra-op threads (default 2)")
    p.add_argument("--point", action="store_true",
                   help="point-to-read: find an index finger pointing in the photo (mediapipe hands) and give the "
                        "line just beyond its tip (JSON: pointed)")
    p.set_defaults(func=run)


def detector_size(text: str) -> int:
    import argparse

    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 64 or n > 2048 or n % 32:
        raise argparse.ArgumentTypeError(f"must be a multiple of 32 from 64 to 2048, like 960; got {text!r}")
    return n


def line_json(line, translation) -> dict:
    out = {**line.to_json(), "translation": translation.text if translation else None}
    if translation is not None:
        out["match"] = translation.match  # phrase | template | words | none (none: not translated)
        if translation.joined > 1:
            out["joined"] = translation.joined  # one phrase over this many consecutive lines
    return out


def translate_lines(result, phrasebook, target: str | None) -> list:
    """A translation per line (None without --to); lines stacked on one sign are tried together."""
    if phrasebook is None:
        return [None] * len(result)
    from ..perception.text import sign_blocks

    out = [None] * len(result)
    for block in sign_blocks(result.items):
        for i, tr in zip(block, phrasebook.translate_block([result.items[i].text for i in block], target)):
            out[i] = tr
    return out


def run(args) -> int:
    from ..errors import GlassesError
    from ..imageio import read_image
    from ..perception.runtime import RuntimeOptions
    from ..perception.text import TextReaderConfig, load_text_reader

    phrasebook = None
    if args.to is not None:
        from ..translate.phrasebook import load_phrasebook

        phrasebook = load_phrasebook()
        phrasebook.check_language(args.to)  # before the models load: a bad --to fails fast
    failures = 0
    config = TextReaderConfig(det_min=args.size, det_limit=args.size) if args.size else None
    pointer = None
    if args.point:
        from ..perception.fingertip import MediapipeFingertip

        pointer = MediapipeFingertip(still_images=True)
    with load_text_reader(RuntimeOptions(threads=args.threads), config=config) as reader:
        for name in args.images:
            try:
                image = read_image(name)
            except GlassesError as e:
                failures += 1
                print(f"glasses read: error: {e}", file=sys.stderr)
                continue
            result = reader(image)
            translations = translate_lines(result, phrasebook, args.to)
            pointed = None
            if pointer is not None:
                from ..text_stage import line_at_finger

                tip = pointer(image)
                line = line_at_finger(result.items, tip) if tip else None
                pointed = {"tip": None if tip is None else [round(v, 1) for v in tip],
                           "text": None if line is None else line.text}
            if args.json:
                obj = {"image": name, "ms": round(result.elapsed_ms, 2),
                       "lines": [line_json(l, t) for l, t in zip(result, translations)]}
                if pointer is not None:
                    obj["pointed"] = pointed
                emit_json(obj)
                continue
            if pointed is not None:
                print(f"{name}: " + (f"pointing at: {pointed['text']}" if pointed["text"] else
                                     "no line beyond a pointing finger" if pointed["tip"] else
                                     "no pointing hand found"))
            if not len(result):
                print(f"{name}: no text found ({result.elapsed_ms:.0f} ms)")
                continue
            print(f"{name}: {len(result)} line(s), {result.elapsed_ms:.0f} ms")
            width = max(len(l.text) for l in result)
            shown = 0
            for line, tr in zip(result, translations):
                extra = ""
                if tr is not None and tr.joined > 1:
                    extra = f"  -> {tr.text}" if shown == 0 else "  ^"  # said once for the whole phrase
                    shown = (shown + 1) % tr.joined
                elif tr is not None:
                    extra = f"  -> {tr.text}" if tr.translated else "  -> (no translation in the phrasebook)"
                print(f"  {line.text:<{width}}  {line.score:4.2f}{extra}")
    return 1 if failures else 0
