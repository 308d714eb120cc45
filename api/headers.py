"""Security headers on every response: CSP, no framing, no sniffing, no referrer, no caching.

Pure ASGI (no BaseHTTPMiddleware): file and range responses stream through untouched. A route
that sets its own Content-Security-Policy or Cache-Control keeps it (a class's files are
sandboxed; the stored HTML report allows its inline styles; clips are cached privately so
scrubbing does not fetch them again).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Pages use /static/app.css and /static/app.js only; the i18n block is JSON data (not run).
PAGE_CSP = (
    "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'"
)
# Swagger UI (served from this site, offline) draws its icons as data: images and sets styles.
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'; object-src 'none'; base-uri 'none'; form-action 'self'"
)
ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
# Static files are the same for everyone and carry no data: the browser may keep them.
CACHEABLE = ("/static/", "/docs-assets/")


class SecurityHeaders:
    """Adds the headers above to every HTTP response of the wrapped app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    headers[name] = value
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = DOCS_CSP if path == "/docs" else PAGE_CSP
                if "cache-control" not in headers and not path.startswith(CACHEABLE):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
