"""GET /health: the only route that needs no login (for load balancers and monitors).

It says whether the workspace's disk has room: below the reserve uploads are refused and
logins may fail to be recorded, so the service is "degraded" (still answering 200: reports can
be read). A request that cannot be served because the disk is full answers 503 (STORAGE_FULL).
"""

from __future__ import annotations

import errno
import sqlite3
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from api.context import service
from video_audit import __version__

router = APIRouter()

STORAGE_FULL = (
    503,
    "服务器磁盘已满，暂时无法保存（登录、上传、取证都需要写入），请稍后再试或联系管理员 / "
    "the server's disk is full: nothing can be saved for now (logging in needs to), try later",
    {"Retry-After": "60"},
)


def disk_full(exc: BaseException | None) -> bool:
    """Whether an error means the disk (or the database on it) is full. SQLite rolls back by
    itself on SQLITE_FULL, so the error seen may be the failed ROLLBACK after it: the errors it
    happened during are looked at too."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc).lower():
            return True
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


@router.get("/health", tags=["service"])
async def health(request: Request) -> dict[str, Any]:
    """服务状态与工作区磁盘剩余空间（低于保留值为 degraded）/ liveness and the disk's free space
    (status "degraded" when below the reserve)."""
    svc = service(request)
    free = await run_in_threadpool(svc.uploads.free_bytes)
    reserve = svc.settings.disk_reserve_bytes
    low = free < reserve
    return {
        "status": "degraded" if low else "ok",
        "version": __version__,
        "disk": {
            "status": "low" if low else "ok",
            "free_bytes": free,
            "reserve_bytes": reserve,
        },
    }
