"""Writing rosters as institutions keep them: Excel workbooks (.xlsx, .xls) with title rows."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import xlwt
from openpyxl.drawing.image import Image

TITLE = "壶关县测试职业培训学校2024年第1期电工培训班花名册"


def write_xlsx(
    path: Path,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    title: str | None = TITLE,
    pictures: Mapping[str, bytes] | None = None,
    sheets: Mapping[str, tuple[Sequence[str], Sequence[Sequence[Any]]]] | None = None,
) -> Path:
    """An .xlsx: a merged title row (when TITLE), the header, the rows; PICTURES by cell
    ("E3": JPEG bytes); more worksheets by name."""
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "学员"
    if title:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    for cell, data in (pictures or {}).items():
        ws.add_image(Image(io.BytesIO(data)), cell)
    for name, (more_header, more_rows) in (sheets or {}).items():
        extra = book.create_sheet(name)
        extra.append(list(more_header))
        for row in more_rows:
            extra.append(list(row))
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def write_xls(
    path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str | None = TITLE
) -> Path:
    """An .xls (BIFF8, as Excel 2003 and WPS save it): a merged title row, header, rows."""
    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("Sheet1")
    top = 0
    if title:
        ws.write_merge(0, 0, 0, len(header) - 1, title)
        top = 1
    for c, word in enumerate(header):
        ws.write(top, c, word)
    for r, row in enumerate(rows, start=top + 1):
        for c, value in enumerate(row):
            if value is not None:
                ws.write(r, c, value)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(str(path))
    return path
