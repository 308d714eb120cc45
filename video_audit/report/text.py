"""The terminal report: what an inspector reads first, Chinese by default."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len

from video_audit.audit import AuditReport
from video_audit.faces.matrix import attendance_matrix, engine_line, words
from video_audit.findings import Finding
from video_audit.naming import visible
from video_audit.report.details import remedy
from video_audit.report.matrix import (
    CellState,
    by_severity,
    day_rows,
    disc_level,
    outside_days,
    year_note,
)
from video_audit.report.texts import t

MARK: dict[str, str] = {"error": "✗", "warning": "!", "info": "·"}
CELL: dict[CellState, str] = {"ok": "✓", "warning": "!", "error": "✗", "missing": "—"}


def _relative(path: str, base: str) -> str:
    if base in (".", "") or path == base:
        return path if path != base else "."
    return path[len(base) + 1 :] if path.startswith(base + "/") else path


def _pad(text: str, width: int) -> str:
    """Pad to a terminal width, counting a Chinese character as two columns."""
    return text + " " * max(0, width - cell_len(text))


def _finding_lines(
    findings: list[Finding], base: str, lang: str, indent: str, clocks: dict[str, str] | None = None
) -> list[str]:
    lines = []
    for f in findings:
        where = _relative(f.path, base)
        if where == ".":
            where = f.path.rsplit("/", 1)[-1] if f.path != "." else t(lang, "path")
        shown = ""
        if clocks and f.path in clocks:
            shown = f"（{clocks[f.path]}）" if lang == "zh" else f" ({clocks[f.path]})"
        sep = "：" if lang == "zh" else ": "
        lines.append(f"{indent}{MARK[f.severity]} {f.code} {f.rule.title[lang]}{sep}{where}{shown}")
        lines.append(f"{indent}    {f.message(lang)}")
    return lines


def _counts(summary: dict[str, int | str], lang: str) -> str:
    verdict = t(lang, str(summary["verdict"]))
    return (
        f"{verdict}（{t(lang, 'errors')} {summary['errors']}，{t(lang, 'warnings')} "
        f"{summary['warnings']}）"
        if lang == "zh"
        else f"{verdict} ({summary['errors']} {t(lang, 'errors')}, "
        f"{summary['warnings']} {t(lang, 'warnings')})"
    )


ATTENDANCE_MARK = {
    "present": "✓",
    "confirmed_present": "☑",
    "review": "?",
    "absent": "✗",
    "not_seen": "·",
    "no_footage": "—",
}


def _mark(cell: dict[str, Any]) -> str:
    """✓ present by the machine, ☑ present by an inspector's decision, ? ✗ · — the others."""
    if cell["state"] == "present" and cell.get("decided"):
        return ATTENDANCE_MARK["confirmed_present"]
    return ATTENDANCE_MARK.get(cell["state"], "?")


def _is_date(text: str) -> bool:
    return len(text) == 10 and text[4] == "-" and text[7] == "-"


def _remedy_lines(findings: list[Finding], lang: str) -> list[str]:
    """What to do, once per rule found in the class (the catalogue's remedy)."""
    sep = "：" if lang == "zh" else ": "
    lines: list[str] = []
    seen: set[str] = set()
    for f in by_severity(findings):
        if f.code in seen or not (text := remedy(f, lang)):
            continue
        seen.add(f.code)
        lines.append(f"  {MARK[f.severity]} {f.code} {f.rule.title[lang]}{sep}{text}")
    return ["", f"  {t(lang, 'remedies')}", *lines] if lines else []


