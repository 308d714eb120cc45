"""A standalone decoding pass driving one face analyzer (tests, bench); audits use the shared
frame pass instead (video_audit.media.frames, with faces.passes)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import av
import numpy as np


class Analyzer(Protocol):
    def wants(self, time: float) -> bool: ...

    def feed(self, time: float, rgb: np.ndarray) -> None: ...


def drive(path: Path, analyzer: Analyzer, *, keyframes_only: bool = False) -> str | None:
    """Decode PATH, handing the frames the analyzer wants to it; returns an error or None.

    keyframes_only skips everything but keyframes (lesson clips: minutes long, a few frames
    needed). Frames are converted to RGB only when wanted, which is most of the cost saved.
    """
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return "no video stream"
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            if keyframes_only:
                stream.codec_context.skip_frame = "NONKEY"
            base = stream.time_base
            for frame in container.decode(stream):
                if frame.pts is None or base is None:
                    continue
                time = float(frame.pts * base)
                if analyzer.wants(time):
                    analyzer.feed(time, frame.to_ndarray(format="rgb24"))
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return None
