"""NM01–NM04: clip names against the Annex 4 schemes, their prefix and their date."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from video_audit.findings import Finding, finding
from video_audit.naming import canonical_stem, date_exists

if TYPE_CHECKING:
    from video_audit.context import AuditContext


def check(ctx: AuditContext) -> Iterator[Finding]:
    """Findings about clip names."""
    slots = ctx.profile.names.roll_slots
    for cls in ctx.disc.classes:
        prefix = cls.prefix
        for day in cls.days:
            for clip in day.clips:
                name = clip.name
                if name is None:
                    yield finding("NM01", clip.rel, "no_scheme", name=clip.filename)
                    continue
                year = day.date.year if day.date else None
                if name.kind == "roll" and name.slot not in slots:
                    yield finding("NM01", clip.rel, "bad_slot", slot=name.slot, allowed=list(slots))
                    continue
                if not date_exists(year, name.month, name.day):
                    yield finding("NM01", clip.rel, "bad_date", month=name.month, day=name.day)
                    continue
                if prefix is not None and name.prefix != prefix:
                    yield finding("NM02", clip.rel, "prefix", found=name.prefix, expected=prefix)
                if day.date and (name.month, name.day) != (day.date.month, day.date.day):
                    yield finding(
                        "NM03",
                        clip.rel,
                        "date",
                        found=name.date_text,
                        expected=f"{day.date.month}月{day.date.day}日",
                    )
                if name.fixes:
                    yield finding(
                        "NM04",
                        clip.rel,
                        "normalised",
                        fixes=list(name.fixes),
                        normalised=canonical_stem(name) + ".mp4",
                    )
