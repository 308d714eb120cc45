"""Where the nightly scan's audits run: a local pool of worker processes, or a Dask cluster.

A worker gets a class folder's path and plain settings, calls `jobs.audit_class` and sends back
`report.to_dict(lang)` — JSON-able data only; nothing else crosses the process boundary.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from video_audit.jobs import audit_class as audit_one
from video_audit.settings import AuditSettings

Result = dict[str, Any]
"""{"report": report.to_dict(lang) | None, "error": str | None, "worker": "host:pid" | None}"""


class RunnerError(Exception):
    """The audits cannot be started at all (a cluster that cannot be reached)."""


def audit_class(path: str, settings: dict[str, Any], lang: str) -> Result:
    """Audit one class folder in a worker; only plain JSON-able data travels back."""
    worker = f"{socket.gethostname()}:{os.getpid()}"
    done = audit_one(Path(path), AuditSettings.model_validate(settings), lang)
    return {"report": done.report, "error": done.error, "worker": worker}


def _die_with(scanner: int) -> None:
    """Worker initializer: exit as soon as the scanner is gone, even after its kill -9."""

    def watch() -> None:
        while os.getppid() == scanner:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="die-with-scanner", daemon=True).start()


def _lost(why: str) -> Result:
    return {"report": None, "error": why, "worker": None}


class AuditRunner(Protocol):
    """Runs audit_class over class folders; yields (index into paths, result) as each ends."""

    def results(
        self, paths: list[str], settings: dict[str, Any], lang: str
    ) -> Iterator[tuple[int, Result]]: ...

    def close(self) -> None: ...


class InlineRunner:
    """Audits in the scanning process itself (`--workers 0`): no isolation, no start-up cost."""

    def results(
        self, paths: list[str], settings: dict[str, Any], lang: str
    ) -> Iterator[tuple[int, Result]]:
        for i, path in enumerate(paths):
            yield i, audit_class(path, settings, lang)

    def close(self) -> None:
        return None


class LocalRunner:
    """A pool of worker processes on this machine; a worker that dies costs only its class."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)

    def results(
        self, paths: list[str], settings: dict[str, Any], lang: str
    ) -> Iterator[tuple[int, Result]]:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed
        from concurrent.futures.process import BrokenProcessPool

        # spawn: workers are the scanner's own children, holding none of its files or locks.
        ctx = multiprocessing.get_context("spawn")
        queue, workers = list(range(len(paths))), self.workers
        while queue:
            done: set[int] = set()
            pool = ProcessPoolExecutor(
                max_workers=min(workers, len(queue)),
                mp_context=ctx,
                initializer=_die_with,
                initargs=(os.getpid(),),
            )
            try:
                futures = {pool.submit(audit_class, paths[i], settings, lang): i for i in queue}
                for future in as_completed(futures):
                    i = futures[future]
                    result = future.result()
                    done.add(i)
                    yield i, result
                queue = []
            except BrokenProcessPool:
                queue = [i for i in queue if i not in done]
                if workers == 1:
                    # One worker runs the jobs in order: the first unfinished one killed it.
                    yield queue.pop(0), _lost("worker process died")
                workers = 1
            finally:
                pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        return None


class DaskRunner:
    """An existing Dask distributed cluster whose workers read the same shared folder."""

    def __init__(self, address: str, timeout: float = 20.0) -> None:
        from distributed import Client

        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise RunnerError(f"{address}: cannot reach the Dask scheduler ({exc})") from exc

    def results(
        self, paths: list[str], settings: dict[str, Any], lang: str
    ) -> Iterator[tuple[int, Result]]:
        from distributed import as_completed

        tag = hashlib.sha256(f"{time.time()}:{os.getpid()}".encode()).hexdigest()[:12]
        futures = [
            self.client.submit(audit_class, path, settings, lang, key=f"video-audit-{tag}-{i}")
            for i, path in enumerate(paths)
        ]
        index = {f.key: i for i, f in enumerate(futures)}
        # This client is not the process-wide default one: as_completed must be given its loop.
        for future in as_completed(futures, loop=self.client.loop):
            try:
                result = future.result()
            except Exception as exc:  # a lost worker: the class is retried next night
                result = _lost(f"{type(exc).__name__}: {exc}")
            i = index[future.key]
            future.release()
            yield i, result

    def close(self) -> None:
        self.client.close()
