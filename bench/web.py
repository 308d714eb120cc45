"""Web service: upload-to-report time for the sample class, and exact-frame capture latency.

Run: `.venv/bin/python -m bench.web [--captures 20] [--skip-upload]`.
- Upload to report: `video-audit serve` on a free port; the compliant sample class (3 days,
  9 clips) is posted as a folder upload and the audit status polled until the report is stored.
- Capture: moments drawn at random (seeded) from a 10-minute 1024×768 25 fps H.264 clip with a
  keyframe every 10 s; each capture seeks to the keyframe before and decodes forward. Reported:
  the frame grab alone and the whole capture (grab, SHA-256 (cached after the first), PNG and
  captioned PNG, hash-chained record in SQLite). Baseline: decoding one whole GOP (250 frames)
  from its keyframe, the worst case a grab can meet.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import httpx

from bench.layout_format import CACHE, cached_clip
from video_audit.audit import run_audit
from video_audit.evidence import EvidenceLog
from video_audit.media.grab import grab
from video_audit.samples.discs import ClipSpec, write_compliant
from video_audit.store import Store

PASSWORD = "bench-password-1"


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return (
        f"min {1000 * min(values):.0f} ms, median {1000 * statistics.median(values):.0f} ms, "
        f"p90 {1000 * p90:.0f} ms, max {1000 * max(values):.0f} ms"
    )


def gop_decode(path: Path) -> float:
    """Seconds to decode the first GOP (250 frames) from its keyframe."""
    t0 = time.perf_counter()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for n, _ in enumerate(container.decode(stream)):
            if n >= 249:
                break
    return time.perf_counter() - t0


def capture_latency(captures: int) -> None:
    clip = cached_clip("lesson-10min-25fps.mp4", ClipSpec(600, 25, seed=1))
    rng = random.Random(20241126)
    moments = [round(rng.uniform(0, 599.9), 3) for _ in range(captures)]
    grabs = []
    for at in moments:
        t0 = time.perf_counter()
        grab(clip, at)
        grabs.append(time.perf_counter() - t0)
    worst = [10 * k + 9.96 for k in range(0, 60, 6)]  # last frame of a GOP: 249 frames to decode
    worst_grabs = []
    for at in worst:
        t0 = time.perf_counter()
        grab(clip, at)
        worst_grabs.append(time.perf_counter() - t0)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "video-audit.sqlite")
        log = EvidenceLog(store, Path(tmp) / "evidence")
        t0 = time.perf_counter()
        log.capture(clip, 1.0, "bench")
        first = time.perf_counter() - t0
        full = []
        for at in moments:
            t0 = time.perf_counter()
            log.capture(clip, at, "bench", note="bench")
            full.append(time.perf_counter() - t0)
        assert log.verify().ok
        store.close()
    baseline = statistics.median(gop_decode(clip) for _ in range(5))
    print(f"clip: {clip} ({clip.stat().st_size / 1e6:.1f} MB, 600 s, 1024×768, 25 fps, GOP 250)")
    print(f"grab, {captures} random moments:       {_ms(grabs)}")
    print(f"grab, last frame of a GOP (worst):  {_ms(worst_grabs)}")
    print(f"whole capture, random moments:      {_ms(full)}")
    print(f"first capture (SHA-256 of the file): {1000 * first:.0f} ms")
    print(f"baseline, decode one GOP (250 fr):  {1000 * baseline:.0f} ms")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def upload_to_report(runs: int) -> None:
    sample = CACHE / "web-sample"
    cls = next(iter(sample.glob("*培训班")), None) if sample.exists() else None
    if cls is None:
        cls = write_compliant(sample).path
    files = sorted(p for p in cls.rglob("*") if p.is_file())
    size = sum(p.stat().st_size for p in files)
    t0 = time.perf_counter()
    run_audit(cls)
    baseline = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "VIDEO_AUDIT_DATA": tmp, "VIDEO_AUDIT_AUDIT_WORKERS": "1"}
        cli = [sys.executable, "-m", "video_audit.cli"]
        subprocess.run(
            [*cli, "users", "add", "bench", "--role", "inspector", "--password-stdin"],
            input=PASSWORD + "\n",
            text=True,
            env=env,
            check=True,
            capture_output=True,
        )
        port = _free_port()
        server = subprocess.Popen(
            [*cli, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base, timeout=600) as client:
                for _ in range(100):
                    try:
                        client.get("/health")
                        break
                    except httpx.TransportError:
                        time.sleep(0.2)
                token = client.post("/api/token", json={"name": "bench", "password": PASSWORD})
                headers = {"Authorization": f"Bearer {token.json()['token']}"}
                totals, uploads = [], []
                for _ in range(runs):
                    t0 = time.perf_counter()
                    res = client.post(
                        "/api/classes",
                        headers=headers,
                        data={"paths": [p.relative_to(cls.parent).as_posix() for p in files]},
                        files=[("files", (p.name, p.read_bytes(), "video/mp4")) for p in files],
                    )
                    res.raise_for_status()
                    uploads.append(time.perf_counter() - t0)
                    audit = res.json()["audit_id"]
                    while True:
                        state = client.get(f"/api/audits/{audit}", headers=headers).json()
                        if state["state"] in ("done", "failed"):
                            break
                        time.sleep(0.05)
                    report = client.get(f"/api/audits/{audit}/report.html", headers=headers)
                    report.raise_for_status()
                    totals.append(time.perf_counter() - t0)
                    assert state["state"] == "done", state
        finally:
            server.terminate()
            server.wait(timeout=60)
    print(f"class: {cls.name} ({len(files)} files, {size / 1e6:.1f} MB)")
    print(f"upload only ({runs} runs):        median {statistics.median(uploads):.2f} s")
    print(
        f"upload to stored report:       median {statistics.median(totals):.2f} s, "
        f"min {min(totals):.2f} s, verdict {state['summary']['verdict']}"
    )
    print(f"baseline, run_audit in-process: {baseline:.2f} s (one run)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captures", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-upload", action="store_true")
    args = parser.parse_args()
    # The evidence key lives outside any workspace; the bench's own, never the user's.
    keys = tempfile.TemporaryDirectory()
    os.environ["VIDEO_AUDIT_EVIDENCE_KEY_FILE"] = str(Path(keys.name) / "evidence.key")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    capture_latency(args.captures)
    if not args.skip_upload:
        upload_to_report(args.runs)


if __name__ == "__main__":
    main()
