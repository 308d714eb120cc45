"""The command-line contract: exit codes, the JSON report's fields, languages, profiles."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PREFIX
from video_audit.standard import DEFAULT_PROFILE

CLI = [sys.executable, "-m", "video_audit.cli"]


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=120)


@pytest.fixture
def disc(tmp_path: Path, make_day: Callable[..., Path], make_clip: Callable[..., Path]) -> Path:
    """A root with a clean class and a class with a small lesson clip and a missing clip."""
    make_day(tmp_path / "disc" / PREFIX / "5月24日", "5月24日")
    bad = tmp_path / "disc" / "另一班级"
    day = bad / "5月25日"
    make_clip(day / "某学校2024年第2期厨师培训班5月25日课间人脸识别视频1.mp4", "small")
    make_clip(day / "某学校2024年第2期厨师培训班5月25日授课过程.mp4", "lesson")
    return tmp_path / "disc"


def test_json_contract(disc: Path, short_profile: Path) -> None:
    result = run("check", disc, "--format", "json", "--standard", short_profile)
    assert result.returncode == 1, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    assert set(data) >= {"findings", "summary", "classes"}
    assert data["summary"] == {"errors": 2, "warnings": 0, "infos": 0, "verdict": "fail"}
    for f in data["findings"]:
        assert set(f) >= {"code", "severity", "path", "message", "details"}
        assert f["severity"] in ("error", "warning", "info")
        assert not f["path"].startswith("/") and "\\" not in f["path"]
    assert {(f["code"], f["path"]) for f in data["findings"]} == {
        ("CT01", "另一班级/5月25日"),
        ("FM02", "另一班级/5月25日/某学校2024年第2期厨师培训班5月25日课间人脸识别视频1.mp4"),
    }
    fm02 = next(f for f in data["findings"] if f["code"] == "FM02")
    assert fm02["details"]["width"] == 640 and fm02["details"]["min_width"] == 1024
    assert "640×480" in fm02["message"]
    classes = {c["path"]: c for c in data["classes"]}
    assert set(classes) == {PREFIX, "另一班级"}
    good = classes[PREFIX]
    assert good["prefix"] == PREFIX and "attendance" in good
    assert good["summary"]["verdict"] == "pass"
    (day,) = good["days"]
    assert day["path"] == f"{PREFIX}/5月24日" and day["date"] == "2024-05-24"
    assert {c["kind"] for c in day["clips"]} == {"roll", "lesson"}
    assert all(c["media"]["display_width"] == 1024 for c in day["clips"])
    assert classes["另一班级"]["prefix"] == "某学校2024年第2期厨师培训班"


def test_exit_codes_and_languages(disc: Path, short_profile: Path) -> None:
    good = run("check", disc / PREFIX, "--standard", short_profile)
    assert good.returncode == 0 and "通过" in good.stdout
    bad = run("check", disc / "另一班级", "--standard", short_profile, "--lang", "en")
    assert bad.returncode == 1
    assert "FAIL" in bad.stdout and "face-roll clip 2 is missing" in bad.stdout
    assert run("check", disc, "--format", "nope").returncode == 2


def test_standard_profile_option_changes_thresholds(disc: Path, tmp_path: Path) -> None:
    text = DEFAULT_PROFILE.read_text(encoding="utf-8")
    lenient = tmp_path / "lenient.toml"
    lenient.write_text(
        text.replace("min_width = 1024", "min_width = 640")
        .replace("min_height = 768", "min_height = 480")
        .replace("min_lesson_seconds = 600", "min_lesson_seconds = 3"),
        encoding="utf-8",
    )
    data = json.loads(run("check", disc, "--format", "json", "--standard", lenient).stdout)
    assert [f["code"] for f in data["findings"]] == ["CT01"]
    broken = tmp_path / "broken.toml"
    broken.write_text("[profile\nid=", encoding="utf-8")
    result = run("check", disc, "--standard", broken)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1


def test_out_file_is_written_and_year_option(
    disc: Path, tmp_path: Path, short_profile: Path
) -> None:
    out = tmp_path / "reports" / "r.json"
    result = run("check", disc, "--format", "json", "--out", out, "--standard", short_profile)
    assert result.returncode == 1 and result.stdout == ""
    assert json.loads(out.read_text(encoding="utf-8"))["summary"]["verdict"] == "fail"
    assert not list(out.parent.glob(".*.tmp"))
    # The class folder "另一班级" names no year; --year dates its 5月25日.
    data = json.loads(
        run("check", disc, "--format", "json", "--year", "2023", "--standard", short_profile).stdout
    )
    days = {d["path"]: d["date"] for c in data["classes"] for d in c["days"]}
    assert days["另一班级/5月25日"] == "2023-05-25"
    assert days[f"{PREFIX}/5月24日"] == "2024-05-24"  # the class folder says 2024年


def test_rules_command_lists_every_code() -> None:
    from video_audit.findings import catalogue

    result = run("rules", "--lang", "en")
    assert result.returncode == 0
    for code in catalogue():
        assert code in result.stdout
