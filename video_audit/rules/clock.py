"""QA06 from the camera's on-screen clock: a lesson clip whose clock jumps or runs off pace.

QA07 from the clock needs no rule of its own: the clock is the first recording-time source of
video_audit.clock.recording_time, which the picture rules' QA07 consults.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from video_audit.clock import ClipClock, ClockConfig
from video_audit.clock.track import Jump
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


def check(ctx: AuditContext) -> Iterator[Finding]:
    """QA06 clock findings of every lesson clip decoded by the frame pass."""
    config = ClockConfig.from_profile(ctx.profile)
    passes = getattr(ctx, "frames", {}) or {}
    for clip in ctx.disc.clips:
        clip_pass = passes.get(clip.rel)
        result = clip_pass.results.get("clock") if clip_pass is not None else None
        if clip.kind == "lesson" and isinstance(result, ClipClock):
            yield from clock_findings(clip.rel, result, config)
