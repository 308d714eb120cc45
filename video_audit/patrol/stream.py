"""Reading a camera stream for a few seconds: what arrives, how fast, and a local recording.

The packets are remuxed into a Matroska recording as they arrive, so the frames kept as
evidence are grabbed exactly (media/grab.py) from a file whose SHA-256 the evidence log holds.
Reading is paced to real time (a file served over HTTP arrives as a live camera would), and
the whole read runs in a thread with a wall-clock guard: a dead camera never hangs a patrol.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import av

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")
# Query parameters that carry a secret (camera platforms put passwords and tokens there:
# ?password=…, ?accessToken=…, ?sign=…); their values are shown as ***.
_SECRET_PARAMS = re.compile(
    r"(?i)^(pass(word)?|passwd|pwd|pw|token|access_?token|auth\w*|key|api_?key|app_?key|"
    r"secret|app_?secret|sign(ature)?|ticket|x-amz-\w+|credential|jwt)$"
)
_QUERY_SECRET = re.compile(r"(?i)([?&;](?:[^=&;#\s]+)=)([^&;#\s]*)")

STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "srt")
"""What a registered camera's URL may be: network streams only (never file:, concat:, pipe:…)."""
NETWORK_PROTOCOLS = (
    "rtsp,rtsps,rtp,srtp,udp,tcp,tls,http,https,httpproxy,crypto,rtmp,rtmps,rtmpt,rtmpts,srt"
)
"""What FFmpeg may open while reading a network stream: a playlist or a redirect never leads it
to a local file or another local protocol."""


def _query_secrets(query: str) -> list[str]:
    values = []
    for pair in re.split(r"[&;]", query):
        name, sep, value = pair.partition("=")
        if sep and value and _SECRET_PARAMS.match(name.strip()):
            values.append(value)
    return values


def _mask_query(query: str) -> str:
    def mask(m: re.Match[str]) -> str:
        name = m.group(1)[1:-1]
        return m.group(1) + ("***" if m.group(2) and _SECRET_PARAMS.match(name) else m.group(2))

    return _QUERY_SECRET.sub(mask, "?" + query)[1:]


def public_url(url: str) -> str:
    """The URL as it may be shown: `rtsp://user:pass@host/…` → `rtsp://***@host/…`, and
    secret query values (`?password=…`, `?token=…`) → `***`."""
    parts = urlsplit(url)
    if parts.query:
        parts = parts._replace(query=_mask_query(parts.query))
    if "@" not in parts.netloc:
        return _USERINFO.sub(r"\1***@", urlunsplit(parts))
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"***@{host}"))


