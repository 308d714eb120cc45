"""Who may do what: every route needs a login, institutions see only their own classes, CSRF."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.web_fixtures import (
    INSTITUTION_A,
    INSTITUTION_B,
    PASSWORD,
    PREFIX_B,
    bearer,
    folder_files,
    login,
    service,
    upload_folder,
    wait_audit,
    write_small_class,
)

# Logging in cannot need a login: the form and the token endpoint; /health is for monitors.
PUBLIC = {"/health", "/login", "/api/token"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A service with one class of institution A and one of B, both audited, and evidence."""
    src = tmp_path_factory.mktemp("src")
    class_a = write_small_class(src / "a")
    class_b = write_small_class(src / "b", prefix=PREFIX_B, seed=50)
    with service(tmp_path_factory.mktemp("svc") / "data") as client:
        a = upload_folder(client, class_a, bearer(client, "inst_a")).json()
        b = upload_folder(client, class_b, bearer(client, "inst_b")).json()
        insp = bearer(client, "inspector")
        for up in (a, b):
            status = wait_audit(client, up["audit_id"], insp)
            assert status["state"] == "done", status["error"]
        clip_a = next(rel for rel, _ in folder_files(class_a) if rel.endswith("视频1.mp4"))
        clip_b = next(rel for rel, _ in folder_files(class_b) if rel.endswith("视频1.mp4"))
        # Clip paths in the API are relative to the class folder.
        clip_a, clip_b = clip_a.split("/", 1)[1], clip_b.split("/", 1)[1]
        ev_a = client.post(
            f"/api/classes/{a['id']}/evidence", json={"clip": clip_a, "at": 0.5}, headers=insp
        ).json()
        ev_b = client.post(
            f"/api/classes/{b['id']}/evidence", json={"clip": clip_b, "at": 0.5}, headers=insp
        ).json()
        yield {
            "client": client,
            "a": a,
            "b": b,
            "clip_a": clip_a,
            "clip_b": clip_b,
            "ev_a": ev_a,
            "ev_b": ev_b,
        }


def _fill(path: str, w: dict[str, Any]) -> str:
    values = {
        "class_id": w["a"]["id"],
        "audit_id": w["a"]["audit_id"],
        "seq": w["ev_a"]["seq"],
        "decision_id": 1,
        "spot_id": 1,
        "kind": "frame",
        "fmt": "json",
        "rel": w["clip_a"],
        "name": "0123456789abcdef.jpg",
        "site_id": 1,
        "camera_id": 1,
        "patrol_id": 1,
    }
    return re.sub(r"\{(\w+)(?::path)?\}", lambda m: str(values[m.group(1)]), path)


def _routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every endpoint, also those of included routers (FastAPI wraps those lazily)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _routes(route.original_router.routes)


def test_every_route_but_health_and_logging_in_needs_a_login(world: dict[str, Any]) -> None:
    client: TestClient = world["client"]
    anonymous = TestClient(client.app)  # same app, no cookies
    checked = 0
    app: Any = client.app
    for route in _routes(app.routes):
        methods = getattr(route, "methods", None) or {"GET"}
        for method in methods - {"HEAD"}:
            path = _fill(route.path, world)
            if route.path in PUBLIC:
                continue
            res = anonymous.request(method, path, follow_redirects=False)
            if path.startswith("/api/") or path == "/openapi.json":
                assert res.status_code == 401, (method, path, res.status_code)
            else:
                assert res.status_code == 303, (method, path, res.status_code)
                assert res.headers["location"].startswith("/login?next=")
            bad = anonymous.request(
                method, path, headers={"Authorization": "Bearer forged"}, follow_redirects=False
            )
            assert bad.status_code in (401, 303), (method, path, bad.status_code)
            checked += 1
    assert checked >= 20
    assert anonymous.get("/health").json()["status"] == "ok"


