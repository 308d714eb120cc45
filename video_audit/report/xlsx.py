"""The XLSX report: findings, per-day matrix and summary sheets for an inspector's spreadsheet."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from rich.cells import cell_len

from video_audit.audit import AuditReport
from video_audit.disc import ClassFolder, Day
from video_audit.faces.matrix import add_attendance_sheet, attendance_matrix, words
from video_audit.findings import Finding, catalogue
from video_audit.report.details import details_text, remedy
from video_audit.report.html import cell_mark, relative
from video_audit.report.matrix import day_rows, disc_level, outside_days, slots
from video_audit.report.texts import t
from video_audit.spreadsheet import keep_text_everywhere, put

FILLS = {
    "error": PatternFill("solid", fgColor="FDE2E1"),
    "warning": PatternFill("solid", fgColor="FFF2CC"),
    "ok": PatternFill("solid", fgColor="E2F0D9"),
    "missing": PatternFill("solid", fgColor="EADCF8"),
    "pass": PatternFill("solid", fgColor="E2F0D9"),
    "fail": PatternFill("solid", fgColor="FDE2E1"),
}
HEADER_FILL = PatternFill("solid", fgColor="1D4E89")
HEADER_FONT = Font(bold=True, color="FFFFFF")
THIN = Side(style="thin", color="C9D1DB")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
MAX_WIDTH = 60


def _put(ws: Worksheet, row: int, col: int, value: Any) -> Any:
    """Write one cell; text is kept as text (a file named "=…" is never a formula)."""
    cell = put(ws, row, col, value)
    cell.border = BORDER
    cell.alignment = WRAP
    return cell


def _table(
    ws: Worksheet, top: int, headers: list[str], rows: Iterable[list[Any]]
) -> tuple[int, list[int]]:
    """Header row at `top`, then rows; returns the last row written and each column's width."""
    widths = [cell_len(h) for h in headers]
    for col, text in enumerate(headers, start=1):
        cell = _put(ws, top, col, text)
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
    last = top
    for values in rows:
        last += 1
        for col, value in enumerate(values, start=1):
            _put(ws, last, col, value)
            text = value.isoformat() if hasattr(value, "isoformat") else str(value or "")
            widths[col - 1] = max(widths[col - 1], cell_len(text))
    return last, widths


def _fit(ws: Worksheet, widths: list[int]) -> None:
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = min(MAX_WIDTH, width + 2)


def _day_value(day: Day | None, lang: str) -> Any:
    if day is None:
        return ""
    if day.date:
        return day.date
    return (
        f"{t(lang, 'no_date')}（{day.folder}）"
        if lang == "zh"
        else f"{t(lang, 'no_date')} ({day.folder})"
    )


def _finding_rows(report: AuditReport, lang: str) -> list[tuple[Finding, list[Any]]]:
    def row(f: Finding, cls: ClassFolder | None, day: Day | None) -> tuple[Finding, list[Any]]:
        base = cls.rel if cls else "."
        return f, [
            cls.folder if cls else t(lang, "disc_root"),
            _day_value(day, lang),
            relative(f.path, base, lang, in_class=cls is not None),
            t(lang, f"severity_{f.severity}"),
            f.code,
            f.rule.title.get(lang) or f.rule.title["en"],
            f.message(lang),
            details_text(f, lang),
            remedy(f, lang),
        ]

    rows = [row(f, None, None) for f in disc_level(report)]
    for cls in report.disc.classes:
        rows += [row(f, cls, None) for f in outside_days(report, cls)]
        for day_row in day_rows(report, cls):
            rows += [row(f, cls, day_row.day) for f in day_row.findings]
    return rows


def _findings_sheet(ws: Worksheet, report: AuditReport, lang: str) -> None:
    headers = [
        t(lang, k)
        for k in ("class", "day", "file", "severity", "code", "rule", "reason", "details", "remedy")
    ]
    rows = _finding_rows(report, lang)
    last, widths = _table(ws, 1, headers, [values for _, values in rows])
    for n, (finding, _) in enumerate(rows, start=2):
        fill = FILLS.get(finding.severity)
        for col in range(1, len(headers) + 1):
            if fill:
                ws.cell(row=n, column=col).fill = fill
        ws.cell(row=n, column=2).number_format = "yyyy-mm-dd"
    widths[1] = max(widths[1], 12)
    _fit(ws, widths)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{max(last, 1)}"


def _matrix_sheet(ws: Worksheet, report: AuditReport, lang: str) -> None:
    keys = slots(report)
    headers = [t(lang, k) for k in ("class", "day", "folder", *keys, "errors", "warnings")]
    rows: list[list[Any]] = []
    states: list[list[str]] = []
    for cls in report.disc.classes:
        for day_row in day_rows(report, cls):
            marks = [" ".join([cell_mark(c, lang), *c.codes]) for c in day_row.cells]
            rows.append(
                [
                    cls.folder,
                    _day_value(day_row.day, lang),
                    day_row.day.folder,
                    *marks,
                    sum(f.severity == "error" for f in day_row.findings),
                    sum(f.severity == "warning" for f in day_row.findings),
                ]
            )
            states.append([c.state for c in day_row.cells])
    last, widths = _table(ws, 1, headers, rows)
    for n, row_states in enumerate(states, start=2):
        ws.cell(row=n, column=2).number_format = "yyyy-mm-dd"
        for offset, state in enumerate(row_states):
            cell = ws.cell(row=n, column=4 + offset)
            cell.fill = FILLS[state]
            cell.alignment = Alignment(horizontal="center", vertical="top", wrap_text=True)
    widths[1] = max(widths[1], 12)
    _fit(ws, widths)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{max(last, 1)}"


