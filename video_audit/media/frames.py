"""One sparse decoding pass per clip, shared by every analyzer that needs pictures.

The pass demuxes every packet (cheap: it gives the stream's timestamps) and decodes only what
the analyzers asked for: keyframes when they come often enough, else whole groups of pictures
with a few frames a second kept. Each kept frame is reduced once (gray, optionally BGR) and
handed to every analyzer; decoding errors end the clip's pass with what was seen so far.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import av
import av.error
import cv2
import numpy as np

from video_audit.context import Progress
from video_audit.disc import Clip


@dataclass(frozen=True)
class Sampling:
    """What an analyzer needs from the pass."""

    every: float = 1.0
    """Seconds between kept frames: a grid from the clip's start (0 keeps every frame)."""
    keyframe_gap: float = 2.0
    """Keyframes alone are used while they come at least this often; longer groups are decoded
    (0 decodes everything and keeps the frames nearest the grid)."""
    width: int = 320
    """Width of the reduced images (height follows the display aspect)."""
    color: bool = False
    luma: bool = False
    """Also keep the frame's full-resolution luma plane (noise and sharpness measures)."""

    def merge(self, other: Sampling) -> Sampling:
        """The pass that serves both: the denser sampling, the larger picture."""
        return Sampling(
            every=min(self.every, other.every),
            keyframe_gap=min(self.keyframe_gap, other.keyframe_gap),
            width=max(self.width, other.width),
            color=self.color or other.color,
            luma=self.luma or other.luma,
        )


@dataclass
class SampledFrame:
    """One decoded frame, reduced: time in seconds from the clip's start.

    Valid only during the call that hands it over (the decoded picture is reused after).
    Its images are made on first use: analyzers that skip a frame pay nothing for it.
    """

    time: float
    pts: int | None
    keyframe: bool
    decoded: av.VideoFrame = field(repr=False)
    size: tuple[int, int]
    """The reduced size (width, height) of gray and rgb."""
    has_luma: bool = False
    """Whether an analyzer asked for full-resolution luma (Sampling.luma): `luma` is None if not."""
    has_color: bool = False
    """Whether an analyzer asked for colour (Sampling.color): `rgb` is None if not."""
    stored: tuple[int, int, float] = (0, 0, 1.0)
    """The stream's stored width, height and sample aspect ratio (for gray_at)."""
    _grays: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def gray(self) -> np.ndarray:
        """The picture's luma at the reduced size, 0–255 (made on first use)."""
        return self._gray(self.size)

    def gray_at(self, width: int) -> np.ndarray:
        """The luma reduced to WIDTH (height by the display aspect), as a pass of that width
        makes it: an analyzer gets the same picture whatever other analyzers share the pass."""
        stored_width, stored_height, aspect = self.stored
        if not stored_width:
            return self.gray
        return self._gray(_reduced(stored_width, stored_height, aspect, width))

    def _gray(self, size: tuple[int, int]) -> np.ndarray:
        if size[0] not in self._grays:
            y, limited = _y_plane(self.decoded)
            gray = cv2.resize(y, size, interpolation=cv2.INTER_AREA)
            self._grays[size[0]] = _full_range(gray) if limited else gray
        return self._grays[size[0]]

    @cached_property
    def rgb(self) -> np.ndarray | None:
        """The colour picture at the reduced size (made on first use: face analysis takes only
        some of the frames it asks for, as the camera pans or stands still)."""
        if not self.has_color:
            return None
        width, height = self.size
        # One C-contiguous array: FFmpeg pads rows (odd widths, 4:4:4 sources), and native face
        # code (dlib) refuses a padded view.
        rgb = self.decoded.reformat(width=width, height=height, format="rgb24").to_ndarray()
        return np.ascontiguousarray(rgb)

    @cached_property
    def luma(self) -> np.ndarray | None:
        """The full-resolution luma plane, 0–255 (made on first use: most analyzers skip it)."""
        if not self.has_luma:
            return None
        y, limited = _y_plane(self.decoded)
        return _full_range(y) if limited else np.array(y)


# 8-bit formats whose first plane is luma; "j" formats and JPEG-range frames use 0–255.
_Y8 = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21"}
_JPEG_RANGE = 2


def _y_plane(frame: av.VideoFrame) -> tuple[np.ndarray, bool]:
    """The luma plane without a copy where the format allows, and whether it is TV range."""
    name = frame.format.name
    if name not in _Y8:
        return frame.to_ndarray(format="gray"), False
    plane = frame.planes[0]
    rows = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
    limited = "j" not in name and frame.color_range != _JPEG_RANGE
    return rows[:, : plane.width], limited


def _full_range(y: np.ndarray) -> np.ndarray:
    """TV-range luma (16–235) stretched to 0–255, as a picture is shown."""
    return np.asarray(cv2.convertScaleAbs(y, alpha=255 / 219, beta=-16 * 255 / 219))


