"""The insightface engine: SCRFD detector + ArcFace recogniser on onnxruntime, from a model pack.

The pack is a folder of ONNX files (e.g. buffalo_l: det_10g.onnx, w600k_r50.onnx, …); insightface's
model_zoo tells detector from recogniser by their inputs and outputs, as FaceAnalysis does.
InsightFace's released weights are for non-commercial research: the user brings the pack.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from video_audit.faces.engine import EngineError, Face, Metric, Thresholds

PREFERRED_PROVIDERS = ("CUDAExecutionProvider", "CoreMLExecutionProvider", "CPUExecutionProvider")


def providers() -> list[str]:
    """Execution providers: our preference list ∩ what this onnxruntime offers."""
    import onnxruntime

    available = set(onnxruntime.get_available_providers())
    return [p for p in PREFERRED_PROVIDERS if p in available] or ["CPUExecutionProvider"]


class InsightfaceEngine:
    """SCRFD + ArcFace from a pack folder; det_size configurable; wide shots tiled."""

    name = "insightface"
    metric: Metric = "cosine"

    def __init__(
        self,
        pack: Path,
        thresholds: Thresholds,
        det_size: int = 640,
        det_thresh: float = 0.5,
    ) -> None:
        self.pack = pack
        self.thresholds = thresholds
        self.det_size = det_size
        self.det_thresh = det_thresh
        self._models: tuple[Any, Any] | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Open the pack's detector and recogniser (checked against the pack manifest first)."""
        with self._lock:
            if self._models is not None:
                return
            from video_audit.faces.packs import verify_pack

            problem = verify_pack(self.pack)
            if problem:
                raise EngineError(problem)
            try:
                from insightface.model_zoo import model_zoo
            except ImportError as exc:
                raise EngineError(f"insightface engine unavailable: {exc}") from exc
            detector = recogniser = None
            for onnx_file in sorted(self.pack.glob("*.onnx")):
                try:
                    model = model_zoo.get_model(str(onnx_file), providers=providers())
                except Exception as exc:  # onnxruntime raises its own types for a bad file
                    raise EngineError(f"{onnx_file}: cannot load model: {exc}") from exc
                task = getattr(model, "taskname", None)
                if task == "detection" and detector is None:
                    detector = model
                elif task == "recognition" and recogniser is None:
                    recogniser = model
            if detector is None or recogniser is None:
                missing = "detector (SCRFD)" if detector is None else "recogniser (ArcFace)"
                raise EngineError(f"{self.pack}: pack has no {missing} ONNX model")
            detector.prepare(
                -1, input_size=(self.det_size, self.det_size), det_thresh=self.det_thresh
            )
            recogniser.prepare(-1)
            self._models = (detector, recogniser)

    def _loaded(self) -> tuple[Any, Any]:
        if self._models is None:
            self.load()
        assert self._models is not None
        return self._models

    def _run(self, bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        detector, _ = self._loaded()
        det, kpss = detector.detect(bgr, input_size=(self.det_size, self.det_size))
        if kpss is None:
            kpss = np.zeros((det.shape[0], 5, 2), np.float32)
        return np.asarray(det, np.float32), np.asarray(kpss, np.float32)

    def detect(self, frame: np.ndarray, *, tiled: bool = False) -> list[Face]:
        """Faces in an RGB frame; tiled adds 2×2 overlapping tiles so small faces are found."""
        from insightface.utils import face_align

        _, recogniser = self._loaded()
        bgr = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
        det, kpss = self._run(bgr)
        if tiled:
            dets, kps_all = [det], [kpss]
            h, w = bgr.shape[:2]
            th, tw = int(h * 0.6), int(w * 0.6)
            for y0 in (0, h - th):
                for x0 in (0, w - tw):
                    d, k = self._run(np.ascontiguousarray(bgr[y0 : y0 + th, x0 : x0 + tw]))
                    d[:, [0, 2]] += x0
                    d[:, [1, 3]] += y0
                    k[:, :, 0] += x0
                    k[:, :, 1] += y0
                    dets.append(d)
                    kps_all.append(k)
            det, kpss = _nms(np.vstack(dets), np.vstack(kps_all))
        size = int(recogniser.input_size[0])
        faces = []
        h, w = bgr.shape[:2]
        for box, kps in zip(det, kpss, strict=True):
            chip = face_align.norm_crop(bgr, landmark=kps, image_size=size)
            x0, y0, x1, y1 = (float(v) for v in box[:4])
            faces.append(
                Face(
                    box=(max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1)),
                    landmarks=kps,
                    score=float(box[4]),
                    chip=cv2.cvtColor(chip, cv2.COLOR_BGR2RGB),
                )
            )
        return faces

    def embed(self, face: Face) -> np.ndarray:
        """The ArcFace embedding of the aligned chip (compare by cosine distance)."""
        return self.embed_many([face])[0]

    def embed_many(self, faces: list[Face]) -> list[np.ndarray]:
        """ArcFace embeddings of several chips in one batch."""
        if not faces:
            return []
        _, recogniser = self._loaded()
        size = int(recogniser.input_size[0])
        chips = []
        for face in faces:
            chip = cv2.cvtColor(face.chip, cv2.COLOR_RGB2BGR)
            if chip.shape[:2] != (size, size):
                chip = cv2.resize(chip, (size, size))
            chips.append(chip)
        out = np.asarray(recogniser.get_feat(chips)).reshape(len(chips), -1)
        return list(out)

    def describe(self) -> str:
        return f"insightface ({self.pack.name}: SCRFD + ArcFace, det_size {self.det_size})"

    @property
    def cache_key(self) -> str:
        """Enrolment cache folder: one per pack content (another pack, other embeddings)."""
        import hashlib

        h = hashlib.sha256()
        for f in sorted(self.pack.glob("*.onnx")):
            stat = f.stat()
            h.update(f"{f.name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
        return f"insightface-{self.pack.name}-{h.hexdigest()[:12]}"


def _nms(det: np.ndarray, kpss: np.ndarray, thresh: float = 0.4) -> tuple[np.ndarray, np.ndarray]:
    """Drop boxes that overlap a higher-scoring one (faces found by two tiles)."""
    if det.shape[0] == 0:
        return det, kpss
    order = np.argsort(-det[:, 4])
    keep: list[int] = []
    areas = (det[:, 2] - det[:, 0]) * (det[:, 3] - det[:, 1])
    while order.size:
        i = int(order[0])
        keep.append(i)
        xx0 = np.maximum(det[i, 0], det[order[1:], 0])
        yy0 = np.maximum(det[i, 1], det[order[1:], 1])
        xx1 = np.minimum(det[i, 2], det[order[1:], 2])
        yy1 = np.minimum(det[i, 3], det[order[1:], 3])
        inter = np.maximum(0, xx1 - xx0) * np.maximum(0, yy1 - yy0)
        smaller = np.minimum(areas[i], areas[order[1:]])
        overlap = inter / np.maximum(smaller, 1e-6)
        order = order[1:][overlap < thresh]
    return det[keep], kpss[keep]
