"""`video-audit patrol`: a generated MPEG-TS served over loopback HTTP, measured and captured."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from tests.streams import serve_dir, silent_camera, stalling_camera, to_hls, to_ts
from tests.web_fixtures import free_port
from video_audit.cli import main
from video_audit.patrol.stream import public_url, scrub
from video_audit.samples.discs import ClipSpec, write_clip
from video_audit.samples.live import remux
from video_audit.store import Store

SECRET = "s3cretPW"


@pytest.fixture(scope="module")
def streams(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Cameras' footage as HTTP-TS (good, 640×480, 5 fps) and as HLS (1-s segments)."""
    root = tmp_path_factory.mktemp("streams")
    for name, (w, h, fps) in {
        "good": (1024, 768, 25),
        "small": (640, 480, 25),
        "slow": (1024, 768, 5),
    }.items():
        mp4 = write_clip(root / f"{name}.mp4", ClipSpec(seconds=4, fps=fps, width=w, height=h))
        to_ts(mp4, root / f"{name}.ts")
    to_hls(root / "good.mp4", root / "hls" / "live.m3u8")
    remux(root / "good.mp4", root / "live.flv", "flv")  # HTTP-FLV, as many NVR platforms send
    return root


@pytest.fixture(scope="module")
def served(streams: Path) -> Iterator[str]:
    with serve_dir(streams) as host:
        yield host


def _patrol(tmp_path: Path, url: str, *extra: str) -> tuple[int, str, str]:
    runner = CliRunner()
    args = ["patrol", url, "--out", str(tmp_path / "out"), "--data", str(tmp_path / "ws")]
    result = runner.invoke(main, [*args, "--seconds", "2", "--timeout", "3", *extra])
    return result.exit_code, result.stdout, result.stderr


def test_public_url_and_scrub_remove_credentials() -> None:
    url = f"rtsp://admin:{SECRET}@10.0.0.5:554/Streaming/101"
    assert public_url(url) == "rtsp://***@10.0.0.5:554/Streaming/101"
    error = f"{url}: Connection refused; tried admin:{SECRET}"
    assert SECRET not in scrub(error, url)
    assert public_url("http://cam.local/live.ts") == "http://cam.local/live.ts"


def _pictures(path: Path) -> dict[str, int]:
    """SHA-256 of every decoded picture's RGB pixels (a full decode from the start)."""
    with av.open(str(path)) as container:
        return {
            hashlib.sha256(frame.to_ndarray(format="rgb24").tobytes()).hexdigest(): n
            for n, frame in enumerate(container.decode(video=0))
        }


def test_a_patrol_measures_the_stream_and_keeps_exact_frames(
    tmp_path: Path, served: str, streams: Path
) -> None:
    url = f"http://viewer:{SECRET}@{served}/good.ts"
    code, out, err = _patrol(tmp_path, url, "--format", "json")
    assert code == 0, out + err
    data = json.loads(out)
    assert data["url"] == f"http://***@{served}/good.ts"
    assert data["reachable"] is True
    assert (data["width"], data["height"]) == (1024, 768)
    assert 20 <= data["fps"] <= 30
    assert data["first_frame_ms"] is not None and data["first_frame_ms"] < 3000
    assert data["stalls"] == 0 and data["findings"] == []
    assert len(data["frames"]) == 3
    for frame in data["frames"]:
        assert (tmp_path / "out" / frame["file"]).is_file()
        assert isinstance(frame["head_count"], int)
    assert [f["at"] for f in data["frames"]] == sorted(f["at"] for f in data["frames"])
    assert SECRET not in out + err and "viewer" not in out + err
    # The frames are in the chain, captioned without the credentials, and the chain verifies.
    store = Store(tmp_path / "ws" / "video-audit.sqlite")
    try:
        rows = [dict(r) for r in store.evidence()]
    finally:
        store.close()
    assert len(rows) == 3
    for row in rows:
        assert SECRET not in json.dumps(row, ensure_ascii=False)
        assert f"http://***@{served}/good.ts" in row["caption"]
    verify = CliRunner().invoke(main, ["evidence", "verify", "--data", str(tmp_path / "ws")])
    assert verify.exit_code == 0, verify.stdout + verify.stderr
    # Exact: each kept frame is, pixel for pixel, a picture the camera sent (the served file,
    # decoded in full), and the recording it was grabbed from is the one the chain names.
    sent = _pictures(streams / "good.ts")
    (recording,) = (tmp_path / "out").glob("patrol-*.mkv")
    assert {r["source_sha256"] for r in rows} == {
        hashlib.sha256(recording.read_bytes()).hexdigest()
    }
    kept = []
    for frame in data["frames"]:
        with Image.open(tmp_path / "out" / frame["file"]) as image:
            pixels = np.asarray(image.convert("RGB")).tobytes()
        kept.append(sent.get(hashlib.sha256(pixels).hexdigest(), -1))
    assert -1 not in kept and kept == sorted(set(kept)), kept  # three different pictures


