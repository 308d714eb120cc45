"""`video-audit patrol`: a generated MPEG-TS served over loopback HTTP, measured and captured."""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import av
import pytest
from click.testing import CliRunner

from tests.web_fixtures import free_port
from video_audit.cli import main
from video_audit.patrol.stream import public_url, scrub
from video_audit.samples.discs import ClipSpec, write_clip
from video_audit.store import Store

SECRET = "s3cretPW"


def _to_ts(mp4: Path, ts: Path) -> Path:
    """The clip remuxed into MPEG-TS, as a camera or an HLS segment would send it."""
    with av.open(str(mp4)) as src, av.open(str(ts), "w", format="mpegts") as dst:
        out = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is None:
                continue
            packet.stream = out
            dst.mux(packet)
    return ts


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("streams")
    for name, (w, h) in {"good": (1024, 768), "small": (640, 480)}.items():
        mp4 = write_clip(root / f"{name}.mp4", ClipSpec(seconds=4, fps=25, width=w, height=h))
        _to_ts(mp4, root / f"{name}.ts")
    port = free_port()
    handler = functools.partial(_Quiet, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()


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


def test_a_patrol_measures_the_stream_and_keeps_exact_frames(tmp_path: Path, served: str) -> None:
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


def test_a_low_resolution_stream_is_lv02(tmp_path: Path, served: str) -> None:
    code, out, err = _patrol(tmp_path, f"http://{served}/small.ts", "--format", "json")
    assert code == 0, out + err
    data = json.loads(out)
    assert [(f["code"], f["details"]["width"]) for f in data["findings"]] == [("LV02", 640)]


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