@dataclass
class Timeline:
    """What the demuxer saw: every packet's time, and the stream's own description."""

    time_base: Fraction
    rate: float | None
    start: float
    packet_times: np.ndarray
    """Presentation time (s, from start) of every video packet, in decode order."""
    decode_times: np.ndarray
    """Decode time (s, from start) of every packet that has one, in decode order."""
    keyframe_times: np.ndarray
    metadata: dict[str, str] = field(default_factory=dict)
    """Container and stream tags (creation_time and the like), stream tags last."""
    width: int = 0
    height: int = 0
    decoded: int = 0
    """Frames the decoder produced (kept or not): the cost of the pass."""
    error: str | None = None
    """Why the pass stopped early (a corrupt stream), else None."""


class ClipSink(Protocol):
    """An analyzer's view of one clip: frames in time order, then the timeline."""

    def add(self, frame: SampledFrame) -> None: ...

    def finish(self, timeline: Timeline) -> Any: ...


class FrameAnalyzer(Protocol):
    """Anything that consumes sampled frames: picture checks, faces, the on-screen clock."""

    name: str

    def sampling(self, clip: Clip) -> Sampling | None:
        """What this analyzer needs from CLIP, or None to skip it."""
        ...

    def begin(self, clip: Clip) -> ClipSink: ...


