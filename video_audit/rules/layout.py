"""LY01–LY05: the shape of the disc — class folders, day folders, and what does not belong;
NM05: the year the day folders were dated in, where the disc's own evidence doubts it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING

from video_audit.disc import ClassFolder
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
        yield from _years(cls, ctx.settings.year)
    for stray in disc.strays:
        if stray.reason == "unreadable":
            yield finding("LY05", stray.rel, "unreadable", error=stray.error or "")
        else:
            yield finding("LY03", stray.rel, stray.reason)


def _years(cls: ClassFolder, option: int | None) -> Iterator[Finding]:
    """NM05 where the year the days were dated in is doubtful: the clip names' prefixes name
    other years than the folders (or --year) do, or nothing named a year at all."""
    named = cls.names_year
    if len(cls.names_years) > 1:
        years = sorted(cls.names_years.items(), key=lambda yc: (-yc[1], yc[0]))
        yield finding(
            "NM05", cls.rel, "names_differ", years=", ".join(f"{y} ({n})" for y, n in years)
        )
    sources = {day.year_source for day in cls.days}
    if named is not None and cls.year is not None and cls.year != named:
        yield finding("NM05", cls.rel, "class_folder", year=cls.year, names=named)
    if named is not None and "option" in sources and option is not None and option != named:
        yield finding("NM05", cls.rel, "option", year=option, names=named)
    for day in cls.days:
        year = day.folder_date.year if day.folder_date else None
        if named is not None and year is not None and year != named:
            yield finding("NM05", day.rel, "day_folder", year=year, names=named)
    assumed = [day for day in cls.days if day.year_source == "assumed"]
    if assumed:
        year = next((d.date.year for d in assumed if d.date), dt.date.today().year)
        folders = [day.folder for day in assumed]
        yield finding("NM05", cls.rel, "assumed", year=year, days=len(assumed), folders=folders)