def test_a_low_resolution_stream_is_lv02(tmp_path: Path, served: str) -> None:
    code, out, err = _patrol(tmp_path, f"http://{served}/small.ts", "--format", "json")
    assert code == 0, out + err
    data = json.loads(out)
    assert [(f["code"], f["details"]["width"]) for f in data["findings"]] == [("LV02", 640)]


def test_a_five_fps_stream_is_lv02(tmp_path: Path, served: str) -> None:
    code, out, err = _patrol(tmp_path, f"http://{served}/slow.ts", "--format", "json")
    assert code == 0, out + err
    data = json.loads(out)
    assert [(f["code"], f["details"].get("fps")) for f in data["findings"]] == [
        ("LV02", data["fps"])
    ]
    assert 3 <= data["fps"] <= 6 and (data["width"], data["height"]) == (1024, 768)


@pytest.mark.parametrize("path", ["hls/live.m3u8", "live.flv"])
def test_hls_and_http_flv_streams_are_patrolled(tmp_path: Path, served: str, path: str) -> None:
    # With credentials: a playlist's segments are fetched with them, and FFmpeg's own lines
    # ("Opening 'http://user:pass@…/seg.ts'") never reach any output.
    url = f"http://viewer:{SECRET}@{served}/{path}"
    code, out, err = _patrol(tmp_path, url, "--format", "json")
    assert code == 0, out + err
    assert SECRET not in out + err
    data = json.loads(out)
    assert data["reachable"] and data["findings"] == [] and len(data["frames"]) == 3
    assert (data["width"], data["height"]) == (1024, 768) and 20 <= data["fps"] <= 30


def test_a_picture_that_freezes_mid_patrol_is_lv02(tmp_path: Path) -> None:
    """A camera sending at real-time pace stops for 3 s after 2.5 s, then goes on: a stall."""
    source = to_ts(write_clip(tmp_path / "c.mp4", ClipSpec(seconds=6, fps=25)), tmp_path / "c.ts")
    with stalling_camera(source, seconds=6, stall_at=2.5, stall_for=3) as host:
        code, out, err = _patrol(
            tmp_path, f"http://{host}/live.ts", "--seconds", "4", "--format", "json"
        )
    assert code == 0, out + err
    data = json.loads(out)
    assert data["stalls"] == 1 and data["longest_gap"] > 2
    found = [(f["code"], f["details"].get("stalls")) for f in data["findings"]]
    assert ("LV02", 1) in found


def test_a_camera_that_stops_answering_is_lv01_within_its_timeout(tmp_path: Path) -> None:
    """A camera that takes the connection and then sends nothing (stopped, hung)."""
    with silent_camera() as port:
        url = f"http://admin:{SECRET}@127.0.0.1:{port}/live.ts"
        started = time.monotonic()
        code, out, err = _patrol(tmp_path, url, "--format", "json")
        took = time.monotonic() - started
    assert code == 1, out + err
    data = json.loads(out)
    assert [f["code"] for f in data["findings"]] == ["LV01"] and not data["reachable"]
    assert took < 2 * 3 + 2 + 2 + 3, took  # the guard: 2 × timeout + seconds + 2
    assert SECRET not in out + err


