"""models, bench and doctor through main(argv): output shapes (no wall-clock assertions)."""

import json

from glasses.cli import main


def lines(capsys):
    return [json.loads(l) for l in capsys.readouterr().out.splitlines()]


def test_models_list_and_verify(capsys):
    assert main(["models", "list", "--json"]) == 0
    names = {o["name"] for o in lines(capsys)}
    assert names == {"nanodet-fp32", "nanodet-int8"}
    assert main(["models", "verify", "--json"]) == 0
    assert all(o["ok"] and o["provider"] == "CPUExecutionProvider" for o in lines(capsys))


def test_bench_json_shape(capsys):
    assert main(["bench", "--json", "--repeats", "1"]) == 0
    (report,) = lines(capsys)
    det = report["detector"]
    for key in ("fp32_ms", "int8_ms", "speedup", "fidelity_f1"):
        assert isinstance(det[key], float) and det[key] > 0
    assert det["images"] >= 20 and det["threads"] == 1
    assert det["fp32"]["p25"] <= det["fp32"]["median"] <= det["fp32"]["p75"]
    assert det["speedup"] == round(det["fp32_ms"] / det["int8_ms"], 3)
    # fidelity is a regression baseline: measured 0.975 at threshold 0.45 (README); allow one flip
    assert det["fidelity_f1"] >= 0.95
    assert "processor" in report["machine"]


def test_bench_refuses_too_few_images(tmp_path, capsys):
    assert main(["bench", "--images", str(tmp_path)]) == 1
    assert "at least 20 images" in capsys.readouterr().err


def test_doctor(capsys):
    code = main(["doctor", "--json"])
    checks = lines(capsys)
    areas = {c["area"] for c in checks}
    assert {"opencv", "model nanodet-int8", "model nanodet-fp32", "camera", "speech", "display"} <= areas
    assert all(set(c) == {"area", "ok", "detail", "fix"} for c in checks)
    assert all(c["fix"] for c in checks if not c["ok"]), "every failing check says how to fix it"
    assert code == 0  # models and OpenCV are fine in this checkout