def test_institutions_see_only_their_own_classes(world: dict[str, Any]) -> None:
    client: TestClient = world["client"]
    a, b = world["a"], world["b"]
    assert a["institution"] == INSTITUTION_A and b["institution"] == INSTITUTION_B
    seen = {
        name: {c["id"] for c in client.get("/api/classes", headers=bearer(client, name)).json()}
        for name in ("inst_a", "inst_b", "inspector", "admin")
    }
    assert seen == {
        "inst_a": {a["id"]},
        "inst_b": {b["id"]},
        "inspector": {a["id"], b["id"]},
        "admin": {a["id"], b["id"]},
    }
    # Every way into B's data, asked by A: 404 (not even its existence shows).
    urls = [
        f"/classes/{b['id']}",
        f"/api/classes/{b['id']}",
        f"/api/audits/{b['audit_id']}",
        f"/api/audits/{b['audit_id']}/findings",
        f"/api/audits/{b['audit_id']}/report.json",
        f"/api/audits/{b['audit_id']}/report.html",
        f"/api/audits/{b['audit_id']}/report.xlsx",
        f"/classes/{b['id']}/files/{world['clip_b']}",
        f"/classes/{b['id']}/files/名册.csv",
        f"/classes/{b['id']}/play?clip={world['clip_b']}",
        f"/evidence/{world['ev_b']['seq']}/frame.png",
        f"/evidence/{world['ev_b']['seq']}/caption.png",
    ]
    for url in urls:
        for who in ("inst_a", "inst_b", "inspector"):
            res = client.get(url, headers=bearer(client, who))
            expected = 404 if who == "inst_a" else 200
            assert res.status_code == expected, (who, url, res.status_code)
    # Files other than video and pictures are downloads, never pages of this site.
    roster = client.get(f"/classes/{b['id']}/files/名册.csv", headers=bearer(client, "inst_b"))
    assert roster.headers["content-disposition"].startswith("attachment")
    assert roster.headers["content-type"] == "application/octet-stream"
    res = client.post(f"/api/classes/{b['id']}/audits", headers=bearer(client, "inst_a"))
    assert res.status_code == 404
    # A's own evidence list holds only A's record.
    listed = client.get("/api/evidence", headers=bearer(client, "inst_a")).json()
    assert [r["seq"] for r in listed] == [world["ev_a"]["seq"]]
    assert {r["seq"] for r in client.get("/api/evidence", headers=bearer(client, "admin")).json()}
    page = client.get("/classes", headers=bearer(client, "inst_a")).text
    assert PREFIX_B not in page
    # The attendance section names the roster's trainee nobody saw (no face in these clips).
    report = client.get(f"/classes/{a['id']}", headers=bearer(client, "inst_a")).text
    attendance = report[report.index('id="attendance"') :]
    assert '<span class="absent">王芳 140***********1234</span>' in attendance  # name + masked ID
    # The engine in Chinese, with the advice that goes with the built-in one.
    assert "识别引擎：内置引擎" in attendance and "insightface 模型包" in attendance
    for name in ("0123456789abcdef.jpg", "..%2Freport-zh.json", "x.png"):
        url = f"/api/audits/{a['audit_id']}/faces/{name}"
        assert client.get(url, headers=bearer(client, "inst_a")).status_code == 404


def test_an_institution_cannot_upload_for_another(world: dict[str, Any], tmp_path: Path) -> None:
    client: TestClient = world["client"]
    cls = write_small_class(tmp_path, prefix=PREFIX_B)
    res = upload_folder(client, cls, bearer(client, "inst_a"), institution=INSTITUTION_B)
    assert res.status_code == 201
    assert res.json()["institution"] == INSTITUTION_A
    ids = {c["id"] for c in client.get("/api/classes", headers=bearer(client, "inst_b")).json()}
    assert res.json()["id"] not in ids


def test_evidence_and_spot_checks_are_for_inspectors(world: dict[str, Any]) -> None:
    client: TestClient = world["client"]
    a = world["a"]
    inst = bearer(client, "inst_a")
    capture = {"clip": world["clip_a"], "at": 0.5}
    assert (
        client.post(f"/api/classes/{a['id']}/evidence", json=capture, headers=inst).status_code
        == 403
    )
    assert (
        client.post(f"/api/classes/{a['id']}/spotchecks", json={}, headers=inst).status_code == 403
    )
    assert client.get(f"/api/classes/{a['id']}/spotchecks", headers=inst).status_code == 403
    assert client.get("/api/evidence/verify", headers=inst).status_code == 403
    admin = bearer(client, "admin")
    assert client.get("/api/evidence/verify", headers=admin).json()["ok"] is True


def test_cookie_sessions_need_the_csrf_token_for_writes(world: dict[str, Any]) -> None:
    # The running client (its event loop runs the audit); until now it only used bearer headers.
    browser: TestClient = world["client"]
    csrf = login(browser, "inspector")
    url = f"/api/classes/{world['a']['id']}/spotchecks"
    refused = browser.post(url, json={"count": 2})
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    wrong = browser.post(url, json={"count": 2}, headers={"X-CSRF-Token": "wrong"})
    assert wrong.status_code == 403
    made = browser.post(url, json={"count": 2}, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201 and len(made.json()["moments"]) == 2
    # Logging out needs the token too, and ends the session.
    assert browser.post("/logout", data={}, follow_redirects=False).status_code == 403
    out = browser.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert browser.get("/classes", follow_redirects=False).status_code == 303
    browser.cookies.clear()


def test_login_refuses_bad_passwords_forged_forms_and_foreign_redirects(
    world: dict[str, Any],
) -> None:
    browser = TestClient(world["client"].app)
    page = browser.get("/login?next=//evil.example/x")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token and 'value="/classes"' in page.text
    form = {"name": "inspector", "password": "wrong", "csrf_token": token.group(1)}
    bad = browser.post("/login", data=form)
    assert bad.status_code == 401 and "用户名或密码不正确" in bad.text
    forged = browser.post("/login", data={**form, "password": PASSWORD, "csrf_token": "forged"})
    assert forged.status_code == 403
    ok = browser.post(
        "/login",
        data={**form, "password": PASSWORD, "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/classes"
    cookie = ok.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert client_token_is_refused(browser)


def client_token_is_refused(client: TestClient) -> bool:
    res = client.post("/api/token", json={"name": "inspector", "password": "nope"})
    return res.status_code == 401