def secrets_of(url: str) -> list[str]:
    """The parts of URL that are secret: user info, its password, secret query values."""
    parts = urlsplit(url)
    found = _query_secrets(parts.query)
    if "@" in parts.netloc:
        userinfo = parts.netloc.rsplit("@", 1)[0]
        found += [userinfo, *userinfo.split(":", 1)[1:]]
    found = [s for s in found if s]
    # Longest first, and each also as percent-decoded (FFmpeg may print it either way).
    from urllib.parse import unquote

    return sorted({*found, *(unquote(s) for s in found)}, key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """TEXT (an FFmpeg error, a log line) with URL's credentials removed wherever they show."""
    text = text.replace(url, public_url(url))
    for secret in secrets_of(url):
        if len(secret) >= 2:
            text = text.replace(secret, "***")
    return _USERINFO.sub(r"\1***@", text)


_URL = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+")


def hide_credentials(text: str) -> str:
    """TEXT (a log line, an error) with every URL in it as public_url shows it: for text whose
    camera URL is not known here (scrub() removes a known URL's secrets wherever they show)."""
    return _URL.sub(lambda m: public_url(m.group()), text)


def is_stream_url(url: str) -> bool:
    """Whether URL is a network camera stream a workspace may register (STREAM_SCHEMES)."""
    parts = urlsplit(url.strip())
    return parts.scheme.lower() in STREAM_SCHEMES and bool(parts.hostname)


@dataclass
class StreamReading:
    """What one read of a stream saw (times in seconds, from the first frame on)."""

    reachable: bool = False
    error: str = ""
    first_frame_ms: float | None = None
    frames: int = 0
    seconds: float = 0.0
    width: int = 0
    height: int = 0
    bytes: int = 0
    stalls: int = 0
    longest_gap: float = 0.0
    corrupt: int = 0
    frame_times: list[float] = field(default_factory=list)
    recording: Path | None = None

    @property
    def fps(self) -> float:
        return round(self.frames / self.seconds, 2) if self.seconds > 0 else 0.0

    @property
    def bitrate_kbps(self) -> float:
        return round(self.bytes * 8 / self.seconds / 1000, 1) if self.seconds > 0 else 0.0


# A camera that refuses RTP inside its RTSP connection (interleaved TCP) answers SETUP with one
# of these; over UDP it may still play. A refused or silent connection, a wrong password or an
# unknown path is not helped by another transport.
_TRANSPORT_REFUSED = (
    av.error.HTTPBadRequestError,
    av.error.HTTPOtherClientError,
    av.error.HTTPServerError,
    av.error.InvalidDataError,
)


def _open(url: str, timeout: float, started: float) -> av.container.InputContainer:
    """The stream opened within TIMEOUT; an RTSP camera is asked for TCP first (it passes
    firewalls and loses nothing), then, if it refuses that transport, for UDP."""
    options = _options(url, timeout)
    try:
        return av.open(url, options=options, timeout=(timeout, timeout))
    except _TRANSPORT_REFUSED:
        left = timeout - (time.monotonic() - started)
        if options.get("rtsp_transport") != "tcp" or left < 1:
            raise
        options = {**_options(url, left), "rtsp_transport": "udp"}
        return av.open(url, options=options, timeout=(left, left))


def _options(url: str, timeout: float) -> dict[str, str]:
    micro = str(int(timeout * 1_000_000))
    options = {"rw_timeout": micro, "timeout": micro}
    if is_stream_url(url):  # a camera: network protocols only, whatever its playlist says
        options["protocol_whitelist"] = NETWORK_PROTOCOLS
        # Look at a second of a live stream to learn its format (FFmpeg's default is up to
        # five), so the time to the first frame is the camera's, not the prober's.
        options["analyzeduration"] = "1000000"
        options["probesize"] = str(1024 * 1024)
    if url.lower().startswith(("rtsp://", "rtsps://")):
        options["rtsp_transport"] = "tcp"
    return options


def read_stream(
    url: str,
    seconds: float,
    timeout: float,
    stall_seconds: float,
    recording: Path,
    progress: Callable[[StreamReading], None] | None = None,
) -> StreamReading:
    """Read URL for SECONDS (paced to real time), recording it to RECORDING (Matroska).

    Never takes much longer than TIMEOUT + SECONDS: an open or read that hangs past that is
    given up (the thread is left to FFmpeg's own timeouts) and reported as unreachable.
    PROGRESS, when given, is shown the reading so far about twice a second. The reading's
    error never holds the URL's credentials."""
    reading = StreamReading()
    done = threading.Event()

    def work() -> None:
        try:
            _read(url, seconds, timeout, stall_seconds, recording, reading, done)
        except Exception as exc:  # av.FFmpegError, OSError: the camera's fault, said in words
            reading.error = str(exc) or type(exc).__name__
        finally:
            done.set()

    thread = threading.Thread(target=work, name="patrol-read", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout * 2 + seconds + 2
    while not done.wait(max(0.0, min(0.5, deadline - time.monotonic()))):
        if time.monotonic() >= deadline:
            reading.error = reading.error or f"no answer within {timeout:g} s"
            reading.reachable = reading.frames > 0 and reading.recording is not None
            break
        if progress is not None:
            progress(reading)
    reading.error = scrub(reading.error, url)  # FFmpeg names the URL as it was given
    return reading


def _read(
    url: str,
    seconds: float,
    timeout: float,
    stall_seconds: float,
    recording: Path,
    reading: StreamReading,
    done: threading.Event,
) -> None:
    started = time.monotonic()
    container = _open(url, timeout, started)
    with container:
        if not container.streams.video:
            reading.error = "no video stream"
            return
        stream = container.streams.video[0]
        recording.parent.mkdir(parents=True, exist_ok=True)
        with av.open(str(recording), "w", format="matroska") as out:
            copy = out.add_stream_from_template(stream)
            _pump(container, stream, out, copy, seconds, timeout, stall_seconds, started, reading)
    if reading.frames:
        reading.reachable = True
        if reading.frame_times:  # else no keyframe came: measured, but nothing to keep
            reading.recording = recording
    elif not reading.error:
        reading.error = f"no frame within {timeout:g} s"


@dataclass
class _Clock:
    """Where a read is: the first frame (pts, wall time), the last one, and where the
    recording starts (the first keyframe: a camera joined mid-GOP sends pictures that cannot be
    decoded on their own first; frame times are kept from there, as grab reads them)."""

    tb: Fraction
    first_pts: int | None = None
    first_wall: float = 0.0
    last_wall: float = 0.0
    last_media: float = 0.0
    recorded_from: int | None = None


def _pump(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    out: av.container.OutputContainer,
    copy: av.video.stream.VideoStream,
    seconds: float,
    timeout: float,
    stall_seconds: float,
    started: float,
    reading: StreamReading,
) -> None:
    clock = _Clock(Fraction(stream.time_base or Fraction(1, 90000)))
    try:
        for packet in container.demux(stream):
            now = time.monotonic()
            if clock.first_pts is None and now - started > timeout + 1:
                reading.error = f"no frame within {timeout:g} s"
                return
            if clock.first_pts is not None and now - clock.first_wall >= seconds:
                break
            if not _packet(packet, out, copy, clock, seconds, stall_seconds, started, reading):
                break
    except av.FFmpegError as exc:  # the camera broke off mid-read: keep what came, say so
        if clock.first_pts is None:
            raise
        reading.error = f"the stream broke off: {exc}"
    if clock.first_pts is None:
        reading.seconds = 0.0
        return
    # A picture frozen until the read ended (or until the camera went quiet) is a stall too.
    end = min(time.monotonic(), clock.first_wall + seconds)
    tail = end - clock.last_wall
    reading.longest_gap = max(reading.longest_gap, round(tail, 3))
    if tail > stall_seconds:
        reading.stalls += 1
    reading.seconds = round(time.monotonic() - clock.first_wall, 3)


def _packet(
    packet: av.packet.Packet,
    out: av.container.OutputContainer,
    copy: av.video.stream.VideoStream,
    clock: _Clock,
    seconds: float,
    stall_seconds: float,
    started: float,
    reading: StreamReading,
) -> bool:
    """Record and decode one packet, measuring its frames; False once the read is over."""
    if packet.size == 0:
        return True
    reading.bytes += packet.size
    try:
        frames = packet.decode()
    except av.FFmpegError:
        reading.corrupt += 1
        frames = []
    when = packet.pts if packet.pts is not None else packet.dts
    if clock.recorded_from is None and packet.is_keyframe and when is not None:
        clock.recorded_from = when
    if clock.recorded_from is not None:
        packet.stream = copy
        out.mux(packet)
    for frame in frames:
        if frame.pts is None:
            continue
        if getattr(frame, "corrupt", False):
            reading.corrupt += 1
        now = time.monotonic()
        if clock.first_pts is None:
            clock.first_pts, clock.first_wall = frame.pts, now
            reading.first_frame_ms = round((now - started) * 1000, 1)
            reading.width, reading.height = frame.width, frame.height
        else:
            media = float((frame.pts - clock.first_pts) * clock.tb)
            ahead = media - (now - clock.first_wall)
            if ahead > 0.02:  # paced: a served file arrives as a live camera would
                time.sleep(ahead)
                now = time.monotonic()
            gap = max(now - clock.last_wall, media - clock.last_media)
            reading.longest_gap = max(reading.longest_gap, round(gap, 3))
            if gap > stall_seconds:
                reading.stalls += 1
            clock.last_media = media
        clock.last_wall = now
        if now - clock.first_wall >= seconds:
            return False
        reading.frames += 1
        reading.seconds = round(now - clock.first_wall, 3)  # so far (progress)
        if clock.recorded_from is not None and frame.pts >= clock.recorded_from:
            reading.frame_times.append(float((frame.pts - clock.recorded_from) * clock.tb))
    return True
