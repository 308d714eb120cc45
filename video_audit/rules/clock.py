"""The camera's on-screen clock: QA06 (a lesson clip whose clock jumps or runs off pace) and
QA08 (a clock that cannot be read: an unread clock is a finding, never a silent pass).

QA07 from the clock needs no rule of its own: the clock is the first recording-time source of
video_audit.clock.recording_time, which the picture rules' QA07 consults.

QA08 and a class without any clock: some cameras draw none, so a class where no clip shows a
clock gets no QA08 (each clip's report line says 未找到画面时间 and QA07 uses metadata). A clip
without a clock is a finding once most of its class's clips, and at least [clock]
missing_min_clips of them (2), show one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from video_audit.clock import ClipClock, ClockConfig
from video_audit.clock.track import Jump
from video_audit.disc import ClassFolder
from video_audit.findings import Finding, finding
from video_audit.rules.format import clock as time_code

if TYPE_CHECKING:
    from video_audit.context import AuditContext


def _jump_text(jump: Jump) -> str:
    """3:12 10:05:12→09:12:40 (the date too when it changes): the same in every language."""
    a, b = jump.before_clock, jump.after_clock
    shown = "%Y-%m-%d %H:%M:%S" if a.date() != b.date() else "%H:%M:%S"
    return f"{time_code(jump.at)} {a:{shown}}→{b:{shown}}"


def clock_findings(rel: str, clock: ClipClock, config: ClockConfig) -> Iterator[Finding]:
    """QA06 for one lesson clip's clock (nothing when it has no trusted clock)."""
    if not clock.found or not clock.usable:
        return
    if clock.rate is not None:
        yield finding(
            "QA06",
            rel,
            "clock_rate",
            rate=clock.rate,
            threshold=config.track.rate_tolerance,
            start=clock.start.isoformat() if clock.start else None,
            end=clock.end.isoformat() if clock.end else None,
        )
    if clock.jumps:
        yield finding(
            "QA06",
            rel,
            "clock_jump",
            jumps=[_jump_text(j) for j in clock.jumps],
            threshold=config.track.tolerance_seconds,
            events=[
                {
                    "kind": "clock_back" if j.seconds < 0 else "clock_forward",
                    "at": round(j.at, 2),
                    "after": round(j.after, 2),
                    "seconds": j.seconds,
                    "before_clock": j.before_clock.isoformat(),
                    "after_clock": j.after_clock.isoformat(),
                }
                for j in clock.jumps
            ],
        )


def unread_findings(
    rel: str, clock: ClipClock, config: ClockConfig, others: int, without: int
) -> Iterator[Finding]:
    """QA08 for one clip: OTHERS clips of its class show a clock, WITHOUT others show none."""
    if clock.error:
        yield finding("QA08", rel, "reader_failed", error=clock.error)
    elif clock.seen:
        yield finding("QA08", rel, "unreadable", text=clock.text, region=clock.region)
    elif clock.found and not clock.usable:
        yield finding(
            "QA08",
            rel,
            "unsure",
            text=clock.text,
            confidence=clock.confidence,
            threshold=config.min_confidence,
        )
    elif not clock.found and others >= config.missing_min_clips and others > without:
        yield finding("QA08", rel, "missing", others=others, without=without)


def _class_clocks(cls: ClassFolder, passes: dict[str, Any]) -> dict[str, ClipClock]:
    """The clock result of each clip of CLS that the frame pass read."""
    clocks: dict[str, ClipClock] = {}
    for clip in cls.clips:
        clip_pass = passes.get(clip.rel)
        result = clip_pass.results.get("clock") if clip_pass is not None else None
        if isinstance(result, ClipClock):
            clocks[clip.rel] = result
    return clocks


def check(ctx: AuditContext) -> Iterator[Finding]:
    """QA06 clock findings of every lesson clip, QA08 of every clip, from the frame pass."""
    config = ClockConfig.from_profile(ctx.profile)
    passes = getattr(ctx, "frames", {}) or {}
    kinds = {clip.rel: clip.kind for clip in ctx.disc.clips}
    for cls in ctx.disc.classes:
        clocks = _class_clocks(cls, passes)
        showing = sum(c.found or c.seen for c in clocks.values())
        for rel, clock in clocks.items():
            if kinds.get(rel) == "lesson":
                yield from clock_findings(rel, clock, config)
            shows = clock.found or clock.seen
            others = showing - shows
            without = len(clocks) - showing - (not shows)
            yield from unread_findings(rel, clock, config, others, without)
