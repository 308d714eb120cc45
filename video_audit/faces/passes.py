"""Face analysis as analyzers of the shared frame pass (media.frames): no second decode."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import cv2
import numpy as np

from video_audit.disc import Clip
from video_audit.faces.analysis import HeadCount, LessonCounter, RollAnalyzer, RollResult
from video_audit.faces.attendance import embed_best
from video_audit.faces.engine import FaceEngine
from video_audit.faces.settings import FaceSettings
from video_audit.media.frames import SampledFrame, Sampling, Timeline


def upright(image: np.ndarray, rotation: int) -> np.ndarray:
    """The picture as it is shown: phone clips carry a display rotation (degrees counter-clockwise,
    as PyAV reports it; -90, i.e. 270, for a phone held upright) and faces lie on their side
    until it is applied. The frame pass decodes stored pixels, so faces apply it themselves."""
    turns = (rotation % 360) // 90
    return np.ascontiguousarray(np.rot90(image, turns)) if turns else image


def _rotation(clip: Clip) -> int:
    return clip.media.rotation if clip.media else 0


class RollSink:
    """One face-roll clip: colour frames at the roll step, fed to a RollAnalyzer."""

    def __init__(self, clip: Clip, engine: FaceEngine, settings: FaceSettings) -> None:
        self.analyzer = RollAnalyzer(clip.rel, engine, settings.roll)
        self.rotation = _rotation(clip)
        self.width = clip.media.width if clip.media and clip.media.width else 0

    def add(self, frame: SampledFrame) -> None:
        if not self.analyzer.wants(frame.time):
            return
        rgb = frame.rgb
        if rgb is not None:
            if self.width:
                self.analyzer.pixel_scale = max(1.0, self.width / rgb.shape[1])
            self.analyzer.feed(frame.time, upright(rgb, self.rotation))

    def finish(self, timeline: Timeline) -> RollResult:
        result = self.analyzer.finish()
        result.error = timeline.error
        # A head start only: if it fails, attendance embeds (and reports the failure) later.
        with contextlib.suppress(Exception):
            embed_best(result, self.analyzer.engine)
        return result


class LessonSink:
    """One lesson clip: a few full-resolution grey frames spread over it, heads counted."""

    def __init__(self, clip: Clip, engine: FaceEngine, settings: FaceSettings) -> None:
        duration = (clip.media.duration if clip.media else None) or 1.0
        self.counter = LessonCounter(clip.rel, engine, duration, settings.lesson_samples)
        self.rotation = _rotation(clip)

    def add(self, frame: SampledFrame) -> None:
        if frame.luma is not None and self.counter.wants(frame.time):
            self.counter.feed(frame.time, upright(_rgb(frame.luma), self.rotation))

    def finish(self, timeline: Timeline) -> HeadCount:
        result = self.counter.finish()
        result.error = timeline.error
        return result


def _rgb(luma: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(cv2.cvtColor(luma, cv2.COLOR_GRAY2RGB))


@dataclass
class FaceAnalyzer:
    """The frame-pass analyzer for the clips of classes with a roster."""

    engine: FaceEngine
    settings: FaceSettings
    rolls: set[str]
    lessons: set[str]
    frame_width: int = 1024
    name: str = "faces"

    def sampling(self, clip: Clip) -> Sampling | None:
        if clip.rel in self.rolls:
            step = self.settings.roll.min_step
            return Sampling(every=step, keyframe_gap=step, width=self.frame_width, color=True)
        if clip.rel in self.lessons:
            duration = (clip.media.duration if clip.media else None) or 1.0
            every = duration / max(1, self.settings.lesson_samples) / 2
            return Sampling(every=every, keyframe_gap=max(every, 2.0), width=320, luma=True)
        return None

    def begin(self, clip: Clip) -> RollSink | LessonSink:
        if clip.rel in self.rolls:
            return RollSink(clip, self.engine, self.settings)
        return LessonSink(clip, self.engine, self.settings)
