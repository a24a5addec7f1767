"""Convert dlib's face-recognition ResNet (``dlib_face_recognition_resnet_model_v1.dat``) to ONNX.

Why: dlib runs this network single-threaded on the CPU, while onnxruntime uses every core,
so the same 128-D descriptors come out several times faster. The descriptors
stay in dlib's space, so catalog embeddings made by either backend are interchangeable.

The reader below follows dlib's serialization format:

* integers: one control byte (bit 7 = negative, low 4 bits = byte count) followed by the
  magnitude in little-endian order;
* floats: two such integers, mantissa then exponent, value = mantissa * 2**exponent
  (exponents 32000/32001/32002 stand for +inf/-inf/nan);
* strings: length integer + raw bytes; bools: ASCII ``'1'``/``'0'``;
* tensors: version 2, then n, k, nr, nc and n*k*nr*nc little-endian float32 values.

A network is written recursively with each layer's sub-network first, so the file holds all
the layer version numbers from the loss layer inwards, then the input layer, then every
layer's parameters from the input outwards. Tag and skip layers carry no data and their ids
are not stored, which is why the architecture is spelled out in :func:`_anet_layers`.

Model input/output (ONNX):

* ``chips``: float32 ``[N, 150, 150, 3]``, RGB, values 0..255 (an aligned face chip as made
  by :func:`faceorganizer.core.vision.align.face_chip`, cast to float32);
* ``descriptors``: float32 ``[N, 128]``, the raw (unnormalised) dlib descriptor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from faceorganizer import __version__
from faceorganizer.core.store.files import sha256, write_atomic

OPSET = 17
IR_VERSION = 8
INPUT_NAME = "chips"
OUTPUT_NAME = "descriptors"

_FLOAT_INF, _FLOAT_NINF, _FLOAT_NAN = 32000, 32001, 32002


class DlibFormatError(ValueError):
    """The .dat file is not the network this converter understands."""


# --------------------------------------------------------------------------------------
# Low-level reader for dlib's serialization format.


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise DlibFormatError("unexpected end of file")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def read_int(self) -> int:
        control = self._take(1)[0]
        size = control & 0x0F
        if size > 8:
            raise DlibFormatError(f"bad integer control byte {control:#x} at {self.pos - 1}")
        value = int.from_bytes(self._take(size), "little") if size else 0
        return -value if control & 0x80 else value

    def read_float(self) -> float:
        if self.data[self.pos] & 0x70:
            raise DlibFormatError("old ASCII float encoding is not supported")
        mantissa = self.read_int()
        exponent = self.read_int()
        if exponent == _FLOAT_INF:
            return math.inf
        if exponent == _FLOAT_NINF:
            return -math.inf
        if exponent == _FLOAT_NAN:
            return math.nan
        return math.ldexp(mantissa, exponent)

    def read_bool(self) -> bool:
        ch = self._take(1)
        if ch not in (b"0", b"1"):
            raise DlibFormatError(f"bad bool byte {ch!r} at {self.pos - 1}")
        return ch == b"1"

    def read_string(self) -> str:
        return self._take(self.read_int()).decode("latin-1")

    def expect_string(self, *allowed: str) -> str:
        got = self.read_string()
        if got not in allowed:
            raise DlibFormatError(f"expected {' or '.join(allowed)}, found {got!r}")
        return got

    def read_tensor(self) -> np.ndarray:
        version = self.read_int()
        if version != 2:
            raise DlibFormatError(f"unexpected tensor version {version}")
        shape = tuple(self.read_int() for _ in range(4))
        count = math.prod(shape)
        values = np.frombuffer(self._take(4 * count), dtype="<f4")
        return values.astype(np.float32).reshape(shape)

    def read_alias_tensor(self) -> tuple[int, int, int, int]:
        version = self.read_int()
        if version != 1:
            raise DlibFormatError(f"unexpected alias_tensor version {version}")
        return tuple(self.read_int() for _ in range(4))  # type: ignore[return-value]


# --------------------------------------------------------------------------------------
# The architecture (dlib's examples/dnn_face_recognition_ex.cpp, `anet_type`).


@dataclass
class _Layer:
    kind: str  # con, affine, relu, max_pool, avg_pool, add_prev, tag, skip, fc
    tag: int = 0  # tag id for tag / skip / add_prev
    params: dict = field(default_factory=dict)  # filled from the file


def _block() -> list[_Layer]:
    """block<N, affine, stride>: affine(con3x3(relu(affine(con3x3(x))))), outermost first."""
    return [_Layer("affine"), _Layer("con"), _Layer("relu"), _Layer("affine"), _Layer("con")]


def _ares() -> list[_Layer]:
    """relu(add_prev1(block(tag1(x))))"""
    return [_Layer("relu"), _Layer("add_prev", 1), *_block(), _Layer("tag", 1)]


def _ares_down() -> list[_Layer]:
    """relu(add_prev2(avg_pool2x2(skip1(tag2(block_stride2(tag1(x)))))))"""
    return [
        _Layer("relu"),
        _Layer("add_prev", 2),
        _Layer("avg_pool"),
        _Layer("skip", 1),
        _Layer("tag", 2),
        *_block(),
        _Layer("tag", 1),
    ]


def _anet_layers() -> list[_Layer]:
    """All non-loss, non-input layers of anet_type, outermost (fc) first."""
    layers = [_Layer("fc"), _Layer("avg_pool")]
    layers += _ares_down()  # level0: 256
    layers += _ares() + _ares() + _ares_down()  # level1: 256
    layers += _ares() + _ares() + _ares_down()  # level2: 128
    layers += _ares() + _ares() + _ares() + _ares_down()  # level3: 64
    layers += _ares() + _ares() + _ares()  # level4: 32
    layers += [_Layer("max_pool"), _Layer("relu"), _Layer("affine"), _Layer("con")]
    return layers


@dataclass
class DlibNet:
    """What the converter needs from the .dat file."""

    layers: list[_Layer]  # outermost first
    input_mean: tuple[float, float, float]
    input_size: tuple[int, int]


def _read_pool(r: _Reader, name: str) -> dict:
    r.expect_string(name)
    nr, nc, sy, sx, py, px = (r.read_int() for _ in range(6))
    return {"nr": nr, "nc": nc, "stride": (sy, sx), "pad": (py, px)}


def _read_details(r: _Reader, layer: _Layer) -> None:
    kind = layer.kind
    if kind == "con":
        r.expect_string("con_4")
        params = r.read_tensor().reshape(-1)
        nf, nr, nc, sy, sx, py, px = (r.read_int() for _ in range(7))
        n, k, fr, fc = r.read_alias_tensor()
        r.read_alias_tensor()  # biases: (1, nf)
        for _ in range(4):  # learning-rate / weight-decay multipliers
            r.read_float()
        if (n, fr, fc) != (nf, nr, nc):
            raise DlibFormatError("con_ filter shape mismatch")
        size = n * k * fr * fc
        layer.params = {
            "weight": params[:size].reshape(n, k, fr, fc),
            "bias": params[size : size + n],
            "stride": (sy, sx),
            "pad": (py, px),
        }
    elif kind == "affine":
        r.expect_string("affine_")
        params = r.read_tensor().reshape(-1)
        count = math.prod(r.read_alias_tensor())  # gamma
        r.read_alias_tensor()  # beta has the same shape
        if r.read_int() != 0:  # layer_mode: 0 = CONV_MODE (one gamma/beta per channel)
            raise DlibFormatError("only per-channel affine layers are supported")
        layer.params = {"gamma": params[:count], "beta": params[count : 2 * count]}
    elif kind == "relu":
        r.expect_string("relu_")
    elif kind == "add_prev":
        r.expect_string("add_prev_")
    elif kind == "max_pool":
        layer.params = _read_pool(r, "max_pool_2")
    elif kind == "avg_pool":
        layer.params = _read_pool(r, "avg_pool_2")
    elif kind == "fc":
        r.expect_string("fc_2")
        n_out, n_in = r.read_int(), r.read_int()
        params = r.read_tensor().reshape(-1)
        r.read_alias_tensor()  # weights: (n_in, n_out)
        r.read_alias_tensor()  # biases
        has_bias = r.read_int() == 0  # 0 = FC_HAS_BIAS, 1 = FC_NO_BIAS
        for _ in range(4):
            r.read_float()
        weight = params[: n_in * n_out].reshape(n_in, n_out)
        bias = params[n_in * n_out : n_in * n_out + n_out] if has_bias else None
        layer.params = {"weight": weight, "bias": bias}
    else:
        raise AssertionError(kind)


def read_dlib_resnet(dat_path: Path) -> DlibNet:
    """Parse ``dlib_face_recognition_resnet_model_v1.dat`` into layers with numpy weights."""
    r = _Reader(Path(dat_path).read_bytes())
    if r.read_int() != 1:
        raise DlibFormatError("not a dlib add_loss_layer (version != 1)")
    r.expect_string("loss_metric_2")
    r.read_float()  # margin
    r.read_float()  # distance threshold

    layers = _anet_layers()
    versions = [r.read_int() for _ in layers]
    for layer, version in zip(layers[:-1], versions[:-1], strict=True):
        ok = version == 1 if layer.kind in ("tag", "skip") else version in (1, 2)
        if not ok:
            raise DlibFormatError(f"unexpected version {version} for {layer.kind} layer")
    if versions[-1] not in (2, 3):
        raise DlibFormatError(f"unexpected version {versions[-1]} for the first layer")

    r.expect_string("input_rgb_image_sized")
    mean = (r.read_float(), r.read_float(), r.read_float())
    size = (r.read_int(), r.read_int())

    # Parameters come innermost first; each add_layer is followed by its own state.
    for depth in range(len(layers) - 1, -1, -1):
        layer = layers[depth]
        if layer.kind in ("tag", "skip"):
            continue
        _read_details(r, layer)
        for _ in range(3):  # setup_called, gradient_input_is_stale, output_disabled
            r.read_bool()
        r.read_tensor()  # x_grad
        r.read_tensor()  # cached_output
        if depth == len(layers) - 1:  # the add_layer sitting on the input layer
            r.read_tensor()  # grad_final
            if versions[depth] >= 3:
                r.read_int()  # sample_expansion_factor
        elif versions[depth] == 2:
            r.read_tensor()  # params_grad
    if r.pos != len(r.data):
        raise DlibFormatError(f"{len(r.data) - r.pos} trailing bytes after the network")
    return DlibNet(layers=layers, input_mean=mean, input_size=size)


# --------------------------------------------------------------------------------------
# ONNX graph builder.


class _GraphBuilder:
    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: dict[str, np.ndarray] = {}
        self._count = 0

    def name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}_{self._count}"

    def const(self, prefix: str, value: np.ndarray) -> str:
        name = self.name(prefix)
        self.inits[name] = value
        return name

    def node(self, op: str, inputs: list[str], **attrs: object) -> str:
        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def pad_to(self, x: str, shape: tuple[int, ...], target: tuple[int, ...]) -> str:
        """Zero-pad a [N, C, H, W] tensor at the end of C, H and W up to `target`."""
        if shape == target:
            return x
        extra = [t - s for s, t in zip(shape, target, strict=True)]
        pads = np.array([0, 0, 0, 0, 0, *extra], dtype=np.int64)
        return self.node("Pad", [x, self.const("pads", pads)])


def _out_size(size: int, window: int, stride: int, pad: int) -> int:
    return 1 + (size + 2 * pad - window) // stride


def build_onnx(net: DlibNet, doc: str = "") -> onnx.ModelProto:
    """Turn parsed layers into an ONNX graph that computes the same function as dlib."""
    g = _GraphBuilder()
    rows, cols = net.input_size
    # dlib's input layer: (pixel - mean) / 256, as planar channels.
    mean = np.asarray(net.input_mean, dtype=np.float32).reshape(1, 1, 1, 3)
    x = g.node("Sub", [INPUT_NAME, g.const("mean", mean)])
    x = g.node("Mul", [x, g.const("scale", np.array(1 / 256, dtype=np.float32))])
    x = g.node("Transpose", [x], perm=[0, 3, 1, 2])
    shape: tuple[int, ...] = (3, rows, cols)  # (C, H, W) of x
    tags: dict[int, tuple[str, tuple[int, ...]]] = {}
    convs: list[dict] = []  # weights kept in float64 until affine layers are folded in
    last_conv: dict | None = None  # set while x is the untagged output of a Conv

    for layer in reversed(net.layers):  # input side first
        p, kind = layer.params, layer.kind
        if kind == "affine" and last_conv is not None:
            # Fold the per-channel scale/shift into the convolution: fewer ops, and the
            # same function up to float rounding (done in float64, stored as float32).
            gamma, beta = p["gamma"].astype(np.float64), p["beta"].astype(np.float64)
            last_conv["weight"] = last_conv["weight"] * gamma[:, None, None, None]
            last_conv["bias"] = last_conv["bias"] * gamma + beta
            continue
        last_conv = None
        if kind == "con":
            weight = p["weight"].astype(np.float64)
            (sy, sx), (py, px) = p["stride"], p["pad"]
            conv = {"weight": weight, "bias": p["bias"].astype(np.float64)}
            conv["w"], conv["b"] = g.name("conv_w"), g.name("conv_b")
            x = g.node(
                "Conv",
                [x, conv["w"], conv["b"]],
                kernel_shape=list(weight.shape[2:]),
                strides=[sy, sx],
                pads=[py, px, py, px],
            )
            convs.append(conv)
            last_conv = conv
            shape = (
                weight.shape[0],
                _out_size(shape[1], weight.shape[2], sy, py),
                _out_size(shape[2], weight.shape[3], sx, px),
            )
        elif kind == "affine":
            c = shape[0]
            x = g.node("Mul", [x, g.const("gamma", p["gamma"].reshape(c, 1, 1))])
            x = g.node("Add", [x, g.const("beta", p["beta"].reshape(c, 1, 1))])
        elif kind == "relu":
            x = g.node("Relu", [x])
        elif kind in ("max_pool", "avg_pool") and p["nr"] == 0 and p["nc"] == 0:
            x = g.node("GlobalMaxPool" if kind == "max_pool" else "GlobalAveragePool", [x])
            shape = (shape[0], 1, 1)
        elif kind in ("max_pool", "avg_pool"):
            (sy, sx), (py, px) = p["stride"], p["pad"]
            x = g.node(
                "MaxPool" if kind == "max_pool" else "AveragePool",
                [x],
                kernel_shape=[p["nr"], p["nc"]],
                strides=[sy, sx],
                pads=[py, px, py, px],
            )
            shape = (
                shape[0],
                _out_size(shape[1], p["nr"], sy, py),
                _out_size(shape[2], p["nc"], sx, px),
            )
        elif kind == "tag":
            tags[layer.tag] = (x, shape)
        elif kind == "skip":
            x, shape = tags[layer.tag]
        elif kind == "add_prev":
            # dlib adds tensors of different sizes by zero-padding both to the larger size
            # at the end of every axis (extra channels, bottom rows, right columns).
            other, other_shape = tags[layer.tag]
            target = tuple(max(a, b) for a, b in zip(shape, other_shape, strict=True))
            x = g.node("Add", [g.pad_to(x, shape, target), g.pad_to(other, other_shape, target)])
            shape = target
        elif kind == "fc":
            x = g.node("Flatten", [x], axis=1)
            x = g.node("MatMul", [x, g.const("fc_w", p["weight"])])
            if p["bias"] is not None:
                x = g.node("Add", [x, g.const("fc_b", p["bias"])])
            shape = (p["weight"].shape[1],)
        else:
            raise AssertionError(kind)

    g.nodes.append(helper.make_node("Identity", [x], [OUTPUT_NAME], name=OUTPUT_NAME))
    for conv in convs:
        g.inits[conv["w"]] = conv["weight"].astype(np.float32)
        g.inits[conv["b"]] = conv["bias"].astype(np.float32)

    graph = helper.make_graph(
        g.nodes,
        "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["N", rows, cols, 3])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", *shape])],
        initializer=[numpy_helper.from_array(v, k) for k, v in g.inits.items()],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="faceorganizer.dlib_onnx",
        producer_version=__version__,
        doc_string=doc,
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


# --------------------------------------------------------------------------------------
# Public API.


def convert_resnet(dat_path: Path, onnx_path: Path) -> None:
    """Convert dlib's face-recognition ResNet .dat file into an ONNX file (deterministic)."""
    dat_path = Path(dat_path)
    doc = f"Converted from {dat_path.name} (sha256 {sha256(dat_path)}); input RGB 0..255 NHWC."
    model = build_onnx(read_dlib_resnet(dat_path), doc=doc)
    write_atomic(Path(onnx_path), model.SerializeToString())
