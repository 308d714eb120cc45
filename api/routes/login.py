"""Log in and out (pages, session cookie) and API tokens (bearer)."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.auth import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    User,
    check_password,
    open_session,
    request_token,
    token_hash,
)
from api.context import Service, current_user, lang_of, service, text
from api.pages import page
from api.throttle import LoginThrottle, Throttled

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only paths on this site (no //host, no scheme): no open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/classes"


def attempt_login(svc: Service, name: str, password: str, address: str | None) -> User | None:
    """check_password behind the throttle: Throttled before argon2 runs, when over the limit."""
    keys = LoginThrottle.keys(name, address)
    svc.throttle.begin(keys)
    try:
        with svc.throttle.password_check():
            user = check_password(svc.store, name, password)
    except Throttled:
        svc.throttle.give_back(keys)
        raise
    if user is not None:
        svc.throttle.succeeded(keys)
    return user


def _address(request: Request) -> str | None:
    # The peer's address as the server sees it; behind a proxy this is the proxy (documented).
    return request.client.host if request.client else None


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, next: str | None = None) -> Response:
    csrf = secrets.token_urlsafe(24)
    response = page(request, "login.html", None, next=_safe_next(next), login_csrf=csrf)
    response.set_cookie(LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="strict")
    return response


@router.post("/login", include_in_schema=False)
async def login(
    request: Request,
    name: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/classes",
) -> Response:
    svc = service(request)
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, csrf_token):
        return page(
            request,
            "login.html",
            None,
            status_code=403,
            next=_safe_next(next),
            login_csrf=cookie,
            error=text(lang_of(request), "csrf_failed"),
        )
    try:
        user = await run_in_threadpool(
            attempt_login, svc, name.strip(), password, _address(request)
        )
    except Throttled as exc:
        refused = page(
            request,
            "login.html",
            None,
            status_code=429,
            next=_safe_next(next),
            login_csrf=cookie,
            error=text(lang_of(request), "too_many_logins", seconds=exc.retry_after),
            login_name=name,
        )
        refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    if user is None:
        return page(
            request,
            "login.html",
            None,
            status_code=401,
            next=_safe_next(next),
            login_csrf=cookie,
            error=text(lang_of(request), "bad_login"),
            login_name=name,
        )
    token, _ = await run_in_threadpool(
        open_session, svc.store, user, "cookie", svc.settings.session_hours
    )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=svc.settings.secure_cookies,
        max_age=int(svc.settings.session_hours * 3600),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, user: Annotated[User, Depends(current_user)]) -> Response:
    """Ends the session (or revokes the bearer token) this request came with."""
    used = request_token(request)
    if used is not None:
        service(request).store.drop_session(token_hash(used[1]))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.post("/api/logout", tags=["auth"], status_code=204)
def api_logout(
    request: Request, user: Annotated[User, Depends(current_user)], everywhere: bool = False
) -> Response:
    """吊销本次使用的令牌（everywhere=true：吊销本账号的全部令牌和会话）/ revoke the token used
    (everywhere=true: every token and session of this account)."""
    store = service(request).store
    used = request_token(request)
    if everywhere:
        store.drop_sessions(user.id)
    elif used is not None:
        store.drop_session(token_hash(used[1]))
    response = Response(status_code=204)
    if used is not None and used[0] == "cookie":
        response.delete_cookie(COOKIE)
    return response


@router.get("/", include_in_schema=False)
def home(user: Annotated[User, Depends(current_user)]) -> Response:
    return RedirectResponse("/classes", status_code=303)


class Credentials(BaseModel):
    name: str = Field(max_length=256)
    password: str = Field(max_length=1024)


class Token(BaseModel):
    token: str
    token_type: str = "bearer"
    user: str
    role: str
    institution: str | None


@router.post("/api/token", tags=["auth"], response_model=Token)
def api_token(request: Request, credentials: Credentials) -> Token | Response:
    """用户名和密码换取 API 令牌 / a bearer token for name and password."""
    svc = service(request)
    try:
        user = attempt_login(svc, credentials.name.strip(), credentials.password, _address(request))
    except Throttled as exc:
        return JSONResponse(
            {"detail": text(lang_of(request), "too_many_logins", seconds=exc.retry_after)},
            status_code=429,
            headers={"Retry-After": str(exc.retry_after)},
        )
    if user is None:
        return Response(status_code=401, content=text(lang_of(request), "bad_login"))
    token, _ = open_session(svc.store, user, "api", svc.settings.session_hours)
    return Token(token=token, user=user.name, role=user.role, institution=user.institution)


@router.get("/api/me", tags=["auth"])
def me(user: Annotated[User, Depends(current_user)]) -> dict[str, str | None]:
    """当前用户 / who is logged in."""
    return {"name": user.name, "role": user.role, "institution": user.institution}
