"""Random patrol plans (issue 17 item 3): seeded, reproducible moments inside classes' hours.

A schedule (CSV/XLSX/XLS, Chinese or English headers, read by faces/sheets.py) lists the
sessions classes hold: class, institution, site, camera, date, and the hours (上午/下午, or start
and end times). `draw_plan` draws moments from it, stratified so that every day, and every
half-day within a day, gets its share before any gets two, and sites are spread the same way.
The draws come from the seed and the schedule's SHA-256 only: the same seed and schedule give
the same plan (so it can be shown afterwards), and without the seed an institution cannot
predict it. Camera URLs are kept whole for the patrol itself and scrubbed in every output.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from video_audit.faces.sheets import (
    HEADER_ROWS,
    SheetError,
    cell_text,
    header_columns,
    header_word,
    read_sheets,
)
from video_audit.ledger.checkins import when
from video_audit.naming import visible
from video_audit.patrol.stream import is_stream_url, public_url

SCHEDULE_HEADERS: dict[str, tuple[str, ...]] = {
    "class": ("class", "班级", "班级名称", "培训班", "班次", "培训班级"),
    "institution": ("institution", "培训机构", "机构", "机构名称", "承训机构"),
    "site": ("site", "地点", "培训地点", "场所", "培训场所", "教室", "上课地点"),
    "camera": ("camera", "摄像头", "摄像头地址", "视频流", "视频流地址", "监控地址", "url"),
    "date": ("date", "日期", "上课日期", "培训日期"),
    "half": ("half", "时段", "上下午", "上午/下午", "am/pm"),
    "am": ("morning", "上午"),
    "pm": ("afternoon", "下午"),
    "start": ("start", "开始时间", "上课时间", "开始"),
    "end": ("end", "结束时间", "下课时间", "结束"),
}
# The hours a half-day means when the schedule names it without times (上午 / 下午 / ✓).
DEFAULT_HOURS: dict[str, tuple[dt.time, dt.time]] = {
    "am": (dt.time(8, 30), dt.time(11, 30)),
    "pm": (dt.time(14, 0), dt.time(17, 0)),
}
HALF_NAMES = {"am": "上午", "pm": "下午"}
_HALF_WORDS = {
    "上午": "am",
    "am": "am",
    "morning": "am",
    "下午": "pm",
    "pm": "pm",
    "afternoon": "pm",
}
_BOTH_WORDS = {"全天", "全日", "allday", "all-day", "fullday"}
_MARKS = {"✓", "√", "是", "有", "y", "yes", "x", "1", "true"}
_RANGE = re.compile(r"^(.+?)\s*(?:-|–|—|~|～|至|到)\s*(.+)$")
_TIME = re.compile(r"^(\d{1,2})\s*[:：时.]\s*(\d{1,2})\s*分?$|^(\d{1,2})\s*[点时]$")


PLAN_METHOD = "stratified-2"
"""How draw_plan draws (kept with every plan): the same seed and sessions give the same moments
under the same method. Change it whenever the drawing changes, so that a plan drawn before is
never checked against a draw it did not make."""


class ScheduleError(ValueError):
    """A schedule that cannot be read at all (the message names the file, zh and en)."""


@dataclass(frozen=True)
class Session:
    """One class session at one site: the row it came from, where, which camera, when."""

    row: int
    class_name: str
    institution: str
    site: str
    camera: str  # the URL as written, credentials included: only ever shown via public_url
    date: dt.date
    start: dt.time
    end: dt.time

    @property
    def half(self) -> str:
        """am or pm: the half-day the session starts in."""
        return "am" if self.start < dt.time(12) else "pm"


@dataclass
class Schedule:
    """The sessions a schedule file lists, its SHA-256, and one error per unusable row."""

    path: Path
    sha256: str
    sessions: list[Session] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Moment:
    """One drawn patrol: a session and the second inside its hours when the camera is read."""

    seq: int
    at: dt.datetime
    session: Session

    def to_dict(self) -> dict[str, Any]:
        s = self.session
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "date": s.date.isoformat(),
            "half": s.half,
            "class": s.class_name,
            "institution": s.institution,
            "site": s.site,
            "camera": public_url(s.camera),
            "session": f"{s.start:%H:%M}-{s.end:%H:%M}",
            "row": s.row,
        }


@dataclass
class Plan:
    """The drawn moments, with what is needed to draw them again: seed, schedule digest, range."""

    schedule: Schedule
    seed: int
    per_day: int
    start: dt.date | None
    end: dt.date | None
    moments: list[Moment] = field(default_factory=list)
    sessions_in_range: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "schedule": str(self.schedule.path),
            "schedule_sha256": self.schedule.sha256,
            "method": PLAN_METHOD,
            "seed": self.seed,
            "per_day": self.per_day,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "sessions": len(self.schedule.sessions),
            "sessions_in_range": self.sessions_in_range,
            "days": len({m.at.date() for m in self.moments}),
            "moments": [m.to_dict() for m in self.moments],
            "errors": list(self.schedule.errors),
        }


def read_schedule(path: Path) -> Schedule:
    """Read a schedule; raises ScheduleError when the file cannot be read or has no header."""
    try:
        data = path.read_bytes()
        sheets = read_sheets(path)
    except (OSError, SheetError) as exc:
        raise ScheduleError(f"{path}: 课表无法读取 / cannot read the schedule: {exc}") from exc
    schedule = Schedule(path, hashlib.sha256(data).hexdigest())
    found = False
    for sheet in sheets:
        for i, (_, row) in enumerate(sheet.rows[:HEADER_ROWS]):
            cols = header_columns(row, SCHEDULE_HEADERS)
            if not _usable(cols):
                continue
            found = True
            for number, cells in sheet.rows[i + 1 :]:
                where = f"{sheet.where}: 第 {number} 行 / row {number}"
                try:
                    schedule.sessions.extend(_sessions(number, cells, cols, where))
                except ValueError as exc:  # a URL typed into the wrong column stays secret
                    schedule.errors.append(public_url(str(exc)))
            break
    if not found:
        raise ScheduleError(
            f"{path}: 找不到表头（需要 班级、摄像头、日期 和 上午/下午 或 开始时间/结束时间 列）"
            " / no header row with class, camera, date and half-day or start/end columns"
        )
    return schedule


def _usable(cols: dict[str, int]) -> bool:
    hours = "half" in cols or "am" in cols or "pm" in cols or "start" in cols
    return all(k in cols for k in ("class", "camera", "date")) and hours


def _cell(row: list[Any], cols: dict[str, int], key: str) -> Any:
    i = cols.get(key)
    return row[i] if i is not None and i < len(row) else None


def _sessions(number: int, row: list[Any], cols: dict[str, int], where: str) -> list[Session]:
    if not any(cell_text(c) for c in row):
        return []  # a blank line between blocks
    if header_word(_cell(row, cols, "class")) in SCHEDULE_HEADERS["class"]:
        return []  # the header repeated on a printed page
    # Names print as they are (an ESC sequence or a bidi control shows as <U+XXXX>).
    name = visible(cell_text(_cell(row, cols, "class")))
    camera = cell_text(_cell(row, cols, "camera"))
    if not name:
        raise ValueError(f"{where}: 缺少班级 / no class")
    if not camera:
        raise ValueError(f"{where}: 缺少摄像头地址 / no camera URL")
    if not is_stream_url(camera) or visible(camera) != camera:
        raise ValueError(
            f"{where}: 摄像头地址“{visible(public_url(camera))}”不是视频流地址（应为 rtsp://、http(s)://、"
            "rtmp:// 等）/ the camera is not a stream URL (rtsp, http(s), rtmp, srt)"
        )
    day = _day(_cell(row, cols, "date"))
    if day is None:
        shown = cell_text(_cell(row, cols, "date")) or "（空）"
        raise ValueError(f"{where}: 日期“{shown}”无法识别 / date not understood")
    hours = _hours(row, cols, where)
    if not hours:
        raise ValueError(f"{where}: 没有上课时间（上午/下午 或 开始/结束时间）/ no hours")
    site = visible(cell_text(_cell(row, cols, "site")))
    institution = visible(cell_text(_cell(row, cols, "institution")))
    return [Session(number, name, institution, site, camera, day, a, b) for a, b in hours]


def _day(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    parsed = when(value) if value is not None else None
    return parsed.date() if parsed else None


def _hours(row: list[Any], cols: dict[str, int], where: str) -> list[tuple[dt.time, dt.time]]:
    """The session's (start, end) pairs: from start/end columns, a 时段 cell or 上午/下午 cells."""
    start, end = _cell(row, cols, "start"), _cell(row, cols, "end")
    if cell_text(start) or cell_text(end):
        a, b = _time(start), _time(end)
        if a is None or b is None:
            raise ValueError(
                f"{where}: 开始/结束时间“{cell_text(start)}”“{cell_text(end)}”无法识别"
                " / times not understood"
            )
        return [_ordered(a, b, where)]
    found: list[tuple[dt.time, dt.time]] = []
    half = cell_text(_cell(row, cols, "half"))
    if half:
        found.extend(_half_cell(half, None, where))
    for key in ("am", "pm"):
        text = cell_text(_cell(row, cols, key))
        if text:
            found.extend(_half_cell(text, key, where))
    return found


