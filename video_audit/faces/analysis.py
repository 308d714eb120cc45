"""Per-clip face analysis, independent of how frames are decoded.

Analyzers take frames as they are decoded: `wants(time)` says whether a frame at that time is
worth converting, `feed(time, rgb)` hands it over, `finish()` returns the result. A decoding
pass (faces.video, or a shared pass over each clip) drives them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from video_audit.faces.engine import Face, FaceEngine, distance, embedded, rate
from video_audit.faces.tracking import Track, Tracker, global_shift, shift_gray


@dataclass(frozen=True)
class RollSettings:
    """Sampling and quality settings of face-roll analysis ([faces] in the profile)."""

    step: float = 1.5
    """Seconds between analysed frames while the picture is steady."""
    min_step: float = 0.25
    """The shortest step, used while the camera pans fast."""
    min_face: float = 60.0
    """Faces smaller than this (shorter side, pixels) are too small to identify."""
    min_sharpness: float = 20.0
    """Faces whose chip has a lower Laplacian variance are too blurred to identify."""
    keep: int = 2
    """Faces embedded per person (one per track, then the next-best): frame agreement."""
    fast_pan: float = 0.4
    """The step halves when the picture moved more than this share of the frame since the last
    analysed frame (a face crossing the frame is then still seen about 1 / fast_pan times)."""
    slow_pan: float = 0.1
    """The step grows (×1.5, up to step) when it moved less than this share."""


@dataclass
class RollResult:
    """What one face-roll clip showed."""

    clip: str
    tracks: list[Track] = field(default_factory=list)
    frames: int = 0
    faces: int = 0
    error: str | None = None
    pixel_scale: float = 1.0

    @property
    def usable(self) -> list[Track]:
        """Tracks with at least one face sharp and large enough to identify."""
        return [t for t in self.tracks if t.quality > 0]

    @property
    def largest_face(self) -> float:
        """The largest face seen, in clip pixels."""
        sizes = (s.face.size for t in self.tracks for s in t.sightings)
        return max(sizes, default=0.0) * self.pixel_scale


class RollAnalyzer:
    """Detects and tracks faces through one face-roll clip, sampling faster while it pans."""

    def __init__(self, clip: str, engine: FaceEngine, settings: RollSettings) -> None:
        self.engine = engine
        self.settings = settings
        self.tracker = Tracker(clip)
        self.result = RollResult(clip)
        self.step = settings.step
        self.pixel_scale = 1.0
        """Clip pixels per analysed pixel (frames may be reduced): min_face is in clip pixels."""
        self._last_time: float | None = None
        self._last_gray: np.ndarray | None = None

    def wants(self, time: float) -> bool:
        return self._last_time is None or time - self._last_time >= self.step - 1e-6

    def feed(self, time: float, rgb: np.ndarray) -> None:
        gray = shift_gray(rgb)
        shift = (0.0, 0.0)
        moved, unexplained = 0.0, False
        if self._last_gray is not None and self._last_gray.shape == gray.shape:
            measured = global_shift(self._last_gray, gray, rgb.shape[1])
            if measured is None:  # too far to measure (or the picture changed): look more often
                moved, unexplained = 1.0, True
            else:
                shift = measured
                moved = abs(shift[0]) / rgb.shape[1] + abs(shift[1]) / rgb.shape[0]
            s = self.settings
            if moved > s.fast_pan:
                self.step = max(s.min_step, self.step / 2)
            elif moved < s.slow_pan:
                self.step = min(s.step, self.step * 1.5)
        self._last_time, self._last_gray = time, gray
        faces = [
            rate(f, self.settings.min_face / self.pixel_scale, self.settings.min_sharpness)
            for f in self.engine.detect(rgb)
        ]
        sample = self.result.frames
        # With the camera (nearly) still, or when the picture changed too much to measure how it
        # moved, a face in the same place may be someone else who took the last one's place:
        # there, appearance decides too (an embedding a face, kept for later). While the camera
        # pans, position after undoing the pan is enough.
        check = moved < self.settings.slow_pan or unexplained
        self.tracker.update(sample, time, faces, shift, self._same if check else None)
        # The camera (nearly) still, yet someone seen once, in full view, is gone by the next
        # analysed frame: people step in and out faster than the step; look more often. (While
        # the camera pans, faces come and go with the pan, which the step already follows.)
        h, w = rgb.shape[:2]
        fleeting = moved < self.settings.slow_pan and any(
            t.last_sample == sample - 1
            and len(t.sightings) == 1
            and t.quality > 0
            and _inside(t.sightings[0].face.box, w, h)
            for t in self.tracker.tracks
        )
        if fleeting:
            self.step = max(self.settings.min_step, self.step / 2)
        self.result.frames += 1
        self.result.faces += len(faces)

    def _same(self, before: Face, now: Face) -> bool:
        """Two sightings look like one person: their embeddings within the engine's cluster
        distance (a split costs nothing: the day's clustering joins a person's tracks again)."""
        if before.quality <= 0 or now.quality <= 0:
            return True  # too small or blurred to tell: position decides
        a, b = embedded(self.engine, [before, now])
        return distance(self.engine.metric, a, b) <= self.engine.thresholds.cluster

    def finish(self) -> RollResult:
        self.result.tracks = self.tracker.tracks
        self.result.pixel_scale = self.pixel_scale
        return self.result


def _inside(box: tuple[float, float, float, float], width: int, height: int) -> bool:
    """The box clear of the picture's edges by 3 % of its size."""
    mx, my = 0.03 * width, 0.03 * height
    return box[0] > mx and box[1] > my and box[2] < width - mx and box[3] < height - my


@dataclass
class HeadCount:
    """How many people a lesson clip shows at most, over its sampled frames."""

    clip: str
    count: int = 0
    frames: int = 0
    at: float | None = None
    error: str | None = None


class LessonCounter:
    """Counts faces on a few frames spread over a lesson clip (tiled: small faces count too)."""

    def __init__(self, clip: str, engine: FaceEngine, duration: float, samples: int) -> None:
        self.engine = engine
        self.result = HeadCount(clip)
        n = max(1, samples)
        self.targets = [duration * (i + 0.5) / n for i in range(n)]

    def wants(self, time: float) -> bool:
        return bool(self.targets) and time >= self.targets[0]

    def feed(self, time: float, rgb: np.ndarray) -> None:
        while self.targets and time >= self.targets[0]:
            self.targets.pop(0)
        faces: list[Face] = self.engine.detect(rgb, tiled=True)
        self.result.frames += 1
        if len(faces) > self.result.count:
            self.result.count, self.result.at = len(faces), round(time, 1)

    def finish(self) -> HeadCount:
        return self.result
