"""The onnxruntime session factory: provider choice, options, logging what it got."""

import logging
from pathlib import Path

import numpy as np
import pytest

from glasses.errors import ModelError
from glasses.perception.runtime import OrtSession, RuntimeOptions, choose_providers

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("available, wanted, chosen", [
    (["CPUExecutionProvider"], None, ["CPUExecutionProvider"]),
    (["CUDAExecutionProvider", "CPUExecutionProvider"], None, ["CUDAExecutionProvider", "CPUExecutionProvider"]),
    (["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"], None,
     ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]),
    (["AzureExecutionProvider", "CPUExecutionProvider"], None, ["CPUExecutionProvider"]),
    (["CUDAExecutionProvider", "CPUExecutionProvider"], ["CPUExecutionProvider"], ["CPUExecutionProvider"]),
    (["CPUExecutionProvider"], ["CUDAExecutionProvider"], ["CPUExecutionProvider"]),  # CPU always kept
])
def test_choose_providers(available, wanted, chosen):
    assert choose_providers(available, wanted) == chosen


@pytest.mark.parametrize("kwargs, message", [(dict(threads=0), "threads"), (dict(optimization="max"), "optimization")])
def test_options_validate(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RuntimeOptions(**kwargs)


def test_session_logs_provider_and_runs(caplog):
    with caplog.at_level(logging.INFO, logger="glasses.perception.runtime"):
        with OrtSession(ROOT / "models" / "nanodet-int8.onnx", RuntimeOptions(threads=1)) as s:
            outs = s({s.input_name: np.zeros((1, 416, 416, 4), np.uint8)})  # int8: raw BGRx pixels
    assert s.provider == "CPUExecutionProvider"
    assert "execution provider CPUExecutionProvider" in caplog.text
    assert sorted(o.shape for o in outs) == sorted([(1, n, c) for n in (2704, 676, 169) for c in (80, 44)])


def test_unloadable_file_is_a_model_error(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="bad.onnx does not load"):
        OrtSession(bad)