def test_a_closed_port_is_lv01_within_the_timeout(tmp_path: Path) -> None:
    url = f"rtsp://admin:{SECRET}@127.0.0.1:{free_port()}/live"
    started = time.monotonic()
    code, out, err = _patrol(tmp_path, url, "--format", "text", "--lang", "en")
    assert time.monotonic() - started < 10
    assert code == 1, out + err
    assert "LV01" in out and "rtsp://***@127.0.0.1" in out
    assert SECRET not in out + err and "admin" not in out + err


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    code, _, _ = _patrol(tmp_path, "not-a-url")
    assert code == 2


def test_secrets_in_the_query_are_hidden_too() -> None:
    url = "https://open.example.cn/live/1.m3u8?channel=2&accessToken=at.9f8e7d&pwd=p%40ss"
    shown = public_url(url)
    assert shown == "https://open.example.cn/live/1.m3u8?channel=2&accessToken=***&pwd=***"
    said = scrub(f"Server returned 403 for {url}; token at.9f8e7d; password p@ss", url)
    assert "at.9f8e7d" not in said and "p@ss" not in said and "p%40ss" not in said
    assert public_url("rtsp://a:b@h/x?password=c") == "rtsp://***@h/x?password=***"


def test_only_network_streams_may_be_registered(tmp_path: Path) -> None:
    from video_audit.patrol.plan import read_schedule

    rows = [
        "file:///etc/passwd",
        "/srv/videos/lesson.mp4",
        "concat:/etc/hosts|/etc/passwd",
        "subfile,,start,0,end,0,,:/etc/passwd",
        "rtsp://admin:x@10.0.0.5/Streaming/101",
        "https://cam.example.cn/live.m3u8",
    ]
    sched = tmp_path / "课表.csv"
    sched.write_text(
        "班级,摄像头,日期,时段\n" + "".join(f"班,{r},2026-12-01,上午\n" for r in rows),
        encoding="utf-8",
    )
    schedule = read_schedule(sched)
    assert [s.row for s in schedule.sessions] == [6, 7]
    assert len(schedule.errors) == 4 and all("不是视频流地址" in e for e in schedule.errors)


def test_a_playlist_cannot_lead_a_patrol_to_local_files(tmp_path: Path) -> None:
    """A camera's HLS playlist naming local files: FFmpeg is allowed network protocols only."""
    secret_file = tmp_path / "secret.ts"
    to_ts(write_clip(tmp_path / "s.mp4", ClipSpec(seconds=2, fps=25)), secret_file)
    root = tmp_path / "www"
    root.mkdir()
    (root / "live.m3u8").write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n"
        f"file://{secret_file}\n#EXT-X-ENDLIST\n",
        encoding="utf-8",
    )
    with serve_dir(root) as host:
        code, out, err = _patrol(tmp_path, f"http://{host}/live.m3u8", "--format", "json")
    data = json.loads(out)
    assert code == 1 and not data["reachable"] and data["frames"] == [], out + err


def test_a_face_engine_that_cannot_run_leaves_the_frames_and_says_so(
    tmp_path: Path, served: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embedded engine's weights missing (a broken install): the patrol still measures the
    stream and keeps its frames; heads are not counted, and FM05 says so (never 0 heads)."""
    from video_audit.faces import embedded

    def broken(self: object) -> None:
        raise OSError("face model weights not found")

    monkeypatch.setattr(embedded.EmbeddedEngine, "load", broken)
    code, out, err = _patrol(tmp_path, f"http://{served}/good.ts", "--format", "json")
    data = json.loads(out)
    assert code == 0, out + err
    assert len(data["frames"]) == 3 and {f["head_count"] for f in data["frames"]} == {None}
    assert [(f["code"], f["severity"]) for f in data["findings"]] == [("FM05", "warning")]
    assert "人脸识别" in data["findings"][0]["message"]
