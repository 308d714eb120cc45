"""QA06 one continuous lesson recording, QA07 recording time, and a clip that breaks mid-way."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from tests.conftest import PREFIX
from tests.test_picture_clips import (
    Footage,
    audit,
    encode,
    lesson_path,
    picture_profile,
    qa,
    qa_details,
    roll_path,
)
from video_audit.clock.parse import parse_zone
from video_audit.clock.recording_time import parse_time
from video_audit.samples.discs import ClipSpec, _scene

CHINA = dt.timezone(dt.timedelta(hours=8))
LESSON = f"{PREFIX}5月24日授课过程.mp4"


def _at(hour: int, minute: int = 0, day: int = 24) -> dt.datetime:
    return dt.datetime(2024, 5, day, hour, minute, tzinfo=CHINA)


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return picture_profile(tmp_path_factory.mktemp("profile"))


@pytest.mark.parametrize(
    ("footage", "variant"),
    [
        (Footage(seconds=12, splice=6.0), "cut"),
        (Footage(seconds=12, pts_jump=(5.0, 30.0)), "gap"),
        (Footage(seconds=12, splice=6.0, pts_jump=(3.0, 30.0)), "gap_cut"),
    ],
    ids=["spliced", "timestamps_jump", "both"],
)
def test_lesson_not_one_recording(
    tmp_path: Path, profile: Path, footage: Footage, variant: str
) -> None:
    cls = tmp_path / PREFIX
    encode(lesson_path(cls), footage)
    report = audit(cls, profile)
    assert qa(report) == {("QA06", LESSON)}, [f.to_dict("en") for f in report.findings]
    (f,) = [f for f in report.findings if f.code == "QA06"]
    assert f.variant == variant
    events: list[dict[str, float | str]] = f.details["events"]
    kinds = {e["kind"] for e in events}
    assert kinds == {"cut": {"cut"}, "gap": {"gap"}, "gap_cut": {"gap", "cut"}}[variant]
    if variant == "cut":
        (cut,) = [float(e["at"]) for e in events if e["kind"] == "cut"]
        assert 5.0 <= cut <= 7.0


def _lesson(path: Path, frame: Callable[[int], np.ndarray], seconds: int) -> Path:
    """A lesson filmed at 1 fps, a keyframe every 2 s (the sparse pass of a long clip)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    noise = [rng.normal(0, 2.0, (240, 320, 1)) for _ in range(5)]
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=1, options={"preset": "ultrafast", "g": "2"})
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for i in range(seconds):
            picture = np.clip(frame(i) + noise[i % 5], 0, 255).astype(np.uint8)
            video_frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            video_frame.pts, video_frame.time_base = i, Fraction(1, 1)
            out.mux(stream.encode(video_frame))
        out.mux(stream.encode(None))
    return path


def _room(seed: int) -> Callable[[int], np.ndarray]:
    return _scene(ClipSpec(seconds=1, fps=1, width=320, height=240, seed=seed))


def test_a_cut_to_another_room_at_5_00_is_found(tmp_path: Path, profile: Path) -> None:
    # Issue 12: every pixel changes (mean |Δ| 42 gray levels, histograms 0.7 apart) but the
    # two rooms' 64-bit hashes differ in 22 bits only, under the old all-gates test's 24.
    cls = tmp_path / PREFIX
    first, second = _room(34), _room(208)
    _lesson(lesson_path(cls), lambda i: first(i) if i < 300 else second(i), 310)
    report = audit(cls, profile)
    assert qa(report) == {("QA06", LESSON)}, [f.to_dict("en") for f in report.findings]
    (f,) = [f for f in report.findings if f.code == "QA06"]
    assert f.variant == "cut" and f.details["cuts"] == ["5:00"]
    assert float(f.details["score"]) >= float(f.details["cut_threshold"])
    text = f.message("zh")
    assert "5:00 处画面整体突变" in text and f"阈值 {f.details['cut_threshold']}" in text
    assert f"变化程度 {f.details['score']}" in text


def test_a_person_walking_past_is_not_a_cut(tmp_path: Path, profile: Path) -> None:
    # A teacher walks past close to the camera (a third of the picture's height) in 4 s.
    cls = tmp_path / PREFIX
    room = _room(34)

    def frame(i: int) -> np.ndarray:
        img = room(i).copy()
        if 60 <= i < 64:
            x = 30 + 70 * (i - 60)
            img[60:230, x : x + 50] = (60, 70, 150)
            img[30:60, x + 12 : x + 38] = (210, 170, 140)
        return img

    _lesson(lesson_path(cls), frame, 130)
    assert qa(audit(cls, profile)) == set()


def test_continuous_lessons_pass(tmp_path: Path, profile: Path) -> None:
    cls = tmp_path / PREFIX
    encode(lesson_path(cls), Footage(seconds=12))
    encode(lesson_path(cls, "5月25日"), Footage(seconds=12, seed=5, gop=50, fps=10))
    assert qa(audit(cls, profile)) == set()


