"""Clock text as cameras write it (and as OCR garbles it) → date and time, or nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from video_audit.clock.parse import parse_clock
from video_audit.samples.clock_overlay import STYLES, clock_text

WHEN = dt.datetime(2024, 5, 24, 9, 31, 5)

CASES = [
    ("2024-05-24 星期五 09:31:05", WHEN, "ymd"),
    ("05-24-2024 Fri 09:31:05", WHEN, "mdy"),
    ("05/24/2024 Fri 09:31:05 PM", WHEN.replace(hour=21), "mdy"),
    ("24/05/2024 09:31:05", WHEN, "dmy"),
    ("2024年05月24日 星期五 09:31:05", WHEN, "ymd"),
    ("2024年5月24日 周五 下午 03:31:05", WHEN.replace(hour=15, minute=31), "ymd"),
    ("2024年05月24日上午12:01:02", dt.datetime(2024, 5, 24, 0, 1, 2), "ymd"),
    ("2024/05/24 Friday 12:31:05 PM", WHEN.replace(hour=12), "ymd"),
    ("Camera 01  2024.05.24 礼拜五 09:31:05", WHEN, "ymd"),
    ("２０２４－０５－２４　０９：３１：０５", WHEN, "ymd"),  # full-width digits
    ("2O24-O5-24 O9:31:O5", WHEN, "ymd"),  # O read for 0
    ("2024-05-2409:31:05", WHEN, "ymd"),  # a lost space
    ("24/05/202409:31:05", WHEN, "dmy"),
    ("2024-05-24 09;31;05", WHEN, "ymd"),
    # Thin and small fonts: a colon lost, or read as a dot or a comma; AM read as AN.
    ("2024/05/24 09:31 05", WHEN, "ymd"),
    ("05-24-2024 Fri09.31.05", WHEN, "mdy"),
    ("24.05.2024 09,31,05", WHEN, "dmy"),
    ("2024.05.24 09.31.05", WHEN, "ymd"),
    ("2024/05/24 0931:05", WHEN, "ymd"),
    ("2024/05/24 093105", WHEN, "ymd"),
    ("05/24/2024Fri 09:31:05 AN", WHEN, "mdy"),
    ("05/24/2024 Fri 09:31:05 PN", WHEN.replace(hour=21), "mdy"),
]


@pytest.mark.parametrize(("text", "value", "order"), CASES)
def test_formats(text: str, value: dt.datetime, order: str) -> None:
    read = parse_clock(text)
    assert read is not None and (read.value, read.order) == (value, order)


@pytest.mark.parametrize(
    "text",
    [
        "2024-02-30 10:00:00",  # no such day
        "2024-05-24 24:00:00",
        "2024-05-24 13:31:05 PM",  # 13 is no 12-hour hour
        "2024-05-24",  # a date alone
        "09:31:05",  # a time alone
        "2024-05-24 09 31 05",  # only spaces between the numbers: not taken for a time
        "2024-05-24 F113:05:05",  # a weekday run into the hour: which digits are the hour?
        "2024-05-24 93105",  # five digits
        "壶关县职业培训学校",
        "",
    ],
)
def test_not_a_clock(text: str) -> None:
    assert parse_clock(text) is None


def test_weekday_settles_day_and_month() -> None:
    # 2024-06-05 was a Wednesday, 2024-05-06 a Monday.
    assert parse_clock("05-06-2024 Wed 10:00:00").value.date() == dt.date(2024, 6, 5)  # type: ignore[union-attr]
    assert parse_clock("05-06-2024 Mon 10:00:00").value.date() == dt.date(2024, 5, 6)  # type: ignore[union-attr]
    ambiguous = parse_clock("05-06-2024 10:00:00")
    assert ambiguous is not None and ambiguous.swapped == dt.datetime(2024, 6, 5, 10)
    weekday = parse_clock("2024-05-24 星期四 09:31:05")
    assert weekday is not None and weekday.weekday_agrees is False
    dash = parse_clock("2024-06-03 星期— 10:05:00")  # OCR's usual reading of 一
    assert dash is not None and dash.weekday_agrees is True


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_drawn_style_parses_back(style: str) -> None:
    for when in (WHEN, WHEN.replace(hour=0), WHEN.replace(hour=12), WHEN.replace(hour=23, day=2)):
        read = parse_clock(clock_text(style, when))
        # A day-first date with both numbers ≤ 12 is ambiguous alone; the clip settles it.
        assert read is not None and when in (read.value, read.swapped), clock_text(style, when)
