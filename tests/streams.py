"""Camera streams for patrol tests: generated footage remuxed to MPEG-TS and served over
loopback HTTP, as an HTTP-TS camera (or an HLS segment) sends it."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.web_fixtures import free_port
from video_audit.samples.live import remux


def to_ts(mp4: Path, ts: Path) -> Path:
    """The clip remuxed into MPEG-TS (no re-encoding)."""
    return remux(mp4, ts, "mpegts")


def to_hls(mp4: Path, playlist: Path, segment_seconds: int = 1) -> Path:
    """The clip as an HLS playlist of MPEG-TS segments beside it (as camera platforms serve)."""
    options = {"hls_time": str(segment_seconds), "hls_list_size": "0", "hls_playlist_type": "vod"}
    return remux(mp4, playlist, "hls", options)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_dir(root: Path) -> Iterator[str]:
    """ROOT served on 127.0.0.1 while the block runs; yields "127.0.0.1:PORT"."""
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


@contextmanager
def silent_camera() -> Iterator[int]:
    """A port that accepts connections and never answers (a hung camera); yields the port."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        server.close()
