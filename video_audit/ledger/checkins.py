"""The real-name system's phone check-ins (手机签到记录) and the employment list (就业名单).

Both are tables as institutions export them: CSV (UTF-8, BOM or GBK), XLSX or XLS, Chinese or
English headers in any order, under title rows. The sheets are read by faces/sheets.py and cells
cleaned by the roster's helpers, so an ID reads the same here as on the roster. Every row that is
not a check-in is an error naming its row number: nothing is dropped silently.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from video_audit.faces.roster import HEADERS, RosterError, id_text, mask_id, name_text
from video_audit.faces.sheets import (
    HEADER_ROWS,
    Sheet,
    SheetError,
    cell_text,
    header_columns,
    header_word,
    read_sheets,
)

# Header words by priority, as roster.HEADERS: the first a header row has decides the column.
CHECKIN_HEADERS: dict[str, tuple[str, ...]] = {
    "id": HEADERS["id"],  # matched against the roster's own IDs, whatever it used
    "name": ("name", "姓名", "学员姓名", "签到人", "名字"),
    "at": (
        "at",
        "time",
        "签到时间",
        "打卡时间",
        "签到日期时间",
        "时间",
        "check-intime",
        "checkintime",
    ),
    "date": ("date", "签到日期", "打卡日期", "日期"),
    "place": ("place", "签到地点", "打卡地点", "地点", "位置", "签到位置", "location"),
}
EMPLOYED_HEADERS: dict[str, tuple[str, ...]] = {
    "id": CHECKIN_HEADERS["id"],
    "name": CHECKIN_HEADERS["name"],
}
_DATE_TIME = re.compile(
    r"^(?P<y>\d{4})\s*[-./年]\s*(?P<m>\d{1,2})\s*[-./月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*T?\s*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{1,2})(?:\s*[:：分]\s*(?P<S>\d{1,2}))?\s*秒?)?$"
)
_TIME = re.compile(
    r"^(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{1,2})(?:\s*[:：分]\s*(?P<S>\d{1,2}))?秒?$"
)


@dataclass(frozen=True)
class Checkin:
    """One phone check-in: the row it came from, who (name, full ID number), when, where."""

    row: int
    name: str
    id: str
    at: dt.datetime
    """Local time as the real-name system wrote it (naive: the county's time zone)."""
    place: str = ""

    @property
    def masked_id(self) -> str:
        return mask_id(self.id)


@dataclass
class CheckinFile:
    """A check-in export: the check-ins read, and one error per row that is not one."""

    path: Path
    rows: list[Checkin] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class EmployedFile:
    """The employed trainees (就业名单) by ID number, and one error per unusable row."""

    path: Path
    ids: set[str] = field(default_factory=set)
    names: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _tables(
    path: Path, headers: dict[str, tuple[str, ...]], needed: tuple[str, ...]
) -> tuple[list[tuple[Sheet, int, dict[str, int]]], list[str]]:
    """(sheet, index of the header row, columns) of each sheet with a header; errors."""
    try:
        sheets = read_sheets(path)
    except SheetError as exc:
        return [], [str(exc)]
    found = []
    for sheet in sheets:
        for i, (_, row) in enumerate(sheet.rows[:HEADER_ROWS]):
            cols = header_columns(row, headers)
            if all(k in cols for k in needed):
                found.append((sheet, i, cols))
                break
    if not found:
        wanted = "、".join("/".join(headers[k][1:3]) for k in needed)
        english = ", ".join(needed)
        return [], [f"{path}: 找不到表头（需要 {wanted} 列）/ no header row with {english}"]
    return found, []


def read_checkins(path: Path) -> CheckinFile:
    """Read a check-in export; rows that are not a check-in become errors with their number."""
    out = CheckinFile(path)
    tables, out.errors = _tables(path, CHECKIN_HEADERS, ("id", "name", "at"))
    for sheet, start, cols in tables:
        header_ids = {header_word(w) for w in CHECKIN_HEADERS["id"]}
        for number, row in sheet.rows[start + 1 :]:
            where = f"{sheet.where}: 第 {number} 行 / row {number}"
            try:
                checkin = _checkin(number, row, cols, header_ids, where)
            except ValueError as exc:
                out.errors.append(str(exc))
                continue
            if checkin is not None:
                out.rows.append(checkin)
    return out


def _cell(row: list[Any], cols: dict[str, int], key: str) -> Any:
    i = cols.get(key)
    return row[i] if i is not None and i < len(row) else None


def _checkin(
    number: int, row: list[Any], cols: dict[str, int], header_ids: set[str], where: str
) -> Checkin | None:
    if not any(cell_text(c) for c in row):
        return None  # a blank line between blocks of the export
    raw_id = _cell(row, cols, "id")
    if header_word(raw_id) in header_ids:
        return None  # the header again (exports printed over several pages repeat it)
    try:
        pid = id_text(raw_id, where)
    except RosterError as exc:
        raise ValueError(str(exc)) from exc
    name = name_text(_cell(row, cols, "name"))
    if not pid:
        raise ValueError(f"{where}: 缺少身份证号 / no ID number")
    if not name:
        raise ValueError(f"{where}: 缺少姓名 / no name")
    at = when(_cell(row, cols, "at"), _cell(row, cols, "date"))
    if at is None:
        shown = cell_text(_cell(row, cols, "at")) or "（空）"
        raise ValueError(f"{where}: 签到时间“{shown}”无法识别 / check-in time not understood")
    return Checkin(number, name, pid, at, cell_text(_cell(row, cols, "place")))


def when(value: Any, date_value: Any = None) -> dt.datetime | None:
    """A check-in time from a cell (a datetime, or text like 2024-05-24 08:01:02 / 2024年5月24日
    8时01分), with the date from a separate date cell when the time cell holds a time only."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None, microsecond=0)
    day = _date(date_value)
    if isinstance(value, dt.time):
        return dt.datetime.combine(day, value) if day else None
    text = unicodedata.normalize("NFKC", cell_text(value))
    match = _DATE_TIME.match(text)
    if match:
        try:
            return dt.datetime(
                int(match["y"]),
                int(match["m"]),
                int(match["d"]),
                int(match["H"] or 0),
                int(match["M"] or 0),
                int(match["S"] or 0),
            )
        except ValueError:
            return None
    time_only = _TIME.match(text)
    if time_only and day is not None:
        try:
            return dt.datetime.combine(
                day,
                dt.time(int(time_only["H"]), int(time_only["M"]), int(time_only["S"] or 0)),
            )
        except ValueError:
            return None
    return None


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    parsed = when(value) if value is not None and not isinstance(value, dt.time) else None
    return parsed.date() if parsed else None


def read_employed(path: Path) -> EmployedFile:
    """Read an employment list: the ID numbers of employed trainees (names kept for display)."""
    out = EmployedFile(path)
    tables, out.errors = _tables(path, EMPLOYED_HEADERS, ("id",))
    header_ids = {header_word(w) for w in EMPLOYED_HEADERS["id"]}
    for sheet, start, cols in tables:
        for number, row in sheet.rows[start + 1 :]:
            where = f"{sheet.where}: 第 {number} 行 / row {number}"
            if not any(cell_text(c) for c in row):
                continue
            raw_id = _cell(row, cols, "id")
            if header_word(raw_id) in header_ids:
                continue
            try:
                pid = id_text(raw_id, where)
            except RosterError as exc:
                out.errors.append(str(exc))
                continue
            if not pid:
                out.errors.append(f"{where}: 缺少身份证号 / no ID number")
                continue
            out.ids.add(pid)
            out.names[pid] = name_text(_cell(row, cols, "name"))
    return out
