"""Static int8 quantization of the detector with onnxruntime.quantization.

Recipe chosen by measurement on a 2-core x86 machine (see README "Measured figures"):
QDQ format, uint8 activations + int8 per-channel weights (U8S8; S8S8 ran slower than fp32
there), only Conv quantized, MinMax calibration on the real images in models/images/calib,
and the detection heads' last convolutions kept in float.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import cv2
import numpy as np


@dataclass(frozen=True)
class QuantRecipe:
    op_types: tuple[str, ...] = ("Conv",)
    per_channel: bool = True
    activation_type: str = "uint8"
    weight_type: str = "int8"
    calibrate_method: str = "MinMax"
    exclude_last_convs: int = 3  # the 1x1 head convs that produce scores and box bins
    extra: dict = field(default_factory=dict)

    def describe(self) -> str:
        return (f"QDQ, activations {self.activation_type}, weights {self.weight_type}"
                f"{' per-channel' if self.per_channel else ''}, ops {'/'.join(self.op_types)}, "
                f"{self.calibrate_method} calibration, last {self.exclude_last_convs} head convs in float")


class ImageReader:
    """onnxruntime CalibrationDataReader over preprocessed images."""

    def __init__(self, input_name: str, images: Iterable[np.ndarray], preprocess: Callable[[np.ndarray], np.ndarray]):
        self._items = [{input_name: preprocess(img)} for img in images]
        self._it = iter(self._items)

    def get_next(self):
        return next(self._it, None)

    def rewind(self):
        self._it = iter(self._items)


def load_images(folder: Path) -> list[np.ndarray]:
    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    images = [cv2.imread(str(p), cv2.IMREAD_COLOR) for p in files]
    bad = [p.name for p, im in zip(files, images) if im is None]
    if bad:
        raise ValueError(f"unreadable calibration images: {', '.join(bad)}")
    if len(images) < 8:
        raise ValueError(f"need at least 8 calibration images in {folder}, found {len(images)}")
    return images


def head_convs(model_path: Path, count: int) -> list[str]:
    """Names of the Conv nodes whose output reaches a graph output through no other Conv."""
    import onnx

    if count <= 0:
        return []
    model = onnx.load(str(model_path))
    producers = {o: n for n in model.graph.node for o in n.output}
    found: list[str] = []
    for out in model.graph.output:
        stack, seen = [out.name], set()
        while stack:
            name = stack.pop()
            node = producers.get(name)
            if node is None or node.name in seen:
                continue
            seen.add(node.name)
            if node.op_type == "Conv":
                if node.name not in found:
                    found.append(node.name)
                continue
            stack.extend(node.input)
    return found[:count] if count < len(found) else found


def quantize(fp32_path: Path, out_path: Path, images: list[np.ndarray],
             preprocess: Callable[[np.ndarray], np.ndarray], recipe: QuantRecipe = QuantRecipe()) -> None:
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    types = {"uint8": QuantType.QUInt8, "int8": QuantType.QInt8}
    with tempfile.TemporaryDirectory() as tmp:
        prepped = Path(tmp) / "prepped.onnx"
        quant_pre_process(str(fp32_path), str(prepped), skip_symbolic_shape=True)
        import onnxruntime as ort

        input_name = ort.InferenceSession(str(prepped), providers=["CPUExecutionProvider"]).get_inputs()[0].name
        reader = ImageReader(input_name, images, preprocess)
        exclude = head_convs(prepped, recipe.exclude_last_convs)
        quantize_static(
            str(prepped), str(out_path), reader,
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=list(recipe.op_types),
            per_channel=recipe.per_channel,
            activation_type=types[recipe.activation_type],
            weight_type=types[recipe.weight_type],
            calibrate_method=getattr(CalibrationMethod, recipe.calibrate_method),
            nodes_to_exclude=exclude,
            extra_options=dict(recipe.extra),
        )
