"""dlib's face-recognition ResNet, read from its .dat file and run on onnxruntime.

dlib-bin's wheels are built without BLAS, so dlib runs its own ResNet at ~75 ms a face here; the
same network as an ONNX graph on onnxruntime (MLAS, AVX2/AVX-512) gives the same 128-d
descriptors (measured: within 3e-7 per component on real chips) ~11× faster, and takes
batches. Nothing is downloaded: the weights are read from face_recognition_models'
`dlib_face_recognition_resnet_model_v1.dat` and the graph is built in memory.

The file is dlib's serialisation of the network used in dlib's dnn_face_recognition_ex.cpp
(29 conv layers, batch norm folded into per-channel affine layers, 14 residual blocks, a
128-d fully connected output). Layers are stored innermost first; each layer's parameters
follow a version string naming its kind (`con_4`, `affine_`, `relu_`, `max_pool_2`,
`avg_pool_2`, `add_prev_`, `fc_2`). The reader below finds those records, checks that they
form exactly that network, and builds the graph from them.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from video_audit.faces.engine import EngineError

CHIP = 150
"""The network's input: 150×150 RGB aligned chips (dlib.get_face_chip)."""

KINDS = ("con_4", "affine_", "relu_", "max_pool_2", "avg_pool_2", "add_prev_", "fc_2")
MARKS = re.compile(b"|".join(re.escape(bytes([1, len(k)]) + k.encode()) for k in KINDS))
"""A layer record starts with its kind as a dlib string (a length, then the characters)."""


class Reader:
    """dlib's portable serialisation: variable-length integers, strings, floats, tensors."""

    def __init__(self, data: bytes, at: int = 0) -> None:
        self.data = data
        self.at = at

    def byte(self) -> int:
        value = self.data[self.at]
        self.at += 1
        return value

    def int(self) -> int:
        """One integer: a control byte (low nibble: byte count; bit 7: negative), then the bytes
        of the absolute value, little-endian."""
        control = self.byte()
        size = control & 0x0F
        if size > 8:
            raise ValueError(f"bad integer at byte {self.at - 1}")
        value = int.from_bytes(self.data[self.at : self.at + size], "little")
        self.at += size
        return -value if control & 0x80 else value

    def string(self) -> str:
        size = self.int()
        text = self.data[self.at : self.at + size].decode("ascii")
        self.at += size
        return text

    def float(self) -> float:
        """dlib's portable float: an integer mantissa and a base-2 exponent."""
        mantissa = self.int()
        exponent = self.int()
        return float(mantissa) * 2.0**exponent

    def tensor(self) -> np.ndarray:
        """A tensor (version 2): four dimensions, then raw little-endian float32 values."""
        version = self.int()
        if version != 2:
            raise ValueError(f"tensor version {version} at byte {self.at}")
        shape = tuple(self.int() for _ in range(4))
        count = int(np.prod(shape))
        values = np.frombuffer(self.data, "<f4", count, self.at).astype(np.float32)
        self.at += 4 * count
        return values.reshape(shape)


@dataclass
class Layer:
    """One record of the file: its kind and the parameters the graph needs."""

    kind: str
    params: dict[str, Any]


def _records(data: bytes) -> tuple[tuple[float, float, float], list[Layer]]:
    """The input layer's channel means and the layers in forward order."""
    start = data.find(b"\x01\x15input_rgb_image_sized")
    if not data.startswith(b"\x01\x01\x01\x0dloss_metric_") or start < 0:
        raise ValueError("not dlib's face-recognition ResNet (no loss_metric / input record)")
    r = Reader(data, start)
    r.string()
    means = (r.float(), r.float(), r.float())
    size = (r.int(), r.int())
    if size != (CHIP, CHIP):
        raise ValueError(f"input size {size}, expected {CHIP}×{CHIP}")
    layers: list[Layer] = []
    while len(layers) < 200:
        kind = _next_kind(r)
        if kind is None:
            break
        layers.append(Layer(kind, _details(r, kind)))
    return means, layers


def _next_kind(r: Reader) -> str | None:
    """Skip what lies between two layers' parameters (versions, flags, empty tensors)."""
    hit = MARKS.search(r.data, r.at)
    if hit is None:
        return None
    r.at = hit.start()
    return r.string()


def _details(r: Reader, kind: str) -> dict[str, Any]:
    if kind == "con_4":
        params = r.tensor().ravel()
        filters, rows, cols = r.int(), r.int(), r.int()
        stride = (r.int(), r.int())
        padding = (r.int(), r.int())
        weights = params[: params.size - filters]
        channels = weights.size // (filters * rows * cols)
        return {
            "w": weights.reshape(filters, channels, rows, cols),
            "b": params[params.size - filters :],
            "stride": stride,
            "padding": padding,
        }
    if kind == "affine_":
        params = r.tensor().ravel()
        half = params.size // 2
        return {"gamma": params[:half], "beta": params[half:]}
    if kind in ("max_pool_2", "avg_pool_2"):
        size = (r.int(), r.int())
        stride = (r.int(), r.int())
        padding = (r.int(), r.int())
        return {"size": size, "stride": stride, "padding": padding}
    if kind == "fc_2":
        outputs, inputs = r.int(), r.int()
        params = r.tensor().ravel()
        if params.size != outputs * inputs:
            raise ValueError("fc layer with a bias: not the expected network")
        return {"w": params.reshape(inputs, outputs)}
    return {}


