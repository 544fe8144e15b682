"""glasses describe IMAGE... : what a blind wearer would hear, in at most three short sentences."""

from __future__ import annotations

import sys
from pathlib import Path

from .common import (add_camera_option, add_runtime_options, add_speech_options, emit_json, load_camera,
                     speech_settings)


def add_parser(sub) -> None:
    from ..audio.phrases import LANGUAGES

    p = sub.add_parser(
        "describe", help="say what is in images: the most important objects, their direction and distance",
        description="Describe images the way the glasses would say it: at most three short sentences about "
                    "the most important objects, with clock direction and distance in metres.",
        epilog="--json prints one object per image: image, sentences, objects (as in 'glasses detect'), "
               "lines (text read in the image, as in 'glasses read'; translation is null here).")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (JPEG, PNG, ...)")
    p.add_argument("--lang", default="en", metavar="L",
                   help=f"language of the sentences and the voice: {', '.join(LANGUAGES)} (default en)")
    p.add_argument("--speak", action="store_true", help="say the sentences aloud (espeak-ng)")
    p.add_argument("--audio-out", type=Path, default=None, metavar="FILE.wav",
                   help="write the speech to this WAV file instead of the speakers")
    p.add_argument("--json", action="store_true", help="one JSON object per image on stdout")
    add_camera_option(p)
    add_runtime_options(p)
    add_speech_options(p)
    p.add_argument("--no-text", action="store_true", help="do not read text (faster; lines stay [])")
    p.set_defaults(func=run)


def _check_args(args) -> None:
    from ..audio.phrases import LANGUAGES
    from ..errors import InputError

    if args.lang not in LANGUAGES:
        raise InputError(f"--lang must be one of {', '.join(LANGUAGES)}; got {args.lang!r}")
    if args.audio_out is not None and args.audio_out.suffix.lower() != ".wav":
        raise InputError(f"--audio-out must name a .wav file, got '{args.audio_out}'")


def run(args) -> int:
    _check_args(args)

    from ..audio.narrator import Priority, describe_scene
    from ..audio.phrases import Placed
    from ..audio.speech import SpeechWorker, expected_seconds, render_wav
    from ..errors import GlassesError
    from ..imageio import read_image
    from ..perception.detector import load_detector
    from ..perception.runtime import RuntimeOptions
    from ..perception.text import load_text_reader, sign_blocks
    from ..spatial.objects import place
    from ..text_stage import SIGN_WORD

    profile = load_camera(args)
    detector = load_detector(args.precision, RuntimeOptions(threads=args.threads), input_size=args.input_size)
    reader = None if args.no_text else load_text_reader(RuntimeOptions(threads=args.threads))
    settings = speech_settings(args)
    speaker = SpeechWorker(settings) if args.speak and args.audio_out is None else None
    said: list[str] = []
    failures = 0
    try:
        for name in args.images:
            try:
                image = read_image(name)
            except GlassesError as e:
                failures += 1
                print(f"glasses describe: error: {e}", file=sys.stderr)
                continue
            placed = place(detector(image), profile)
            lines = reader(image) if reader is not None else ()
            signs = [" ".join(lines.items[i].text for i in block) for block in sign_blocks(lines.items)] if lines else []
            # at most three sentences: the objects, and the most prominent sign's text when there is one
            sentences = describe_scene([Placed.from_placed_object(p) for p in placed], args.lang,
                                       max_sentences=2 if signs else 3) if placed or not signs else []
            if signs:
                sentences.append(SIGN_WORD[args.lang].format(signs[0]) + ".")
            if args.json:
                emit_json({"image": name, "sentences": sentences, "objects": [p.to_json() for p in placed],
                           "lines": [dict(line.to_json(), translation=None) for line in lines]})
            else:
                print(f"{name}:")
                for s in sentences:
                    print(f"  {s}")
            said.extend(sentences)
            if speaker is not None:
                for s in sentences:
                    speaker.say(s, Priority.REQUESTED)
        if args.audio_out is not None and said:
            render_wav(" ".join(said), args.audio_out, settings)
        if speaker is not None:
            budget = 30.0 + 3 * sum(expected_seconds(s, settings.rate_wpm) for s in said)
            if not speaker.wait_idle(budget):
                raise GlassesError(f"speech did not finish within {budget:.0f} s")
            bad = [r for r in speaker.records if r.status not in ("ok", "stale", "cancelled")]
            if bad:
                raise GlassesError(f"speech failed: {bad[0].status}" + (f" ({bad[0].error})" if bad[0].error else ""))
    finally:
        if speaker is not None:
            speaker.close()
    return 1 if failures else 0