def _half_cell(text: str, half: str | None, where: str) -> list[tuple[dt.time, dt.time]]:
    """A 时段 cell (上午 / 下午 / 全天 / 08:30-11:30) or a 上午/下午 column's cell (✓ or hours)."""
    word = header_word(text)
    if half is None and word in _HALF_WORDS:
        return [DEFAULT_HOURS[_HALF_WORDS[word]]]
    if half is None and word in _BOTH_WORDS:
        return [DEFAULT_HOURS["am"], DEFAULT_HOURS["pm"]]
    if half is not None and word in _MARKS:
        return [DEFAULT_HOURS[half]]
    if half is not None and word in {"×", "否", "无", "n", "no", "0", "-", "—", "false"}:
        return []
    match = _RANGE.match(unicodedata.normalize("NFKC", text))
    a = _time(match[1]) if match else None
    b = _time(match[2]) if match else None
    if a is None or b is None:
        raise ValueError(f"{where}: 时段“{text}”无法识别 / hours not understood")
    return [_ordered(a, b, where)]


def _ordered(a: dt.time, b: dt.time, where: str) -> tuple[dt.time, dt.time]:
    if b <= a:
        raise ValueError(
            f"{where}: 结束时间 {b:%H:%M} 不晚于开始时间 {a:%H:%M} / ends before it starts"
        )
    return a, b


