"""The embedded engine: dlib's HOG detector + 5-point aligner + ResNet encoder (public domain).

The weights come inside the face_recognition_models PyPI package: nothing is downloaded, ever.
The ResNet runs on onnxruntime (faces.dlib_resnet: the same network and weights, read from the
package's .dat file), ~11× faster than dlib-bin's own BLAS-less build, with equal descriptors.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from video_audit.faces.dlib_resnet import CHIP, DlibResnet
from video_audit.faces.engine import EngineError, Face, Metric, Thresholds


class EmbeddedEngine:
    """dlib-bin + face_recognition_models: works offline on a fresh machine."""

    name = "embedded"
    metric: Metric = "euclidean"

    def __init__(self, thresholds: Thresholds, detect_width: int = 768, upsample: int = 0) -> None:
        self.thresholds = thresholds
        self.detect_width = detect_width
        self.upsample = upsample
        self._models: tuple[Any, Any, Any] | None = None
        self._lock = threading.Lock()
        self._local = threading.local()
        """dlib's HOG detector keeps per-image state, so each thread has its own (the frame
        pass decodes two clips at once, and dlib works outside the GIL: both cores are used).
        The shape predictor and the onnxruntime session are safe to share."""

    def load(self) -> None:
        """Load the three dlib models (about 0.3 s); later calls do nothing."""
        with self._lock:
            if self._models is not None:
                return
            try:
                import dlib
                import face_recognition_models as frm
            except ImportError as exc:
                raise EngineError(f"embedded engine unavailable: {exc}") from exc
            self._models = (
                dlib.get_frontal_face_detector(),
                dlib.shape_predictor(frm.pose_predictor_five_point_model_location()),
                DlibResnet(Path(frm.face_recognition_model_location())),
            )
            self._models[2].load()

    def _loaded(self) -> tuple[Any, Any, Any]:
        if self._models is None:
            self.load()
        assert self._models is not None
        return self._models

    def detect(self, frame: np.ndarray, *, tiled: bool = False) -> list[Face]:
        """Faces in an RGB frame; the detector runs on a copy scaled to detect_width.

        tiled: for wide shots, run on the full-resolution frame upsampled once (finds faces
        down to about 40 px) instead of the scaled copy.
        """
        import dlib

        _, shaper, _ = self._loaded()
        detector = getattr(self._local, "detector", None)
        if detector is None:
            detector = self._local.detector = dlib.get_frontal_face_detector()
        return self._detect(dlib, detector, shaper, frame, tiled)

    def _detect(
        self, dlib: Any, detector: Any, shaper: Any, frame: np.ndarray, tiled: bool
    ) -> list[Face]:
        h, w = frame.shape[:2]
        if tiled:
            scale, small, upsample = 1.0, frame, max(1, self.upsample)
        else:
            scale = min(1.0, self.detect_width / w)
            small = (
                frame
                if scale == 1.0
                else cv2.resize(
                    frame, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA
                )
            )
            upsample = self.upsample
        rects, scores, _ = detector.run(np.ascontiguousarray(small), upsample, 0.0)
        faces = []
        for rect, score in zip(rects, scores, strict=True):
            full = dlib.rectangle(
                round(rect.left() / scale),
                round(rect.top() / scale),
                round(rect.right() / scale),
                round(rect.bottom() / scale),
            )
            shape = shaper(frame, full)
            points = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float32)
            chip = np.asarray(dlib.get_face_chip(frame, shape, CHIP, 0.25))
            box = (
                float(max(0, full.left())),
                float(max(0, full.top())),
                float(min(w, full.right())),
                float(min(h, full.bottom())),
            )
            faces.append(Face(box=box, landmarks=points, score=float(score), chip=chip))
        return faces

    def embed(self, face: Face) -> np.ndarray:
        """The 128-d descriptor of the face's aligned chip (Euclidean; 0.6 is dlib's own cut)."""
        return self.embed_many([face])[0]

    def embed_many(self, faces: list[Face]) -> list[np.ndarray]:
        """Descriptors of several faces in one batch (onnxruntime releases the GIL meanwhile)."""
        _, _, encoder = self._loaded()
        chips = [
            f.chip if f.chip.shape[:2] == (CHIP, CHIP) else cv2.resize(f.chip, (CHIP, CHIP))
            for f in faces
        ]
        return list(encoder.descriptors(chips).astype(np.float64))

    cache_key = "embedded"
    """Enrolment cache folder (the weights are fixed by the installed package)."""

    def describe(self) -> str:
        return "embedded (dlib HOG + ResNet-128 on onnxruntime, face_recognition_models)"
