"""Exact-frame grab for spot-check screenshots: the frame on screen at a time, decoded by PyAV."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

# A player paused on a frame may report a time a hair before that frame's start (floating point,
# rounding to milliseconds); this much slack keeps us on the frame the inspector sees.
TOLERANCE = Fraction(1, 1000)


class ScreenshotError(Exception):
    """The frame could not be grabbed: unreadable file, no video, time outside the clip.
    REASON says which for people: unreadable, no_video, before_start or past_end."""

    def __init__(self, message: str, reason: str = "unreadable") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Grab:
    """One decoded frame: its picture (RGB, H×W×3), its pts and time, and the clip's length."""

    image: np.ndarray
    pts: int
    time_base: Fraction
    time: float
    duration: float | None

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])


_CLOCK = re.compile(r"^(?:(?:(\d+):)?(\d{1,2}):)?(\d+(?:\.\d+)?)$")


def parse_time(text: str) -> float:
    """Seconds from '75.5', '1:15.5' or '0:01:15.5'; ValueError otherwise."""
    m = _CLOCK.match(text.strip())
    if not m:
        raise ValueError(f"not a time: {text!r} (use seconds, MM:SS or HH:MM:SS)")
    hours, minutes, seconds = m.group(1), m.group(2), m.group(3)
    if minutes is not None and float(seconds) >= 60:
        raise ValueError(f"not a time: {text!r} (seconds must be under 60)")
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds)


def time_code(seconds: float) -> str:
    """HH:MM:SS.mmm, the form printed on captions and in the evidence log."""
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def grab(path: Path, at: float) -> Grab:
    """The frame displayed at `at` seconds from the clip's start (last frame with pts ≤ at).

    Seeks to the keyframe before the target and decodes forward, so the result is the same
    frame a full decode from the start would give, at the cost of one GOP at most.
    """
    if at < 0:
        raise ScreenshotError(f"{path}: time {at} is before the start of the clip", "before_start")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as exc:
        raise ScreenshotError(f"{path}: cannot open ({exc})") from exc
    with container:
        if not container.streams.video:
            raise ScreenshotError(f"{path}: no video stream", "no_video")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if stream.time_base is None:
            raise ScreenshotError(f"{path}: video stream has no time base")
        tb = Fraction(stream.time_base)
        start = stream.start_time or 0
        duration = float(stream.duration * tb) if stream.duration else None
        if duration is None and container.duration:
            duration = container.duration / 1_000_000
        if duration is not None and at >= duration:
            raise ScreenshotError(
                f"{path}：时刻 {time_code(at)} 已超出视频结尾（视频长 {time_code(duration)}）"
                f" / time {time_code(at)} is past the end of the clip ({time_code(duration)})",
                "past_end",
            )
        target = start + int((Fraction(at) + TOLERANCE) / tb)
        chosen = None
        ran_out = True  # decoding ended before any frame past the target
        try:
            container.seek(max(target, start), stream=stream, backward=True, any_frame=False)
            for frame in container.decode(stream):
                if frame.pts is None:
                    continue
                if frame.pts > target:
                    ran_out = False
                    if chosen is None:  # a target before the first frame: the first
                        chosen = frame
                    break
                chosen = frame
        except av.FFmpegError as exc:
            raise ScreenshotError(f"{path}：无法解码 / cannot decode ({exc})") from exc
        if chosen is None or chosen.pts is None:
            at_text = time_code(at)
            raise ScreenshotError(f"{path}：{at_text} 处没有画面 / no frame at {at_text}")
        rate = stream.average_rate
        shown_until = (chosen.pts - start) * tb + (1 / Fraction(rate) if rate else 0) + TOLERANCE
        if ran_out and Fraction(at) > shown_until:
            raise ScreenshotError(
                f"{path}：时刻 {time_code(at)} 已超出视频结尾 / time {time_code(at)} is past"
                " the end of the clip",
                "past_end",
            )
        image: np.ndarray = chosen.to_ndarray(format="rgb24")
        # The picture as players show it: a display matrix (phones, some recorders) turns it.
        # PyAV gives the counter-clockwise angle (-90 = a quarter turn clockwise), like np.rot90.
        turns = round(int(getattr(chosen, "rotation", 0) or 0) / 90) % 4
        if turns:
            image = np.ascontiguousarray(np.rot90(image, k=turns))
        return Grab(
            image=image,
            pts=int(chosen.pts),
            time_base=tb,
            time=float((chosen.pts - start) * tb),
            duration=duration,
        )
