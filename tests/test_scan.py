"""Nightly scan: incremental decisions, files still being copied, RT01, the December rule."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.test_scan_tree import (
    class_folder,
    clip_pair,
    write_class,
    write_scan_profile,
    write_tree,
)
from video_audit.scan.run import (
    ScanError,
    ScanResult,
    add_years,
    retention_findings,
    scan,
    statistics_year,
)
from video_audit.settings import AuditSettings
from video_audit.standard import load_profile
from video_audit.store.scan import FileRecord, FileState


@pytest.fixture(scope="module")
def scan_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scan_profile(tmp_path_factory.mktemp("profile"))


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return clip_pair(tmp_path_factory.mktemp("scanclips"))


@pytest.fixture
def settings(scan_profile: Path) -> AuditSettings:
    return AuditSettings(standard=scan_profile, scan_settle_seconds=0)


def night(root: Path, db: Path, settings: AuditSettings) -> ScanResult:
    """One scan, audits in this process (the worker pools have their own tests)."""
    return scan(root, db, settings, workers=0)


def rows(db: Path, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def outcomes(db: Path, run_id: int) -> dict[str, str]:
    return dict(
        rows(
            db,
            "SELECT c.rel, o.outcome FROM scan_outcomes o JOIN scan_classes c ON c.id = o.class_id"
            " WHERE o.run_id = ?",
            run_id,
        )
    )


def age(path: Path, seconds: float = 3600) -> None:
    """Make every file and folder under PATH look settled (modified SECONDS ago)."""
    when = dt.datetime.now().timestamp() - seconds
    for p in [path, *path.rglob("*")]:
        os.utime(p, (when, when))


def test_incremental_add_change_delete(
    tmp_path: Path, clips: tuple[Path, Path], settings: AuditSettings
) -> None:
    root, db = tmp_path / "root", tmp_path / "db" / "audits.db"
    a, b, c = write_tree(root, clips, 3)
    first = night(root, db, settings)
    assert set(outcomes(db, first.run_id).values()) == {"new"}
    assert first.exit_code == 0 and first.counts == {"new": 3, "unchanged": 0}

    again = night(root, db, settings)
    assert set(outcomes(db, again.run_id).values()) == {"unchanged"}
    assert rows(db, "SELECT count(*) FROM scan_audits")[0][0] == 3  # nothing redone

    d = write_class(class_folder(root, 3), clips, dt.date(2024, 5, 20))  # a new class
    write_class(b, clips, dt.date(2024, 5, 21), roll2=False)  # b gains a day without clip 2
    shutil.rmtree(c)  # c is gone
    third = night(root, db, settings)
    rel = {p: p.relative_to(root).as_posix() for p in (a, b, c, d)}
    assert outcomes(db, third.run_id) == {
        rel[a]: "unchanged",
        rel[b]: "changed",
        rel[c]: "removed",
        rel[d]: "new",
    }
    assert third.exit_code == 1  # b now fails (CT01) and c's removal is RT01
    current = rows(
        db,
        "SELECT f.code, f.path FROM scan_classes c JOIN scan_findings f ON f.audit_id ="
        " c.last_audit_id"
        " WHERE c.rel = ?",
        rel[b],
    )
    assert current == [("CT01", "5月21日")]  # paths inside a class report are class-relative
    assert rows(db, "SELECT status, verdict FROM scan_classes WHERE rel = ?", rel[b]) == [
        ("audited", "fail")
    ]
    assert rows(db, "SELECT status FROM scan_classes WHERE rel = ?", rel[c]) == [("removed",)]
    assert rows(db, "SELECT count(*) FROM scan_audits WHERE class_id = 2")[0][0] == 2
    # b only gained files: re-audited, but nothing of its footage was lost
    assert rows(
        db, "SELECT count(*) FROM scan_findings WHERE code = 'RT01' AND path LIKE '5月21日%'"
    ) == [(0,)]


def test_a_new_standard_reaudits_unchanged_classes(
    tmp_path: Path, clips: tuple[Path, Path], settings: AuditSettings, scan_profile: Path
) -> None:
    root, db = tmp_path / "root", tmp_path / "audits.db"
    write_tree(root, clips, 2)
    night(root, db, settings)
    stricter = tmp_path / "stricter.toml"
    stricter.write_text(
        scan_profile.read_text("utf-8").replace("min_lesson_seconds = 3", "min_lesson_seconds = 9"),
        "utf-8",
    )
    result = night(root, db, settings.model_copy(update={"standard": stricter}))
    assert set(outcomes(db, result.run_id).values()) == {"reaudit"}
    assert result.failed == 2  # FM03 under the stricter standard
    assert rows(db, "SELECT count(*) FROM scan_findings WHERE code = 'RT01'") == [(0,)]


def test_files_still_being_copied_wait_for_the_next_night(
    tmp_path: Path, clips: tuple[Path, Path], settings: AuditSettings
) -> None:
    root, db = tmp_path / "root", tmp_path / "audits.db"
    settled, copying = write_tree(root, clips, 2)
    age(root)
    clip = next(copying.rglob("*授课过程.mp4"))
    os.utime(clip)  # modified just now: a copy still in progress
    careful = settings.model_copy(update={"scan_settle_seconds": 120})
    first = night(root, db, careful)
    result = outcomes(db, first.run_id)
    assert result[settled.relative_to(root).as_posix()] == "new"
    assert result[copying.relative_to(root).as_posix()] == "pending"
    detail = json.loads(
        rows(db, "SELECT detail FROM scan_outcomes WHERE outcome = 'pending'")[0][0]
    )
    assert detail["reason"] == "copying" and 0 <= detail["age"] < 120
    assert rows(db, "SELECT count(*) FROM scan_audits") == [(1,)]  # nothing recorded for the copy

    age(copying)  # the copy finished long enough ago
    second = night(root, db, careful)
    assert outcomes(db, second.run_id)[copying.relative_to(root).as_posix()] == "new"


def test_rt01_names_what_was_there_before(
    tmp_path: Path, clips: tuple[Path, Path], settings: AuditSettings
) -> None:
    root, db = tmp_path / "root", tmp_path / "audits.db"
    kept, rewritten, removed = write_tree(root, clips, 3)
    (removed / "5月20日" / "Thumbs.db").write_bytes(b"\0" * 16)  # junk: no retention duty
    night(root, db, settings)
    before = dict(rows(db, "SELECT rel, size FROM scan_files"))

    # Same size, same mtime, different content: only the head hash can tell.
    lesson = next(rewritten.rglob("*授课过程.mp4"))
    st = lesson.stat()
    with lesson.open("r+b") as fh:
        fh.seek(200)
        fh.write(b"\xff" * 32)
    os.utime(lesson, ns=(st.st_atime_ns, st.st_mtime_ns))
    shutil.rmtree(removed)
    result = night(root, db, settings)
    assert result.rt01 == 4 and result.exit_code == 1
    found = rows(
        db,
        "SELECT c.rel, f.path, f.details_json, f.message FROM scan_findings f"
        " JOIN scan_classes c ON c.id = f.class_id WHERE f.code = 'RT01' ORDER BY c.rel, f.path",
    )
    changed = [r for r in found if r[0] == rewritten.relative_to(root).as_posix()]
    assert [r[1] for r in changed] == [lesson.relative_to(rewritten).as_posix()]
    details = json.loads(changed[0][2])
    assert details["size"] == details["now_size"] == st.st_size
    assert details["mtime"] == details["now_mtime"]
    assert "文件内容已被改动" in changed[0][3]
    gone = [r for r in found if r[0] == removed.relative_to(root).as_posix()]
    assert len(gone) == 3  # two roll clips and the lesson; not Thumbs.db
    for _, path, raw, message in gone:
        d = json.loads(raw)
        assert d["file"] == path and d["size"] == before[path]
        assert d["first_seen"] and d["until"] and path in message and "已被删除" in message
    assert not [r for r in found if r[0] == kept.relative_to(root).as_posix()]

    quiet = night(root, db, settings)  # reported once, not every night
    assert quiet.rt01 == 0 and quiet.exit_code == 0


def test_retention_ends_after_the_profile_years() -> None:
    profile = load_profile()
    assert profile.section("retention")["years"] == 2
    audited = "2024-06-03T01:30:00+08:00"
    before = {
        "a/x.mp4": FileRecord("a/x.mp4", 10, 1, "h", audited),
        "名册.csv": FileRecord("名册.csv", 5, 1, "r", audited),
    }
    now_files = {"a/x.mp4": FileState("a/x.mp4", 11, 2, "h2")}
    inside = dt.datetime(2026, 6, 2, 12, tzinfo=dt.UTC)
    found = retention_findings(before, now_files, audited, profile, inside, "en")
    assert [(f["path"], f["details"].get("now_size")) for f in found] == [
        ("a/x.mp4", 11),
        ("名册.csv", None),
    ]
    assert found[0]["details"]["until"] == "2026-06-03"
    after = dt.datetime(2026, 6, 3, 12, tzinfo=dt.UTC)
    assert retention_findings(before, {}, audited, profile, after, "en") == []
    assert add_years(dt.date(2024, 2, 29), 2) == dt.date(2026, 2, 28)


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (dt.date(2024, 11, 30), 2024),
        (dt.date(2024, 12, 1), 2025),
        (dt.date(2024, 12, 31), 2025),
        (dt.date(2025, 1, 1), 2025),
    ],
)
def test_december_counts_toward_the_next_year(day: dt.date, year: int) -> None:
    assert statistics_year(day) == year
    assert statistics_year(day, first_month=1) == day.year  # a calendar-year profile


def test_summaries_group_classes_by_statistics_year(
    tmp_path: Path, clips: tuple[Path, Path], settings: AuditSettings
) -> None:
    root, db = tmp_path / "root", tmp_path / "audits.db"
    write_class(root / "甲学校" / "甲学校2024年第8期电工培训班", clips, dt.date(2024, 11, 29), 2)
    write_class(root / "甲学校" / "甲学校2024年第9期电工培训班", clips, dt.date(2024, 12, 2), 2)
    write_class(root / "乙学校" / "乙学校2025年第1期电工培训班", clips, dt.date(2025, 3, 3))
    night(root, db, settings)
    assert rows(db, "SELECT rel, start_date, stat_year FROM scan_classes ORDER BY rel") == [
        ("乙学校/乙学校2025年第1期电工培训班", "2025-03-03", 2025),
        ("甲学校/甲学校2024年第8期电工培训班", "2024-11-29", 2024),
        ("甲学校/甲学校2024年第9期电工培训班", "2024-12-02", 2025),
    ]


def test_refuses_what_it_cannot_do_safely(
    tmp_path: Path, clips: tuple[Path, Path], settings: AuditSettings
) -> None:
    root, db = tmp_path / "root", tmp_path / "audits.db"
    write_tree(root, clips, 1)
    with pytest.raises(ScanError, match="no such folder"):
        night(tmp_path / "missing", db, settings)
    night(root, db, settings)
    empty = tmp_path / "unmounted"
    empty.mkdir()
    with pytest.raises(ScanError, match="belongs to"):
        night(empty, db, settings)
    for child in root.iterdir():
        shutil.rmtree(child)
    with pytest.raises(ScanError, match="mounted"):
        night(root, db, settings)
    assert rows(db, "SELECT count(*) FROM scan_runs") == [(1,)]  # nothing recorded, nothing removed
    with open(db.with_name(db.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(ScanError, match="another scan"):
            night(root, db, settings)
    (tmp_path / "other.db").write_bytes(b"SQLite format 3\0" + b"\0" * 100)
    with pytest.raises(ScanError, match=r"other\.db"):
        night(root, tmp_path / "other.db", settings)
