"""QA06 and QA07 from the on-screen clock, through a whole audit, in the JSON and the text report.

One generated class: a clean day (the twins), and two days whose clocks tell the frauds the
issue names — yesterday's footage renamed, face-roll clips at the wrong time of day, a lesson
clip spliced backwards and one with half an hour cut out — plus a clip with no clock at all.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PREFIX
from video_audit.audit import AuditReport, run_audit
from video_audit.report import html
from video_audit.report.text import render
from video_audit.samples.clock_overlay import ClockOverlay
from video_audit.samples.discs import CHINA, ClipSpec, write_clip


def _day(
    root: Path, day: dt.date, clips: dict[str, tuple[dt.datetime, ClockOverlay | None]]
) -> None:
    folder = root / PREFIX / f"{day.month}月{day.day}日"
    for n, (what, (start, clock)) in enumerate(clips.items()):
        name = f"{PREFIX}{day.month}月{day.day}日{what}.mp4"
        lesson = what == "授课过程"
        spec = ClipSpec(
            40 if lesson else 6,
            1 if lesson else 2,
            width=640,
            height=480,
            start=start,
            seed=day.day * 10 + n,
            clock=clock,
        )
        write_clip(folder / name, spec)


def _at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHINA)


def _clock(when: dt.datetime, style: str = "iso", corner: str = "tl", **kw: Any) -> ClockOverlay:
    return ClockOverlay(when.replace(tzinfo=None), style, corner, **kw)


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> AuditReport:
    root = tmp_path_factory.mktemp("clock_disc")
    d1, d2, d3 = dt.date(2024, 5, 24), dt.date(2024, 5, 25), dt.date(2024, 5, 26)
    _day(root, d1, {  # the clean twins
        "课间人脸识别视频1": (_at(d1, 9, 50), _clock(_at(d1, 9, 50), "us", "br")),
        "课间人脸识别视频2": (_at(d1, 15, 20), _clock(_at(d1, 15, 20), "us-12h", "tr")),
        "授课过程": (_at(d1, 10, 5), _clock(_at(d1, 10, 5))),
    })  # fmt: skip
    _day(root, d2, {
        # Yesterday's footage, re-exported today: metadata says 5-25, the clock 5-24.
        "课间人脸识别视频1": (_at(d2, 9, 50), _clock(_at(d1, 9, 50), "us", "br")),
        # Clip 2 filmed before noon (the metadata claims the afternoon).
        "课间人脸识别视频2": (_at(d2, 15, 20), _clock(_at(d2, 11, 0), "eu", "bl")),
        # Spliced: at 0:17 the picture goes back to footage an hour older.
        "授课过程": (_at(d2, 10, 5), _clock(_at(d2, 10, 5), jumps=((17.0, -3600.0),))),
    })  # fmt: skip
    _day(root, d3, {
        "课间人脸识别视频1": (_at(d3, 9, 50), _clock(_at(d3, 14, 10), "iso", "tr")),
        # No clock on this camera: metadata decides, and says before noon.
        "课间人脸识别视频2": (_at(d3, 11, 30), None),
        # Half an hour cut out at 0:23.
        "授课过程": (_at(d3, 10, 5), _clock(_at(d3, 10, 5), "us", jumps=((23.0, 1800.0),))),
    })  # fmt: skip
    return run_audit(root)


def _rel(day: str, what: str) -> str:
    return f"{PREFIX}/{day}/{PREFIX}{day}{what}.mp4"


def test_clock_findings_exactly(audited: AuditReport) -> None:
    found = {(f.code, f.path, f.variant) for f in audited.findings if f.code in ("QA06", "QA07")}
    assert found == {
        ("QA07", _rel("5月25日", "课间人脸识别视频1"), "date"),
        ("QA07", _rel("5月25日", "课间人脸识别视频2"), "roll2_not_afternoon"),
        ("QA06", _rel("5月25日", "授课过程"), "clock_jump"),
        ("QA07", _rel("5月26日", "课间人脸识别视频1"), "roll1_not_morning"),
        ("QA07", _rel("5月26日", "课间人脸识别视频2"), "roll2_not_afternoon"),
        ("QA06", _rel("5月26日", "授课过程"), "clock_jump"),
    }


def test_a_clip_without_the_clock_the_others_show(audited: AuditReport) -> None:
    unread = {(f.path, f.variant) for f in audited.findings if f.code == "QA08"}
    assert unread == {(_rel("5月26日", "课间人脸识别视频2"), "missing")}


def test_details_say_the_source_and_the_time_code(audited: AuditReport) -> None:
    by = {(f.code, f.path): f for f in audited.findings}
    date = by["QA07", _rel("5月25日", "课间人脸识别视频1")]
    assert date.details["source"] == "clock" and date.details["recorded"] == "2024-05-24 09:50"
    assert "画面时钟" in date.message("zh") and "on-screen clock" in date.message("en")
    fallback = by["QA07", _rel("5月26日", "课间人脸识别视频2")]
    assert fallback.details["source"] == "metadata"
    back = by["QA06", _rel("5月25日", "授课过程")]
    (event,) = back.details["events"]
    assert event["kind"] == "clock_back" and event["at"] == 17.0 and event["seconds"] == -3600.0
    assert back.details["jumps"] == ["0:17 10:05:16→09:05:17"]
    ahead = by["QA06", _rel("5月26日", "授课过程")]
    assert ahead.details["events"][0]["kind"] == "clock_forward"
    assert "0:23" in ahead.message("zh")


def test_json_carries_each_clips_clock(audited: AuditReport) -> None:
    clips = {
        c["path"]: c["clock"]
        for day in audited.to_dict("zh")["classes"][0]["days"]
        for c in day["clips"]
    }
    lesson = clips[_rel("5月24日", "授课过程")]
    assert lesson["found"] and lesson["source"] == "clock" and lesson["confidence"] >= 0.6
    assert lesson["continuous"] and not clips[_rel("5月25日", "授课过程")]["continuous"]
    assert lesson["start"] == "2024-05-24T10:05:00+08:00"
    assert lesson["end"].startswith("2024-05-24T10:05:39")
    assert clips[_rel("5月26日", "课间人脸识别视频2")] == {"found": False}
    assert all(c is not None for c in clips.values())


def test_text_report_shows_the_recorded_range(audited: AuditReport) -> None:
    text = render(audited, "zh")
    line = next(x for x in text.splitlines() if "QA06" in x and "5月25日授课过程" in x)
    assert "画面时间：2024-05-25 10:05–09:05" in line
    no_clock = next(x for x in text.splitlines() if "QA07" in x and "5月26日课间人脸识别视频2" in x)
    assert "未找到画面时间" in no_clock
    assert "no on-screen clock found" in render(audited, "en")


def test_html_report_shows_the_recorded_range(audited: AuditReport) -> None:
    page = html.render(audited, "zh")
    assert "画面时间：2024-05-24 10:05:00–10:05:39" in page  # the clean lesson clip, 40 s long
    assert "未找到画面时间" in page