def _attendance_lines(attendance: Any, lang: str) -> list[str]:
    """The attendance matrix: one line per roster person, one mark per day."""
    matrix = attendance_matrix(attendance, lang)
    if matrix is None:
        return []
    w = words(lang)
    sep = "：" if lang == "zh" else ": "
    legend = "  ".join(f"{mark} {w[state]}" for state, mark in ATTENDANCE_MARK.items())
    machine = f"（{w['machine']}）" if lang == "zh" else f" ({w['machine']})"
    legend = legend.replace(w["present"], w["present"] + machine, 1)
    # A date column as 05-21; an undated day by its folder's own name (第三天), never cut.
    days = [
        str(c)[5:] if _is_date(str(c)) else str(c).rsplit("/", 1)[-1] for c in matrix["columns"]
    ]
    width = max([7, *(cell_len(d) + 2 for d in days)])
    engine, advice = engine_line(attendance, lang)
    out = [
        "",
        f"  {t(lang, 'attendance')} · {t(lang, 'engine')}{sep}{engine}",
        *([f"  {advice}"] if advice else []),
        f"  {legend}",
        "  " + _pad("", 36) + "".join(_pad(d, width) for d in days),
    ]
    for row in matrix["rows"]:
        who = f"{row['name']} {row['id']} {row['role']}"
        marks = "".join(_pad(_mark(c), width) for c in row["cells"])
        out.append("  " + _pad(who, 36) + marks.rstrip())
    for key, cases in (("review", matrix["reviews"]), ("unknowns", matrix["unknowns"])):
        if cases:
            out.append(f"  {w[key]}{sep}{len(cases)}")
        if key == "review":  # one line per decision an inspector owes: who it may be, and why
            for case in cases:
                names = "、".join(f"{c['name']} {c['id']}".strip() for c in case["candidates"])
                why = f" — {case['reason']}" if case.get("reason") else ""
                out.append(f"    {case['day']}{sep}{names}{why}")
    if matrix["decisions"]:  # who decided what, on which days (☑ in the matrix)
        out.append(f"  {w['decisions']}{sep}{len(matrix['decisions'])}")
        for case in matrix["decisions"]:
            who = f"{case['who']} · " if case["who"] else ""
            out.append(f"    {case['day']}{sep}{who}{case['note']}")
    return out


def render(report: AuditReport, lang: str = "zh") -> str:
    """The whole report as plain text."""
    sep = "：" if lang == "zh" else ": "
    out = [
        t(lang, "title"),
        f"{t(lang, 'standard')}{sep}{report.profile.name(lang)}",
        f"{t(lang, 'path')}{sep}{report.root}",
        f"{t(lang, 'audited_at')}{sep}{report.finished:%Y-%m-%d %H:%M:%S}",
        f"{t(lang, 'verdict')}{sep}{_counts(report.summary, lang)}",
    ]
    # Each decoded clip's recorded time range from its on-screen clock, beside its findings.
    clocks = {rel: c.label(lang) for rel, c in report.extras.get("clock", {}).items()}
    loose = disc_level(report)
    if loose:
        out += ["", t(lang, "disc_findings"), *_finding_lines(loose, ".", lang, "  ")]
        out += _remedy_lines(loose, lang)
    for cls in report.disc.classes:
        found = report.class_findings(cls)
        summary = {
            "errors": sum(f.severity == "error" for f in found),
            "warnings": sum(f.severity == "warning" for f in found),
            "verdict": "fail" if any(f.severity == "error" for f in found) else "pass",
        }
        out += ["", "=" * 72, f"{t(lang, 'class')}{sep}{cls.folder}", _counts(summary, lang)]
        if note := year_note(cls, lang):
            out.append(note)
        head = [t(lang, "day"), t(lang, "roll1"), t(lang, "roll2"), t(lang, "lesson")]
        widths = [12, 8, 8, 8]
        out.append("  " + "".join(_pad(h, w) for h, w in zip(head, widths, strict=True)))
        rows = day_rows(report, cls)
        for row in rows:
            date = row.day.date.isoformat() if row.day.date else t(lang, "no_date")
            cells = [_pad(CELL[c.state], w) for c, w in zip(row.cells, widths[1:], strict=False)]
            out.append("  " + _pad(date, widths[0]) + "".join(cells) + row.day.folder)
        out += _attendance_lines(report.attendance(cls), lang)
        base = cls.rel
        extra = outside_days(report, cls)
        if extra:
            out += ["", f"  {t(lang, 'class_findings')}"]
            out += _finding_lines(extra, base, lang, "  ", clocks)
        for row in rows:
            if row.findings:
                out += ["", f"  [{row.day.folder}]"]
                out += _finding_lines(row.findings, row.day.rel, lang, "  ", clocks)
        if not found:
            out += ["", f"  {t(lang, 'no_findings')}"]
        out += _remedy_lines(found, lang)
    # Whatever a disc or roster put in (names, OCR text) prints as it is, never as a terminal
    # command or a line break of its own.
    return "\n".join(visible(line) for line in "\n".join(out).split("\n")) + "\n"
