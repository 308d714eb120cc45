"""Progress with an estimate: the library's Estimate, the CLI's bar (quiet when piped or with
--quiet), and a running audit's progress in GET /api/audits/{id}."""

from __future__ import annotations

import datetime as dt
import os
import pty
import subprocess
import threading
import time
from pathlib import Path

import httpx

from tests.web_fixtures import CLI, PASSWORD, add_accounts, serving, zip_folder
from video_audit.audit import run_audit
from video_audit.cli import time_left
from video_audit.context import Estimate, ProgressState
from video_audit.samples.discs import CHINA, ClipSpec, write_clip
from video_audit.settings import AuditSettings

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "太原市某培训学校2024年第1期电工班"
PROFILE = ROOT / "video_audit" / "standard" / "huguan-2024.toml"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_estimate_follows_media_seconds_with_uneven_clips() -> None:
    clock = FakeClock()
    seen: list[ProgressState] = []
    estimate = Estimate(seen.append, clock)
    seconds = {"a": 10.0, "b": 600.0, "c": 5.0, "d": 1200.0, "e": 30.0, "f": 300.0}
    estimate.phase("probe", dict.fromkeys(seconds, None))
    for n, rel in enumerate(seconds, start=1):
        clock.now += 0.001
        estimate(n, len(seconds), rel)
    assert seen[-1] == ProgressState("probe", 6, 6, "f", None)  # probing says nothing of decoding
    estimate.phase("decode", seconds)
    rate = 0.05  # wall seconds per media second, steady
    left_truth = sum(seconds.values()) * rate
    estimates: list[float] = []
    for n, (rel, length) in enumerate(seconds.items(), start=1):
        clock.now += length * rate
        left_truth -= length * rate
        estimate(6 + n, 12, rel)  # the library's counts run on across both phases
        state = seen[-1]
        assert (state.phase, state.done, state.total, state.clip) == ("decode", n, 6, rel)
        assert state.remaining_seconds is not None
        assert abs(state.remaining_seconds - left_truth) < 1e-6
        estimates.append(state.remaining_seconds)
    assert estimates == sorted(estimates, reverse=True) and estimates[-1] == 0
    # A clip count would have said 5 × 0.5 s after the first 10 s clip: 150 times too little.
    assert estimates[0] > 100


def test_estimate_counts_down_between_steps_and_never_goes_negative() -> None:
    clock = FakeClock()
    estimate = Estimate(clock=clock)
    estimate.phase("decode", {"a": 10.0, "b": 10.0})
    clock.now += 2
    estimate(1, 2, "a")
    assert estimate.remaining() == 2.0
    clock.now += 1.5
    assert estimate.remaining() == 0.5
    clock.now += 5
    assert estimate.remaining() == 0.0


def test_estimate_without_totals_never_fails() -> None:
    clock = FakeClock()
    seen: list[ProgressState] = []
    estimate = Estimate(seen.append, clock)
    estimate(1, 0, "x")  # no phase told: a plain count
    assert seen[-1] == ProgressState("", 1, 0, "x", None) and estimate.remaining() is None
    estimate.phase("decode", {})
    estimate(1, 1, "y")
    estimate.phase("decode", {"a": None, "b": None, "c": 0.0})  # no duration known at all
    assert estimate.remaining() is None
    estimate(1, 3, "a")  # before any time passed
    assert seen[-1].remaining_seconds == 0.0 or seen[-1].remaining_seconds is None
    clock.now += 3
    estimate(2, 3, "unknown clip")
    assert seen[-1].remaining_seconds is not None and seen[-1].remaining_seconds >= 0
    estimate.phase("decode", {"a": None, "b": 20.0})  # unknown: as long as the known ones
    clock.now += 4
    estimate(1, 2, "a")
    assert seen[-1].remaining_seconds == 4.0


def slow_profile(folder: Path) -> Path:
    """The shipped profile, lessons of seconds allowed, every frame of a clip analysed: an audit
    of a small class that takes long enough to be watched."""
    text = PROFILE.read_text(encoding="utf-8")
    for old, new in (
        ("min_lesson_seconds = 600", "min_lesson_seconds = 3"),
        ("dense_every_seconds = 0.5", "dense_every_seconds = 0.04"),
        ("quality_frames = 16", "quality_frames = 400"),
    ):
        assert old in text, old
        text = text.replace(old, new)
    path = folder / "slow-profile.toml"
    path.write_text(text, encoding="utf-8")
    return path


def slow_class(parent: Path, days: int = 4, lesson_seconds: float = 60) -> Path:
    """A class of DAYS days: two 2 s face rolls and one lesson of LESSON_SECONDS a day (uneven
    clips), 25 fps, 320×240."""
    cls = parent / PREFIX
    for n in range(days):
        date = f"6月{3 + n}日"
        for i, (name, hour, seconds) in enumerate(
            (
                ("课间人脸识别视频1", 9, 2.0),
                ("授课过程", 10, lesson_seconds),
                ("课间人脸识别视频2", 15, 2.0),
            )
        ):
            start = dt.datetime(2024, 6, 3 + n, hour, 0, tzinfo=CHINA)
            spec = ClipSpec(seconds, 25, 320, 240, start=start, seed=10 * n + i)
            write_clip(cls / date / f"{PREFIX}{date}{name}.mp4", spec)
    return cls


