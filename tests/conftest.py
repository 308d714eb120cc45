"""Shared fixtures: clips made with PyAV once per session and copied, short-lesson profiles."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from video_audit.samples.discs import ClipSpec, write_clip
from video_audit.samples.faces import images_dir
from video_audit.standard import DEFAULT_PROFILE

PREFIX = "壶关县测试职业培训学校2024年第1期电工培训班"

# Named clip kinds the tests use; lessons are 4 s long and tests pass a profile whose minimum
# lesson length is 3 s (see short_profile), so that no test has to encode ten minutes.
CLIP_KINDS: dict[str, ClipSpec] = {
    "roll": ClipSpec(2, 2, seed=1),
    "roll_b": ClipSpec(2, 2, seed=2),
    "lesson": ClipSpec(4, 2, seed=3),
    "short_lesson": ClipSpec(2, 2, seed=4),
    "small": ClipSpec(2, 2, width=640, height=480, seed=5),
    "hd720": ClipSpec(2, 2, width=1280, height=720, seed=6),
    "avi": ClipSpec(2, 2, container="avi", seed=7),
    "mov": ClipSpec(2, 2, container="mov", seed=8),
}


@pytest.fixture(scope="session", autouse=True)
def no_user_evidence_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The evidence key lives outside the workspace: tests use the session's own (module
    fixtures capture evidence before any per-test fixture runs), never the user's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("VIDEO_AUDIT_EVIDENCE_KEY_FILE", raising=False)
        patch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
        yield


@pytest.fixture(autouse=True)
def own_workspace(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test (and every command it runs) gets its own default workspace, never the user's."""
    home = tmp_path_factory.mktemp("xdg")
    for name in ("VIDEO_AUDIT_DATA", "VIDEO_AUDIT_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home / "video-audit"


@pytest.fixture(scope="session")
def clip_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture
def make_clip(clip_cache: Path) -> Callable[[Path, str], Path]:
    """make_clip(path, kind): a real clip of a named kind, encoded once and copied."""

    def make(path: Path, kind: str = "roll") -> Path:
        cached = clip_cache / f"{kind}.bin"
        if not cached.exists():
            write_clip(clip_cache / f"{kind}.tmp", CLIP_KINDS[kind])
            (clip_cache / f"{kind}.tmp").rename(cached)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached, path)
        return path

    return make


@pytest.fixture(scope="session")
def short_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped profile with a 3-second lesson minimum: everything else unchanged."""
    text = DEFAULT_PROFILE.read_text(encoding="utf-8")
    assert "min_lesson_seconds = 600" in text
    path = tmp_path_factory.mktemp("profile") / "short.toml"
    path.write_text(text.replace("min_lesson_seconds = 600", "min_lesson_seconds = 3"), "utf-8")
    return path


@pytest.fixture
def make_day(make_clip: Callable[[Path, str], Path]) -> Callable[..., Path]:
    """make_day(folder, "5月24日", slots=("roll1", "roll2", "lesson")): a complete day."""

    def make(
        folder: Path, date: str, slots: tuple[str, ...] = ("roll1", "roll2", "lesson")
    ) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for slot in slots:
            if slot == "lesson":
                make_clip(folder / f"{PREFIX}{date}授课过程.mp4", "lesson")
            else:
                make_clip(folder / f"{PREFIX}{date}课间人脸识别视频{slot[-1]}.mp4", "roll")
        return folder

    return make


@pytest.fixture(scope="session")
def t1() -> np.ndarray:
    """insightface's installed group photo: six real people (sample_faces.T1_FACES), RGB."""
    img = cv2.imread(str(images_dir() / "t1.jpg"))
    assert img is not None
    return np.asarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))


@pytest.fixture(scope="session")
def camera(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A classroom camera on loopback: "127.0.0.1:PORT", serving /room.ts (HTTP-TS, 4 s,
    1024×768, 25 fps) as a live camera would (tests/streams.py)."""
    from tests.streams import serve_dir, to_ts

    root = tmp_path_factory.mktemp("cams")
    to_ts(write_clip(root / "room.mp4", ClipSpec(seconds=4, fps=25)), root / "room.ts")
    with serve_dir(root) as host:
        yield host
