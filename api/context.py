"""What every route needs: settings, store, uploads, evidence log, audit runner, templates."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from api.auth import User, check_csrf, request_user
from api.redact import PathScrubber
from api.runner import AuditRunner
from api.throttle import LoginThrottle
from api.uploads import Uploads
from video_audit.evidence import EvidenceLog
from video_audit.settings import ServiceSettings
from video_audit.store import Store
from video_audit.workspace import Workspace

HERE = Path(__file__).parent
LANG_COOKIE = "va_lang"


@dataclass
class Service:
    """The running service's parts, built by create_app's lifespan (never at import time)."""

    settings: ServiceSettings
    workspace: Workspace
    store: Store
    uploads: Uploads
    evidence: EvidenceLog
    runner: AuditRunner
    templates: Jinja2Templates
    throttle: LoginThrottle

    @property
    def reports_dir(self) -> Path:
        return self.workspace.reports_dir

    def scrub(self, user: User, value: Any) -> Any:
        """value as this user may see it: no server paths for an institution (api/redact.py)."""
        if user.sees_all:
            return value
        return PathScrubber(self.workspace.root, self.uploads.classes).data(value)


@cache
def _texts() -> dict[str, dict[str, str]]:
    return tomllib.loads((HERE / "texts.toml").read_text(encoding="utf-8"))


def text(lang: str, key: str, **params: Any) -> str:
    """A UI text in zh (default) or en."""
    texts = _texts()
    template = texts.get(lang, texts["zh"]).get(key) or texts["zh"].get(key) or key
    return template.format(**params) if params else template


def service(request: Request) -> Service:
    svc: Service = request.app.state.service
    return svc


def lang_of(request: Request) -> str:
    lang = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "zh"
    return lang if lang in ("zh", "en") else "zh"


async def current_user(request: Request) -> User:
    """Dependency: the logged-in user (CSRF checked for cookie-authenticated writes)."""
    svc = service(request)
    user = await run_in_threadpool(request_user, svc.store, request)
    await check_csrf(request, user)
    return user


def not_found() -> HTTPException:
    """The one 404 of every route with an id: "no such" and "not yours" read the same."""
    return HTTPException(404, f"{text('zh', 'not_found')} / {text('en', 'not_found')}")


def visible_class(svc: Service, user: User, class_id: int) -> Any:
    """The class row when it exists and this user may see it; 404 otherwise (no existence leak)."""
    row = svc.store.class_row(class_id)
    if row is None or not user.may_see(row["institution"]):
        raise not_found()
    return row


def require_inspector(user: User) -> None:
    """Evidence and spot-checks are the inspectors' (and admins') tools."""
    from api.auth import Forbidden

    if not user.sees_all:
        raise Forbidden("仅检查人员可以使用 / inspectors only")


def class_path(svc: Service, row: Any) -> Path:
    """The committed class folder of a class row."""
    return svc.uploads.classes / row["folder"]
