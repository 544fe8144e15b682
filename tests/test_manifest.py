"""The model manifest: pinned SHA-256, missing and corrupt files give one-line errors naming the fix."""

import shutil
from pathlib import Path

import pytest

from glasses.cli import main
from glasses.errors import ModelError
from glasses.models.manifest import check_file, find, load_manifest, sha256_of
from glasses.models.tomlw import dumps

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def models_copy(tmp_path, monkeypatch):
    """A copy of the project (models/ and calibration/) that a test may damage."""
    root = tmp_path / "root"
    (root / "models").mkdir(parents=True)
    for name in ("manifest.toml", "coco80.txt", "nanodet-fp32.onnx", "nanodet-int8.onnx"):
        shutil.copy(ROOT / "models" / name, root / "models" / name)
    shutil.copytree(ROOT / "calibration", root / "calibration")
    monkeypatch.setenv("GLASSES_ROOT", str(root))
    return root / "models"


def test_committed_files_match_the_manifest():
    specs = load_manifest(ROOT / "models")
    assert {s.precision for s in specs.values() if s.task == "detector"} == {"fp32", "int8"}
    for spec in specs.values():
        assert check_file(spec) == spec.path
        assert spec.license and spec.build == "glasses models build"
    for spec in (s for s in specs.values() if s.task == "detector"):
        assert spec.source["registry"] == "npm" and spec.source["version"]
        assert spec.license and spec.build == "glasses models build"
        assert len(spec.labels_list()) == 80
    assert find(specs, "detector", "int8").quantization["format"] == "QDQ"


def test_missing_model_names_file_and_rebuild_command(models_copy, capsys):
    (models_copy / "nanodet-int8.onnx").unlink()
    assert main(["detect", str(ROOT / "models/images/bench/messi5.jpg")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "nanodet-int8.onnx is missing" in err and "glasses models build" in err


def test_corrupt_model_is_refused_before_loading(models_copy, capsys):
    path = models_copy / "nanodet-fp32.onnx"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"nanodet-fp32.onnx is corrupt .*glasses models build"):
        check_file(load_manifest()["nanodet-fp32"])
    assert main(["models", "verify"]) == 1
    out = capsys.readouterr()
    assert "FAIL nanodet-fp32" in out.err and "ok   nanodet-int8" in out.out


def test_bad_manifest_toml(models_copy):
    (models_copy / "manifest.toml").write_text("[models.x\nfile = ")
    with pytest.raises(ModelError, match="not valid TOML"):
        load_manifest()


def test_manifest_entry_missing_fields(models_copy):
    (models_copy / "manifest.toml").write_text('[models.x]\nfile = "a.onnx"\n')
    with pytest.raises(ModelError, match="model x lacks sha256"):
        load_manifest()


def test_unknown_precision(models_copy):
    with pytest.raises(ModelError, match="no detector model with precision 'int4'.*fp32, int8"):
        find(load_manifest(), "detector", "int4")


def test_sha256_of(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(b"abc")
    assert sha256_of(p) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_toml_writer_round_trips():
    import tomllib

    doc = {"models": {"a-b": {"file": "x.onnx", "n": 3, "f": 0.5, "ok": True, "l": [1, "two"],
                              "t": {"k": "v \"quoted\"", "deep": [1.5]}}}}
    assert tomllib.loads(dumps(doc, header="hello\nworld")) == doc


def test_fetch_into_cache_failures_are_one_line(tmp_path):
    import sys

    from glasses.models.build import fetch_into_cache

    cached = tmp_path / "have.tgz"
    cached.write_bytes(b"x")
    assert fetch_into_cache(cached, ["false"], "nothing", print) == cached  # already there: no command runs
    with pytest.raises(ModelError, match="failed: boom"):
        fetch_into_cache(tmp_path / "want.tgz", [sys.executable, "-c", "import sys; sys.exit('boom')"], "x",
                         lambda s: None)
