"""Reading a camera's on-screen clock text (as OCR gives it) into a date and time.

Cameras and recorders burn the clock in a handful of layouts: year first (`2024-05-24`,
`2024/05/24`, `2024年05月24日`), month first (`05-24-2024`) or day first (`24-05-2024`),
with or without a weekday (星期五, 周五, Fri), 24-hour or 12-hour (AM/PM, 上午/下午). OCR adds
its own noise: O for 0, l for 1, a lost separator. The parser is tolerant of that noise and
strict about the values: a date that does not exist or a 25th hour is no reading.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

_YEAR = r"(?P<y>20\d{2})"
_SEP = r"\s*[-/.]\s*"
_YMD = re.compile(
    rf"(?<!\d){_YEAR}\s*(?:[-/.年]|(?=\d{{4}}(?!\d)))\s*(?P<m>\d{{1,2}})\s*(?:[-/.月]|(?<=\d\d))\s*"
    r"(?P<d>\d{2}|\d(?!\d))\s*日?"
)
# The year may run into the hour when OCR loses the space ("24/05/202409:31:15").
_XXY = re.compile(rf"(?<!\d)(?P<a>\d{{1,2}}){_SEP}(?P<b>\d{{1,2}}){_SEP}{_YEAR}")
# Thin or small fonts lose a colon, or read it as a dot or a comma: one separator may be any
# of those, or a bare space, as long as the other is a real one (the date is matched first and
# blanked out, so a dotted date is not taken for a time).
_TIME = re.compile(
    r"(?<!\d)(?P<H>\d{1,2})\s*(?P<a>[:;.,]|\s)\s*(?P<M>\d{2})\s*(?P<b>[:;.,]|\s)\s*(?P<S>\d{2})"
    r"(?!\d)"
)
# ...or drop them altogether ("0638:00", "225448"): then only two digits each will do.
_TIME_BARE = re.compile(
    r"(?<!\d)(?P<H>\d{2})(?P<a>[:;.,]?)(?P<M>\d{2})(?P<b>[:;.,]?)(?P<S>\d{2})(?!\d)"
)
# OCR reads a small M as N now and then ("09:50:05 AN").
_AM = re.compile(r"(?<![A-Za-z])(?:A\.?[MN]\.?)(?![A-Za-z])|上午|早上|凌晨", re.IGNORECASE)
_PM = re.compile(r"(?<![A-Za-z])(?:P\.?[MN]\.?)(?![A-Za-z])|下午|晚上|中午", re.IGNORECASE)
_ZH_DAYS = "一二三四五六日"
# OCR often reads 一 as a dash.
_ZH_WEEKDAY = re.compile(r"(?:星期|周|礼拜)\s*(?P<w>[一二三四五六日天—－-])")
_EN_WEEKDAY = re.compile(
    r"(?<![A-Za-z])(?P<w>mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?(?![A-Za-z])", re.IGNORECASE
)
_EN_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Letters OCR returns for digits; replaced only where a digit stands beside them.
_LOOKALIKE = str.maketrans("OoDQ〇lI|iZSB", "000001111258")
_DIGITISH = set("0123456789:-/.")


@dataclass(frozen=True)
class ClockText:
    """One clock reading: the time shown, how it was written, and whether it is unambiguous."""

    value: dt.datetime
    order: str
    """How the date was written: "ymd", "mdy" or "dmy"."""
    hours12: bool
    weekday: int | None
    """The weekday shown (Monday 0), None when the clock shows none."""
    swapped: dt.datetime | None = None
    """The other reading of a day/month-ambiguous date (05-06-2024 with no weekday to tell)."""

    @property
    def weekday_agrees(self) -> bool | None:
        return None if self.weekday is None else self.weekday == self.value.weekday()


def normalise(text: str) -> str:
    """Full-width to ASCII, look-alike letters beside digits to digits."""
    text = unicodedata.normalize("NFKC", text)
    chars = list(text)
    for i, ch in enumerate(chars):
        if ch.translate(_LOOKALIKE) == ch:
            continue
        before = chars[i - 1] if i > 0 else " "
        after = chars[i + 1] if i + 1 < len(chars) else " "
        if (before.isdigit() and (after in _DIGITISH or after == " ")) or (
            after.isdigit() and (before in _DIGITISH or before == " ")
        ):
            chars[i] = ch.translate(_LOOKALIKE)
    return "".join(chars)


def _weekday(text: str) -> int | None:
    zh = _ZH_WEEKDAY.search(text)
    if zh:
        w = zh.group("w")
        return 6 if w in "日天" else 0 if w in "—－-" else _ZH_DAYS.index(w)
    en = _EN_WEEKDAY.search(text)
    return _EN_DAYS.index(en.group("w").lower()) if en else None


def _date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _dates(
    text: str, weekday: int | None
) -> tuple[dt.date, str, dt.date | None, tuple[int, int]] | None:
    """(date, order, the other reading if ambiguous, span of the date in TEXT)."""
    found = _YMD.search(text)
    if found:
        date = _date(int(found["y"]), int(found["m"]), int(found["d"]))
        return (date, "ymd", None, found.span()) if date else None
    found = _XXY.search(text)
    if not found:
        return None
    a, b, y = int(found["a"]), int(found["b"]), int(found["y"])
    mdy, dmy = _date(y, a, b), _date(y, b, a)
    if mdy and dmy and mdy != dmy:
        fits = [d for d in (mdy, dmy) if weekday is not None and d.weekday() == weekday]
        if len(fits) == 1:
            return fits[0], "mdy" if fits[0] == mdy else "dmy", None, found.span()
        return mdy, "mdy", dmy, found.span()
    if mdy:
        return mdy, "mdy", None, found.span()
    return (dmy, "dmy", None, found.span()) if dmy else None


def _time(text: str) -> tuple[dt.time, bool] | None:
    found = next((m for m in _TIME.finditer(text) if not (m["a"] + m["b"]).isspace()), None)
    found = found or _TIME_BARE.search(text)
    if not found:
        return None
    hour, minute, second = int(found["H"]), int(found["M"]), int(found["S"])
    pm, am = _PM.search(text), _AM.search(text)
    hours12 = bool(pm or am)
    if hours12:
        if not 1 <= hour <= 12 and not (hour == 0 and am):
            return None
        if pm and hour < 12:
            hour += 12
        elif am and hour == 12:
            hour = 0
    if hour > 23 or minute > 59 or second > 59:
        return None
    return dt.time(hour, minute, second), hours12


def parse_clock(text: str) -> ClockText | None:
    """The date and time an OSD clock shows, or None when TEXT holds no complete, valid one."""
    text = normalise(text)
    weekday = _weekday(text)
    dated = _dates(text, weekday)
    if dated is None:
        return None
    date, order, other, (start, end) = dated
    timed = _time(text[:start] + " " * (end - start) + text[end:])
    if timed is None:
        return None
    clock, hours12 = timed
    return ClockText(
        value=dt.datetime.combine(date, clock),
        order=order,
        hours12=hours12,
        weekday=weekday,
        swapped=dt.datetime.combine(other, clock) if other else None,
    )


def parse_zone(text: str) -> dt.tzinfo:
    """A profile time zone: "+08:00" style offsets."""
    match = re.fullmatch(r"([+-])(\d{1,2}):?(\d{2})", text.strip())
    if not match:
        raise ValueError(f"bad time zone {text!r} (write it as +08:00)")
    sign = 1 if match.group(1) == "+" else -1
    return dt.timezone(sign * dt.timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))
