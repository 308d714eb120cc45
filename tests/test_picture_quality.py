"""QA01–QA04 through real audits: each fault is caught, its clean twin is not."""

from __future__ import annotations

from pathlib import Path

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
)
from video_audit.picture.measures import blur_level, noise_sigma

LESSON = f"{PREFIX}5月24日授课过程.mp4"


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Seconds-long clips: stretches of 3 s count (the shipped profile says 10 s).
    return picture_profile(
        tmp_path_factory.mktemp("profile"), black_seconds=3.0, frozen_seconds=3.0
    )


def _class(tmp_path: Path, footage: Footage) -> Path:
    cls = tmp_path / PREFIX
    encode(lesson_path(cls), footage)
    return cls


@pytest.mark.parametrize(
    ("footage", "expected"),
    [
        (Footage(), set()),
        (Footage(sensor=0.3, seed=3), set()),
        (Footage(noise=14.0), {("QA01", LESSON)}),
        (Footage(blur=4.0, sensor=0.5), {("QA02", LESSON)}),
        (Footage(black=(3.0, 9.0)), {("QA03", LESSON)}),
        (Footage(grey=(3.0, 9.0)), {("QA03", LESSON)}),
        (Footage(frozen=(3.0, 9.0)), {("QA04", LESSON)}),
        (Footage(frozen=(3.0, 9.0), gop=50), {("QA04", LESSON)}),
        (Footage(black=(4.0, 6.0), frozen=(8.0, 9.5)), set()),  # too short to count
    ],
    ids=[
        "clean",
        "clean_quiet_camera",
        "noisy",
        "blurred",
        "black",
        "grey_covered",
        "frozen",
        "frozen_long_gop",
        "short_stretches",
    ],
)
def test_fault_and_clean_twin(
    tmp_path: Path, profile: Path, footage: Footage, expected: set[tuple[str, str]]
) -> None:
    report = audit(_class(tmp_path, footage), profile)
    assert qa(report) == expected, [f.to_dict("en") for f in report.findings]


def test_black_stretch_details_let_an_inspector_jump_there(tmp_path: Path, profile: Path) -> None:
    report = audit(_class(tmp_path, Footage(black=(3.0, 9.0))), profile)
    (details,) = qa_details(report, "QA03")
    stretch: list[float] = details["stretches"][0]  # type: ignore[index]
    start, end = stretch
    assert 2.5 <= start <= 4.0 and 8.0 <= end <= 9.0
    assert details["threshold"] == 3.0
    assert details["ranges"] == [f"0:0{round(start)}–0:0{round(end)}"]
    (f,) = [f for f in report.findings if f.code == "QA03"]
    assert f.variant == "black" and "黑屏" in f.message("zh")


def test_frozen_details_carry_level_and_typical(tmp_path: Path, profile: Path) -> None:
    report = audit(_class(tmp_path, Footage(frozen=(3.0, 9.0))), profile)
    (details,) = qa_details(report, "QA04")
    assert float(details["level"]) < float(details["typical"])  # type: ignore[arg-type]
    assert float(details["seconds"]) >= 3.0  # type: ignore[arg-type]


def test_noise_details_give_level_threshold_and_where(tmp_path: Path, profile: Path) -> None:
    report = audit(_class(tmp_path, Footage(noise=14.0)), profile)
    (details,) = qa_details(report, "QA01")
    assert float(details["level"]) > float(details["threshold"]) == 5.0  # type: ignore[arg-type]
    assert details["share"] == 100 and str(details["at"]).startswith("0:")


def test_the_shipped_limits_tolerate_a_short_stretch(tmp_path: Path) -> None:
    # 6 s black and 6 s frozen: under the shipped 10 s limits, nothing to report.
    profile = picture_profile(tmp_path)
    footage = Footage(seconds=20, black=(2.0, 8.0), frozen=(11.0, 17.0))
    assert qa(audit(_class(tmp_path, footage), profile)) == set()


def test_noise_measure_rises_with_noise_and_ignores_texture() -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    texture = np.kron(rng.integers(0, 255, (24, 32)), np.ones((10, 10))).astype(np.uint8)
    levels = [
        noise_sigma(np.clip(texture + rng.normal(0, s, texture.shape), 0, 255).astype(np.uint8))
        for s in (0, 4, 8, 16)
    ]
    assert levels[0] < 0.5 and levels == sorted(levels)
    assert abs(levels[2] - 8) < 2.0


def test_blur_measure_rises_with_blur() -> None:
    import cv2
    import numpy as np

    rng = np.random.default_rng(0)
    sharp = np.kron(rng.integers(0, 255, (24, 32)), np.ones((10, 10))).astype(np.uint8)
    levels = [blur_level(cv2.GaussianBlur(sharp, (0, 0), s) if s else sharp) for s in (0, 1, 3, 6)]
    assert levels == sorted(levels) and levels[0] < 0.3 and levels[-1] > 0.8
