"""Audit workers die with the service: `video-audit serve` killed with SIGKILL mid-audit leaves
no process behind (none finishing the audit and writing its reports)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.web_fixtures import CLI, PASSWORD, _password_hash, free_port, zip_bytes
from video_audit.store import Store

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _children() -> dict[int, list[int]]:
    """Every process's children, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_bytes()
            except OSError:
                continue
            ppid = int(stat.rsplit(b")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    return children


def _descendants(pid: int) -> list[int]:
    children, found, todo = _children(), [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in (b"Z", b"X")


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _until(what: str, check, limit: float):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.02)
    raise AssertionError(f"{what}: not within {limit} s")


def test_workers_die_with_a_killed_service(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    store = Store(data / "video-audit.sqlite")
    store.add_user("inspector", "inspector", None, _password_hash())
    store.close()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "VIDEO_AUDIT_DATA": str(data), "VIDEO_AUDIT_AUDIT_WORKERS": "1"}
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    stopped: list[int] = []
    try:

        def up() -> bool:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                return httpx.get(f"{base}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        _until("the service answers", up, 60)
        token = httpx.post(
            f"{base}/api/token", json={"name": "inspector", "password": PASSWORD}
        ).json()["token"]
        # A class of many empty day folders: an audit that takes a while (as in the report).
        entries = [(f"班级/{n}/", b"") for n in range(1500)] + [("班级/名册.csv", b"id,name\n")]
        res = httpx.post(
            f"{base}/api/classes",
            files={"archive": ("c.zip", zip_bytes(entries), "application/zip")},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        assert res.status_code == 201, res.text
        audit_id = res.json()["audit_id"]

        def worker() -> int | None:
            servers = [p for p in _descendants(server.pid) if "forkserver" in _cmdline(p)]
            workers = [c for s in servers for c in _children().get(s, [])]
            return workers[0] if workers else None

        pid = _until("an audit worker runs", worker, 30)
        os.kill(pid, signal.SIGSTOP)  # held mid-audit, however fast the audit is
        stopped.append(pid)
        family = _descendants(server.pid)
        assert pid in family
        server.kill()
        server.wait(10)
        os.kill(pid, signal.SIGCONT)  # free to finish the audit, if it were let live
        started = time.monotonic()
        _until("the workers are gone", lambda: not any(_alive(p) for p in family), 5)
        assert time.monotonic() - started < 5
        time.sleep(0.5)
        assert not (data / "reports" / str(audit_id) / "report-zh.json").exists()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
        for pid in _descendants(os.getpid()):  # never leave one behind, whatever failed
            if pid in stopped or "forkserver" in _cmdline(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