class _Decoder:
    """Feeds packets to the codec and keeps frames on the sampling grid."""

    def __init__(
        self,
        stream: av.video.stream.VideoStream,
        sampling: Sampling,
        start: float,
        emit: Callable[[SampledFrame], None],
    ) -> None:
        self.stream = stream
        self.sampling = sampling
        self.start = start
        self.emit = emit
        self.time_base = stream.time_base or Fraction(1, 90000)
        self.next_due = 0.0
        """The next grid time (a multiple of sampling.every) still without a frame."""
        rate = float(stream.average_rate or 0) or 25.0
        self.half_frame = 0.5 / rate
        self.decoded = 0
        width, height = stream.codec_context.width, stream.codec_context.height
        aspect = float(stream.sample_aspect_ratio or 1) or 1.0
        self.size = _reduced(width, height, aspect, sampling.width)
        self.stored = (width, height, aspect)

    def due(self, time: float, slack: float | None = None) -> bool:
        """Whether a frame at TIME fills the next grid point (keyframes may come early)."""
        every = self.sampling.every
        if every <= 0:
            return True
        return time >= self.next_due - (0.25 * every if slack is None else slack)

    def decode(self, packet: av.Packet | None) -> None:
        for frame in self.stream.decode(packet):
            self.decoded += 1
            if frame.pts is None:
                continue
            time = float(frame.pts * self.time_base) - self.start
            # Keyframes were chosen before decoding; other frames keep to the grid exactly, so
            # that two copies of one footage are sampled at the same moments.
            if self.due(time, None if frame.key_frame else self.half_frame):
                every = self.sampling.every
                if every > 0:
                    self.next_due = max(self.next_due + every, (time // every + 1) * every)
                self.emit(self._sample(frame, time))

    def _sample(self, frame: av.VideoFrame, time: float) -> SampledFrame:
        return SampledFrame(
            time,
            frame.pts,
            bool(frame.key_frame),
            frame,
            self.size,
            has_luma=self.sampling.luma,
            has_color=self.sampling.color,
            stored=self.stored,
        )


def _reduced(width: int, height: int, aspect: float, target: int) -> tuple[int, int]:
    shown = width * aspect
    if width <= 0 or height <= 0:
        return target, target * 3 // 4
    target = min(target, int(shown)) or int(shown)
    return max(2, target - target % 2), max(2, round(target * height / shown / 2) * 2)


def sample_clip(path: Path, sampling: Sampling, emit: Callable[[SampledFrame], None]) -> Timeline:
    """Decode PATH sparsely, calling EMIT for each kept frame; never raises for bad media."""
    times: list[float] = []
    dts: list[float] = []
    keys: list[float] = []
    try:
        container = av.open(str(path), metadata_errors="replace")
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
        return _failed(str(exc))
    with container:
        if not container.streams.video:
            return _failed("no video stream")
        stream = container.streams.video[0]
        time_base = stream.time_base or Fraction(1, 90000)
        start = float((stream.start_time or 0) * time_base)
        decoder = _Decoder(stream, sampling, start, emit)
        metadata = {**dict(container.metadata), **dict(stream.metadata)}
        rate = float(stream.average_rate) if stream.average_rate else None
        timeline = Timeline(time_base, rate, start, np.empty(0), np.empty(0), np.empty(0), metadata)
        timeline.width, timeline.height = stream.codec_context.width, stream.codec_context.height
        try:
            _run(container, stream, decoder, sampling, start, times, dts, keys)
        except (av.error.FFmpegError, ValueError, MemoryError, cv2.error) as exc:
            timeline.error = str(exc) or type(exc).__name__
        timeline.packet_times = np.asarray(times, dtype=np.float64)
        timeline.decode_times = np.asarray(dts, dtype=np.float64)
        timeline.keyframe_times = np.asarray(keys, dtype=np.float64)
        timeline.decoded = decoder.decoded
        return timeline


def _run(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    decoder: _Decoder,
    sampling: Sampling,
    start: float,
    times: list[float],
    dts: list[float],
    keys: list[float],
) -> None:
    time_base = float(stream.time_base or Fraction(1, 90000))
    group: list[av.Packet] = []  # the current group of pictures, keyframe first, not yet decoded
    group_start = 0.0
    group_open = False  # the group runs longer than keyframe_gap: decode all of it
    length = sampling.every  # of the last group closed
    full = sampling.every <= 0
    for packet in container.demux(stream):
        if packet.size == 0:  # the demuxer's final empty packet
            continue
        time = (packet.pts if packet.pts is not None else packet.dts or 0) * time_base - start
        times.append(time)
        if packet.dts is not None:
            dts.append(packet.dts * time_base - start)
        if full:
            if packet.is_keyframe:
                keys.append(time)
            decoder.decode(packet)
            continue
        if packet.is_keyframe:
            keys.append(time)
            # A keyframe may fill a grid point early, by up to half its group's length.
            if group:
                length = time - group_start
            slack = min(0.25 * sampling.every, 0.5 * length)
            if group and not group_open and decoder.due(group_start, slack):
                decoder.decode(group[0])
            group, group_start, group_open = [packet], time, False
        elif group_open:
            decoder.decode(packet)
        elif group:
            group.append(packet)
            if time - group_start > sampling.keyframe_gap:
                group_open = True
                for held in group:
                    decoder.decode(held)
                group = [group[0]]
        # Packets before the first keyframe cannot be decoded on their own: skipped.
    slack = min(0.25 * sampling.every, 0.5 * length)  # the last group: as long as the one before
    if group and not group_open and decoder.due(group_start, slack):
        decoder.decode(group[0])
    decoder.decode(None)


def _failed(error: str) -> Timeline:
    empty = np.empty(0)
    return Timeline(Fraction(1, 90000), None, 0.0, empty, empty, empty, error=error)


@dataclass
class ClipPass:
    """One clip's pass: each analyzer's result by name, and the timeline."""

    results: dict[str, Any]
    timeline: Timeline
    failures: dict[str, str] = field(default_factory=dict)
    """Analyzers that failed unexpectedly on this clip (name → one-line reason): their checks
    did not run for it, which the rules report (FM05) instead of passing the clip."""


def failure_text(exc: BaseException) -> str:
    """One line for an unexpected error: its kind and the first line of its text."""
    text = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def run_pass(clip: Clip, analyzers: Sequence[FrameAnalyzer]) -> ClipPass | None:
    """Decode CLIP once for every analyzer that wants it (None when none does).

    An analyzer that raises on this clip is dropped from the rest of its pass and named in
    `failures`; the other analyzers, and the other clips, go on. Never raises.
    """
    failures: dict[str, str] = {}
    sinks: dict[str, ClipSink] = {}
    wanted: list[tuple[FrameAnalyzer, Sampling]] = []
    for analyzer in analyzers:
        try:
            sampling = analyzer.sampling(clip)
            if sampling is not None:
                sinks[analyzer.name] = analyzer.begin(clip)
                wanted.append((analyzer, sampling))
        except Exception as exc:  # one analyzer's fault on one clip: reported, not fatal
            failures[analyzer.name] = failure_text(exc)
    if not wanted and not failures:
        return None
    merged = wanted[0][1] if wanted else Sampling()
    for _, other in wanted[1:]:
        merged = merged.merge(other)

    def emit(frame: SampledFrame) -> None:
        for name, sink in list(sinks.items()):
            try:
                sink.add(frame)
            except Exception as exc:
                failures[name] = failure_text(exc)
                del sinks[name]

    if sinks:
        try:
            timeline = sample_clip(clip.path, merged, emit)
        except Exception as exc:  # the decoding itself: every analyzer of this clip is lost
            failures.update({name: failure_text(exc) for name in sinks})
            sinks.clear()
            timeline = _failed(failure_text(exc))
    else:
        timeline = _failed("no analyzer")
    results: dict[str, Any] = {}
    for name, sink in sinks.items():
        try:
            results[name] = sink.finish(timeline)
        except Exception as exc:
            failures[name] = failure_text(exc)
    return ClipPass(results, timeline, failures)


def run_passes(
    clips: Iterable[Clip],
    analyzers: Sequence[FrameAnalyzer],
    threads: int = 2,
    progress: Progress | None = None,
) -> dict[str, ClipPass]:
    """The frame pass over CLIPS (each decoded once), by clip rel; a few clips at a time."""
    todo = list(clips)
    done: dict[str, ClipPass] = {}
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        for n, (clip, result) in enumerate(
            zip(todo, pool.map(lambda c: run_pass(c, analyzers), todo), strict=True), start=1
        ):
            if result is not None:
                done[clip.rel] = result
            if progress:
                progress(n, len(todo), clip.rel)
    return done


def results(passes: Mapping[str, ClipPass], name: str) -> Iterator[tuple[str, Any]]:
    """(clip rel, result) of one analyzer over a set of passes."""
    for rel, clip_pass in passes.items():
        if name in clip_pass.results:
            yield rel, clip_pass.results[name]
