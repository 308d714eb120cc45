"""QA05: the same footage in two places — within a class, and across classes via the store."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from api.reportview import finding_moments
from tests.conftest import PREFIX
from tests.test_picture_clips import (
    Footage,
    audit,
    encode,
    lesson_path,
    picture_profile,
    qa,
    roll_path,
)
from video_audit.media.frames import Sampling, sample_clip
from video_audit.picture.fingerprints import Fingerprint, ReuseRules, match
from video_audit.picture.measures import PictureConfig, PictureSink
from video_audit.rules.format import clock
from video_audit.store.fingerprints import FingerprintStore

ROLL = Footage(seconds=10, fps=5, seed=7)
ROLL1 = f"{PREFIX}5月24日课间人脸识别视频1.mp4"
ROLL2 = f"{PREFIX}5月24日课间人脸识别视频2.mp4"


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return picture_profile(tmp_path_factory.mktemp("profile"))


def _print(path: Path) -> Fingerprint:
    sink = PictureSink(PictureConfig(), 10.0)
    dense = Sampling(every=0.5, keyframe_gap=0.0)  # what the audit uses for short clips
    return sink.finish(sample_clip(path, dense, sink.add)).fingerprint


@pytest.mark.parametrize(
    "copy",
    [
        replace(ROLL),  # the same file content, encoded again
        replace(ROLL, scale=(480, 360)),
        replace(ROLL, scale=(256, 192)),
        replace(ROLL, crop=0.03),
        replace(ROLL, gop=3),
    ],
    ids=["reencoded", "upscaled", "downscaled", "cropped", "other_keyframes"],
)
def test_roll_clip_2_is_clip_1_again(tmp_path: Path, profile: Path, copy: Footage) -> None:
    cls = tmp_path / PREFIX
    encode(roll_path(cls, 1), ROLL)
    encode(roll_path(cls, 2), replace(copy, sensor=copy.sensor))
    report = audit(cls, profile)
    assert qa(report) == {("QA05", ROLL1), ("QA05", ROLL2)}, [
        f.to_dict("en") for f in report.findings
    ]
    for f in (f for f in report.findings if f.code == "QA05"):
        other = ROLL1 if f.path.endswith(ROLL2) else ROLL2
        assert str(f.details["other"]).endswith(other)
        assert abs(float(f.details["offset"])) <= 0.6
        # The reused stretch in seconds, for the player's link (shown as the message's span).
        start, end = f.details["span_seconds"]
        assert 0 <= start < end and f.details["start"] == clock(start)
        link = finding_moments(f.to_dict("zh"))
        assert [(m["t"], m["end"]) for m in link] == [(start, end)]


def test_two_rolls_of_one_room_are_not_reuse(tmp_path: Path, profile: Path) -> None:
    # The same room and camera, other moments: people elsewhere, other noise.
    cls = tmp_path / PREFIX
    encode(roll_path(cls, 1), ROLL)
    encode(roll_path(cls, 2), replace(ROLL, offset=40.0))
    assert qa(audit(cls, profile)) == set()


def test_two_rooms_are_not_reuse(tmp_path: Path, profile: Path) -> None:
    cls = tmp_path / PREFIX
    encode(roll_path(cls, 1), ROLL)
    encode(roll_path(cls, 2), replace(ROLL, seed=8))
    assert qa(audit(cls, profile)) == set()


def test_day_5_lesson_is_an_excerpt_of_day_3s(tmp_path: Path, profile: Path) -> None:
    cls = tmp_path / PREFIX
    day3 = Footage(seconds=24, fps=2, gop=4, seed=11)
    encode(lesson_path(cls, "5月22日"), day3)
    encode(lesson_path(cls, "5月24日"), replace(day3, seconds=14, offset=8.0, scale=(400, 300)))
    report = audit(cls, profile)
    day3_rel, day5_rel = (f"{PREFIX}5月{n}日授课过程.mp4" for n in (22, 24))
    assert qa(report) == {("QA05", day3_rel), ("QA05", day5_rel)}
    by = {f.path.rsplit("/", 1)[-1]: f.details for f in report.findings if f.code == "QA05"}
    assert str(by[day5_rel]["other"]).endswith(day3_rel)
    assert abs(float(by[day5_rel]["offset"]) - 8.0) <= 1.0
    assert by[day5_rel]["other_start"] == "0:08" and by[day5_rel]["start"] == "0:00"
    # Day 3's side of the same pair: its 0:08 onwards is day 5's from the start.
    assert str(by[day3_rel]["other"]).endswith(day5_rel)
    assert abs(float(by[day3_rel]["offset"]) + 8.0) <= 1.0
    assert by[day3_rel]["other_start"] == "0:00" and by[day3_rel]["start"] in ("0:07", "0:08")


@pytest.mark.parametrize("copied_first", [False, True], ids=["later_is_copy", "earlier_is_copy"])
def test_a_reused_pair_is_reported_on_both_clips(
    tmp_path: Path, profile: Path, copied_first: bool
) -> None:
    # A day's lesson re-encoded as another day's: whichever day the copy is, both clips say so
    # and each names the other.
    cls = tmp_path / PREFIX
    lesson = Footage(seconds=12, fps=2, gop=4, seed=31)
    original, copy = (lesson_path(cls, d) for d in ("5月22日", "5月25日"))
    if copied_first:
        original, copy = copy, original
    encode(original, lesson)
    encode(copy, replace(lesson, scale=(400, 300)))
    report = audit(cls, profile)
    found = {f.path.rsplit("/", 1)[-1]: f for f in report.findings if f.code == "QA05"}
    assert set(found) == {original.name, copy.name}, [f.to_dict("en") for f in report.findings]
    for name, f in found.items():
        other = copy.name if name == original.name else original.name
        assert f.variant == "same_class" and str(f.details["other"]).endswith(other)
        assert other in f.message("zh")


def test_match_needs_a_long_enough_stretch(tmp_path: Path) -> None:
    a = _print(encode(tmp_path / "a.mp4", ROLL))
    b = _print(encode(tmp_path / "b.mp4", replace(ROLL, seconds=4)))
    assert match(a, b, ReuseRules(min_seconds=6.0)) is None
    found = match(a, b, ReuseRules(min_seconds=2.0))
    assert found is not None and found.frames >= 6 and found.offset == 0.0


def test_fingerprint_round_trips(tmp_path: Path) -> None:
    fp = _print(encode(tmp_path / "a.mp4", ROLL))
    for again in (Fingerprint.from_bytes(fp.to_bytes()), Fingerprint.from_dict(fp.to_dict())):
        assert (again.hashes == fp.hashes).all() and (again.motion == fp.motion).all()
        assert abs(again.times - fp.times).max() < 0.01


def test_reuse_across_classes_through_the_store(tmp_path: Path, profile: Path) -> None:
    store = tmp_path / "fingerprints.sqlite"
    first = tmp_path / "disc1" / PREFIX
    encode(lesson_path(first, "5月20日"), Footage(seconds=12, seed=21))
    assert qa(audit(first, profile, fingerprint_db=store)) == set()
    # Auditing the same class again finds nothing: its own footage is not "another class".
    assert qa(audit(first, profile, fingerprint_db=store)) == set()

    other_prefix = "壶关县另一职业培训学校2024年第2期焊工培训班"
    second = tmp_path / "disc2" / other_prefix
    clip = second / "6月1日" / f"{other_prefix}6月1日授课过程.mp4"
    encode(clip, Footage(seconds=12, seed=21, scale=(400, 300)))
    report = audit(second, profile, fingerprint_db=store)
    assert qa(report) == {("QA05", clip.name)}
    (f,) = [f for f in report.findings if f.code == "QA05"]
    assert f.variant == "other_class"
    assert f.details["other_class"] == PREFIX
    assert str(f.details["other"]).endswith("5月20日授课过程.mp4")
    assert PREFIX in f.message("zh")

    # Without the store, nothing is remembered between audits.
    assert qa(audit(second, profile)) == set()


def test_store_replaces_a_class_in_one_go(tmp_path: Path) -> None:
    fp = _print(encode(tmp_path / "a.mp4", ROLL))
    store = FingerprintStore(tmp_path / "s.sqlite")
    store.remember([("class-a", "A", [("A/1/a.mp4", fp), ("A/1/b.mp4", fp)])])
    store.remember([("class-a", "A", [("A/1/a.mp4", fp)])])
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM footage_clips").fetchone() == (1,)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        orphans = db.execute(
            "SELECT COUNT(*) FROM footage_bands WHERE clip NOT IN (SELECT id FROM footage_clips)"
        )
        assert orphans.fetchone() == (0,)
    assert store.candidates(fp, "class-a") == []
    (found,) = store.candidates(fp, "class-b")
    assert found.path == "A/1/a.mp4" and (found.fingerprint.hashes == fp.hashes).all()


def test_picture_results_and_fingerprint_are_in_the_json(tmp_path: Path, profile: Path) -> None:
    cls = tmp_path / PREFIX
    encode(lesson_path(cls), Footage(seconds=6))
    data = audit(cls, profile).to_dict("en")
    (clip,) = data["classes"][0]["days"][0]["clips"]
    picture = clip["picture"]
    assert picture["sampled"] == 12 and picture["noise"] is not None and picture["error"] is None
    assert len(picture["fingerprint"]["times"]) == picture["sampled"]


def test_an_unusable_store_is_a_one_line_error(tmp_path: Path, profile: Path) -> None:
    from video_audit.context import AuditError

    cls = tmp_path / PREFIX
    encode(roll_path(cls, 1), ROLL)
    store = tmp_path / "store.sqlite"
    store.write_bytes(b"this is not a database" * 100)
    with pytest.raises(AuditError, match="fingerprint store"):
        audit(cls, profile, fingerprint_db=store)
    assert store.read_bytes().startswith(b"this is not a database")
