"""Camera streams for patrol tests: generated footage remuxed to MPEG-TS and served over
loopback HTTP, as an HTTP-TS camera (or an HLS segment) sends it."""

from __future__ import annotations

import functools
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import av

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
    with _serving(functools.partial(_Quiet, directory=str(root))) as host:
        yield host


@contextmanager
def _serving(handler: Any) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 with HANDLER while the block runs; "127.0.0.1:PORT"."""
    port = free_port()
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


RTSP_SERVER = """
use strict; use warnings; use AnyEvent; use RTSP::Server;
my $srv = RTSP::Server->new_with_options; $srv->listen;
my $cv = AnyEvent->condvar; $SIG{TERM} = sub { $cv->send }; $cv->recv;
"""
"""Debian's RTSP::Server (librtsp-server-perl, brought by `make test`), as its own
rtsp-server-perl script runs it: cameras publish to one port, viewers read from the other."""


class RtspCamera:
    """A camera on loopback RTSP: Perl's RTSP::Server, and a thread publishing SOURCE (a
    stream file, looped, paced to real time) to it as a camera or an encoder would."""

    def __init__(self, source: Path, path: str = "cam1") -> None:
        self.source = source
        self.path = path
        self.viewer_port = free_port()
        self.source_port = free_port()
        self._stop = threading.Event()
        self._pusher: threading.Thread | None = None
        self._server: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.viewer_port}"

    def __enter__(self) -> RtspCamera:
        args = ["perl", "-e", RTSP_SERVER, "--", "--clientport", str(self.viewer_port)]
        args += ["--serverport", str(self.source_port), "--rtp_start_port", str(free_port())]
        args += ["--client_listen_address", "127.0.0.1", "--source_listen_address", "127.0.0.1"]
        self._server = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not _listening(self.source_port):
            if self._server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the RTSP server (perl RTSP::Server) did not start")
            time.sleep(0.05)
        self.start()
        return self

    def start(self) -> None:
        """Begin publishing (again): the camera comes on."""
        self._stop.clear()
        self._pusher = threading.Thread(target=self._push, daemon=True)
        self._pusher.start()
        time.sleep(1.0)  # the server has the stream's description before anyone asks

    def stop(self) -> None:
        """Stop publishing: the camera goes off, the server stays."""
        self._stop.set()
        if self._pusher is not None:
            self._pusher.join(10)

    def _push(self) -> None:
        url = f"rtsp://127.0.0.1:{self.source_port}/{self.path}"
        with av.open(url, "w", format="rtsp", options={"rtsp_transport": "udp"}) as dst:
            with av.open(str(self.source)) as src:
                stream = src.streams.video[0]
                out = dst.add_stream_from_template(stream)
                timed = [
                    (int(p.pts), int(p.dts), p)
                    for p in src.demux(stream)
                    if p.pts is not None and p.dts is not None
                ]
            tb = Fraction(stream.time_base or Fraction(1, 90000))
            first = timed[0][0]
            span = timed[-1][0] - first + (timed[1][0] - first)  # one frame past the last
            started, offset = time.monotonic(), 0
            while not self._stop.is_set():
                for pts, dts, packet in timed:
                    if self._stop.is_set():
                        break
                    ahead = float((pts - first + offset) * tb) - (time.monotonic() - started)
                    if ahead > 0:
                        time.sleep(ahead)
                    packet.pts, packet.dts = pts + offset, dts + offset
                    packet.stream = out
                    dst.mux(packet)
                offset += span

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self._server is not None:
            self._server.terminate()
            try:
                self._server.wait(5)
            except subprocess.TimeoutExpired:
                self._server.kill()


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def stalling_camera(
    source: Path, seconds: float, stall_at: float, stall_for: float
) -> Iterator[str]:
    """An HTTP-TS camera sending SOURCE (SECONDS long) at real-time pace, that sends nothing
    for STALL_FOR seconds once STALL_AT seconds of it are out, then goes on: a picture that
    freezes mid-patrol. Yields "127.0.0.1:PORT" serving /live.ts."""
    data = source.read_bytes()
    packets = len(data) // 188
    parts = 100

    class Stalling(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "video/mp2t")
            self.end_headers()
            started = time.monotonic()
            try:
                for k in range(parts):
                    due = seconds * k / parts
                    due += stall_for if due >= stall_at else 0.0
                    time.sleep(max(0.0, due - (time.monotonic() - started)))
                    part = data[packets * k // parts * 188 : packets * (k + 1) // parts * 188]
                    self.wfile.write(part)
                    self.wfile.flush()
            except OSError:
                pass  # the patrol had read enough

    with _serving(Stalling) as host:
        yield host
