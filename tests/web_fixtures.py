"""Helpers for the web-service tests: small generated classes, accounts, logged-in clients."""

from __future__ import annotations

import datetime as dt
import io
import re
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import hash_password
from video_audit.samples.discs import CHINA, ClipSpec, write_clip
from video_audit.settings import ServiceSettings

PREFIX_A = "壶关县鑫达职业培训学校2024年第1期中式面点师培训班"
PREFIX_B = "长治市华森职业培训学校2024年第3期电工培训班"
INSTITUTION_A = "壶关县鑫达职业培训学校"
INSTITUTION_B = "长治市华森职业培训学校"
PASSWORD = "correct horse battery"
CLI = [sys.executable, "-m", "video_audit.cli"]


def add_accounts(env: dict[str, str], *accounts: tuple[str, str, str | None]) -> None:
    """`video-audit users add` for each (name, role, institution or None), as docs/web.md says,
    in the workspace ENV names (all with PASSWORD)."""
    root = Path(__file__).resolve().parents[1]
    for name, role, institution in accounts:
        extra = ["--institution", institution] if institution else []
        subprocess.run(
            [*CLI, "users", "add", name, "--role", role, *extra, "--password-stdin"],
            input=PASSWORD + "\n",
            text=True,
            check=True,
            env=env,
            cwd=root,
            capture_output=True,
        )


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(args: list[str], cwd: Path, env: dict[str, str]) -> Iterator[tuple[str, list[str]]]:
    """`video-audit serve` on a free loopback port, run as a user would; (base URL, what it had
    said on stderr by the time /health answered). Its whole stderr is kept in CWD."""
    port = free_port()
    said = cwd / f"serve-{port}.log"
    with said.open("wb") as log:
        proc = subprocess.Popen(
            [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/health", timeout=1):
                        break
                except OSError:
                    assert proc.poll() is None, said.read_text()
                    assert time.monotonic() < deadline, said.read_text()
                    time.sleep(0.2)
            yield base, said.read_text().splitlines()
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def write_small_class(parent: Path, prefix: str = PREFIX_A, days: int = 1, seed: int = 0) -> Path:
    """A class folder of short, small clips (2 s at 2 fps, 320×240): fast to make and to audit."""
    cls = parent / prefix
    for n in range(days):
        day = dt.date(2024, 6, 3 + n)
        date = f"{day.month}月{day.day}日"
        folder = cls / date
        for slot, hour in ((1, 9), (2, 15)):
            write_clip(
                folder / f"{prefix}{date}课间人脸识别视频{slot}.mp4",
                ClipSpec(
                    2,
                    2,
                    320,
                    240,
                    start=dt.datetime(2024, 6, 3 + n, hour, 0, tzinfo=CHINA),
                    seed=seed + 10 * n + slot,
                ),
            )
        write_clip(
            folder / f"{prefix}{date}授课过程.mp4",
            ClipSpec(
                2,
                2,
                320,
                240,
                start=dt.datetime(2024, 6, 3 + n, 10, 0, tzinfo=CHINA),
                seed=seed + 10 * n + 3,
            ),
        )
    (cls / "名册.csv").write_text("证件号,姓名,角色,照片\n140423199001011234,王芳,学员,\n", "utf-8")
    return cls


def folder_files(cls: Path) -> list[tuple[str, Path]]:
    """(relative path as a folder picker gives it, file) for every file under a class folder."""
    return [
        (p.relative_to(cls.parent).as_posix(), p) for p in sorted(cls.rglob("*")) if p.is_file()
    ]


def zip_bytes(entries: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


def zip_folder(cls: Path) -> bytes:
    return zip_bytes([(rel, p.read_bytes()) for rel, p in folder_files(cls)])


def legacy_zip(entries: list[tuple[str, bytes]], codec: str = "gbk") -> bytes:
    """A zip as Windows' built-in zip writes it: names in the code page, no UTF-8 flag.

    zipfile always flags non-ASCII names as UTF-8, so each name is written as an ASCII stand-in
    of the same byte length and then replaced, in both headers, by its CODEC bytes.
    """
    stand_ins = []
    for n, (name, _) in enumerate(entries):
        raw = name.encode(codec)
        tag = f"~{n:05d}~".encode()
        stand_ins.append((tag + b"#" * (len(raw) - len(tag)), raw))
        assert len(raw) >= len(tag), "names in these tests are longer than the tag"
    data = zip_bytes(
        [(fake.decode(), body) for (fake, _), (_, body) in zip(stand_ins, entries, strict=True)]
    )
    for fake, raw in stand_ins:
        assert data.count(fake) == 2  # the local header and the central directory
        data = data.replace(fake, raw)
    return data


@cache
def _password_hash() -> str:
    # One argon2 hash (slow by design) serves every test account: they share the password.
    return hash_password(PASSWORD)


@contextmanager
def service(data: Path, **settings: Any) -> Iterator[TestClient]:
    """The app over a data folder, running (lifespan started), with three accounts."""
    app = create_app(ServiceSettings(data=data, audit_workers=1, **settings))
    with TestClient(app) as client:
        store = app.state.service.store
        for name, role, inst in (
            ("inspector", "inspector", None),
            ("inst_a", "institution", INSTITUTION_A),
            ("inst_b", "institution", INSTITUTION_B),
            ("admin", "admin", None),
        ):
            if store.user_by_name(name) is None:
                store.add_user(name, role, inst, _password_hash())
        yield client


def login(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Log the client in through the login form; returns the session's CSRF token."""
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf, page.text
    res = client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": csrf.group(1), "next": "/classes"},
        follow_redirects=False,
    )
    assert res.status_code == 303, res.text
    classes = client.get("/classes")
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', classes.text)
    assert token
    return token.group(1)


_tokens: dict[tuple[int, str], dict[str, str]] = {}


def bearer(client: TestClient, name: str, password: str = PASSWORD) -> dict[str, str]:
    """An Authorization header for the account (one token per client and account)."""
    key = (id(client.app), name)
    if key not in _tokens:
        res = client.post("/api/token", json={"name": name, "password": password})
        assert res.status_code == 200, res.text
        _tokens[key] = {"Authorization": f"Bearer {res.json()['token']}"}
    return _tokens[key]


def upload_folder(client: TestClient, cls: Path, headers: dict[str, str], **fields: str) -> Any:
    files = [("files", (p.name, p.read_bytes(), "video/mp4")) for _, p in folder_files(cls)]
    data = {"paths": [rel for rel, _ in folder_files(cls)], **fields}
    return client.post("/api/classes", files=files, data=data, headers=headers)


def upload_zip(
    client: TestClient, data: bytes, headers: dict[str, str], name: str = "c.zip"
) -> Any:
    return client.post(
        "/api/classes", files={"archive": (name, data, "application/zip")}, headers=headers
    )


def wait_audit(
    client: TestClient, audit_id: int, headers: dict[str, str], limit: float = 60
) -> Any:
    """Poll the status endpoint until the audit is done or failed."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        status = client.get(f"/api/audits/{audit_id}", headers=headers).json()
        if status["state"] in ("done", "failed"):
            return status
        time.sleep(0.1)
    raise AssertionError(f"audit {audit_id} did not finish in {limit} s")
