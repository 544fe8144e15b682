"""Static int8 quantization of the detector with onnxruntime.quantization.

The default recipe was chosen by measurement on a 2-core AMD EPYC (AVX2, no VNNI); the
experiments behind it are in the README ("How the int8 recipe was chosen"):

- QDQ format, uint8 activations, int8 per-channel weights (U8S8). uint8 weights (U8U8) were
  as faithful but barely faster than fp32.
- Conv, LeakyRelu, Concat, Resize and Add quantized, so tensors stay int8 between convs;
  MaxPool left in float (its padded float kernel runs fast in the fp32 stem).
- The stem convolution stays float. It sees the raw image, whose uint8 values span the
  whole range, and AVX2 u8s8 kernels add pairs of products in int16, which saturates there;
  quantizing the stem alone dropped detection F1 against fp32 from ~0.94 to ~0.78.
- MinMax calibration on the real images in models/images/calib.
- Then the float stem is rewritten in int8 with a raw uint8 image as input (``stem.py``):
  normalisation folded into 7-bit stem weights, which cannot saturate. This removed the float
  stem's layout changes and the float input blob: about 10 % of the int8 detector's time, and
  F1 against fp32 went up (0.975 -> 0.992), because the stem no longer rounds its output twice.
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable

import cv2
import numpy as np


@dataclass(frozen=True)
class QuantRecipe:
    op_types: tuple[str, ...] = ("Conv", "LeakyRelu", "Concat", "Resize", "Add")
    per_channel: bool = True
    activation_type: str = "uint8"
    weight_type: str = "int8"
    calibrate_method: str = "MinMax"
    float_first_conv: bool = True
    reduce_range: bool = False  # 7-bit weights everywhere (another cure for saturation; less faithful here)
    uint8_input: bool = True  # stem rewritten in int8 for a raw uint8 BGRx NHWC input (see stem.py)
    stem_weight_bits: int = 7

    def to_dict(self) -> dict:
        d = asdict(self)
        d["op_types"] = list(self.op_types)
        d["format"] = "QDQ"
        return d


class ImageReader:
    """onnxruntime CalibrationDataReader over preprocessed images (also iterable)."""

    def __init__(self, input_name: str, images: Iterable[np.ndarray], preprocess: Callable[[np.ndarray], np.ndarray]):
        self._items = [{input_name: preprocess(img)} for img in images]
        self._it = iter(self._items)

    def get_next(self):
        return next(self._it, None)

    def rewind(self):
        self._it = iter(self._items)

    def __iter__(self):
        return iter(self._items)


def load_images(folder: Path, minimum: int = 8) -> list[np.ndarray]:
    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    images = [cv2.imread(str(p), cv2.IMREAD_COLOR) for p in files]
    bad = [p.name for p, im in zip(files, images) if im is None]
    if bad:
        raise ValueError(f"unreadable calibration images: {', '.join(bad)}")
    if len(images) < minimum:
        raise ValueError(f"need at least {minimum} calibration images in {folder}, found {len(images)}")
    return images


def first_convs(model) -> list[str]:
    """Names of the Conv nodes reached from a graph input through no other Conv."""
    consumers: dict[str, list] = {}
    for n in model.graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    found: list[str] = []
    stack, seen = [i.name for i in model.graph.input], set()
    while stack:
        for node in consumers.get(stack.pop(), []):
            if node.name in seen:
                continue
            seen.add(node.name)
            if node.op_type == "Conv":
                found.append(node.name)
            else:
                stack.extend(node.output)
    return found


def quantize(fp32_path: Path, out_path: Path, images: list[np.ndarray],
             preprocess: Callable[[np.ndarray], np.ndarray], recipe: QuantRecipe = QuantRecipe(),
             mean_std: tuple | None = None) -> None:
    """Write the int8 QDQ model for fp32_path to out_path, calibrated on ``images``.

    ``preprocess`` makes the fp32 model's (normalised float) input; ``mean_std`` is that
    normalisation, needed when the recipe folds it into a uint8 input.
    """
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    types = {"uint8": QuantType.QUInt8, "int8": QuantType.QInt8}
    with tempfile.TemporaryDirectory() as tmp:
        prepped = Path(tmp) / "prepped.onnx"
        quant_pre_process(str(fp32_path), str(prepped), skip_symbolic_shape=True)
        input_name = ort.InferenceSession(str(prepped), providers=["CPUExecutionProvider"]).get_inputs()[0].name
        reader = ImageReader(input_name, images, preprocess)
        exclude = first_convs(onnx.load(str(prepped))) if recipe.float_first_conv else []
        quantize_static(
            str(prepped), str(out_path), reader,
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=list(recipe.op_types),
            per_channel=recipe.per_channel,
            activation_type=types[recipe.activation_type],
            weight_type=types[recipe.weight_type],
            calibrate_method=getattr(CalibrationMethod, recipe.calibrate_method),
            nodes_to_exclude=exclude,
            reduce_range=recipe.reduce_range,
        )
    if recipe.uint8_input:
        from .stem import fold_uint8_input

        if mean_std is None or not recipe.float_first_conv:
            raise ValueError("uint8_input needs mean_std and float_first_conv")
        model = onnx.load(str(out_path))
        fold_uint8_input(model, *mean_std, weight_bits=recipe.stem_weight_bits)
        onnx.save(model, str(out_path))
