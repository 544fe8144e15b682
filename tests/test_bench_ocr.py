"""OCR bench library: word accuracy table, our side on real signs, the peer skipped with a clear reason."""

import shutil
from pathlib import Path

import pytest

from glasses.bench_ocr import bench_ocr, peer_problem, word_hits

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("truth, found, want", [
    (["NO", "PARKING"], ["NO PARKING"], (2, 2)),
    (["EXIT"], ["exit."], (1, 1)),
    (["EXIT", "EXIT"], ["EXIT"], (1, 2)),
    (["FLOORS 1-4"], ["FLOORS 1-"], (1, 2)),
    (["TOILETS"], [], (0, 1)),
])
def test_word_hits(truth, found, want):
    assert word_hits(truth, found) == want


def test_missing_peer_is_skipped_with_the_fix(tmp_path):
    assert "rapidocr==3.10.0" in peer_problem(tmp_path / "nope/bin/python")
    assert peer_problem(None) == "no RapidOCR environment given"


def test_our_side_runs_on_real_signs(tmp_path):
    for name in ("demo_exit_0200.jpg", "wall_lift.jpg"):
        shutil.copy(ROOT / "models/images/signs" / name, tmp_path / name)
    (tmp_path / "truth.tsv").write_text("# t\ndemo_exit_0200.jpg\tEXIT\nwall_lift.jpg\tLIFT | FLOORS 1-4\n")
    result = bench_ocr(tmp_path / "missing-python", images=tmp_path, repeats=1, threads=1)
    assert result.images == 2 and result.peer is None and result.speedup is None
    assert "not found" in result.skipped
    assert result.ours.word_accuracy == 1.0
    assert result.ours.median_ms > 0 and result.ours.p10_ms <= result.ours.p90_ms
    assert set(result.to_json()["ours"]["per_image"]) == {"demo_exit_0200.jpg", "wall_lift.jpg"}


def test_peer_protocol_with_a_stand_in_rapidocr(tmp_path):
    """The peer side end to end, with a stand-in 'rapidocr' module in a stand-in environment."""
    import stat
    import sys

    fake = tmp_path / "fakeenv"
    fake.mkdir()
    (fake / "rapidocr.py").write_text(
        "class _R:\n    txts = ('EXIT',)\n\n"
        "class RapidOCR:\n    def __init__(self, params=None):\n        self.params = params\n"
        "    def __call__(self, img):\n        return _R()\n")
    python = tmp_path / "python"
    python.write_text(f"#!/bin/sh\nPYTHONPATH={fake} exec {sys.executable} \"$@\"\n")
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    shutil.copy(ROOT / "models/images/signs/demo_exit_0200.jpg", tmp_path / "a.jpg")
    (tmp_path / "truth.tsv").write_text("a.jpg\tEXIT\n")
    result = bench_ocr(python, images=tmp_path, repeats=2, threads=1)
    assert result.skipped is None and result.peer.word_accuracy == 1.0
    assert result.peer.per_image["a.jpg"]["lines"] == ["EXIT"]
    assert result.speedup is not None and result.median_speedup is not None  # the stand-in takes ~0 ms
