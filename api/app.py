"""create_app(settings): the FastAPI app; all state is built in its lifespan, none at import."""

from __future__ import annotations

import logging
import shlex
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.auth import Forbidden, NotLoggedIn, User
from api.context import HERE, Service, current_user, lang_of, text
from api.headers import SecurityHeaders
from api.pages import page_templates, swagger_page
from api.routes import (
    attendance,
    audits,
    classes,
    evidence,
    health,
    ledger,
    login,
    media,
    patrols,
    spotchecks,
)
from api.routes.health import STORAGE_FULL, disk_full
from api.routes.patrols import LivePatrols
from api.runner import AuditRunner
from api.throttle import LoginThrottle
from api.uploads import Limits, Uploads
from video_audit import __version__
from video_audit.evidence import EvidenceLog
from video_audit.settings import AuditSettings, ServiceSettings
from video_audit.standard import load_profile
from video_audit.store import Store
from video_audit.workspace import Workspace

log = logging.getLogger("video_audit.serve")


def _wants_json(request: Request) -> bool:
    path = request.url.path
    accept = request.headers.get("accept", "")
    return path.startswith("/api/") or path == "/openapi.json" or "application/json" in accept


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    """The inspector web service over one workspace (settings from VIDEO_AUDIT_* if None)."""
    settings = settings or ServiceSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        workspace = Workspace.locate(settings.data)
        workspace.root.mkdir(parents=True, exist_ok=True)
        store = await run_in_threadpool(Store, workspace.db)
        if not await run_in_threadpool(store.users):
            where = shlex.quote(str(workspace.root))
            log.warning(
                "注意：工作区 %s 中还没有任何账号，无法登录。先新建一个：\n  %s\n"
                "note: the workspace has no accounts yet; nobody can log in until you add one "
                "(the command above).",
                workspace.root,
                f"video-audit users add 名字 --role admin --data {where}",
            )
        uploads = Uploads(
            workspace.root,
            Limits(
                settings.max_upload_bytes,
                settings.max_upload_files,
                settings.max_expand_ratio,
                settings.disk_reserve_bytes,
            ),
        )
        await run_in_threadpool(uploads.clear_staging)
        runner = AuditRunner(
            store,
            workspace.reports_dir,
            settings.audit_workers,
            footage_db=workspace.db,
            timeout=settings.audit_timeout_seconds,
        )
        svc = Service(
            settings=settings,
            workspace=workspace,
            store=store,
            uploads=uploads,
            evidence=EvidenceLog(store, workspace.evidence_dir, settings.evidence_key_file),
            runner=runner,
            templates=page_templates(HERE / "templates"),
            throttle=LoginThrottle.from_settings(settings),
        )
        app.state.service = svc
        # Audits cut short by a stop are run again.
        for row in await run_in_threadpool(store.unfinished_audits):
            cls = store.class_row(row["class_id"])
            if cls is not None:
                runner.start(row["id"], uploads.classes / cls["folder"])
        # Live patrols: those a stopped service left running are said to have failed; the
        # timer runs the plan's due moments in a thread (a camera never holds up a page).
        profile = await run_in_threadpool(load_profile, AuditSettings().standard)
        live = LivePatrols(
            store, svc.evidence, workspace.root, profile, settings.patrol_interval_seconds
        )
        app.state.patrols = live
        for pid in await run_in_threadpool(live.finish_stale):
            log.warning("巡查 #%d 在服务停止时未完成，已记为失败 / patrol cut short by a stop", pid)
        live.start_timer()
        try:
            yield
        finally:
            await live.stop()
            await runner.stop()
            store.close()

    app = FastAPI(
        title="video-audit 培训视频审核服务",
        version=__version__,
        description="上传班级文件夹、审核、查看报告、截图取证 / upload, audit, report, evidence",
        lifespan=lifespan,
        # The API description is behind the login too (see below), like every other route.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (
        health,
        login,
        classes,
        audits,
        media,
        spotchecks,
        evidence,
        attendance,
        ledger,
        patrols,
    ):
        app.include_router(module.router)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(user: Annotated[User, Depends(current_user)]) -> dict[str, Any]:
        return app.openapi()

    # Swagger UI's files come from the swagger-ui-bundle package: /docs works offline.
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="swagger")

    @app.get("/docs", include_in_schema=False)
    def docs(user: Annotated[User, Depends(current_user)]) -> Response:
        return swagger_page()

    @app.exception_handler(NotLoggedIn)
    async def not_logged_in(request: Request, exc: NotLoggedIn) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {"detail": text(lang_of(request), "login_required")},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return JSONResponse({"detail": exc.message}, status_code=403)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request) or exc.status_code in (206, 416):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        from api.pages import page

        return page(
            request, "error.html", None, status_code=exc.status_code, message=str(exc.detail)
        )

    async def storage_full(request: Request, exc: Exception) -> Response:
        # A full disk (sessions, uploads, evidence cannot be written) is a clear 503, not a 500.
        if not disk_full(exc):
            raise exc
        return await http_error(request, StarletteHTTPException(*STORAGE_FULL))

    app.add_exception_handler(sqlite3.OperationalError, storage_full)
    app.add_exception_handler(OSError, storage_full)

    return app
