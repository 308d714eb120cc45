"""Following a clip's clock through its kept crops: few reads, misreads voted out, jumps located.

Every kept crop is a frame's clock region at a known stream time. For one continuous recording
the clock minus the stream time (the *offset*) stays constant. The tracker reads a coarse grid
of crops, and where two neighbouring reads disagree it bisects between them until the change
sits between two adjacent crops: a jump, with its time code. A reading that agrees with
neither neighbour and cannot be confirmed by the crop beside it is a misread and is dropped;
only runs of at least two consistent readings are trusted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from statistics import median

import numpy as np

from video_audit.clock.ocr import OcrEngine
from video_audit.clock.parse import ClockText, parse_clock

_EPOCH = dt.datetime(2000, 1, 1)


@dataclass(frozen=True)
class TrackRules:
    """How the tracker reads (from the profile's [clock] section)."""

    read_seconds: float = 60.0
    tolerance_seconds: float = 3.0
    rate_tolerance: float = 0.05
    min_score: float = 0.6
    max_reads: int = 40


@dataclass(frozen=True)
class Reading:
    """One OCR read of the crop kept at stream TIME."""

    index: int
    time: float
    text: str
    score: float
    clock: ClockText | None

    @property
    def value(self) -> dt.datetime:
        assert self.clock is not None
        return self.clock.value

    @property
    def offset(self) -> float:
        """Clock minus stream time, in seconds (constant along one continuous recording)."""
        return (self.value - _EPOCH).total_seconds() - self.time


@dataclass(frozen=True)
class Jump:
    """The clock's change between two adjacent trusted readings."""

    after: float
    """Stream time of the last reading before the jump."""
    at: float
    """Stream time of the first reading after it (the jump lies in between)."""
    before_clock: dt.datetime
    after_clock: dt.datetime
    seconds: float
    """How far the clock moved beyond the stream time (negative: backwards)."""


@dataclass
class Track:
    """What the tracker made of one clip's crops."""

    trusted: list[Reading] = field(default_factory=list)
    segments: list[list[Reading]] = field(default_factory=list)
    jumps: list[Jump] = field(default_factory=list)
    rate: float | None = None
    """Clock seconds per stream second, when it is off by more than the tolerance."""
    reads: int = 0
    valid: int = 0
    score: float = 0.0

    @property
    def confidence(self) -> float:
        """Share of reads that ended up trusted, times their median OCR score."""
        if not self.reads or not self.trusted:
            return 0.0
        return round(min(1.0, len(self.trusted) / self.reads) * self.score, 3)


class ClockTracker:
    """Reads one clip's kept crops lazily and builds its Track."""

    def __init__(
        self,
        times: Sequence[float],
        crops: Sequence[np.ndarray],
        engine: OcrEngine,
        rules: TrackRules,
        prefer: tuple[int, int] | None = None,
        known: dict[int, tuple[str, float]] | None = None,
    ) -> None:
        self.times = list(times)
        self.crops = list(crops)
        self.engine = engine
        self.rules = rules
        self.prefer = prefer
        """(month, day) the clip's name claims: settles a day/month-ambiguous date."""
        self.cache: dict[int, Reading] = {}
        self.order: str | None = None
        """"dmy" once ambiguous dates of this clip are known to be day first."""
        self._known = dict(known or {})
        self.reads = 0

    # -- reading ---------------------------------------------------------------------------
    def read_many(self, indices: Sequence[int]) -> list[Reading]:
        todo = [i for i in dict.fromkeys(indices) if i not in self.cache]
        fresh = [i for i in todo if i not in self._known]
        budget = max(0, self.rules.max_reads - self.reads)
        fresh = fresh[:budget]
        if fresh:
            results = self.engine.read([self.crops[i] for i in fresh])
            self.reads += len(fresh)
            for i, (text, score) in zip(fresh, results, strict=True):
                self._store(i, text, score)
        for i in todo:
            if i in self._known and i not in self.cache:
                self.reads += 1
                self._store(i, *self._known.pop(i))
        return [self.cache[i] for i in indices if i in self.cache]

    def read(self, index: int) -> Reading | None:
        found = self.read_many([index])
        return found[0] if found else None

    def _store(self, index: int, text: str, score: float) -> None:
        clock = parse_clock(text) if score >= self.rules.min_score else None
        if clock is not None and clock.swapped is not None and self.order == "dmy":
            clock = ClockText(clock.swapped, "dmy", clock.hours12, clock.weekday)
        self.cache[index] = Reading(index, self.times[index], text, score, clock)

    def _usable(self, reading: Reading | None) -> bool:
        return reading is not None and reading.clock is not None

    # -- the track -------------------------------------------------------------------------
    def grid(self) -> list[int]:
        """Crop indices of the coarse reads: the first, one every read_seconds, the last."""
        if not self.times:
            return []
        picked, due = [], self.times[0]
        for i, t in enumerate(self.times):
            if t >= due:
                picked.append(i)
                due = t + self.rules.read_seconds
        if picked[-1] != len(self.times) - 1:
            picked.append(len(self.times) - 1)
        return picked

    def run(self) -> Track:
        coarse = [r for r in self.read_many(self.grid()) if self._usable(r)]
        if len(coarse) < 2:
            coarse = self._second_chance(coarse)
        self._resolve_order()
        coarse = [self.cache[r.index] for r in coarse]
        track = Track()
        rate = self._rate(coarse)
        if rate is None:
            coarse = self._drop_lone(coarse)
            for a, b in pairwise(coarse):
                if not self._agree(a, b):
                    self._bisect(a, b)
            self._confirm_singles()
        readings = sorted(
            (r for r in self.cache.values() if self._usable(r)), key=lambda r: r.index
        )
        if rate is None:
            segments = [s for s in _segments(readings, self.rules.tolerance_seconds) if len(s) >= 2]
            segments = _merge(segments, self.rules.tolerance_seconds)
        else:  # one recording played at the wrong pace: readings follow a line of that slope
            segments = [
                s for s in [_on_line(readings, rate, self.rules.tolerance_seconds)] if len(s) >= 2
            ]
        track.segments = segments
        track.trusted = [r for s in segments for r in s]
        track.rate = rate
        track.reads = self.reads
        track.valid = len(readings)
        track.score = median(r.score for r in track.trusted) if track.trusted else 0.0
        for first, second in pairwise(segments):
            a, b = first[-1], second[0]
            track.jumps.append(
                Jump(a.time, b.time, a.value, b.value, round(b.offset - a.offset, 1))
            )
        return track

    def _second_chance(self, coarse: list[Reading]) -> list[Reading]:
        """Fewer than two coarse reads were usable: read beside them, then across the clip.

        A short clip's grid is its first and last crop; one misread there would leave nothing
        to trust, and an unread clock is a finding the inspector has to chase.
        """
        beside = [i for r in coarse for i in (r.index + 1, r.index - 1)]
        spread = np.linspace(0, len(self.crops) - 1, num=min(len(self.crops), 8)).round()
        order = [i for i in dict.fromkeys([*beside, *spread.astype(int).tolist()])]
        for i in order:
            if len([r for r in self.cache.values() if self._usable(r)]) >= 2:
                break
            if 0 <= i < len(self.crops) and i not in self.cache:
                self.read(i)
        return sorted((r for r in self.cache.values() if self._usable(r)), key=lambda r: r.index)

    def _drop_lone(self, coarse: list[Reading]) -> list[Reading]:
        """Coarse reads at odds with both agreeing neighbours, unless the crop beside agrees.

        One read beside a lone outlier settles most misreads without a bisection each way.
        """
        kept = list(coarse)
        for k in range(len(coarse) - 2, 0, -1):
            before, r, after = coarse[k - 1], coarse[k], coarse[k + 1]
            if self._agree(before, after) and not self._agree(before, r):
                beside = self.read(r.index + 1) if r.index + 1 < after.index else None
                if beside is not None and beside.clock is not None and self._agree(beside, before):
                    kept.remove(r)
        return kept

    def _agree(self, a: Reading, b: Reading) -> bool:
        return abs(a.offset - b.offset) <= self.rules.tolerance_seconds

    def _bisect(self, a: Reading, b: Reading) -> None:
        """Narrow the change between A and B down to adjacent crops (misreads recurse apart)."""
        while b.index - a.index > 1 and self.reads < self.rules.max_reads:
            middle = self._read_between(a.index, b.index)
            if middle is None:
                return
            if self._agree(middle, a):
                a = middle
            elif self._agree(middle, b):
                b = middle
            else:
                self._bisect(a, middle)
                a = middle

    def _read_between(self, lo: int, hi: int) -> Reading | None:
        """A usable reading strictly between LO and HI, nearest the middle (None: none readable)."""
        mid = (lo + hi) // 2
        for step in range(hi - lo):
            for i in (mid - step, mid + step) if step else (mid,):
                if lo < i < hi and self.reads < self.rules.max_reads:
                    reading = self.read(i)
                    if self._usable(reading):
                        return reading
            if step >= 2:  # three unreadable crops in a row: the clock is hidden here
                return None
        return None

    def _confirm_singles(self) -> None:
        """Read beside each reading that agrees with neither neighbour: a jump or a misread."""
        readings = sorted(
            (r for r in self.cache.values() if self._usable(r)), key=lambda r: r.index
        )
        for k, r in enumerate(readings):
            left = readings[k - 1] if k else None
            right = readings[k + 1] if k + 1 < len(readings) else None
            if any(n is not None and self._agree(n, r) for n in (left, right)):
                continue
            for i in (r.index + 1, r.index - 1):
                if 0 <= i < len(self.crops) and i not in self.cache:
                    self.read(i)

    def _rate(self, coarse: list[Reading]) -> float | None:
        """The clock's speed against the stream when it is steadily off (slowed or sped-up)."""
        pairs = [(a, b) for a, b in pairwise(coarse) if b.time - a.time >= 20]
        if len(pairs) < 3:
            return None
        slopes = [(b.value - a.value).total_seconds() / (b.time - a.time) for a, b in pairs]
        middle = median(slopes)
        steady = [s for s in slopes if abs(s - middle) <= self.rules.rate_tolerance]
        if abs(middle - 1) > self.rules.rate_tolerance and len(steady) * 3 >= len(slopes) * 2:
            return round(middle, 3)
        return None

    def _resolve_order(self) -> None:
        """Settle day/month-ambiguous dates (05-06-2024) the same way across the clip."""
        readings = [r for r in self.cache.values() if r.clock is not None]
        orders = {r.clock.order for r in readings if r.clock and r.clock.swapped is None}
        if not any(r.clock and r.clock.swapped for r in readings):
            return
        if orders & {"mdy", "dmy"}:
            order = "dmy" if "dmy" in orders else "mdy"
        elif self.prefer and any(
            r.clock
            and r.clock.swapped
            and (r.clock.swapped.month, r.clock.swapped.day) == self.prefer
            for r in readings
        ):
            order = "dmy"
        else:
            order = "mdy"
        self.order = order
        if order == "mdy":
            return
        for r in readings:
            if r.clock and r.clock.swapped:
                swapped = ClockText(r.clock.swapped, "dmy", r.clock.hours12, r.clock.weekday)
                self.cache[r.index] = Reading(r.index, r.time, r.text, r.score, swapped)


def _segments(readings: list[Reading], tolerance: float) -> list[list[Reading]]:
    segments: list[list[Reading]] = []
    for r in readings:
        if segments and abs(segments[-1][-1].offset - r.offset) <= tolerance:
            segments[-1].append(r)
        else:
            segments.append([r])
    return segments


def _on_line(readings: list[Reading], rate: float, tolerance: float) -> list[Reading]:
    """The readings within TOLERANCE of the best line of slope RATE through them."""
    clock = [(r.value - _EPOCH).total_seconds() for r in readings]
    base = median(c - rate * r.time for c, r in zip(clock, readings, strict=True))
    return [
        r
        for c, r in zip(clock, readings, strict=True)
        if abs(c - base - rate * r.time) <= tolerance
    ]


def _merge(segments: list[list[Reading]], tolerance: float) -> list[list[Reading]]:
    """Join neighbouring segments that agree (a dropped misread had split them)."""
    merged: list[list[Reading]] = []
    for s in segments:
        if merged and abs(merged[-1][-1].offset - s[0].offset) <= tolerance:
            merged[-1].extend(s)
        else:
            merged.append(list(s))
    return merged
