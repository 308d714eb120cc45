"""Working days in China: weekends, statutory holidays and 调休, from standard/holidays-cn.toml.

The 公示 period (四 / 资金管理: 公示时间不少于5个工作日) is counted here. A year the calendar does
not hold is an error that names the file to update: a guessed calendar would publish a period
shorter than the rules allow.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

HOLIDAYS_FILE = Path(__file__).resolve().parents[1] / "standard" / "holidays-cn.toml"
# The plan's minimum (四 / 资金管理); the profile may ask for more.
PUBLICITY_WORKING_DAYS = 5


class CalendarError(ValueError):
    """A date the holiday calendar cannot answer for (its year is not in the file)."""


@dataclass(frozen=True)
class WorkCalendar:
    """Which days are working days, for the years the file holds."""

    years: frozenset[int]
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    """Weekend days that are working days (调休上班)."""
    source: Path

    def is_working_day(self, day: dt.date) -> bool:
        if day.year not in self.years:
            have = "、".join(str(y) for y in sorted(self.years))
            raise CalendarError(
                f"节假日安排表中没有 {day.year} 年（现有 {have} 年）：请按国务院办公厅当年的"
                f"节假日安排通知更新 {self.source} / the holiday calendar has no {day.year}; "
                "add that year from the State Council's notice"
            )
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


@cache
def load_calendar(path: Path = HOLIDAYS_FILE) -> WorkCalendar:
    """The calendar file: [YEAR] tables with [[YEAR.holidays]] first/last/workdays."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    years: set[int] = set()
    holidays: set[dt.date] = set()
    workdays: set[dt.date] = set()
    for key, table in data.items():
        year = int(key)
        years.add(year)
        for entry in table.get("holidays", []):
            first, last = entry["first"], entry["last"]
            if not (isinstance(first, dt.date) and isinstance(last, dt.date)) or last < first:
                raise CalendarError(f"{path}: {year} {entry.get('name')}: first/last are not dates")
            day = first
            while day <= last:
                holidays.add(day)
                day += dt.timedelta(days=1)
            workdays.update(entry.get("workdays", []))
    return WorkCalendar(frozenset(years), frozenset(holidays), frozenset(workdays), path)


@dataclass(frozen=True)
class PublicityPeriod:
    """The 公示 period: from its first to its last day, and the working days it counts."""

    start: dt.date
    end: dt.date
    working_days: tuple[dt.date, ...]


def publicity_period(
    start: dt.date,
    working_days: int = PUBLICITY_WORKING_DAYS,
    calendar: WorkCalendar | None = None,
) -> PublicityPeriod:
    """The shortest period starting on START that holds WORKING_DAYS working days (a start on a
    day off moves to the next working day)."""
    cal = calendar or load_calendar()
    counted: list[dt.date] = []
    day = start
    while len(counted) < working_days:
        if cal.is_working_day(day):
            counted.append(day)
        day += dt.timedelta(days=1)
    return PublicityPeriod(start=counted[0], end=counted[-1], working_days=tuple(counted))
