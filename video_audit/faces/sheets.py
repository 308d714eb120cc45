"""A roster file's tables as rows of cells: CSV (UTF-8 or GBK), XLSX (openpyxl), XLS (xlrd).

What a file is comes from its content, not its extension (institutions rename .xls to .xlsx and
back). Rows keep the spreadsheet's own numbers, so an error can name the row an institution sees.
Pictures placed in a worksheet are returned as paths inside the workbook
(`花名册.xlsx/xl/media/image1.png`); `photo_bytes` reads either kind of photo path.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from video_audit.findings import Bilingual

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound file of .xls (and WPS .et)


class SheetError(ValueError):
    """A roster file that cannot be read as a table (the message names the file, zh and en)."""

    def __str__(self) -> str:
        return self.args[0] if self.args and isinstance(self.args[0], str) else super().__str__()


@dataclass
class Sheet:
    """One table of a roster file: (row number, cells) and the pictures anchored on each row."""

    path: Path
    name: str | None  # the worksheet's name, when the workbook has several
    rows: list[tuple[int, list[Any]]]
    pictures: dict[int, list[Path]] = field(default_factory=dict)

    @property
    def where(self) -> Bilingual:
        if self.name is None:
            return Bilingual(str(self.path), str(self.path))
        return Bilingual(f"{self.path}: sheet {self.name!r}", f"{self.path}：工作表“{self.name}”")


HEADER_ROWS = 20  # a header is looked for in this many rows from the top (title rows above it)


def header_word(value: Any) -> str:
    """A header cell as a word to look up: NFKC, no spaces, no required-field stars, lower."""
    text = unicodedata.normalize("NFKC", "" if value is None else str(value))
    return re.sub(r"\s+", "", text).strip("*").lower()


def header_columns(row: list[Any], headers: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Where ROW names each of HEADERS' keys (key → its words by priority): the column of the
    first word the row has that no earlier key took."""
    cells = [header_word(v) for v in row]
    found: dict[str, int] = {}
    for key, names in headers.items():
        for word in names:
            if word in cells and cells.index(word) not in found.values():
                found[key] = cells.index(word)
                break
    return found


def cell_text(value: Any) -> str:
    """A cell as text: whole floats without .0, NFKC, trimmed, Excel's text quote dropped."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", "" if value is None else str(value)).strip()
    return text.lstrip("'‘’`").strip()


def read_sheets(path: Path) -> list[Sheet]:
    """Every table in the file; raises SheetError naming the file when it cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        why = exc.strerror or exc
        raise SheetError(
            Bilingual(f"{path}: cannot read roster: {why}", f"{path}：名册无法读取：{why}")
        ) from exc
    if data.startswith(_ZIP):
        return _xlsx(path, data)
    if data.startswith(_OLE):
        return _xls(path, data)
    return [_csv(path, data)]


def _decode(data: bytes, path: Path) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SheetError(
        Bilingual(f"{path}: not UTF-8 or GBK text", f"{path}：不是 UTF-8 或 GBK 编码的文本")
    )


def _csv(path: Path, data: bytes) -> Sheet:
    text = _decode(data, path)
    try:
        records = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise SheetError(
            Bilingual(f"{path}: not a CSV table: {exc}", f"{path}：不是 CSV 表格：{exc}")
        ) from exc
    # A record is a row as a spreadsheet shows the file (blank lines count, like Excel's rows).
    return Sheet(path, None, [(n, list(r)) for n, r in enumerate(records, start=1)])


def _xlsx(path: Path, data: bytes) -> list[Sheet]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged or foreign zip
        raise SheetError(
            Bilingual(f"{path}: cannot read the workbook: {exc}", f"{path}：无法读取工作簿：{exc}")
        ) from exc
    media = _media_by_hash(data)
    several = len(book.worksheets) > 1
    sheets = []
    for ws in book.worksheets:
        rows = [(n, list(r)) for n, r in enumerate(ws.iter_rows(min_row=1, values_only=True), 1)]
        sheet = Sheet(path, ws.title if several else None, rows)
        for image in getattr(ws, "_images", []):
            row = _anchor_row(image)
            digest = _image_digest(image)
            member = media.get(digest) if digest else None
            if row is not None and member is not None:
                sheet.pictures.setdefault(row, []).append(path / member)
        sheets.append(sheet)
    return sheets


def _media_by_hash(data: bytes) -> dict[str, str]:
    """The workbook's picture files by content hash (openpyxl keeps a picture's bytes only)."""
    found: dict[str, str] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        for member in book.namelist():
            if member.startswith("xl/media/"):
                found.setdefault(hashlib.sha256(book.read(member)).hexdigest(), member)
    return found


def _image_digest(image: Any) -> str | None:
    try:
        return hashlib.sha256(image._data()).hexdigest()
    except Exception:  # a picture Pillow cannot open (EMF, damaged): no photo from it
        return None


def _anchor_row(image: Any) -> int | None:
    """The sheet row (1-based) a picture's top-left corner sits in."""
    start = getattr(getattr(image, "anchor", None), "_from", None)
    row = getattr(start, "row", None)
    return row + 1 if isinstance(row, int) else None


def _xls(path: Path, data: bytes) -> list[Sheet]:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=False)
    except Exception as exc:  # xlrd.XLRDError, and struct/index errors on damaged files
        raise SheetError(
            Bilingual(
                f"{path}: cannot read the workbook (.xls): {exc}",
                f"{path}：无法读取工作簿（.xls）：{exc}",
            )
        ) from exc
    sheets = book.sheets()
    several = len(sheets) > 1
    return [
        Sheet(
            path,
            sh.name if several else None,
            [(r + 1, _xls_row(sh.row(r))) for r in range(sh.nrows)],
        )
        for sh in sheets
    ]


def _xls_row(cells: Iterable[Any]) -> list[Any]:
    import xlrd

    values: list[Any] = []
    for cell in cells:
        if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
            values.append(None)
        else:
            values.append(cell.value)
    return values


def photo_bytes(photo: Path) -> bytes:
    """A photo's bytes: a file, or a picture inside a workbook (`book.xlsx/xl/media/x.png`)."""
    try:
        return photo.read_bytes()
    except OSError:
        book = embedded_in(photo)
        if book is None:
            raise
    try:
        with zipfile.ZipFile(book) as archive:
            return archive.read(photo.relative_to(book).as_posix())
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise OSError(f"{photo}: cannot read the picture in the workbook: {exc}") from exc


def embedded_in(photo: Path) -> Path | None:
    """The workbook a picture path points into, or None for an ordinary file."""
    for parent in photo.parents:
        if parent.is_file():
            return parent
        if parent.exists():
            return None
    return None