def _summary_sheet(ws: Worksheet, report: AuditReport, lang: str) -> None:
    summary = report.summary
    facts = [
        (t(lang, "title"), ""),
        (t(lang, "standard"), report.profile.name(lang)),
        (t(lang, "path"), str(report.root)),
        (t(lang, "audited_at"), f"{report.finished:%Y-%m-%d %H:%M:%S}"),
        (t(lang, "verdict"), t(lang, summary["verdict"])),
        (t(lang, "errors"), summary["errors"]),
        (t(lang, "warnings"), summary["warnings"]),
    ]
    for n, (key, value) in enumerate(facts, start=1):
        _put(ws, n, 1, key).font = Font(bold=True)
        _put(ws, n, 2, value)
    ws.cell(row=1, column=1).font = Font(bold=True, size=14, color="1D4E89")
    ws.cell(row=5, column=2).fill = FILLS[summary["verdict"]]
    widths = [max(cell_len(str(k)) for k, _ in facts), max(cell_len(str(v)) for _, v in facts)]

    top = len(facts) + 2
    classes = [(c["folder"], c["summary"]) for c in report.to_dict(lang)["classes"]]
    class_rows = [
        [folder, t(lang, s["verdict"]), s["errors"], s["warnings"]] for folder, s in classes
    ]
    headers = [t(lang, k) for k in ("class", "verdict", "errors", "warnings")]
    last, class_widths = _table(ws, top, headers, class_rows)
    for n, (_, class_summary) in enumerate(classes, start=top + 1):
        ws.cell(row=n, column=2).fill = FILLS[class_summary["verdict"]]

    top = last + 2
    counts = Counter(f.code for f in report.findings)
    rule_rows = [
        [
            code,
            rule.title.get(lang) or rule.title["en"],
            t(lang, f"severity_{rule.severity}"),
            counts.get(code, 0),
        ]
        for code, rule in catalogue().items()
    ]
    headers = [t(lang, k) for k in ("code", "rule", "severity", "count")]
    _, rule_widths = _table(ws, top, headers, rule_rows)
    for n, (code, rule) in enumerate(catalogue().items(), start=top + 1):
        fill = FILLS.get(rule.severity)
        if counts.get(code) and fill:
            for col in range(1, 5):
                ws.cell(row=n, column=col).fill = fill
    merged = [
        max(a, b, c) for a, b, c in zip([*widths, 0, 0], class_widths, rule_widths, strict=True)
    ]
    _fit(ws, merged)


def _attendance_days_sheet(wb: Workbook, data: dict[str, Any], lang: str) -> None:
    """Attendance as data, one row per person and day: the state in one column (到课, 到课（人工
    确认）, 待核实, 缺勤, 无视频), machine or inspector in the next, the reason in the last, so an
    inspector can filter and count. Names always beside the masked ID. Not added without faces."""
    w = words(lang)
    rows: list[list[Any]] = []
    states: list[str] = []
    for cls in data.get("classes") or []:
        m = attendance_matrix(cls.get("attendance"), lang)
        if m is None:
            continue
        for person in m["rows"]:
            for column, cell in zip(m["columns"], person["cells"], strict=True):
                judged = w["confirmed"] if cell.get("decided") else ""
                if cell["state"] == "present" and not judged:
                    judged = w["machine"]
                rows.append(
                    [
                        cls.get("folder") or cls.get("path"),
                        person["name"],
                        person["id"],
                        person["role"],
                        column,
                        cell["label"],
                        judged,
                        cell["basis"],
                    ]
                )
                states.append("confirmed" if cell.get("decided") else cell["state"])
    if not rows:
        return
    ws = wb.create_sheet(w["attendance_by_day"])
    headers = [t(lang, "class"), w["person"], w["masked_id"], w["role"], t(lang, "day")]
    headers += [w["state"], w["machine"] + " / " + w["confirmed"], w["basis"]]
    last, widths = _table(ws, 1, headers, rows)
    fills = {"present": FILLS["ok"], "confirmed": FILLS["ok"], "review": FILLS["warning"]}
    fills["absent"] = FILLS["error"]
    for n, state in enumerate(states, start=2):
        if state in fills:
            ws.cell(row=n, column=6).fill = fills[state]
    _fit(ws, widths)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{max(last, 1)}"


def render(report: AuditReport, lang: str = "zh") -> bytes:
    """The workbook as bytes: summary, findings (with what to do), per-day matrix, attendance."""
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = t(lang, "summary")  # the sheet a reader opens first
    _summary_sheet(summary, report, lang)
    _findings_sheet(wb.create_sheet(t(lang, "finding_list")), report, lang)
    _matrix_sheet(wb.create_sheet(t(lang, "matrix")), report, lang)
    data = report.to_dict(lang)
    add_attendance_sheet(wb, data, lang)
    _attendance_days_sheet(wb, data, lang)
    keep_text_everywhere(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def with_attendance(workbook: bytes, data: dict[str, Any], lang: str) -> bytes:
    """A stored report workbook with its attendance sheets made again from DATA (the report's
    JSON with an inspector's decisions applied); every other sheet stays as the audit wrote it."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(workbook))
    for title in ("出勤" if lang == "zh" else "Attendance", words(lang)["attendance_by_day"]):
        if title in wb.sheetnames:
            del wb[title]
    add_attendance_sheet(wb, data, lang)
    _attendance_days_sheet(wb, data, lang)
    keep_text_everywhere(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
