"""No workbook turns a name from a disc or a roster into a formula: every string is text."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from video_audit.audit import run_audit
from video_audit.faces.matrix import add_attendance_sheet
from video_audit.report import xlsx
from video_audit.scan.summary import NightSummary, render_xlsx
from video_audit.spreadsheet import put

CLASS = "=1+2班"
DAY = '=HYPERLINK("http:evil","x")'
ROSTER_NAME = "=2+3"
STRAY = "+cmd|' -C calc'!A0.txt"
HOSTILE = [CLASS, DAY, ROSTER_NAME, "-2+3", "@SUM(A1)", "\t=1", "#DIV/0!"]


def _cells(data: bytes) -> list[Any]:
    book = load_workbook(io.BytesIO(data))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def _assert_text(data: bytes, expected: list[str]) -> list[Any]:
    cells = _cells(data)
    formulas = [(c.coordinate, c.value) for c in cells if c.data_type == "f"]
    assert formulas == []
    strings = {c.value for c in cells if isinstance(c.value, str)}
    for value in expected:
        assert value in strings, value  # kept as written, not evaluated or dropped
    for cell in cells:
        if isinstance(cell.value, str) and cell.value[:1] in ("=", "+", "-", "@"):
            assert cell.data_type == "s" and cell.quotePrefix, cell.coordinate
    return cells


def _attendance() -> dict[str, Any]:
    return {
        "engine": "embedded",
        "roster": [
            {"key": "A1", "id": "A1", "name": ROSTER_NAME, "role": "trainee"},
            {"key": "A2", "id": "@A2", "name": "-2+3", "role": "=teacher"},
        ],
        "days": [
            {
                "path": f"{CLASS}/{DAY}",
                "date": None,
                "present": [],
                "absent": ["A1"],
                "review": [
                    {"candidates": ["A1"], "thumbnail": "=x.jpg", "seen_in": [f"{DAY}/=a.mp4"]}
                ],
                "unknown": [{"thumbnail": "+u.jpg", "seen_in": ["@b.mp4"]}],
            }
        ],
    }


def test_report_workbook_keeps_names_as_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = tmp_path / CLASS / DAY
    day.mkdir(parents=True)
    (day / STRAY).write_text("x", encoding="utf-8")
    report = run_audit(tmp_path)
    data: dict[str, Any] = report.to_dict("zh")
    data["classes"][0]["attendance"] = _attendance()
    monkeypatch.setattr(report, "to_dict", lambda lang="zh": data)
    book = xlsx.render(report)
    cells = _assert_text(book, [CLASS, DAY, ROSTER_NAME, "-2+3", "@A2", "=teacher"])
    sheets = load_workbook(io.BytesIO(book)).sheetnames
    assert "出勤" in sheets  # the attendance sheet was written, and is safe too
    assert any(isinstance(c.value, str) and STRAY in c.value for c in cells)


def test_attendance_sheet_alone_keeps_names_as_text() -> None:
    book = Workbook()
    add_attendance_sheet(book, {"classes": [{"folder": CLASS, "attendance": _attendance()}]}, "en")
    out = io.BytesIO()
    book.save(out)
    # An undated day is headed by its own folder name; thumbnails (+u.jpg) are not named at all.
    cells = _assert_text(out.getvalue(), [CLASS, DAY, ROSTER_NAME, "=teacher"])
    assert not any(isinstance(c.value, str) and ".jpg" in c.value for c in cells)


def test_night_summary_workbook_keeps_names_as_text() -> None:
    summary = NightSummary(
        run={
            "id": 1,
            "root": "=ROOT()",
            "started": "2024-06-03T01:00",
            "finished": None,
            "status": "done",
        },
        counts={"new": 1},
        classes=[
            {
                "rel": CLASS,
                "institution": "+机构",
                "outcome": "new",
                "verdict": "fail",
                "errors": 1,
                "warnings": 0,
                "stat_year": None,
                "start_date": DAY,
                "codes": ["LY02"],
            }
        ],
        waiting=[{"rel": "@班", "outcome": "error", "detail": {"error": "-失败"}}],
        retention=[{"rel": CLASS, "path": f"{DAY}/=a.mp4", "message": "=删除"}],
    )
    _assert_text(render_xlsx(summary), [CLASS, DAY, "+机构", "@班", "-失败", "=ROOT()", "=删除"])


def test_put_keeps_every_hostile_string_and_cleans_what_a_cell_refuses() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for n, value in enumerate([*HOSTILE, "bell\x07", 3, -1.5, None], start=1):
        put(sheet, n, 1, value)
    out = io.BytesIO()
    book.save(out)
    values = [c.value for c in _assert_text(out.getvalue(), HOSTILE)]
    assert "bell\ufffd" in values and 3 in values and -1.5 in values
