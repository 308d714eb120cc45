"""Rendering the Chinese-first HTML pages."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.auth import User
from api.context import LANG_COOKIE, lang_of, service, text
from video_audit.faces.matrix import engine_line


def page(
    request: Request, name: str, user: User | None, status_code: int = 200, **values: Any
) -> HTMLResponse:
    """A template rendered in the request's language, with t(), the user and the CSRF token."""
    lang = lang_of(request)

    def t(key: str, **params: Any) -> str:
        return text(lang, key, **params)

    def engine(attendance: Any) -> tuple[str, str]:
        return engine_line(attendance, lang) if isinstance(attendance, dict) else ("", "")

    response = service(request).templates.TemplateResponse(
        request,
        name,
        {
            "t": t,
            "engine": engine,
            "lang": lang,
            "user": user,
            "csrf": user.csrf if user else None,
            **values,
        },
        status_code=status_code,
    )
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie(LANG_COOKIE, lang, samesite="lax", httponly=True)
    return response
