"""Audits off the event loop: each runs in a worker process of its own; the one writer stores
results.

A worker dies with the service: on Linux the kernel kills it when its parent (the forkserver,
which exits when the service does) goes (PR_SET_PDEATHSIG), and everywhere a watchdog thread in
the worker ends it once the service's process is gone. So a service killed with `kill -9` leaves
no audit finishing behind its back; the restarted service runs the audit again. An audit past
the timeout is stopped the same way (its process group killed) and marked failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from video_audit.context import Estimate, Progress, ProgressState
from video_audit.store import Store

Job = Callable[..., dict[str, Any]]
"""job(class_path, out_dir, footage_db) -> result; one with a `progress` keyword is given the
worker's progress reporter (audit_class is)."""
WATCH_SECONDS = 0.5
"""How often a worker's watchdog looks for the service."""
PROGRESS_SECONDS = 0.5
"""A worker sends its progress at most this often (and at each change of phase)."""


def audit_class(
    class_path: str, out_dir: str, footage_db: str | None = None, progress: Progress | None = None
) -> dict[str, Any]:
    """In a worker process: audit one class folder, write its reports atomically, return them.

    FOOTAGE_DB (the workspace's database) remembers every class's footage, so footage reused
    across uploaded classes is found (QA05). Returns {"report": the zh JSON dict, "files":
    {"json-zh": name, ...}} or {"error": text}.
    """
    from video_audit.jobs import audit_class as audit_one
    from video_audit.settings import AuditSettings

    settings = AuditSettings()
    if footage_db is not None and settings.fingerprint_db is None:
        settings = settings.model_copy(update={"fingerprint_db": Path(footage_db)})
    done = audit_one(Path(class_path), settings, "zh", out=Path(out_dir), progress=progress)
    if done.error is not None:
        return {"error": done.error}
    return {"report": done.report, "files": done.files}


