"""Rendering the Chinese-first HTML pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from api.auth import User
from api.context import LANG_COOKIE, lang_of, service, text
from api.uploads import SPOOFING
from video_audit.faces.matrix import decision_text, engine_line


def reveal(value: Any) -> Any:
    """Every string a page shows, with bidi controls and zero-width characters made visible
    (<U+202E>), so a name cannot pretend to be another; Markup stays Markup."""
    if isinstance(value, str) and any(ch in SPOOFING for ch in value):
        # Markup is already HTML (tojson's output, say): its markers go in as entities.
        mark = "&lt;U+{:04X}&gt;" if isinstance(value, Markup) else "<U+{:04X}>"
        shown = "".join(mark.format(ord(ch)) if ch in SPOOFING else ch for ch in value)
        return Markup(shown) if isinstance(value, Markup) else shown
    return value


def page_templates(directory: Path) -> Jinja2Templates:
    """The pages' Jinja environment: autoescaped, every output passed through reveal()."""
    env = Environment(
        loader=FileSystemLoader(directory), autoescape=select_autoescape(), finalize=reveal
    )
    return Jinja2Templates(env=env)


def page(
    request: Request, name: str, user: User | None, status_code: int = 200, **values: Any
) -> HTMLResponse:
    """A template rendered in the request's language, with t(), the user and the CSRF token."""
    lang = lang_of(request)

    def t(key: str, **params: Any) -> str:
        return text(lang, key, **params)

    def engine(attendance: Any) -> tuple[str, str]:
        return engine_line(attendance, lang) if isinstance(attendance, dict) else ("", "")

    def decided(decided_by: Any) -> str:
        """人工确认：王检查 2024-06-05 10:12 for a case an inspector decided, '' otherwise."""
        return decision_text(decided_by, lang)

    response = service(request).templates.TemplateResponse(
        request,
        name,
        {
            "t": t,
            "engine": engine,
            "decided": decided,
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


SWAGGER_PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/docs-assets/swagger-ui.css">
<link rel="icon" href="/docs-assets/favicon-32x32.png">
<title>video-audit API</title>
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs-assets/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script>
</body>
</html>
"""


def swagger_page() -> HTMLResponse:
    """/docs: Swagger UI from this site's files, with no inline script (see api/headers.py)."""
    return HTMLResponse(SWAGGER_PAGE)
