"""A patrol of an RTSP camera: Debian's RTSP server (Perl's RTSP::Server, brought by
`make test`) on loopback, publishing generated classroom footage with faces of the demo roster
as a camera would. The server carries RTP over UDP only: the patrol asks for TCP first and
falls back. Checked: measures, exact frames in the chain, the head count, the roster matched on
the live frames, no credential anywhere, and a camera that goes off is LV01 within its timeout."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.streams import RtspCamera
from video_audit.cli import main
from video_audit.samples.faces import UNKNOWN
from video_audit.samples.live import write_class, write_live

SECRET = "Rt5pSecret"
SHOWN = (0, 2, UNKNOWN)  # 王芳 and 张伟 of the demo roster, and someone not on it


@pytest.fixture(scope="module")
def rtsp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtspCamera]:
    root = tmp_path_factory.mktemp("rtsp")
    source = write_live(root / "class.ts", SHOWN, seconds=4, keyframe_seconds=1)
    with RtspCamera(source) as camera:
        yield camera


def _patrol(tmp_path: Path, url: str, *extra: str) -> tuple[int, dict[str, Any], str]:
    args = ["patrol", url, "--out", str(tmp_path / "out"), "--data", str(tmp_path / "ws")]
    args += ["--seconds", "3", "--timeout", "8", "--format", "json", *extra]
    result = CliRunner().invoke(main, args)
    return result.exit_code, json.loads(result.stdout), result.stdout + result.stderr


def test_an_rtsp_camera_is_patrolled_and_its_people_matched(
    tmp_path: Path, rtsp: RtspCamera, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    cls = write_class(tmp_path / "湖关县阳光职业培训学校2026年第一期面点班")
    url = f"rtsp://admin:{SECRET}@{rtsp.host}/cam1"
    code, data, said = _patrol(tmp_path, url, "--class", str(cls))
    assert code == 0, said
    assert data["url"] == f"rtsp://***@{rtsp.host}/cam1" and data["reachable"] is True
    assert (data["width"], data["height"]) == (1024, 768) and 20 <= float(data["fps"]) <= 30
    assert data["findings"] == [] and data["stalls"] == 0
    frames = data["frames"]
    assert isinstance(frames, list) and len(frames) == 3
    assert [f["head_count"] for f in frames] == [len(SHOWN)] * 3
    att = data["attendance"]
    assert isinstance(att, dict) and att["state"] == "checked"
    names = {p["key"]: p["name"] for p in att["roster"]}
    (day,) = att["days"]
    assert {names[k] for k in day["present"]} == {"王芳", "张伟"} and day["review"] == []
    assert len(day["unknown"]) == 1
    assert SECRET not in said and "admin" not in said
    verify = CliRunner().invoke(main, ["evidence", "verify", "--data", str(tmp_path / "ws")])
    assert verify.exit_code == 0, verify.stdout + verify.stderr


def test_a_camera_that_goes_off_is_lv01_within_its_timeout(
    tmp_path: Path, rtsp: RtspCamera
) -> None:
    rtsp.stop()
    try:
        started = time.monotonic()
        code, data, said = _patrol(tmp_path, f"rtsp://admin:{SECRET}@{rtsp.host}/cam1")
        took = time.monotonic() - started
    finally:
        rtsp.start()
    assert code == 1, said
    findings = data["findings"]
    assert isinstance(findings, list) and [f["code"] for f in findings] == ["LV01"]
    assert took < 2 * 8 + 3 + 2 + 3, took
    assert SECRET not in said
