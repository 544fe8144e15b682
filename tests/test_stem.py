"""The int8 detector's stem rewrite: normalisation folded into 7-bit weights for a raw uint8 input."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from glasses.models.stem import fold_weights
from glasses.perception.detector import DetectorConfig, preprocess

MEAN = (103.53, 116.28, 123.675)
STD = (57.375, 57.12, 58.395)


def conv3x3_at(x_chw: np.ndarray, w: np.ndarray, b: np.ndarray, y: int, x: int) -> np.ndarray:
    """One output pixel of a 3x3 'valid' convolution centred at (y, x)."""
    patch = x_chw[:, y - 1:y + 2, x - 1:x + 2]
    return (w * patch[None]).sum(axis=(1, 2, 3)) + b


def test_folded_weights_reproduce_the_normalised_convolution():
    rng = np.random.default_rng(0)
    w = rng.normal(0, 0.2, (8, 3, 3, 3)).astype(np.float32)
    b = rng.normal(0, 0.5, 8).astype(np.float32)
    pixels = rng.integers(0, 256, (3, 7, 7)).astype(np.float64)
    zp = 114
    wq, scale, bq = fold_weights(w, b, MEAN, STD, zp, weight_bits=7, channels=4)
    assert wq.shape == (8, 4, 3, 3) and wq.dtype == np.int8 and bq.dtype == np.int32
    assert np.abs(wq).max() <= 63  # 255 * 63 * 2 < 32767: AVX2 int16 pair sums cannot saturate
    assert not wq[:, 3].any()  # the padding channel is ignored
    normalised = (pixels - np.array(MEAN)[:, None, None]) / np.array(STD)[:, None, None]
    want = conv3x3_at(normalised, w, b, 3, 3)
    shifted = np.concatenate([pixels - zp, np.full((1, 7, 7), 255.0 - zp)])  # 4th channel: alpha
    got = conv3x3_at(shifted, wq * scale[:, None, None, None], bq * scale, 3, 3)
    # 7-bit weights: error within a few per cent of the output's scale
    assert np.abs(got - want).max() < 0.03 * np.abs(want).max() + 0.05


@pytest.mark.parametrize("bits, limit", [(7, 63), (8, 127)])
def test_weight_bits_bound_the_integers(bits, limit):
    w = np.linspace(-1, 1, 27, dtype=np.float32).reshape(1, 3, 3, 3)
    wq, scale, _ = fold_weights(w, np.zeros(1, np.float32), MEAN, STD, 114, weight_bits=bits)
    assert np.abs(wq).max() == limit and scale[0] > 0


def test_too_few_channels_is_refused():
    with pytest.raises(ValueError, match="channels"):
        fold_weights(np.zeros((2, 3, 3, 3)), np.zeros(2), MEAN, STD, 114, channels=2)


def test_uint8_input_holds_the_pixels_the_float_input_normalises():
    img = cv2.imread(str(Path(__file__).parents[1] / "models/images/bench/messi5.jpg"))
    f = preprocess(img, DetectorConfig(labels=("a",)))
    u = preprocess(img, DetectorConfig(labels=("a",), input_dtype="uint8"))
    assert u.shape == (1, 416, 416, 4) and u.dtype == np.uint8 and f.shape == (1, 3, 416, 416)
    back = (u[0, :, :, :3].astype(np.float32) - np.array(MEAN, np.float32)) / np.array(STD, np.float32)
    assert np.abs(back.transpose(2, 0, 1) - f[0]).max() < 1e-5


def test_bad_input_dtype_is_refused():
    with pytest.raises(ValueError, match="input_dtype"):
        DetectorConfig(labels=("a",), input_dtype="float16")


def test_shipped_int8_model_has_the_uint8_stem():
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper

    model = onnx.load(str(Path(__file__).parents[1] / "models/nanodet-int8.onnx"))
    (inp,) = model.graph.input
    dims = [d.dim_value or d.dim_param for d in inp.type.tensor_type.shape.dim]
    assert inp.name == "image" and inp.type.tensor_type.elem_type == onnx.TensorProto.UINT8 and dims[3] == 4
    stem = next(n for n in model.graph.node if n.name == "stem_conv")
    weights = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}[stem.input[3]]
    assert stem.input[0] == "image" and np.abs(weights).max() <= 63
    producer = {o: n.op_type for n in model.graph.node for o in n.output}
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    assert convs and all(producer[n.input[0]] == "DequantizeLinear" for n in convs)  # all QDQ: none float
