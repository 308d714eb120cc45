"""The face-engine protocol: detect(frame) -> faces; embed(face) -> vector; metric; thresholds."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import cv2
import numpy as np

Metric = Literal["euclidean", "cosine"]


class EngineError(RuntimeError):
    """An engine that cannot run (no pack, a broken model file): a one-line reason."""


@dataclass(frozen=True)
class Thresholds:
    """An engine's calibrated decision distances (from the standard profile's [faces.<engine>]).

    accept: a match counts as present only at or under this distance;
    review: up to this distance a match is shown to an inspector (待核实) instead of unknown;
    margin: the next-best roster entry must be at least this much farther for present;
    cluster: two tracks of one day are the same person at or under this distance.
    """

    accept: float
    review: float
    margin: float
    cluster: float

    @classmethod
    def from_table(cls, table: dict[str, Any], where: str) -> Thresholds:
        try:
            return cls(
                accept=float(table["accept"]),
                review=float(table["review"]),
                margin=float(table["margin"]),
                cluster=float(table["cluster"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise EngineError(f"{where}: thresholds need accept, review, margin, cluster") from exc


@dataclass
class Face:
    """One detected face: box (x0, y0, x1, y1) and 5 landmarks in frame pixels, an aligned chip."""

    box: tuple[float, float, float, float]
    landmarks: np.ndarray
    score: float
    chip: np.ndarray
    """The aligned face crop (RGB) the engine embeds; also the thumbnail an inspector sees."""
    sharpness: float = 0.0
    quality: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> float:
        """The face's shorter side in frame pixels."""
        x0, y0, x1, y1 = self.box
        return float(min(x1 - x0, y1 - y0))


def sharpness(chip: np.ndarray) -> float:
    """Variance of the Laplacian of the chip's centre: low for blurred faces."""
    gray = cv2.cvtColor(chip, cv2.COLOR_RGB2GRAY)
    h, w = gray.shape
    centre = gray[h // 6 : h - h // 6, w // 6 : w - w // 6]
    return float(cv2.Laplacian(centre, cv2.CV_64F).var())


def rate(face: Face, min_size: float, min_sharpness: float) -> Face:
    """Fill sharpness and quality (0 when too small or blurred to identify, else up to ~1)."""
    face.sharpness = sharpness(face.chip)
    if face.size < min_size or face.sharpness < min_sharpness:
        face.quality = 0.0
    else:
        size_term = min(1.0, face.size / (3 * min_size))
        sharp_term = min(1.0, face.sharpness / (4 * min_sharpness))
        face.quality = 0.2 + 0.8 * (0.5 * size_term + 0.3 * sharp_term + 0.2 * min(1.0, face.score))
    return face


class FaceEngine(Protocol):
    """What every engine offers; load() is lazy and called on first use."""

    name: str
    metric: Metric
    thresholds: Thresholds

    @property
    def cache_key(self) -> str:
        """Names the enrolment cache: embeddings of one model never serve another."""
        ...

    def load(self) -> None: ...

    def detect(self, frame: np.ndarray, *, tiled: bool = False) -> list[Face]:
        """Faces in an RGB frame; tiled looks harder for small faces in wide shots."""
        ...

    def embed(self, face: Face) -> np.ndarray: ...

    def embed_many(self, faces: list[Face]) -> list[np.ndarray]:
        """embed() of several faces, batched where the model allows (same results)."""
        ...

    def describe(self) -> str:
        """What ran, for the report (engine, models)."""
        ...


VECTOR = "vector"
"""Face.extra key of a face's embedding, once computed."""


def embedded(engine: FaceEngine, faces: list[Face]) -> list[np.ndarray]:
    """The faces' embeddings, each computed once (kept in face.extra), in one batch."""
    todo = [f for f in faces if VECTOR not in f.extra]
    for face, vector in zip(todo, engine.embed_many(todo), strict=True):
        face.extra[VECTOR] = vector
    return [f.extra[VECTOR] for f in faces]


def distance(metric: Metric, a: np.ndarray, b: np.ndarray) -> float:
    """The engine's distance between two embeddings."""
    if metric == "cosine":
        na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
        if na == 0 or nb == 0:
            return 2.0
        return float(1.0 - np.dot(a, b) / (na * nb))
    return float(np.linalg.norm(a - b))


def distances(metric: Metric, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """All pairwise distances between rows of a (n×d) and rows of b (m×d)."""
    a = np.atleast_2d(a).astype(np.float64)
    b = np.atleast_2d(b).astype(np.float64)
    if metric == "cosine":
        an = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
        bn = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
        return np.asarray(1.0 - an @ bn.T)
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.asarray(np.sqrt(np.maximum(sq, 0.0)))


def similarity(metric: Metric, d: float) -> float:
    """A 0..1 figure an inspector reads (1 = identical), from a distance."""
    if metric == "cosine":
        return round(max(0.0, min(1.0, 1.0 - d)), 3)
    return round(max(0.0, min(1.0, 1.0 - d / 1.2)), 3)


def mean_embedding(metric: Metric, vectors: list[np.ndarray]) -> np.ndarray:
    """The centre of several embeddings of one face (unit-normalised first for cosine)."""
    arr = np.asarray(vectors, dtype=np.float64)
    if metric == "cosine":
        arr = arr / np.maximum(np.linalg.norm(arr, axis=1, keepdims=True), 1e-12)
    return np.asarray(arr.mean(axis=0))