# --- in the worker process ------------------------------------------------------------------
def _service_gone(service_pid: int) -> bool:
    """Whether the service process has ended (a zombie not yet reaped counts as ended)."""
    try:
        os.kill(service_pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        with open(f"/proc/{service_pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] in (b"Z", b"X")
    except (OSError, IndexError):
        return False


def _end_group() -> None:
    """Kill this worker and whatever it started (its own process group)."""
    with contextlib.suppress(OSError):
        os.killpg(os.getpgrp(), signal.SIGKILL)
    os._exit(1)


def die_with(service_pid: int) -> None:
    """Worker set-up: its own process group, killed with its parent (Linux), and a watchdog
    thread that ends it once the service is gone (any POSIX system)."""
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)  # a timeout kills the group: the worker and anything it started
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent or _service_gone(service_pid):  # gone before prctl took effect
        _end_group()

    def watch() -> None:
        while True:
            time.sleep(WATCH_SECONDS)
            if os.getppid() != parent or _service_gone(service_pid):
                _end_group()

    threading.Thread(target=watch, name="service-watchdog", daemon=True).start()


def _reporter(conn: Connection) -> Estimate:
    """The worker's progress: its state sent to the service as ("progress", dict), at most every
    PROGRESS_SECONDS but at once when a phase begins or ends."""
    sent: dict[str, Any] = {"at": 0.0, "phase": ""}

    def send(state: ProgressState) -> None:
        at = time.monotonic()
        new_phase = state.phase != sent["phase"] or state.done == state.total
        if new_phase or at - sent["at"] >= PROGRESS_SECONDS:
            sent.update(at=at, phase=state.phase)
            with contextlib.suppress(OSError, ValueError):  # the service is the one to notice
                conn.send(("progress", state.to_dict()))

    return Estimate(send)


def _work(
    job: Job, conn: Connection, service_pid: int, class_path: str, out: str, db: str | None
) -> None:
    """A worker process's whole life: set up, run the job (sending its progress), send back its
    result."""
    die_with(service_pid)
    try:
        if "progress" in inspect.signature(job).parameters:
            result = job(class_path, out, db, progress=_reporter(conn))
        else:
            result = job(class_path, out, db)
    except Exception as exc:  # the job's own errors are the audit's, not a dead worker
        result = {"error": f"{type(exc).__name__}: {exc}"}
    conn.send(result)
    conn.close()


# --- in the service ------------------------------------------------------------------------
_TIMED_OUT = object()


def _wait(
    conn: Connection, timeout: float | None, progress: Callable[[dict[str, Any]], None]
) -> Any:
    """The worker's result, its progress handed to PROGRESS meanwhile; None when it died without
    one; _TIMED_OUT past the timeout."""
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not conn.poll(left):
                return _TIMED_OUT
            message = conn.recv()
            if isinstance(message, tuple) and message[:1] == ("progress",):
                progress(message[1])
                continue
            return message
    except (EOFError, OSError):
        return None
    finally:
        conn.close()


def _kill(process: BaseProcess) -> None:
    """Kill a worker and its process group (what it started), then reap it."""
    if process.pid is not None:
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(OSError, ValueError):
        process.kill()
    process.join(10)


class AuditRunner:
    """Audits in worker processes, at most WORKERS at once; the asyncio tasks that wait for
    them and store results. One request for a class already queued or running joins it."""

    def __init__(
        self,
        store: Store,
        reports_dir: Path,
        workers: int,
        footage_db: Path | None = None,
        job: Job = audit_class,
        timeout: float = 0,
    ) -> None:
        self.store = store
        self.reports_dir = reports_dir
        self.job = job
        self.footage_db = str(footage_db) if footage_db is not None else None
        self.workers = max(1, workers)
        self.timeout = timeout
        """Seconds an audit may run (0: no limit)."""
        # forkserver: workers are forked from a clean process, not from this threaded one.
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(["video_audit.audit", "api.runner"])
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.processes: dict[int, BaseProcess] = {}
        self._progress: dict[int, tuple[float, dict[str, Any]]] = {}
        self._slots: asyncio.Semaphore | None = None
        self._stopping = False
        """Set at shutdown: an audit whose worker is ended then is cut short, not failed."""

    def start(self, audit_id: int, class_path: Path) -> None:
        """Queue an audit (call from the event loop); an audit already queued is left as is."""
        if audit_id in self.tasks:
            return
        task = asyncio.get_running_loop().create_task(self._run(audit_id, class_path))
        self.tasks[audit_id] = task
        task.add_done_callback(lambda _: self.tasks.pop(audit_id, None))

    async def _run(self, audit_id: int, class_path: Path) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.workers)
        async with self._slots:
            await asyncio.to_thread(self.store.audit_started, audit_id)
            try:
                result = await self._in_worker(audit_id, class_path)
            except Exception as exc:  # the process could not even start
                result = {"error": f"{type(exc).__name__}: {exc}"}
        if self._stopping:  # ended by the service stopping: it runs again at the next start
            return
        if "error" in result:
            await asyncio.to_thread(self.store.audit_failed, audit_id, result["error"])
        else:
            await asyncio.to_thread(
                self.store.audit_done, audit_id, result["report"], result["files"]
            )

    async def _in_worker(self, audit_id: int, class_path: Path) -> dict[str, Any]:
        out_dir = self.reports_dir / str(audit_id)
        receive, send = self.context.Pipe(duplex=False)
        process = self.context.Process(
            target=_work,
            args=(self.job, send, os.getpid(), str(class_path), str(out_dir), self.footage_db),
            name=f"audit-{audit_id}",
        )
        try:
            await asyncio.to_thread(process.start)
        finally:
            send.close()
        self.processes[audit_id] = process
        try:

            def report(state: dict[str, Any]) -> None:
                self._progress[audit_id] = (time.monotonic(), state)

            result = await asyncio.to_thread(_wait, receive, self.timeout or None, report)
            if isinstance(result, dict):  # it sent its result and is ending: let it
                await asyncio.to_thread(process.join, 10)
        finally:
            self.processes.pop(audit_id, None)
            self._progress.pop(audit_id, None)
            await asyncio.to_thread(_kill, process)  # kills it if still there; reaps it
        if result is _TIMED_OUT:
            return {
                "error": f"审核超过 {self.timeout:g} 秒的时限，已被停止（审核进程已结束）；"
                "请检查班级文件夹是否过大或有异常 / the audit ran past its "
                f"{self.timeout:g} s limit and was stopped"
            }
        if not isinstance(result, dict):
            return {
                "error": f"审核进程意外退出 / the audit process died (exit code {process.exitcode})"
            }
        return result

    def progress(self, audit_id: int) -> dict[str, Any] | None:
        """A running audit's progress ({phase, done, total, clip, remaining_seconds}, the time
        remaining counted down since the worker sent it); None when it is not running here."""
        if audit_id not in self.tasks:
            return None
        at, state = self._progress.get(audit_id, (time.monotonic(), None))
        if state is None:
            return {
                "phase": "starting",
                "done": 0,
                "total": 0,
                "clip": "",
                "remaining_seconds": None,
            }
        left = state.get("remaining_seconds")
        if left is not None:
            left = round(max(0.0, left - (time.monotonic() - at)), 1)
        return {**state, "remaining_seconds": left}

    async def stop(self) -> None:
        """At shutdown: end the worker processes; audits cut short run again at the next start."""
        self._stopping = True
        for process in list(self.processes.values()):
            await asyncio.to_thread(_kill, process)
        for task in list(self.tasks.values()):
            task.cancel()
        await asyncio.gather(*list(self.tasks.values()), return_exceptions=True)
