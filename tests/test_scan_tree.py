"""Synthetic trees of class folders for the nightly-scan tests and bench, and finding them."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

from video_audit.disc import DiscWalker
from video_audit.samples.discs import ClipSpec, write_clip
from video_audit.scan.walk import find_classes
from video_audit.standard import DEFAULT_PROFILE, load_profile

ROLL = ClipSpec(1, 1, seed=21)  # one frame: the scan only fingerprints and probes
LESSON = ClipSpec(4, 1, seed=22)  # 4 s: long enough for short_profile_text()'s 3 s minimum


def short_profile_text(clock: bool = False) -> str:
    """The shipped profile with a 3-second lesson minimum and, unless CLOCK, no clock OCR.

    The on-screen clock reader costs seconds a clip and has its own tests; these clips
    carry no clock anyway.
    """
    text = DEFAULT_PROFILE.read_text(encoding="utf-8")
    assert "min_lesson_seconds = 600" in text
    text = text.replace("min_lesson_seconds = 600", "min_lesson_seconds = 3")
    if not clock:
        head, sep, tail = text.partition("\n[clock]\n")
        assert sep and "\nenabled = true" in tail
        text = head + sep + tail.replace("\nenabled = true", "\nenabled = false", 1)
    return text


def write_scan_profile(folder: Path) -> Path:
    """short_profile_text() as a file in FOLDER."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "scan-profile.toml"
    path.write_text(short_profile_text(), encoding="utf-8")
    return path


def clip_pair(cache: Path) -> tuple[Path, Path]:
    """A roll clip and a lesson clip, encoded once into CACHE and copied from then on."""
    roll, lesson = cache / "roll.mp4", cache / "lesson.mp4"
    if not roll.exists():
        write_clip(roll, ROLL)
    if not lesson.exists():
        write_clip(lesson, LESSON)
    return roll, lesson


def institution(i: int) -> str:
    return f"壶关县第{i + 1}职业培训学校"


def write_class(
    folder: Path,
    clips: tuple[Path, Path],
    start: dt.date,
    days: int = 1,
    roll2: bool = True,
    lesson: bool = True,
) -> Path:
    """A class folder whose name is its prefix, with DAYS day folders from START.

    Each day holds roll clip 1, and roll clip 2 and the lesson clip unless told otherwise.
    """
    prefix = folder.name
    roll, lesson_clip = clips
    for n in range(days):
        day = start + dt.timedelta(days=n)
        date = f"{day.month}月{day.day}日"
        target = folder / date
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(roll, target / f"{prefix}{date}课间人脸识别视频1.mp4")
        if roll2:
            shutil.copyfile(roll, target / f"{prefix}{date}课间人脸识别视频2.mp4")
        if lesson:
            shutil.copyfile(lesson_clip, target / f"{prefix}{date}授课过程.mp4")
    return folder


def class_folder(root: Path, i: int, per_institution: int = 10) -> Path:
    """ROOT/<institution>/<institution>2024年第N期电工培训班 for class number I."""
    inst = institution(i // per_institution)
    return root / inst / f"{inst}2024年第{i % per_institution + 1}期电工培训班"


def write_tree(
    root: Path, clips: tuple[Path, Path], classes: int, first: int = 0, full: bool = True
) -> list[Path]:
    """CLASSES one-day class folders numbered from FIRST, ten to an institution folder.

    Not FULL: each class holds one 1-frame clip only (cheap to audit; CT01 and CT02 found).
    """
    start = dt.date(2024, 5, 20)
    return [
        write_class(class_folder(root, i), clips, start, roll2=full, lesson=full)
        for i in range(first, first + classes)
    ]


def test_class_folders_are_found_at_any_depth(tmp_path: Path) -> None:
    clips = clip_pair(tmp_path / "clips")
    root = tmp_path / "root"
    nested = write_tree(root, clips, 12)
    deep = write_class(
        root / "2025" / "上半年" / "长治市深层职业培训学校2025年第1期班", clips, dt.date(2025, 3, 3)
    )
    top = write_class(root / "长治市顶层职业培训学校2024年第9期班", clips, dt.date(2024, 9, 9))
    (root / "空文件夹").mkdir()
    (root / ".hidden" / "x").mkdir(parents=True)
    spots, unreadable = find_classes(root, DiscWalker(load_profile()))
    assert unreadable == []
    assert sorted(s.path for s in spots) == sorted([*nested, deep, top])
    rels = {s.rel for s in spots}
    assert "2025/上半年/长治市深层职业培训学校2025年第1期班" in rels
    assert f"{institution(1)}/{institution(1)}2024年第1期电工培训班" in rels


def test_200_classes_rescan_by_fingerprint_only(tmp_path: Path) -> None:
    """Audits run in this process here: the worker pools have tests of their own."""
    from video_audit.scan.run import scan
    from video_audit.settings import AuditSettings

    clips = clip_pair(tmp_path / "clips")
    root, db = tmp_path / "root", tmp_path / "audits.db"
    folders = write_tree(root, clips, 200, full=False)
    settings = AuditSettings(standard=write_scan_profile(tmp_path), scan_settle_seconds=0)
    first = scan(root, db, settings, workers=0)
    assert first.counts == {"new": 200, "unchanged": 0} and first.failed == 200

    rescan = scan(root, db, settings, workers=0)
    assert rescan.counts == {"unchanged": 200}

    touched = next(folders[123].rglob("*视频1.mp4"))
    os.utime(touched, (1_600_000_000, 1_600_000_000))  # mtime only: same size, same content
    third = scan(root, db, settings, workers=0)
    assert third.counts == {"unchanged": 199, "changed": 1}
    assert third.rt01 == 0  # the footage itself did not change
