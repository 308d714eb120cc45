"""The per-day view every renderer shares: one row per day, one cell per slot."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from video_audit.audit import AuditReport
from video_audit.disc import ClassFolder, Clip, Day
from video_audit.findings import Finding
from video_audit.report.texts import t

CellState = Literal["ok", "warning", "error", "missing"]


@dataclass
class Cell:
    """One slot of one day (face-roll 1, face-roll 2, lesson)."""

    slot: str
    state: CellState
    clips: list[Clip] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)


@dataclass
class DayRow:
    """One day of a class: its cells and every finding inside the day folder."""

    day: Day
    cells: list[Cell]
    findings: list[Finding]

    @property
    def state(self) -> CellState:
        if any(f.severity == "error" for f in self.findings):
            return "error"
        if any(f.severity == "warning" for f in self.findings):
            return "warning"
        return "ok"


def slots(report: AuditReport) -> list[str]:
    """Slot keys in report order: roll1, roll2 (per the profile), lesson."""
    return [f"roll{n}" for n in report.profile.names.roll_slots] + ["lesson"]


def day_rows(report: AuditReport, cls: ClassFolder) -> list[DayRow]:
    """The class's days in date order (undated days last, by folder name)."""
    ordered = sorted(cls.days, key=lambda d: (d.date is None, d.date or 0, d.folder))
    rows = []
    for day in ordered:
        in_day = by_severity(report.day_findings(day))
        cells = []
        for slot in slots(report):
            clips = [c for c in day.clips if c.name and c.name.slot_key == slot]
            codes = sorted({f.code for f in in_day if any(f.path == c.rel for c in clips)})
            severities = {f.severity for f in in_day if any(f.path == c.rel for c in clips)}
            missing = not clips or any(f.path == day.rel and _slot_of(f) == slot for f in in_day)
            state: CellState
            if missing:
                state = "missing"
            elif "error" in severities:
                state = "error"
            elif "warning" in severities:
                state = "warning"
            else:
                state = "ok"
            cells.append(Cell(slot, state, clips, codes))
        rows.append(DayRow(day, cells, in_day))
    return rows


_RANK = {"error": 0, "warning": 1, "info": 2}


def by_severity(findings: list[Finding]) -> list[Finding]:
    """Errors first, then warnings, then notes; the path order kept within each."""
    return sorted(findings, key=lambda f: _RANK.get(f.severity, 3))


def _slot_of(finding: Finding) -> str | None:
    if finding.code == "CT01":
        return f"roll{finding.details.get('slot')}"
    if finding.code == "CT02":
        return "lesson"
    return None


def outside_days(report: AuditReport, cls: ClassFolder) -> list[Finding]:
    """Findings of a class that belong to no day folder (the class folder itself, strays)."""
    in_days = {id(f) for d in cls.days for f in report.day_findings(d)}
    return by_severity([f for f in report.class_findings(cls) if id(f) not in in_days])


def disc_level(report: AuditReport) -> list[Finding]:
    """Findings that belong to no class (the disc root and what lies loose in it)."""
    if any(c.rel == "." for c in report.disc.classes):
        return []
    in_classes = {id(f) for c in report.disc.classes for f in report.class_findings(c)}
    return by_severity([f for f in report.findings if id(f) not in in_classes])


def year_note(cls: ClassFolder, lang: str) -> str | None:
    """Where the year of day folders named without one came from, when no folder name gave it
    (the reader must know a 2024 was read from clip names, or merely assumed)."""
    sources = {
        (d.year_source, d.date.year) for d in cls.days if d.date is not None and d.year_source
    }
    shown = sorted((s, y) for s, y in sources if s not in ("folder", "class"))
    if not shown:
        return None
    sep = "、" if lang == "zh" else "; "
    return t(
        lang,
        "year_from",
        sources=sep.join(t(lang, f"year_source_{s}", year=y) for s, y in shown),
    )
