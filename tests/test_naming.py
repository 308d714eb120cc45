"""Annex 4 names: schemes, normalising, mis-decoded GBK, folder dates."""

from __future__ import annotations

import pytest

from video_audit.naming import (
    canonical_stem,
    normalise,
    parse_class_year,
    parse_clip_name,
    parse_folder_date,
    recover_name,
)
from video_audit.standard import load_profile

NAMES = load_profile().names
P = "长治市华森职业培训学校2024年第3期电工培训班"


def test_face_roll_and_lesson_names() -> None:
    roll = parse_clip_name(f"{P}5月24日课间人脸识别视频2.mp4", NAMES)
    assert roll is not None
    assert (roll.kind, roll.prefix, roll.month, roll.day, roll.slot) == ("roll", P, 5, 24, 2)
    assert roll.fixes == ()
    lesson = parse_clip_name(f"{P}12月3日授课过程.MP4", NAMES)
    assert lesson is not None and (lesson.kind, lesson.month, lesson.day) == ("lesson", 12, 3)
    assert parse_clip_name("课堂录像.mp4", NAMES) is None
    assert parse_clip_name(f"{P}授课过程.mp4", NAMES) is None


@pytest.mark.parametrize(
    ("name", "fixes"),
    [
        (f"{P}５月２４日课间人脸识别视频１.mp4", ("fullwidth",)),
        (f"{P} 5月24日 课间人脸识别视频1.mp4", ("spaces",)),
        (f"{P}05月24日课间人脸识别视频1.mp4", ("zero_padding",)),
        (f"{P}5月 24日课间人脸识别视频1.mp4", ("spaces",)),
    ],
)
def test_names_that_fit_after_normalising(name: str, fixes: tuple[str, ...]) -> None:
    parsed = parse_clip_name(name, NAMES)
    assert parsed is not None and parsed.fixes == fixes
    assert canonical_stem(parsed) == f"{P}5月24日课间人脸识别视频1"


def test_gbk_bytes_decoded_wrongly_are_recovered() -> None:
    good = f"{P}5月24日授课过程"
    as_cp437 = good.encode("gbk").decode("cp437")
    assert recover_name(as_cp437) == (good, True)
    raw = good.encode("gbk").decode("utf-8", "surrogateescape")
    assert recover_name(raw) == (good, True)
    utf8_as_gbk = good.encode("utf-8").decode("gbk", "replace")
    fixed, repaired = recover_name(utf8_as_gbk)
    assert repaired or fixed == utf8_as_gbk  # lossy when bytes do not round-trip
    norm = normalise(as_cp437)
    assert norm.text == good and norm.fixes == ("gbk",)
    assert recover_name(good) == (good, False)
    assert recover_name("readme.txt") == ("readme.txt", False)


@pytest.mark.parametrize(
    ("folder", "date"),
    [
        ("5月24日", (None, 5, 24)),
        ("05月24日", (None, 5, 24)),
        ("第3天 5月24日", (None, 5, 24)),
        ("2024-05-24", (2024, 5, 24)),
        ("2024.5.24", (2024, 5, 24)),
        ("20240524", (2024, 5, 24)),
        ("2024年5月24日", (2024, 5, 24)),
        ("２０２４－０５－２４", (2024, 5, 24)),
    ],
)
def test_folder_dates(folder: str, date: tuple[int | None, int, int]) -> None:
    parsed = parse_folder_date(folder, NAMES)
    assert parsed is not None and (parsed.year, parsed.month, parsed.day) == date


@pytest.mark.parametrize("folder", ["第二天", "照片", "2024", "13月40日", "2024-13-01", "20241340"])
def test_folders_without_a_date(folder: str) -> None:
    assert parse_folder_date(folder, NAMES) is None


def test_class_year() -> None:
    assert parse_class_year(P, NAMES) == 2024
    assert parse_class_year("电工培训班", NAMES) is None