def _time(value: Any) -> dt.time | None:
    if isinstance(value, dt.datetime):
        return value.time().replace(microsecond=0)
    if isinstance(value, dt.time):
        return value.replace(microsecond=0)
    if isinstance(value, float) and 0 <= value < 1:  # Excel's fraction of a day
        return (dt.datetime.min + dt.timedelta(seconds=round(value * 86400))).time()
    match = _TIME.match(unicodedata.normalize("NFKC", cell_text(value)))
    if not match:
        return None
    hour = int(match[1] or match[3])
    minute = int(match[2] or 0)
    return dt.time(hour, minute) if hour < 24 and minute < 60 else None


def draw_plan(
    schedule: Schedule,
    seed: int,
    per_day: int = 2,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Plan:
    """PER_DAY moments on each day with sessions in [start, end], drawn from SEED and the
    schedule: half-days first, then sites, then sessions, each the least used so far."""
    rng = random.Random(f"{seed}:{schedule.sha256}")
    sessions = sorted(
        (
            s
            for s in schedule.sessions
            if (start is None or s.date >= start) and (end is None or s.date <= end)
        ),
        key=lambda s: (s.date, s.start, s.row),
    )
    plan = Plan(schedule, seed, per_day, start, end, sessions_in_range=len(sessions))
    halves_used: Counter[str] = Counter()  # over the whole plan: am and pm alike
    sites_used: Counter[str] = Counter()
    taken: set[tuple[int, dt.datetime]] = set()
    for day in sorted({s.date for s in sessions}):
        today = [s for s in sessions if s.date == day]
        day_halves: Counter[str] = Counter()
        day_sites: Counter[tuple[str, str]] = Counter()
        day_sessions: Counter[Session] = Counter()
        for _ in range(per_day):
            half = _least(sorted({s.half for s in today}), rng, day_halves, halves_used)
            in_half = [s for s in today if s.half == half]
            site = _least(
                sorted({s.site for s in in_half}),
                rng,
                Counter({k: v for (h, k), v in day_sites.items() if h == half}),
                sites_used,
            )
            session = min(
                (s for s in in_half if s.site == site),
                key=lambda s: (day_sessions[s], rng.random()),
            )
            day_halves[half] += 1
            halves_used[half] += 1
            day_sites[(half, site)] += 1
            sites_used[site] += 1
            day_sessions[session] += 1
        # A session drawn N times in a day has its hours cut in N equal parts and one moment
        # drawn in each: never two patrols of one class a minute apart.
        for session, n in sorted(day_sessions.items(), key=lambda kv: (kv[0].start, kv[0].row)):
            for part in range(n):
                at = _moment(session, rng, taken, part, n)
                taken.add((session.row, at))
                plan.moments.append(Moment(0, at, session))
    plan.moments.sort(key=lambda m: (m.at, m.session.row))
    plan.moments = [Moment(n, m.at, m.session) for n, m in enumerate(plan.moments, start=1)]
    return plan


def _least(options: list[str], rng: random.Random, *counts: Counter[str]) -> str:
    """The option used least (by each count in turn), ties broken by the draw."""
    return min(options, key=lambda o: (*(c[o] for c in counts), rng.random()))


def _moment(
    session: Session,
    rng: random.Random,
    taken: set[tuple[int, dt.datetime]],
    part: int = 0,
    parts: int = 1,
) -> dt.datetime:
    """A second inside PART of the session's hours cut in PARTS, not one already drawn."""
    first = dt.datetime.combine(session.date, session.start)
    span = int((dt.datetime.combine(session.date, session.end) - first).total_seconds())
    low, high = span * part // parts, max(span * (part + 1) // parts, span * part // parts + 1)
    for _ in range(100):
        at = first + dt.timedelta(seconds=rng.randrange(low, high))
        if (session.row, at) not in taken:
            return at
    return at
