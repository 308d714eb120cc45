"""When a clip was recorded: sources tried in order of trust, the first that knows wins.

Metadata is the fallback; the camera's on-screen clock (video_audit.clock, read by OCR on the
shared frame pass) goes in front of it in `default_sources()` when it is confident.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from video_audit.disc import Clip

# Tags in order of trust: Apple's creationdate carries the camera's own UTC offset; MP4's
# creation_time is UTC by the format's definition; "date" is what some muxers leave.
_TAGS = ("com.apple.quicktime.creationdate", "creation_time", "date")
_EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # 1904/1970 are unset camera clocks


@dataclass(frozen=True)
class RecordedAt:
    """A clip's recording start, aware, and the source that said so (a TERMS code)."""

    when: dt.datetime
    source: str


class TimeSource(Protocol):
    """One way of telling when a clip was recorded."""

    name: str

    def recorded_at(self, clip: Clip, passes: Mapping[str, Any]) -> dt.datetime | None:
        """The recording start (timezone-aware), or None when this source cannot tell.

        PASSES holds the frame-pass results of this clip by analyzer name.
        """
        ...


def parse_time(value: str) -> dt.datetime | None:
    """An ISO-like tag value as an aware time (naive values are UTC, as MP4 defines them)."""
    text = value.strip().replace("Z", "+00:00")
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)  # +0800 → +08:00
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when if when >= _EARLIEST else None


class MetadataTime:
    """The container's tags (as the frame pass saw them, else as probing did)."""

    name = "metadata"

    def recorded_at(self, clip: Clip, passes: Mapping[str, Any]) -> dt.datetime | None:
        picture = passes.get("picture")
        tags: dict[str, str] = dict(getattr(picture, "metadata", None) or {})
        if clip.media is not None and clip.media.creation_time and "creation_time" not in tags:
            tags["creation_time"] = clip.media.creation_time
        for tag in _TAGS:
            value = tags.get(tag)
            if value:
                when = parse_time(value)
                if when is not None:
                    return when
        return None


def default_sources() -> list[TimeSource]:
    """Sources in order of trust: the camera's on-screen clock, then metadata."""
    from video_audit.clock.analyzer import ClockTime

    return [ClockTime(), MetadataTime()]


def recorded_at(
    clip: Clip, passes: Mapping[str, Any], sources: list[TimeSource] | None = None
) -> RecordedAt | None:
    """The recording start by the most trusted source that knows."""
    for source in default_sources() if sources is None else sources:
        when = source.recorded_at(clip, passes)
        if when is not None:
            return RecordedAt(when, source.name)
    return None
