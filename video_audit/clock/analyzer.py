"""The on-screen clock as an analyzer of the shared frame pass, and as a recording-time source.

Per clip: on the first sampled frames the text detector finds the line whose text reads as a
date and time (the OSD clock; found once, cameras keep it in place); later frames only have
that region cut out and kept. When the pass ends the tracker reads a few of those crops
(recognition only, cheap) and tells when the clock started and ended, how sure it is, and
whether it ran with the stream.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import cv2
import numpy as np

from video_audit.clock.ocr import OcrEngine, OcrError, RapidOcr, TextBox
from video_audit.clock.parse import normalise, parse_clock, parse_zone
from video_audit.clock.track import ClockTracker, Jump, Track, TrackRules
from video_audit.disc import Clip
from video_audit.media.frames import SampledFrame, Sampling, Timeline
from video_audit.standard import Profile, section_values

_CHINA = dt.timezone(dt.timedelta(hours=8))
_MAX_HELD = 1200  # crops kept per clip (~30 MB at most); longer clips keep them sparser
_EDGE = 0.15  # share of the frame's height searched again at full resolution, top and bottom
_SAME_HEIGHT = 1.5  # boxes of one text line differ in height by at most this factor
# Two digits, a time or date separator, a digit: what a clock line shows however OCR mangles it.
_CLOCKISH = re.compile(r"\d\s*[:;/.\-年月]\s*\d")


@dataclass(frozen=True)
class ClockConfig:
    """The profile's [clock] section (defaults are the shipped profile's)."""

    enabled: bool = True
    find_attempts: int = 3
    find_every: float = 5.0
    detect_width: int = 768
    max_lines: int = 8
    hold_seconds: float = 1.0
    min_confidence: float = 0.6
    track: TrackRules = field(default_factory=TrackRules)
    timezone: dt.tzinfo = _CHINA
    threads: int = 1
    missing_min_clips: int = 2
    """QA08 `missing`: a clip without a clock is reported when at least this many other clips of
    its class show one, and they outnumber the clips without."""

    @classmethod
    def from_profile(cls, profile: Profile) -> ClockConfig:
        raw = profile.section("clock")
        base = cls()
        zone_text = profile.section("picture").get("timezone")
        try:
            zone = parse_zone(str(zone_text)) if zone_text else base.timezone
        except ValueError as exc:
            raise ValueError(f"{profile.source} [picture]: {exc}") from exc
        values = section_values(
            raw,
            cls,
            {
                "enabled": "enabled",
                "find_attempts": "find_attempts",
                "find_every": "find_every_seconds",
                "detect_width": "detect_width",
                "max_lines": "max_lines",
                "hold_seconds": "hold_seconds",
                "min_confidence": "min_confidence",
                "threads": "threads",
                "missing_min_clips": "missing_min_clips",
            },
        )
        track_keys = (
            "read_seconds",
            "tolerance_seconds",
            "rate_tolerance",
            "min_score",
            "max_reads",
        )
        track = TrackRules(**section_values(raw, TrackRules, track_keys))
        return cls(**values, track=track, timezone=zone)


@dataclass
class ClipClock:
    """What the clock of one clip said (found False: no readable on-screen clock).

    Three states an inspector tells apart: found (read and followed), seen (a clock-like line
    is in the picture but could not be read into a time: `text` and `region` say where), and
    neither (no clock in the picture, or none the detector noticed).
    """

    found: bool
    seen: bool = False
    """Not found, but a line that looks like a clock was there (unreadable: a finding, QA08)."""
    start: dt.datetime | None = None
    """The clock at the clip's first frame (aware, the profile's time zone)."""
    end: dt.datetime | None = None
    """The clock at the clip's last frame."""
    confidence: float = 0.0
    usable: bool = False
    """Confident enough to date the clip (QA07 prefers it to metadata then)."""
    text: str = ""
    """One reading as OCR gave it, for the inspector to compare with the picture."""
    region: list[int] = field(default_factory=list)
    reads: int = 0
    jumps: list[Jump] = field(default_factory=list)
    rate: float | None = None
    error: str | None = None

    source = "clock"

    def to_dict(self) -> dict[str, Any]:
        """clips[].clock of the JSON report."""
        if not self.found:
            out: dict[str, Any] = {"found": False}
            if self.seen:
                out.update(seen=True, text=self.text, region=self.region, reads=self.reads)
            if self.error:
                out["error"] = self.error
            return out
        return {
            "found": True,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "confidence": self.confidence,
            "used": self.usable,
            "source": self.source,
            "text": self.text,
            "region": self.region,
            "reads": self.reads,
            "continuous": self.rate is None and not self.jumps,
            "rate": self.rate,
            "jumps": [
                {
                    "after": round(j.after, 2),
                    "at": round(j.at, 2),
                    "before_clock": j.before_clock.isoformat(),
                    "after_clock": j.after_clock.isoformat(),
                    "seconds": j.seconds,
                }
                for j in self.jumps
            ],
        }

    def label(self, lang: str = "zh") -> str:
        """Beside the clip in a report: 画面时间：2024-05-24 09:31–09:41, or 未找到画面时间."""
        from video_audit.report.texts import t

        if not self.found:
            return t(lang, "clock_unreadable" if self.seen or self.error else "no_clock")
        sep = "：" if lang == "zh" else ": "
        return f"{t(lang, 'clock_span')}{sep}{self.span()}"

    def span(self) -> str:
        """The recorded range as an inspector reads it: 09:31–09:41 (dates when they differ)."""
        if not self.found or self.start is None or self.end is None:
            return ""
        first, last = self.start, self.end
        if first.replace(second=0) == last.replace(second=0):  # a short clip: to the second
            return f"{first:%Y-%m-%d %H:%M:%S}–{last:%H:%M:%S}"
        if first.date() == last.date():
            return f"{first:%Y-%m-%d %H:%M}–{last:%H:%M}"
        return f"{first:%Y-%m-%d %H:%M}–{last:%Y-%m-%d %H:%M}"


