"""CT01–CT03: each day holds face-roll clips 1 and 2 and one lesson clip, once each."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from video_audit.findings import Finding, finding
from video_audit.naming import date_exists

if TYPE_CHECKING:
    from video_audit.context import AuditContext


def check(ctx: AuditContext) -> Iterator[Finding]:
    """Findings about which clips a day holds."""
    slots = ctx.profile.names.roll_slots
    for cls in ctx.disc.classes:
        for day in cls.days:
            claimed: dict[str, str] = {}
            for clip in day.clips:
                name = clip.name
                if name is None or (name.kind == "roll" and name.slot not in slots):
                    continue
                if not date_exists(day.date.year if day.date else None, name.month, name.day):
                    continue
                if name.slot_key in claimed:
                    yield finding(
                        "CT03",
                        clip.rel,
                        "duplicate",
                        other=claimed[name.slot_key],
                        slot_name=name.slot_key,
                    )
                else:
                    claimed[name.slot_key] = clip.filename
            for slot in slots:
                if f"roll{slot}" not in claimed:
                    yield finding("CT01", day.rel, "missing", slot=slot)
            if "lesson" not in claimed:
                yield finding("CT02", day.rel, "missing")
