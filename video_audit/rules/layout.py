"""LY01–LY05: the shape of the disc — class folders, day folders, and what does not belong."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from video_audit.findings import Finding, finding

if TYPE_CHECKING:
    from video_audit.context import AuditContext


def check(ctx: AuditContext) -> Iterator[Finding]:
    """Findings about folders, in walking order."""
    disc = ctx.disc
    if disc.kind == "root" and not disc.classes:
        yield finding("LY01", ".", "no_classes")
    for cls in disc.classes:
        if not cls.days:
            yield finding("LY01", cls.rel, "no_days")
        seen: dict[tuple[int, int, int], str] = {}
        for day in cls.days:
            if day.folder_date is None:
                yield finding("LY02", day.rel, "no_date", name=day.folder)
                continue
            if day.date is None:
                continue
            key = (day.date.year, day.date.month, day.date.day)
            if key in seen:
                yield finding("LY04", day.rel, "duplicate", other=seen[key], date=str(day.date))
            else:
                seen[key] = day.folder
    for stray in disc.strays:
        if stray.reason == "unreadable":
            yield finding("LY05", stray.rel, "unreadable", error=stray.error or "")
        else:
            yield finding("LY03", stray.rel, stray.reason)
