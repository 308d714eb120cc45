"""FM01–FM04: container by content, display resolution, lesson duration, decodability.

FM04 comes from the probe, or from the shared frame pass for a clip that probed fine but
failed to decode (its picture result carries the error).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from video_audit.findings import Finding, finding

if TYPE_CHECKING:
    from video_audit.context import AuditContext
    from video_audit.media.frames import ClipPass
    from video_audit.picture.measures import ClipPicture
    from video_audit.standard import FormatRules

CONTAINER_NAMES = {"mp4": "MP4", "mov": "MOV (QuickTime)", "avi": "AVI", "matroska": "MKV"}


def clock(seconds: float) -> str:
    """Seconds as H:MM:SS or M:SS."""
    total = round(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def check(ctx: AuditContext) -> Iterator[Finding]:
    """Findings from each clip's probe (and, for FM04, its frame pass)."""
    fmt = ctx.profile.format
    yield from failures(ctx)
    for clip in ctx.disc.clips:
        media = clip.media
        if media is None:
            continue
        if media.container and media.container != fmt.container and media.problem != "no_video":
            yield finding(
                "FM01",
                clip.rel,
                "container",
                found=CONTAINER_NAMES.get(media.container, media.container.upper()),
                expected=CONTAINER_NAMES.get(fmt.container, fmt.container.upper()),
                container=media.container,
            )
        if media.problem:
            details: dict[str, object] = {"error": media.error or "", "size": media.size}
            ago = media.modified_seconds_ago
            if ago is not None and ago < fmt.recently_modified_seconds:
                details["modified_seconds_ago"] = ago
            if media.problem == "oversized":
                details |= {"width": media.width, "height": media.height}
            yield finding("FM04", clip.rel, media.problem, **details)
            continue
        clip_pass = ctx.frames.get(clip.rel)
        picture: ClipPicture | None = (
            clip_pass.results.get("picture") if clip_pass is not None else None
        )
        if picture is not None and picture.error is not None:  # probed fine, failed to decode
            at = clock(float(picture.times[-1])) if picture.times.size else clock(0)
            yield finding("FM04", clip.rel, "corrupt", error=f"{at}: {picture.error}")
        size = media.display_size
        if size and (size[0] < fmt.min_width or size[1] < fmt.min_height):
            yield finding(
                "FM02",
                clip.rel,
                "resolution",
                width=size[0],
                height=size[1],
                min_width=fmt.min_width,
                min_height=fmt.min_height,
                rotation=media.rotation,
            )
        duration = media.duration
        real = real_duration(clip_pass)
        if real is not None:
            yield from _implausible(clip.rel, real, clip_pass, fmt)
            if duration is not None and _claim_off(duration, real, fmt):
                yield finding(
                    "FM06",
                    clip.rel,
                    "duration",
                    claimed=clock(duration),
                    actual=clock(real),
                    claimed_seconds=round(duration, 2),
                    actual_seconds=round(real, 2),
                    tolerance=fmt.header_duration_tolerance,
                )
            duration = real
        if clip.kind == "lesson" and duration is not None and duration < fmt.min_lesson_seconds:
            yield finding(
                "FM03",
                clip.rel,
                "short",
                duration=clock(duration),
                minimum=clock(fmt.min_lesson_seconds),
                duration_seconds=round(duration, 2),
                minimum_seconds=fmt.min_lesson_seconds,
            )


def real_duration(clip_pass: ClipPass | None) -> float | None:
    """How long the pictures really last, from every packet the frame pass demuxed (None when
    the pass did not read the whole clip): a header can claim anything."""
    if clip_pass is None or clip_pass.timeline.error is not None:
        return None
    times = np.sort(clip_pass.timeline.packet_times)
    if times.size < 2:
        return None
    step = float(np.median(np.diff(times)))  # the last picture lasts as long as most do
    return float(times[-1] - times[0]) + step


def _implausible(
    rel: str, real: float, clip_pass: ClipPass | None, fmt: FormatRules
) -> Iterator[Finding]:
    """Lengths no recording of one day can have: longer than a day, or barely any pictures."""
    if real > fmt.max_clip_seconds:
        yield finding(
            "FM06",
            rel,
            "too_long",
            actual=clock(real),
            maximum=clock(fmt.max_clip_seconds),
            actual_seconds=round(real, 2),
            maximum_seconds=fmt.max_clip_seconds,
        )
        return
    frames = clip_pass.timeline.packet_times.size if clip_pass is not None else 0
    rate = frames / real if real > 0 else 0.0
    if rate < fmt.min_frame_rate:
        yield finding(
            "FM06",
            rel,
            "sparse",
            frames=frames,
            actual=clock(real),
            rate=f"{rate:.2g}",
            minimum=fmt.min_frame_rate,
            actual_seconds=round(real, 2),
        )


def _claim_off(claimed: float, real: float, fmt: FormatRules) -> bool:
    off = abs(claimed - real)
    return off > fmt.header_duration_slack and off > fmt.header_duration_tolerance * real


def failures(ctx: AuditContext) -> Iterator[Finding]:
    """FM05 for every analyzer that failed unexpectedly on a clip: that check did not run."""
    for clip in ctx.disc.clips:
        clip_pass = ctx.frames.get(clip.rel)
        if clip_pass is None:
            continue
        for name, error in sorted(clip_pass.failures.items()):
            yield finding("FM05", clip.rel, "analysis", check=f"check_{name}", error=error)
