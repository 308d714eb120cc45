"""The 公示 list and the ledger as one workbook: every string through spreadsheet.put, so a name
or a class that starts with "=" stays text."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from video_audit.documents.model import Document, Table
from video_audit.spreadsheet import keep_text_everywhere, put


def render_xlsx(publicity: Document, ledger: Mapping[str, Any]) -> bytes:
    """Sheets 公示名单 (the 公示 document's table and lines), 补贴台账 (per trainee) and
    台账明细 (per trainee-day, whatever the ledger lists for each day)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    sheet = wb.active
    sheet.title = "公示名单"
    put(sheet, 1, 1, publicity.title).font = Font(size=14, bold=True)
    row = 3
    for section in publicity.sections:
        for block in section.blocks:
            if isinstance(block, Table):
                row = _table(sheet, row, block)
            else:
                put(sheet, row, 1, block.strip()).alignment = Alignment(wrap_text=False)
                row += 1
    for line in publicity.closing:
        put(sheet, row, 1, line)
        row += 1
    for n, width in enumerate((6, 24, 10, 22, 18, 40, 10, 14), start=1):
        sheet.column_dimensions[chr(64 + n)].width = width

    trainees = list(ledger.get("trainees") or [])
    book = wb.create_sheet("补贴台账")
    header = ("序号", "姓名", "身份证号", "核定天数", "待核实天数", "补贴金额（元）")
    for c, text in enumerate(header, start=1):
        put(book, 1, c, text).font = Font(bold=True)
    for r, t in enumerate(trainees, start=2):
        values = (
            r - 1,
            t.get("name"),
            t.get("id"),
            t.get("verified_days"),
            t.get("pending_days"),
            t.get("amount"),
        )
        for c, value in enumerate(values, start=1):
            put(book, r, c, _plain(value))
    end = len(trainees) + 2
    put(book, end, 1, "合计")
    put(book, end, 6, _plain(ledger.get("total")))
    if ledger.get("hash"):
        put(book, end + 1, 1, "台账内容摘要（SHA-256）")
        put(book, end + 1, 3, str(ledger["hash"]))
    for n, width in enumerate((6, 12, 22, 10, 12, 14), start=1):
        book.column_dimensions[chr(64 + n)].width = width

    days = wb.create_sheet("台账明细")
    keys: list[str] = []
    for t in trainees:
        for d in t.get("days") or []:
            if isinstance(d, Mapping):
                keys += [k for k in d if k not in keys]
    for c, text in enumerate(("姓名", "身份证号", *keys), start=1):
        put(days, 1, c, text).font = Font(bold=True)
    r = 2
    for t in trainees:
        for d in t.get("days") or []:
            cells: list[Any] = [t.get("name"), t.get("id")]
            cells += [d.get(k) for k in keys] if isinstance(d, Mapping) else [d]
            for c, value in enumerate(cells, start=1):
                put(days, r, c, _plain(value))
            r += 1
    keep_text_everywhere(wb)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _table(sheet: Any, row: int, table: Table) -> int:
    from openpyxl.styles import Font

    for c, text in enumerate(table.header, start=1):
        put(sheet, row, c, text).font = Font(bold=True)
    for cells in table.rows:
        row += 1
        for c, text in enumerate(cells, start=1):
            put(sheet, row, c, _number(text))
    return row + 2


def _number(text: str) -> Any:
    """Days and amounts as numbers (so the sheet can sum them); anything else stays text."""
    try:
        value = float(text)
    except ValueError:
        return text
    if text.strip() != text or not text[:1].isdigit() or len(text) > 12:
        return text  # an ID or a code that merely looks numeric stays text
    return int(value) if value.is_integer() else value


def _plain(value: Any) -> Any:
    """A cell value: numbers stay numbers, lists and dicts become text."""
    if value is None or isinstance(value, int | float | str):
        return value
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    return str(value)
