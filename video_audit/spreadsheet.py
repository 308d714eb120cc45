"""Cells of every workbook we write: a string from a folder, a file or a roster is text, always.

A class named `=1+2班` or a day folder `=HYPERLINK(…)` must not become a formula in an
inspector's Excel (formula injection). openpyxl turns any str starting with "=" into a formula;
`put` and `keep_text` undo that, and mark strings Excel would read as a formula when a user
re-enters the cell (= + - @, tab, carriage return) with the quote prefix, as typing ' does.
Imports nothing of ours and not openpyxl either: the cell and sheet objects come from the caller.
"""

from __future__ import annotations

import re
from typing import Any

# What openpyxl refuses in a cell (its ILLEGAL_CHARACTERS_RE): control characters except tab and
# newlines. A roster with one would otherwise stop the whole workbook.
ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def text_value(value: Any) -> Any:
    """The value as a cell may hold it: strings without the characters a workbook refuses."""
    return ILLEGAL.sub("\ufffd", value) if isinstance(value, str) else value


def keep_text(cell: Any) -> Any:
    """Make a cell holding a str a literal text cell (never a formula); returns the cell."""
    value = cell.value
    if isinstance(value, str):
        if cell.data_type != "s":
            cell.data_type = "s"
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True
    return cell


def put(sheet: Any, row: int, column: int, value: Any) -> Any:
    """Write one cell (text stays text); returns the cell for styling."""
    cell = sheet.cell(row=row, column=column)
    cell.value = text_value(value)
    return keep_text(cell)


def keep_text_everywhere(workbook: Any) -> None:
    """The last word before saving: no cell of any sheet holds a formula made from a string."""
    for sheet in workbook.worksheets:
        for cells in sheet.iter_rows():
            for cell in cells:
                keep_text(cell)
