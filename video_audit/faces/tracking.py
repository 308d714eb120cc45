"""Tracking: link one clip's detections across sampled frames into tracks, camera pans included."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from video_audit.faces.engine import Face

Box = tuple[float, float, float, float]
SHIFT_WIDTH = 320
"""Global motion is measured on frames scaled to this width (cheap, and plenty for a pan)."""


@dataclass
class Sighting:
    """A face seen in one sampled frame."""

    sample: int
    time: float
    face: Face


@dataclass
class Track:
    """One face followed through a clip; keeps its best-quality sightings for embedding."""

    clip: str
    id: int
    sightings: list[Sighting] = field(default_factory=list)
    box: Box = (0.0, 0.0, 0.0, 0.0)
    """The last box, moved along with the camera since it was seen."""
    last_sample: int = -1

    @property
    def samples(self) -> set[int]:
        return {s.sample for s in self.sightings}

    @property
    def quality(self) -> float:
        return max((s.face.quality for s in self.sightings), default=0.0)

    def best(self, keep: int) -> list[Sighting]:
        """The sharpest, largest usable sightings (quality > 0), best first."""
        usable = [s for s in self.sightings if s.face.quality > 0]
        return sorted(usable, key=lambda s: s.face.quality, reverse=True)[:keep]

    def overlaps(self, other: Track) -> bool:
        """Seen in the same frame as the other track: then they are two different people."""
        return self.clip == other.clip and bool(self.samples & other.samples)


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def shift_gray(frame: np.ndarray) -> np.ndarray:
    """The small grey float image global motion is measured on."""
    h, w = frame.shape[:2]
    scale = SHIFT_WIDTH / w
    # grey first (resizing one channel is 3× cheaper), as float: rounding a low-contrast picture
    # to whole grey levels twice adds a pattern both frames share, which phase correlation finds
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    size = (SHIFT_WIDTH, max(1, round(h * scale)))
    return np.asarray(cv2.resize(gray, size, interpolation=cv2.INTER_AREA))


def global_shift(prev: np.ndarray, cur: np.ndarray, frame_width: int) -> tuple[float, float] | None:
    """How far the picture moved from prev to cur (dx, dy in full-frame pixels).

    None when the two pictures share too little to tell (a jump, a cut, a very fast pan).
    """
    window = cv2.createHanningWindow((prev.shape[1], prev.shape[0]), cv2.CV_32F)
    (dx, dy), response = cv2.phaseCorrelate(prev, cur, window)
    if response < 0.05:
        return None
    scale = frame_width / prev.shape[1]
    return dx * scale, dy * scale


class Tracker:
    """Greedy-optimal (Hungarian) matching of each frame's faces to live tracks by overlap."""

    def __init__(self, clip: str, min_iou: float = 0.25, max_gap: int = 2) -> None:
        self.clip = clip
        self.min_iou = min_iou
        self.max_gap = max_gap
        self.tracks: list[Track] = []

    def update(
        self,
        sample: int,
        time: float,
        faces: list[Face],
        shift: tuple[float, float],
        same: Callable[[Face, Face], bool] | None = None,
    ) -> None:
        """Add one sampled frame's faces; shift is the camera motion since the last sample.

        same: when given, a face continues a track only if same(track's last face, face) — the
        caller's check of appearance, for when position alone cannot tell (a still camera, and
        people taking turns in one spot)."""
        dx, dy = shift
        live = [t for t in self.tracks if sample - t.last_sample <= self.max_gap]
        for t in live:
            x0, y0, x1, y1 = t.box
            t.box = (x0 + dx, y0 + dy, x1 + dx, y1 + dy)
        pairs: list[tuple[int, int]] = []
        if live and faces:
            cost = np.ones((len(live), len(faces)))
            for i, t in enumerate(live):
                for j, f in enumerate(faces):
                    overlap = iou(t.box, f.box)
                    if overlap >= self.min_iou or _near(t.box, f.box):
                        cost[i, j] = 1.0 - overlap
            rows, cols = linear_sum_assignment(cost)
            pairs = [(r, c) for r, c in zip(rows, cols, strict=True) if cost[r, c] < 1.0]
            if same is not None:
                pairs = [(r, c) for r, c in pairs if same(live[r].sightings[-1].face, faces[c])]
        matched = {c for _, c in pairs}
        for r, c in pairs:
            self._extend(live[r], sample, time, faces[c])
        for j, f in enumerate(faces):
            if j not in matched:
                track = Track(self.clip, len(self.tracks))
                self.tracks.append(track)
                self._extend(track, sample, time, f)

    @staticmethod
    def _extend(track: Track, sample: int, time: float, face: Face) -> None:
        track.sightings.append(Sighting(sample, time, face))
        track.box = face.box
        track.last_sample = sample


def _near(a: Box, b: Box) -> bool:
    """Centres within half a face of each other and similar sizes (fast pans blur overlap)."""
    ca = ((a[0] + a[2]) / 2, (a[1] + a[3]) / 2)
    cb = ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)
    size_a, size_b = a[2] - a[0], b[2] - b[0]
    if min(size_a, size_b) <= 0 or max(size_a, size_b) > 1.6 * min(size_a, size_b):
        return False
    return bool(np.hypot(ca[0] - cb[0], ca[1] - cb[1]) < 0.5 * min(size_a, size_b))