def build_graph(path: Path) -> bytes:
    """The ONNX model (serialised) of the network in PATH: input `chips` N×150×150×3 uint8 RGB,
    output `descriptors` N×128 float32."""
    from onnx import TensorProto, helper, numpy_helper

    try:
        means, layers = _records(path.read_bytes())
    except (OSError, ValueError, IndexError) as exc:  # UnicodeDecodeError is a ValueError
        raise EngineError(f"{path.name}: cannot read dlib's ResNet ({exc})") from exc
    nodes: list[Any] = []
    inits: list[Any] = []
    count = [0]

    def name(prefix: str) -> str:
        count[0] += 1
        return f"{prefix}{count[0]}"

    def const(value: np.ndarray, prefix: str = "c") -> str:
        n = name(prefix)
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), n))
        return n

    def node(op: str, inputs: list[str], **attrs: Any) -> str:
        out = name(op.lower())
        nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def shape_of(x: str) -> str:
        return node("Shape", [x])

    # uint8 NHWC → float NCHW, (x − mean) / 256 per channel, as dlib's input layer does.
    x = node("Cast", ["chips"], to=TensorProto.FLOAT)
    x = node("Transpose", [x], perm=[0, 3, 1, 2])
    mean = np.array(means, np.float32).reshape(1, 3, 1, 1)
    x = node("Sub", [x, const(mean)])
    x = node("Mul", [x, const(np.array(1 / 256, np.float32))])

    tags: list[str] = []
    """Block inputs: the start of each residual block (tag1 in dlib's definition)."""
    pending_pool: str | None = None
    convs = 0
    for layer in layers:
        p = layer.params
        if layer.kind == "con_4":
            if convs >= 1 and convs % 2 == 1:
                tags.append(x)  # every odd conv after the stem opens a residual block
            convs += 1
            sy, sx = p["stride"]
            py, px = p["padding"]
            x = node(
                "Conv",
                [x, const(p["w"]), const(p["b"])],
                strides=[sy, sx],
                pads=[py, px, py, px],
                kernel_shape=list(p["w"].shape[2:]),
            )
        elif layer.kind == "affine_":
            k = p["gamma"].size
            x = node("Mul", [x, const(p["gamma"].reshape(1, k, 1, 1))])
            x = node("Add", [x, const(p["beta"].reshape(1, k, 1, 1))])
        elif layer.kind == "relu_":
            x = node("Relu", [x])
        elif layer.kind == "max_pool_2":
            (ry, rx), (sy, sx), (py, px) = p["size"], p["stride"], p["padding"]
            x = node("MaxPool", [x], kernel_shape=[ry, rx], strides=[sy, sx], pads=[py, px, py, px])
        elif layer.kind == "avg_pool_2":
            (ry, rx), (sy, sx), (py, px) = p["size"], p["stride"], p["padding"]
            if ry == 0 and rx == 0:  # avg_pool_everything
                x = node("GlobalAveragePool", [x])
                x = node("Flatten", [x], axis=1)
            else:  # the shortcut of a down-sampling block: pool the block's input
                pending_pool = node(
                    "AveragePool",
                    [tags[-1]],
                    kernel_shape=[ry, rx],
                    strides=[sy, sx],
                    pads=[py, px, py, px],
                )
        elif layer.kind == "add_prev_":
            shortcut = pending_pool if pending_pool is not None else tags[-1]
            pending_pool = None
            x = _add_padded(node, const, shape_of, x, shortcut)
        elif layer.kind == "fc_2":
            x = node("MatMul", [x, const(p["w"])])
    if convs != 29 or len(tags) != 14 or layers[-1].kind != "fc_2":
        raise EngineError(
            f"{path.name}: unexpected network ({convs} conv layers, {len(tags)} blocks)"
        )
    nodes.append(helper.make_node("Identity", [x], ["descriptors"]))
    graph = helper.make_graph(
        nodes,
        "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info("chips", TensorProto.UINT8, ["n", CHIP, CHIP, 3])],
        [helper.make_tensor_value_info("descriptors", TensorProto.FLOAT, ["n", 128])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return bytes(model.SerializeToString())


def _add_padded(node: Any, const: Any, shape_of: Any, a: str, b: str) -> str:
    """dlib's add_prev: the sum over the larger of the two shapes, each zero-padded at the end
    (channels, rows, columns) — a down-sampling block's 3×3 output meets a 4×4 shortcut."""
    sa, sb = shape_of(a), shape_of(b)
    top = node("Max", [sa, sb])
    pads_a = node("Concat", [const(np.zeros(4, np.int64)), node("Sub", [top, sa])], axis=0)
    pads_b = node("Concat", [const(np.zeros(4, np.int64)), node("Sub", [top, sb])], axis=0)
    return str(node("Add", [node("Pad", [a, pads_a]), node("Pad", [b, pads_b])]))


class DlibResnet:
    """The ResNet on onnxruntime: `descriptors(chips)` for a batch of 150×150 RGB chips."""

    def __init__(self, path: Path, threads: int = 2) -> None:
        """threads: onnxruntime's intra-op threads. A day's faces are embedded in one batch
        after the frame pass, when both cores are free; the threads do not spin while idle."""
        self.path = path
        self.threads = threads
        self._session: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._session = onnxruntime.InferenceSession(
                build_graph(self.path), options, providers=["CPUExecutionProvider"]
            )

    def descriptors(self, chips: list[np.ndarray]) -> np.ndarray:
        """N×128 descriptors (Euclidean; dlib's own same-person cut is 0.6)."""
        if not chips:
            return np.zeros((0, 128), np.float32)
        self.load()
        batch = np.stack([np.ascontiguousarray(c, dtype=np.uint8) for c in chips])
        out = self._session.run(None, {"chips": batch})[0]
        return np.asarray(out, dtype=np.float32)
