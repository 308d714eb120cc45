"""Who is asking: passwords (argon2), session cookies for pages, bearer tokens for the API, CSRF."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Request

from video_audit.store import Store

COOKIE = "va_session"
LOGIN_CSRF_COOKIE = "va_login_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

_hasher = PasswordHasher()
# Verifying against this keeps a login for an unknown name as slow as one with a wrong password.
_DUMMY_HASH = _hasher.hash("no such user")


@dataclass(frozen=True)
class User:
    """A logged-in account; csrf is None for bearer-token requests (no ambient credential)."""

    id: int
    name: str
    role: str
    institution: str | None
    csrf: str | None = None

    @property
    def sees_all(self) -> bool:
        """Inspectors and admins see every class; an institution sees only its own."""
        return self.role in ("inspector", "admin")

    def may_see(self, class_institution: str) -> bool:
        return self.sees_all or (
            self.institution is not None and class_institution == self.institution
        )


class NotLoggedIn(Exception):
    """No valid session or token: pages redirect to /login, the API answers 401."""


class Forbidden(Exception):
    """Logged in but not allowed (a role matter, or a bad CSRF token)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(store: Store, name: str, password: str) -> User | None:
    """The user when name and password match, else None (same cost either way)."""
    row = store.user_by_name(name)
    try:
        _hasher.verify(row["password_hash"] if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    if _hasher.check_needs_rehash(row["password_hash"]):
        store.set_password(row["id"], _hasher.hash(password))
    return User(row["id"], row["name"], row["role"], row["institution"])


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(store: Store, user: User, kind: str, hours: float) -> tuple[str, str]:
    """A new random token (only its hash is stored) and its CSRF token."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    expires = (dt.datetime.now().astimezone() + dt.timedelta(hours=hours)).isoformat(
        timespec="seconds"
    )
    store.add_session(token_hash(token), user.id, kind, csrf, expires)
    return token, csrf


def request_token(request: Request) -> tuple[str, str] | None:
    """("api", bearer token) or ("cookie", session token) this request carries, if any."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return "api", header[7:].strip()
    cookie = request.cookies.get(COOKIE)
    return ("cookie", cookie) if cookie else None


def request_user(store: Store, request: Request) -> User:
    """The user behind a bearer token or a session cookie; NotLoggedIn otherwise."""
    used = request_token(request)
    if used is None:
        raise NotLoggedIn()
    kind, token = used
    row = store.session(token_hash(token), kind)
    if row is None:
        raise NotLoggedIn()
    csrf = row["csrf"] if kind == "cookie" else None
    return User(row["id"], row["name"], row["role"], row["institution"], csrf)


async def check_csrf(request: Request, user: User) -> None:
    """Cookie-authenticated writes must carry the session's CSRF token (header or form field)."""
    if request.method in SAFE_METHODS or user.csrf is None:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, user.csrf):
        raise Forbidden("CSRF 校验失败，请刷新页面后重试 / CSRF check failed, reload the page")
