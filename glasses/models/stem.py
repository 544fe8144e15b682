"""Give the int8 detector a raw-pixel uint8 input: the stem rewritten as int8 NHWC operators.

After static quantization the stem (first convolution, its LeakyRelu and the MaxPool) is left
in float, because it sees the raw image and 8-bit weights saturate the AVX2 u8s8 kernels. In
float it costs a layout change (NCHWc reorder), a quantize, a transpose and the float blob the
caller has to build. This rewrite removes all of that:

- The input becomes the resized BGR image itself, uint8, NHWC, with a 4th padding channel
  (``cv2.COLOR_BGR2BGRA``; its weights are zero). Four channels make the convolution eligible
  for onnxruntime's direct ("symmetric") int8 convolution kernel, which wants a multiple of 4.
- The per-channel normalisation ``(pixel - mean) / std`` is folded into the convolution's
  weights and bias. The input zero point is the mean pixel, so the zero padding of the
  original (which pads with the channel mean) becomes a padding with nearly the same value.
- The stem weights are quantized symmetrically per output channel to 7 bits (|w| <= 63):
  255 x 63 x 2 < 32767, so the AVX2 kernel's int16 pair sums cannot saturate.
- MaxPool runs before LeakyRelu. Both are monotonic, so the order does not change the result,
  and LeakyRelu then touches a quarter as many values.

The rest of the graph is untouched; onnxruntime cancels the transpose back to NCHW against its
own transpose into the NHWC int8 convolutions.
"""

from __future__ import annotations

import numpy as np

STEM_CHAIN = ("Conv", "QuantizeLinear", "DequantizeLinear", "LeakyRelu", "QuantizeLinear",
              "DequantizeLinear", "MaxPool", "QuantizeLinear", "DequantizeLinear")
INPUT_NAME = "image"
CHANNELS = 4


def _attrs(node) -> dict:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def stem_chain(model) -> list:
    """The nodes Conv-Q-DQ-LeakyRelu-Q-DQ-MaxPool-Q-DQ that follow the graph input, in order."""
    consumers: dict[str, list] = {}
    for n in model.graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    chain, tensor = [], model.graph.input[0].name
    for want in STEM_CHAIN:
        nodes = consumers.get(tensor, [])
        if len(nodes) != 1 or nodes[0].op_type != want:
            found = "+".join(n.op_type for n in nodes) or "nothing"
            raise ValueError(f"unexpected stem: wanted {want} after {tensor!r}, found {found}")
        chain.append(nodes[0])
        tensor = nodes[0].output[0]
    return chain


def fold_weights(weight: np.ndarray, bias: np.ndarray, mean, std, zero_point: int,
                 weight_bits: int = 7, channels: int = CHANNELS):
    """Fold ``(pixel - mean) / std`` into an OIHW conv for an input of ``pixel - zero_point``.

    Returns (int8 weights O x channels x KH x KW, per-channel weight scales, int32 bias) for an
    input scale of 1.
    """
    w = weight.astype(np.float64)
    mean = np.asarray(mean, np.float64)
    std = np.asarray(std, np.float64)
    out_ch, in_ch = w.shape[:2]
    if channels < in_ch:
        raise ValueError(f"channels {channels} < the convolution's {in_ch} input channels")
    folded = w / std[None, :, None, None]
    b = bias.astype(np.float64) + (w * ((zero_point - mean) / std)[None, :, None, None]).sum(axis=(1, 2, 3))
    padded = np.zeros((out_ch, channels) + w.shape[2:])
    padded[:, :in_ch] = folded
    qmax = 2 ** (weight_bits - 1) - 1
    scale = np.abs(padded).reshape(out_ch, -1).max(axis=1) / qmax
    scale[scale == 0] = 1.0
    wq = np.clip(np.round(padded / scale[:, None, None, None]), -qmax, qmax).astype(np.int8)
    bq = np.round(b / scale).astype(np.int32)
    return wq, scale.astype(np.float32), bq


def fold_uint8_input(model, mean, std, weight_bits: int = 7):
    """Rewrite ``model`` (a QDQ model whose stem is float) in place; returns it."""
    from onnx import TensorProto, helper, numpy_helper

    g = model.graph
    init = {i.name: i for i in g.initializer}
    chain = stem_chain(model)
    conv, q_conv, _, lrelu, q_lrelu, _, pool, _, dq_next = chain
    weight = numpy_helper.to_array(init[conv.input[1]])
    bias = numpy_helper.to_array(init[conv.input[2]]) if len(conv.input) > 2 else np.zeros(weight.shape[0], np.float32)
    zero_point = int(round(float(np.mean(mean))))
    wq, w_scale, bq = fold_weights(weight, bias, mean, std, zero_point, weight_bits)
    for name, value in (("stem_x_scale", np.array(1.0, np.float32)),
                        ("stem_x_zero_point", np.array(zero_point, np.uint8)),
                        ("stem_w_quantized", wq), ("stem_w_scale", w_scale),
                        ("stem_w_zero_point", np.zeros(len(w_scale), np.int8)),
                        ("stem_bias_quantized", bq)):
        g.initializer.append(numpy_helper.from_array(value, name))
    conv_scale, conv_zp = q_conv.input[1], q_conv.input[2]
    act_scale, act_zp = q_lrelu.input[1], q_lrelu.input[2]
    ca, pa = _attrs(conv), _attrs(pool)
    new_nodes = [
        helper.make_node(
            "QLinearConv",
            [INPUT_NAME, "stem_x_scale", "stem_x_zero_point", "stem_w_quantized", "stem_w_scale",
             "stem_w_zero_point", conv_scale, conv_zp, "stem_bias_quantized"],
            ["stem_conv"], name="stem_conv", domain="com.microsoft", channels_last=1,
            kernel_shape=ca["kernel_shape"], strides=ca.get("strides", [1, 1]), pads=ca.get("pads", [0, 0, 0, 0]),
            dilations=ca.get("dilations", [1, 1]), group=1),
        helper.make_node("NhwcMaxPool", ["stem_conv"], ["stem_pool"], name="stem_pool", domain="com.microsoft",
                         kernel_shape=pa["kernel_shape"], strides=pa.get("strides", [1, 1]),
                         pads=pa.get("pads", [0, 0, 0, 0])),
        helper.make_node("QLinearLeakyRelu", ["stem_pool", conv_scale, conv_zp, act_scale, act_zp], ["stem_act"],
                         name="stem_act", domain="com.microsoft", alpha=_attrs(lrelu).get("alpha", 0.01)),
        helper.make_node("Transpose", ["stem_act"], ["stem_out"], name="stem_to_nchw", perm=[0, 3, 1, 2]),
    ]
    # the next convolution reads the stem's activation scale (the MaxPool's own was the same range)
    dq_next.input[0], dq_next.input[1], dq_next.input[2] = "stem_out", act_scale, act_zp
    old = {id(n) for n in chain[:-1]}
    kept = [n for n in g.node if id(n) not in old]
    del g.node[:]
    g.node.extend(new_nodes + kept)
    dims = g.input[0].type.tensor_type.shape.dim
    h = dims[2].dim_param or dims[2].dim_value
    w = dims[3].dim_param or dims[3].dim_value
    del g.input[:]
    g.input.append(helper.make_tensor_value_info(INPUT_NAME, TensorProto.UINT8, [1, h, w, CHANNELS]))
    used = {i for n in g.node for i in n.input}
    kept_init = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(kept_init)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return model

