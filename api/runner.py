"""Audits off the event loop: each runs in a worker process; the one writer stores results."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from video_audit.store import Store


def audit_class(class_path: str, out_dir: str, footage_db: str | None = None) -> dict[str, Any]:
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
    done = audit_one(Path(class_path), settings, "zh", out=Path(out_dir))
    if done.error is not None:
        return {"error": done.error}
    return {"report": done.report, "files": done.files}


class AuditRunner:
    """A process pool for audits, and the asyncio tasks that wait for them and store results."""

    def __init__(
        self,
        store: Store,
        reports_dir: Path,
        workers: int,
        footage_db: Path | None = None,
        job: Callable[[str, str, str | None], dict[str, Any]] = audit_class,
    ) -> None:
        self.store = store
        self.reports_dir = reports_dir
        self.job = job
        self.footage_db = str(footage_db) if footage_db is not None else None
        self.workers = max(1, workers)
        self.pool = self._new_pool()
        self.tasks: set[asyncio.Task[None]] = set()

    def _new_pool(self) -> ProcessPoolExecutor:
        # forkserver: workers are forked from a clean process, not from this threaded one.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["video_audit.audit", "api.runner"])
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=context)

    def start(self, audit_id: int, class_path: Path) -> None:
        """Queue an audit (call from the event loop)."""
        task = asyncio.get_running_loop().create_task(self._run(audit_id, class_path))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(self, audit_id: int, class_path: Path) -> None:
        loop = asyncio.get_running_loop()
        out_dir = self.reports_dir / str(audit_id)
        pool = self.pool
        try:
            await asyncio.to_thread(self.store.audit_started, audit_id)
            result = await loop.run_in_executor(
                pool, self.job, str(class_path), str(out_dir), self.footage_db
            )
        except BrokenProcessPool as exc:  # a worker died (killed, out of memory): start afresh
            if pool is self.pool:
                self.pool = self._new_pool()
                pool.shutdown(wait=False)
            result = {"error": f"审核进程意外退出 / the audit process died ({exc})"}
        except Exception as exc:
            result = {"error": f"{type(exc).__name__}: {exc}"}
        if "error" in result:
            await asyncio.to_thread(self.store.audit_failed, audit_id, result["error"])
        else:
            await asyncio.to_thread(
                self.store.audit_done, audit_id, result["report"], result["files"]
            )

    async def stop(self) -> None:
        """At shutdown: end the worker processes; audits cut short run again at the next start."""
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*list(self.tasks), return_exceptions=True)
        for process in list(getattr(self.pool, "_processes", {}).values()):
            process.terminate()
        self.pool.shutdown(wait=True, cancel_futures=True)
