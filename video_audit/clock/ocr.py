"""The OCR engine behind the clock reader: text detection once per clip, recognition per read.

The default engine runs the PP-OCRv4 Chinese detection and recognition models that ship inside
the rapidocr-onnxruntime wheel, on onnxruntime's CPU provider: nothing is downloaded, ever.
Models load on first use and are shared by every clip (and thread) of the process.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np


class OcrError(Exception):
    """The OCR engine cannot run (its package or models are missing)."""


@dataclass(frozen=True)
class TextBox:
    """A detected text region in frame pixels: x0, y0 inclusive, x1, y1 exclusive."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    def union(self, other: TextBox) -> TextBox:
        return TextBox(
            min(self.x0, other.x0),
            min(self.y0, other.y0),
            max(self.x1, other.x1),
            max(self.y1, other.y1),
        )

    def padded(self, width: int, height: int, tight: bool = False) -> TextBox:
        """Room around the text for a few pixels of camera shake or scaling, inside the frame.

        TIGHT: hardly any, for a clock whose padded crop picked up a stroke of the picture.
        """
        pad_y = 1 if tight else max(2, self.height // 4)
        pad_x = 2 if tight else max(4, self.height // 2)
        return TextBox(
            max(0, self.x0 - pad_x),
            max(0, self.y0 - pad_y),
            min(width, self.x1 + pad_x),
            min(height, self.y1 + pad_y),
        )

    def crop(self, image: np.ndarray) -> np.ndarray:
        return image[self.y0 : self.y1, self.x0 : self.x1]

    def to_list(self) -> list[int]:
        return [self.x0, self.y0, self.x1, self.y1]


class OcrEngine(Protocol):
    """What the clock reader needs from an OCR engine."""

    name: str

    def detect(self, gray: np.ndarray, width: int) -> list[TextBox]:
        """Text regions of a grayscale frame (detected at WIDTH pixels, given in frame pixels)."""
        ...

    def read(self, crops: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        """(text, confidence 0–1) of each grayscale single-line crop."""
        ...


class RapidOcr:
    """PP-OCRv4 detection + recognition from the rapidocr-onnxruntime package, loaded lazily."""

    name = "rapidocr-onnxruntime PP-OCRv4"

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._detector: Any = None
        self._recognizer: Any = None
        self._load_lock = threading.Lock()
        self._detect_lock = threading.Lock()

    def load(self) -> None:
        """Build the onnxruntime sessions (once)."""
        with self._load_lock:
            if self._recognizer is not None:
                return
            try:
                from rapidocr_onnxruntime.ch_ppocr_det import TextDetector
                from rapidocr_onnxruntime.ch_ppocr_rec import TextRecognizer
                from rapidocr_onnxruntime.main import DEFAULT_CFG_PATH
                from rapidocr_onnxruntime.utils import read_yaml
                from rapidocr_onnxruntime.utils.parse_parameters import update_model_path
            except ImportError as exc:  # pragma: no cover - a broken install
                raise OcrError(f"rapidocr-onnxruntime is not installed: {exc}") from exc
            config = update_model_path(read_yaml(str(DEFAULT_CFG_PATH)))
            for part in ("Det", "Rec"):
                config[part]["intra_op_num_threads"] = self.threads
                config[part]["inter_op_num_threads"] = 1
            # Frames are resized here before detection; "min" with a small limit keeps that size.
            config["Det"]["limit_type"] = "min"
            config["Det"]["limit_side_len"] = 32
            try:
                self._detector = TextDetector(config["Det"])
                self._recognizer = TextRecognizer(config["Rec"])
            except Exception as exc:  # onnxruntime raises its own types for unreadable models
                raise OcrError(f"OCR models could not be loaded: {exc}") from exc

    def detect(self, gray: np.ndarray, width: int) -> list[TextBox]:
        self.load()
        h, w = gray.shape[:2]
        scale = min(1.0, width / max(w, 1))
        small = (
            cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            if scale < 1
            else gray
        )
        with self._detect_lock:  # the detector keeps per-call state on itself
            try:
                boxes, _ = self._detector(cv2.cvtColor(small, cv2.COLOR_GRAY2BGR))
            except Exception as exc:  # onnxruntime's own error types
                raise OcrError(f"text detection failed: {exc}") from exc
        found = []
        for quad in [] if boxes is None else boxes:
            points = np.asarray(quad, dtype=np.float64) / scale
            x0, y0 = np.floor(points.min(axis=0)).astype(int)
            x1, y1 = np.ceil(points.max(axis=0)).astype(int)
            box = TextBox(max(0, int(x0)), max(0, int(y0)), min(w, int(x1)), min(h, int(y1)))
            if box.x1 - box.x0 > 4 and box.height > 4:
                found.append(box)
        return found

    def read(self, crops: Sequence[np.ndarray]) -> list[tuple[str, float]]:
        self.load()
        if not crops:
            return []
        try:
            images = [cv2.cvtColor(c, cv2.COLOR_GRAY2BGR) for c in crops]
            results, _ = self._recognizer(images)
        except Exception as exc:  # onnxruntime's own error types
            raise OcrError(f"text recognition failed: {exc}") from exc
        return [(str(text), float(score)) for text, score in results]
