"""An unread clock is a finding (QA08), and a plain ASCII clock is read beside other text.

One generated disc of two classes: in the first, one clip's clock shows its date but no time
(a camera whose time was never set) and the lesson clip has no clock while the others do; the
second class comes from cameras that draw no clock at all, which is no finding.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import av
import pytest

from tests.conftest import PREFIX
from video_audit.audit import AuditReport, run_audit
from video_audit.clock import ClipClock, ClockAnalyzer, ClockConfig
from video_audit.clock.analyzer import _lines, clock_like
from video_audit.clock.ocr import TextBox
from video_audit.disc import Clip
from video_audit.media.frames import run_pass
from video_audit.media.probe import probe
from video_audit.report.text import render
from video_audit.rules.clock import unread_findings
from video_audit.samples import clock_overlay
from video_audit.samples.clock_overlay import STYLES, ClockOverlay
from video_audit.samples.discs import CHINA, EVERYONE, ClipSpec, sample_clock, write_clip
from video_audit.samples.faces import FaceShot

OTHER = "长治市测试职业培训学校2024年第2期焊工培训班"
DAY = dt.date(2024, 5, 24)


def _at(hour: int, minute: int) -> dt.datetime:
    return dt.datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=CHINA)


def _clip(
    root: Path, prefix: str, what: str, start: dt.datetime, clock: ClockOverlay | None
) -> None:
    path = root / prefix / "5月24日" / f"{prefix}5月24日{what}.mp4"
    spec = ClipSpec(6, 2, width=640, height=480, start=start, seed=len(what), clock=clock)
    write_clip(path, spec)


def _rel(prefix: str, what: str) -> str:
    return f"{prefix}/5月24日/{prefix}5月24日{what}.mp4"


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> AuditReport:
    root = tmp_path_factory.mktemp("unread_clock")
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(STYLES, "unset", "{Y}-{m}-{d} --:--:--")
        roll1, roll2 = _at(9, 50), _at(15, 20)
        _clip(root, PREFIX, "课间人脸识别视频1", roll1, ClockOverlay(roll1, "iso", "tl"))
        _clip(root, PREFIX, "课间人脸识别视频2", roll2, ClockOverlay(roll2, "unset", "br"))
        _clip(root, PREFIX, "授课过程", _at(10, 5), None)
    for what, start in (("课间人脸识别视频1", roll1), ("课间人脸识别视频2", roll2)):
        _clip(root, OTHER, what, start, None)
    return run_audit(root)


def test_unread_clocks_are_findings(audited: AuditReport) -> None:
    found = {(f.code, f.path, f.variant) for f in audited.findings if f.code == "QA08"}
    assert found == {
        ("QA08", _rel(PREFIX, "课间人脸识别视频2"), "unreadable"),
        ("QA08", _rel(PREFIX, "授课过程"), "missing"),
    }
    assert all(f.severity == "warning" for f in audited.findings if f.code == "QA08")


def test_messages_say_what_to_do(audited: AuditReport) -> None:
    by = {(f.code, f.path): f for f in audited.findings}
    unreadable = by["QA08", _rel(PREFIX, "课间人脸识别视频2")]
    assert unreadable.details["text"].startswith("2024-05-24")  # the date; the time is unset
    assert "读不出" in unreadable.message("zh") and "请打开视频" in unreadable.message("zh")
    assert "Open the clip" in unreadable.message("en")
    missing = by["QA08", _rel(PREFIX, "授课过程")]
    assert missing.details["others"] == 2
    assert "本班其他 2 个视频" in missing.message("zh")
    assert missing.message("en").startswith("2 other clips of this class show")


def test_reports_tell_unreadable_from_absent(audited: AuditReport) -> None:
    clips = {
        c["path"]: c["clock"]
        for cls in audited.to_dict("zh")["classes"]
        for day in cls["days"]
        for c in day["clips"]
    }
    assert clips[_rel(PREFIX, "课间人脸识别视频1")]["found"] is True
    unread = clips[_rel(PREFIX, "课间人脸识别视频2")]
    assert unread["found"] is False and unread["seen"] is True and unread["text"]
    assert clips[_rel(OTHER, "课间人脸识别视频1")] == {"found": False}
    text = render(audited, "zh")
    line = next(x for x in text.splitlines() if "QA08" in x and "视频2" in x)
    assert "画面时间无法读取" in line
    assert "on-screen clock unreadable" in render(audited, "en")


def test_a_class_without_any_clock_gets_no_qa08(audited: AuditReport) -> None:
    assert not [f for f in audited.findings if f.code == "QA08" and f.path.startswith(OTHER)]


def test_a_reader_that_could_not_run_and_an_unsure_reading() -> None:
    config = ClockConfig()
    (failed,) = unread_findings("a.mp4", ClipClock(found=False, error="no models"), config, 3, 0)
    assert failed.variant == "reader_failed" and "no models" in failed.message("zh")
    unsure = ClipClock(found=True, confidence=0.41, text="2024-05-24 09:5O:0?")
    (low,) = unread_findings("a.mp4", unsure, config, 0, 0)
    assert low.variant == "unsure" and "0.41" in low.message("zh") and "0.6" in low.message("en")
    # No clock, and too few others with one: some cameras draw none.
    assert not list(unread_findings("a.mp4", ClipClock(found=False), config, 1, 0))
    assert not list(unread_findings("a.mp4", ClipClock(found=False), config, 2, 2))


def test_a_clock_line_stays_apart_from_taller_text_beside_it() -> None:
    clock = TextBox(18, 24, 406, 55)
    poster = TextBox(416, 37, 976, 146)  # a block of text next to it, three times as tall
    assert _lines([clock, poster]) == [clock, poster]
    date, time = TextBox(10, 10, 150, 40), TextBox(170, 12, 260, 41)
    assert _lines([time, date]) == [TextBox(10, 10, 260, 41)]
    assert clock_like("2024-05-24 --:--:--") and clock_like("O9:5O:02 2024/O5")
    assert not clock_like("CH01 教室") and not clock_like("12:30")


def test_the_sample_roll_clock_is_read_without_a_cjk_font(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The faulty sample's 5月24日 clip 1, as a machine without a CJK font draws it (issue 12)."""
    monkeypatch.setenv("VIDEO_AUDIT_CJK_FONT", "none")
    clock_overlay.cjk_font.cache_clear()
    try:
        overlay = sample_clock(_at(9, 50) - dt.timedelta(days=1), 140)
    finally:
        monkeypatch.undo()
        clock_overlay.cjk_font.cache_clear()
    assert overlay.text(0) == "2024-05-23 09:50:00"
    path = tmp_path / "roll.mp4"
    # The face roll's scene: notices with lines of text hang on the wall beside the clock.
    faces = FaceShot("roll", EVERYONE[0], seed=140)
    write_clip(path, ClipSpec(4, 2, start=_at(9, 50), seed=140, faces=faces, clock=overlay))
    with av.open(str(path)) as container:
        assert container.streams.video[0].width == 1024
    clip = Clip(path=path, rel=path.name, filename=path.name, name=None)
    clip.media = probe(path)
    clip_pass = run_pass(clip, [ClockAnalyzer(ClockConfig())])
    assert clip_pass is not None
    clock = clip_pass.results["clock"]
    assert clock.found and clock.usable
    assert clock.start == dt.datetime(2024, 5, 23, 9, 50, tzinfo=CHINA)