def test_a_cut_in_a_face_roll_is_not_qa06(tmp_path: Path, profile: Path) -> None:
    # Face rolls are filmed by hand, moving along the row: only the lesson must be continuous.
    cls = tmp_path / PREFIX
    encode(roll_path(cls, 1), Footage(seconds=12, splice=6.0, start=_at(9, 50)))
    assert qa(audit(cls, profile)) == set()


@pytest.mark.parametrize(
    ("slot", "start", "expected"),
    [
        (1, _at(9, 50), None),
        (2, _at(15, 20), None),
        (1, _at(14, 30), "roll1_not_morning"),
        (2, _at(10, 0), "roll2_not_afternoon"),
        (1, _at(9, 50, day=23), "date"),
        (2, _at(15, 20, day=25), "date"),
        # 00:30 in China is 16:30 UTC the day before: the date is judged in local time.
        (1, _at(0, 30), "roll1_not_morning"),
        (1, dt.datetime(2024, 5, 24, 1, 30, tzinfo=dt.UTC), None),  # 09:30 in China
    ],
)
def test_recording_time(
    tmp_path: Path, profile: Path, slot: int, start: dt.datetime, expected: str | None
) -> None:
    cls = tmp_path / PREFIX
    encode(roll_path(cls, slot), Footage(seconds=3, start=start))
    report = audit(cls, profile)
    found = [f for f in report.findings if f.code == "QA07"]
    assert [f.variant for f in found] == ([expected] if expected else [])
    for f in found:
        assert f.details["source"] == "metadata"
        assert "文件元数据" in f.message("zh")
        local = start.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
        assert f.details["recorded"] == local


def test_lesson_date_is_checked_and_hours_are_not(tmp_path: Path, profile: Path) -> None:
    cls = tmp_path / PREFIX
    encode(lesson_path(cls), Footage(seconds=3, start=_at(19, 0, day=22)))
    (details,) = qa_details(audit(cls, profile), "QA07")
    assert details["expected"] == "2024-05-24" and details["recorded"] == "2024-05-22 19:00"
    encode(lesson_path(cls), Footage(seconds=3, start=_at(19, 0)))
    assert qa(audit(cls, profile)) == set()


def test_no_recording_time_no_finding(tmp_path: Path, profile: Path) -> None:
    cls = tmp_path / PREFIX
    encode(roll_path(cls, 1), Footage(seconds=3))
    assert qa(audit(cls, profile)) == set()


def test_time_zone_comes_from_the_profile(tmp_path: Path) -> None:
    # Roll 2 at 13:00 UTC: 21:00 in China (too late), 13:00 where the profile says UTC.
    cls = tmp_path / PREFIX
    start = dt.datetime(2024, 5, 24, 13, 0, tzinfo=dt.UTC)
    encode(roll_path(cls, 2), Footage(seconds=3, start=start))
    assert qa(audit(cls, picture_profile(tmp_path))) == {("QA07", roll_path(cls, 2).name)}
    utc = picture_profile(tmp_path, timezone='"+00:00"')
    assert qa(audit(cls, utc)) == set()


def test_metadata_times_are_read_as_the_format_defines() -> None:
    assert parse_time("2024-05-24T01:50:00.000000Z") == dt.datetime(
        2024, 5, 24, 1, 50, tzinfo=dt.UTC
    )
    assert parse_time("2024-05-24 09:50:00") == dt.datetime(2024, 5, 24, 9, 50, tzinfo=dt.UTC)
    assert parse_time("2024-05-24T09:50:00+0800") == _at(9, 50)
    assert parse_time("1970-01-01T00:00:00Z") is None  # a camera whose clock was never set
    assert parse_time("yesterday") is None
    assert parse_zone("+08:00").utcoffset(None) == dt.timedelta(hours=8)
    with pytest.raises(ValueError):
        parse_zone("Beijing")


def test_bad_time_zone_in_the_profile_is_a_one_line_error(tmp_path: Path) -> None:
    from video_audit.context import AuditError

    cls = tmp_path / PREFIX
    encode(roll_path(cls, 1), Footage(seconds=3))
    text = picture_profile(tmp_path).read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('timezone = "+08:00"', 'timezone = "Beijing"'), encoding="utf-8")
    with pytest.raises(AuditError, match="picture"):
        audit(cls, bad)


def test_a_clip_that_breaks_mid_way_is_a_finding(tmp_path: Path, profile: Path) -> None:
    cls = tmp_path / PREFIX
    path = encode(lesson_path(cls), Footage(seconds=12, gop=5))
    good = encode(lesson_path(cls, "5月25日"), Footage(seconds=12, seed=3))
    data = bytearray(path.read_bytes())
    # Overwrite the middle of the media data: the header stays, probing passes, decoding fails.
    middle = len(data) // 2
    data[middle : middle + len(data) // 4] = bytes(len(data) // 4)
    path.write_bytes(bytes(data))
    report = audit(cls, profile)
    broken = [f for f in report.findings if f.path.endswith(path.name)]
    assert broken, "a corrupt clip must not pass silently"
    (fm04,) = [f for f in broken if f.code == "FM04"]
    assert fm04.variant == "corrupt" and "0:" in str(fm04.details["error"])
    assert not [f for f in report.findings if f.path.endswith(good.name) and f.code != "FM02"]