def test_a_real_audit_reports_both_phases_and_an_estimate(tmp_path: Path) -> None:
    cls = slow_class(tmp_path, days=2, lesson_seconds=20)
    seen: list[ProgressState] = []
    run_audit(cls, AuditSettings(standard=slow_profile(tmp_path)), progress=Estimate(seen.append))
    probing = [s for s in seen if s.phase == "probe"]
    decoding = [s for s in seen if s.phase == "decode"]
    assert [s.done for s in probing] == list(range(1, 7)) and {s.total for s in probing} == {6}
    assert [s.done for s in decoding] == list(range(1, 7)) and {s.total for s in decoding} == {6}
    assert all(s.remaining_seconds is not None for s in decoding)
    assert decoding[-1].remaining_seconds == 0


# --- the CLI ---------------------------------------------------------------------------------
def test_time_left_in_words() -> None:
    assert time_left("zh", None) == "剩余时间估算中"
    assert time_left("zh", 0.4) == "即将完成"  # the estimate ran out, the work has not
    assert time_left("zh", 44.6) == "剩余时间约 45 秒"
    assert time_left("zh", 200) == "剩余时间约 3 分 20 秒"
    assert time_left("en", 200) == "about 3 min 20 s left"


def _check_on_a_terminal(cls: Path, profile: Path, *extra: str) -> tuple[str, bytes]:
    """`video-audit check` with stderr on a pseudo-terminal: (what the terminal got, stdout)."""
    master, slave = pty.openpty()
    got: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            got.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "120"}
    env.pop("CI", None)
    proc = subprocess.run(
        [*CLI, "check", str(cls), "--standard", str(profile), "--format", "json", *extra],
        stdout=subprocess.PIPE,
        stderr=slave,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    os.close(slave)
    reader.join(10)
    os.close(master)
    assert proc.returncode in (0, 1)
    return b"".join(got).decode("utf-8", "replace"), proc.stdout


def test_cli_bar_on_a_terminal_quiet_with_quiet_or_piped(tmp_path: Path) -> None:
    cls = slow_class(tmp_path, days=2, lesson_seconds=20)
    profile = slow_profile(tmp_path)
    terminal, out = _check_on_a_terminal(cls, profile)
    assert "正在解码视频" in terminal and "剩余时间" in terminal, terminal
    assert b"\x1b" not in out and out.lstrip().startswith(b"{")  # the report, no bar in it
    quiet, out = _check_on_a_terminal(cls, profile, "--quiet")
    assert quiet.strip() == "" and out.lstrip().startswith(b"{")
    piped = subprocess.run(
        [*CLI, "check", str(cls), "--standard", str(profile), "--format", "json"],
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert piped.returncode in (0, 1) and piped.stderr == b""


# --- the web -------------------------------------------------------------------------------
def slow_service_env(tmp_path: Path) -> dict[str, str]:
    """A service's environment: one worker, the slow profile, one clip decoded at a time."""
    data = tmp_path / "data"
    env = {
        **os.environ,
        "VIDEO_AUDIT_DATA": str(data),
        "VIDEO_AUDIT_AUDIT_WORKERS": "1",
        "VIDEO_AUDIT_STANDARD": str(slow_profile(tmp_path)),
        "VIDEO_AUDIT_FRAME_THREADS": "1",
    }
    add_accounts(env, ("王检查", "inspector", None))
    return env


def test_api_progress_moves_during_a_real_audit(tmp_path: Path) -> None:
    cls = slow_class(tmp_path / "src", days=3, lesson_seconds=30)
    env = slow_service_env(tmp_path)
    with serving([], tmp_path, env) as (base, _):
        token = httpx.post(
            f"{base}/api/token", json={"name": "王检查", "password": PASSWORD}
        ).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        res = httpx.post(
            f"{base}/api/classes",
            files={"archive": ("c.zip", zip_folder(cls), "application/zip")},
            headers=auth,
            timeout=60,
        )
        assert res.status_code == 201, res.text
        audit_id = res.json()["audit_id"]
        seen: list[dict] = []
        deadline = time.monotonic() + 90
        while True:
            status = httpx.get(f"{base}/api/audits/{audit_id}", headers=auth).json()
            if status["state"] in ("done", "failed"):
                break
            assert time.monotonic() < deadline, seen
            if status["state"] == "running":
                assert status["progress"] is not None
                seen.append(status["progress"])
            else:
                assert status["progress"] is None
            time.sleep(0.1)
    assert status["state"] == "done" and status["progress"] is None, status
    decoding = [p for p in seen if p["phase"] == "decode"]
    counts = [p["done"] for p in decoding]
    assert len(set(counts)) >= 3 and counts == sorted(counts), seen
    assert {p["total"] for p in decoding} == {9}
    assert any(isinstance(p["remaining_seconds"], float | int) for p in decoding), decoding
    assert all(p["clip"].endswith(".mp4") for p in decoding), decoding