def _lines(boxes: list[TextBox]) -> list[TextBox]:
    """Boxes on one text line, close together, joined (det may split date, weekday and time).

    Only boxes of about the same height join: a clock beside a taller block of text (a poster,
    a caption) must stay a line of its own, or the joined crop reads as neither.
    """
    lines: list[TextBox] = []
    for box in sorted(boxes, key=lambda b: b.x0):
        for k, line in enumerate(lines):
            low, tall = sorted((line.height, box.height))
            overlap = min(line.y1, box.y1) - max(line.y0, box.y0)
            gap = box.x0 - line.x1
            if tall <= _SAME_HEIGHT * low and overlap >= 0.6 * low and gap <= 2.5 * tall:
                lines[k] = line.union(box)
                break
        else:
            lines.append(box)
    return lines


def clock_like(text: str) -> bool:
    """Text that looks like a clock even if it does not read as one (digits, : or - between)."""
    text = normalise(text)
    digits = sum(ch.isdigit() for ch in text)
    return digits >= 6 and bool(_CLOCKISH.search(text))


@dataclass(frozen=True)
class ClockRegion:
    """Where the clock is drawn: one text line, or a date line above a time line.

    Two stacked lines are cut out and set side by side, so the recogniser (and the tracker)
    reads them as the one line "2024-05-24 09:31:05".
    """

    boxes: tuple[TextBox, ...]

    def crop(self, image: np.ndarray) -> np.ndarray:
        parts = [b.crop(image) for b in self.boxes]
        if len(parts) == 1:
            return parts[0]
        high = max(p.shape[0] for p in parts)
        parts = [
            p
            if p.shape[0] == high
            else cv2.resize(p, (max(1, round(p.shape[1] * high / max(p.shape[0], 1))), high))
            for p in parts
        ]
        gap = np.full((high, max(2, high // 2)), int(np.median(parts[0])), np.uint8)
        return np.hstack([parts[0], gap, *parts[1:]])

    def to_list(self) -> list[int]:
        union = self.boxes[0]
        for box in self.boxes[1:]:
            union = union.union(box)
        return union.to_list()


def _stacked(lines: list[TextBox]) -> list[tuple[TextBox, TextBox]]:
    """Pairs of lines one right above the other, alike in height: a date over a time."""
    pairs = []
    for upper in lines:
        for lower in lines:
            low, tall = sorted((upper.height, lower.height))
            gap = lower.y0 - upper.y1
            overlap = min(upper.x1, lower.x1) - max(upper.x0, lower.x0)
            narrow = min(upper.x1 - upper.x0, lower.x1 - lower.x0)
            if (
                upper is not lower
                and tall <= _SAME_HEIGHT * low
                and -0.3 * low <= gap <= 1.5 * tall
                and overlap >= 0.3 * narrow
            ):
                pairs.append((upper, lower))
    return pairs


class ClockSink:
    """One clip: find the clock region early, keep its crop from each later sampled frame."""

    def __init__(self, analyzer: ClockAnalyzer, clip: Clip) -> None:
        self.analyzer = analyzer
        self.config = analyzer.config
        self.clip = clip
        self.region: ClockRegion | None = None
        self.attempts = 0
        self.next_attempt = 0.0
        self.times: list[float] = []
        self.crops: list[np.ndarray] = []
        self.first: tuple[str, float] | None = None
        self.seen: tuple[str, float, ClockRegion] | None = None
        """The best clock-like line that did not read as a time (text, score, region)."""
        self.error: str | None = None
        self._next_keep = 0.0
        self.hold = self.config.hold_seconds

    def add(self, frame: SampledFrame) -> None:
        if self.error is not None:
            return
        image = frame.luma if frame.luma is not None else frame.gray
        if self.region is None:
            if self.attempts >= self.config.find_attempts or frame.time < self.next_attempt:
                return
            self.attempts += 1
            self.next_attempt = frame.time + self.config.find_every
            try:
                self._find(image)
            except OcrError as exc:
                self.error = str(exc)
                return
            if self.region is None:
                return
        if frame.time + 1e-6 < self._next_keep:
            return
        if len(self.crops) >= _MAX_HELD:  # a long recording: keep every other crop from now on
            self.times, self.crops = self.times[::2], self.crops[::2]
            self.hold *= 2
        self._next_keep = frame.time + 0.95 * self.hold
        self.times.append(frame.time)
        self.crops.append(np.ascontiguousarray(self.region.crop(image)))

    def _find(self, image: np.ndarray) -> None:
        height = image.shape[0]
        boxes = self.analyzer.engine.detect(image, self.config.detect_width)
        # OSD clocks sit near the top or bottom edge: look there first.
        lines = sorted(_lines(boxes), key=lambda b: min(b.y0, height - b.y1))[
            : self.config.max_lines
        ]
        if self._try(image, [(line,) for line in lines]):
            return
        # Nothing read as a clock: the boxes a line was joined from, each alone (a clock the
        # joining put together with the text beside it), and a date line over a time line.
        parts = [(b,) for line in lines for b in boxes if b != line and line.union(b) == line]
        if self._try(image, parts[: self.config.max_lines]):
            return
        if self._try(image, _stacked(lines)[: self.config.max_lines]):
            return
        # Faint text (light on a light wall, thin strokes) the downscaled frame lost: the
        # edge strips where OSD clocks sit, at full resolution (small, so cheap).
        strip = max(48, round(height * _EDGE))
        for y0 in (0, max(0, height - strip)):
            found = self.analyzer.engine.detect(image[y0 : y0 + strip], image.shape[1])
            edge = [TextBox(b.x0, b.y0 + y0, b.x1, b.y1 + y0) for b in found]
            if self._try(image, [(line,) for line in _lines(edge)][: self.config.max_lines]):
                return

    def _try(self, image: np.ndarray, candidates: Sequence[tuple[TextBox, ...]]) -> bool:
        """Read CANDIDATES; keep the best that reads as a clock (True), note a clock-like one."""
        if not candidates:
            return False
        height, width = image.shape[:2]
        regions = [ClockRegion(tuple(b.padded(width, height) for b in c)) for c in candidates]
        best: tuple[float, ClockRegion, str] | None = None
        retry: list[ClockRegion] = []
        for k, (region, (text, score)) in enumerate(
            zip(regions, self.analyzer.engine.read([r.crop(image) for r in regions]), strict=True)
        ):
            if score >= self.config.track.min_score and parse_clock(text) is not None:
                if best is None or score > best[0]:
                    best = (score, region, text)
            elif clock_like(text):
                if self.seen is None or score > self.seen[1]:
                    self.seen = (text, score, region)
                tight = tuple(b.padded(width, height, tight=True) for b in candidates[k])
                retry.append(ClockRegion(tight))
        if best is None and retry:  # a clock that read with a stray stroke: read it tighter
            for region, (text, score) in zip(
                retry, self.analyzer.engine.read([r.crop(image) for r in retry]), strict=True
            ):
                reads = score >= self.config.track.min_score and parse_clock(text) is not None
                if reads and (best is None or score > best[0]):
                    best = (score, region, text)
        if best is None:
            return False
        self.region = best[1]
        self.first = (best[2], best[0])
        return True

    def finish(self, timeline: Timeline) -> ClipClock:
        if self.error is not None:
            return ClipClock(found=False, error=self.error)
        if self.region is None or not self.crops:
            if self.seen is not None:
                text, _, region = self.seen
                return ClipClock(found=False, seen=True, text=text.strip(), region=region.to_list())
            return ClipClock(found=False)
        name = self.clip.name
        prefer = (name.month, name.day) if name and name.month and name.day else None
        tracker = ClockTracker(
            self.times,
            self.crops,
            self.analyzer.engine,
            self.config.track,
            prefer=prefer,
            known={0: self.first} if self.first else None,
        )
        try:
            track = tracker.run()
        except OcrError as exc:
            return ClipClock(found=False, error=str(exc))
        return self._result(track, timeline)

    def _result(self, track: Track, timeline: Timeline) -> ClipClock:
        if not track.trusted:  # the clock was found, but no two reads of it agree
            assert self.region is not None
            text = self.first[0].strip() if self.first else ""
            return ClipClock(
                found=False, seen=True, text=text, region=self.region.to_list(), reads=track.reads
            )
        zone = self.config.timezone
        first, last = track.trusted[0], track.trusted[-1]
        duration = float(timeline.packet_times.max()) if timeline.packet_times.size else last.time
        start = first.value - dt.timedelta(seconds=round(first.time))
        end = last.value + dt.timedelta(seconds=round(max(0.0, duration - last.time)))
        confidence = track.confidence
        assert self.region is not None
        return ClipClock(
            found=True,
            start=start.replace(tzinfo=zone),
            end=end.replace(tzinfo=zone),
            confidence=confidence,
            usable=confidence >= self.config.min_confidence,
            text=first.text.strip(),
            region=self.region.to_list(),
            reads=track.reads,
            jumps=track.jumps,
            rate=track.rate,
        )


@cache
def shared_engine(threads: int = 1) -> RapidOcr:
    """One OCR engine per process: its models load once, on first use."""
    return RapidOcr(threads=threads)


class ClockAnalyzer:
    """The clock's view of the shared frame pass."""

    name = "clock"

    def __init__(self, config: ClockConfig, engine: OcrEngine | None = None) -> None:
        self.config = config
        self.engine: OcrEngine = engine or shared_engine(config.threads)

    def sampling(self, clip: Clip) -> Sampling | None:
        if not self.config.enabled or clip.media is None or clip.media.problem is not None:
            return None
        # The width yields to other analyzers: the clock only needs the full-resolution luma.
        every = self.config.hold_seconds
        return Sampling(every=every, keyframe_gap=max(2.0, 2 * every), width=64, luma=True)

    def begin(self, clip: Clip) -> ClockSink:
        return ClockSink(self, clip)


class ClockTime:
    """Recording-time source: the start of a clip's on-screen clock, when confident."""

    name = "clock"

    def recorded_at(self, clip: Clip, passes: Mapping[str, Any]) -> dt.datetime | None:
        clock = passes.get("clock")
        if isinstance(clock, ClipClock) and clock.found and clock.usable:
            return clock.start
        return None
