"""Issue 13 on loopback: login throttling, one 404 for "no such" and "not yours", no server paths
or inspector logins for institutions, revocable tokens, security headers, long and spoofing
names."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from openpyxl import load_workbook

import api.routes.login as login_routes
from api.throttle import LoginThrottle, Throttled
from tests.web_fixtures import (
    PASSWORD,
    PREFIX_A,
    login,
    service,
    upload_folder,
    wait_audit,
    write_small_class,
)
from video_audit.cli import main

TEMPLATES = Path(__file__).resolve().parents[1] / "api" / "templates"
RLO = "\u202e"


@pytest.fixture(scope="module", autouse=True)
def evidence_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Captures sign with a key outside every workspace and the user's home."""
    key = tmp_path_factory.mktemp("keys") / "evidence.key"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VIDEO_AUDIT_EVIDENCE_KEY_FILE", str(key))
        yield key


def _token(client: TestClient, name: str, password: str = PASSWORD) -> dict[str, str]:
    res = client.post("/api/token", json={"name": name, "password": password})
    assert res.status_code == 200, res.text
    return {"Authorization": f"Bearer {res.json()['token']}"}


class _Counting:
    """check_password, counted: how many attempts reached argon2."""

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()
        self.real = login_routes.check_password

    def __call__(self, *args: Any) -> Any:
        with self.lock:
            self.calls += 1
        return self.real(*args)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> _Counting:
    counter = _Counting()
    monkeypatch.setattr(login_routes, "check_password", counter)
    return counter


# --- throttling -------------------------------------------------------------------------------
def test_throttle_counts_waits_doubles_forgets_and_stays_bounded() -> None:
    now = [0.0]
    throttle = LoginThrottle(2, 100, 60, 1, 8, max_keys=10, concurrency=1, clock=lambda: now[0])
    keys = LoginThrottle.keys("Alice", "10.0.0.1")
    throttle.begin(keys)
    throttle.begin(keys)  # two failures: the limit
    waits = []
    for _ in range(5):
        with pytest.raises(Throttled) as caught:
            throttle.begin(keys)
        waits.append(caught.value.retry_after)
        now[0] += caught.value.retry_after
        throttle.begin(keys)  # allowed once the wait is over, and fails again
    assert waits == [1, 2, 4, 8, 8]  # doubling, capped
    now[0] += 60  # the window and the longest wait passed: forgotten
    throttle.begin(keys)
    throttle.succeeded(keys)  # a right password: the account starts afresh
    throttle.begin(keys)
    throttle.begin(keys)
    with pytest.raises(Throttled):
        throttle.begin(keys)
    assert throttle.keys("alice ", None)[0] == keys[0]  # one account, however typed
    for n in range(50):  # a spray of names and addresses never grows the table past its bound
        throttle.begin(LoginThrottle.keys(f"user{n}" * 100, f"10.1.0.{n}"))
    assert len(throttle) == 10


def test_wrong_passwords_are_throttled_per_account(tmp_path: Path, counted: _Counting) -> None:
    with service(tmp_path / "data", login_failures=3, login_backoff_s=30) as client:
        for _ in range(3):
            bad = client.post("/api/token", json={"name": "inst_a", "password": "wrong!!"})
            assert bad.status_code == 401
        for attempt in ({"password": "wrong!!"}, {"password": PASSWORD}):
            res = client.post("/api/token", json={"name": "inst_a", **attempt})
            assert res.status_code == 429
            assert res.headers["retry-after"] == "30"
            assert "登录失败次数过多" in res.json()["detail"]
        assert counted.calls == 3  # the throttled attempts never reached argon2
        _token(client, "inst_b")  # another account logs in as ever
        # The form is throttled the same way (the same account counts across both).
        page = client.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf
        form = {"name": "INST_A", "password": PASSWORD, "csrf_token": csrf.group(1)}
        res = client.post("/login", data=form, follow_redirects=False)
        assert res.status_code == 429 and res.headers["retry-after"]
        assert "登录失败次数过多" in res.text and "va_session" not in res.headers.get(
            "set-cookie", ""
        )


def test_one_address_guessing_many_accounts_is_throttled(tmp_path: Path) -> None:
    with service(tmp_path / "data", login_address_failures=4, login_backoff_s=30) as client:
        for n in range(4):
            assert client.post("/api/token", json={"name": f"x{n}", "password": "p"}).status_code
        res = client.post("/api/token", json={"name": "inspector", "password": PASSWORD})
        assert res.status_code == 429
        elsewhere = TestClient(client.app, client=("10.0.0.2", 5000))
        assert (
            elsewhere.post(
                "/api/token", json={"name": "inspector", "password": PASSWORD}
            ).status_code
            == 200
        )


def test_concurrent_guesses_cannot_slip_past_the_limit(tmp_path: Path, counted: _Counting) -> None:
    with service(tmp_path / "data", login_failures=3, login_backoff_s=30) as client:
        codes: list[int] = []

        def guess() -> None:
            res = client.post("/api/token", json={"name": "admin", "password": "wrong!!"})
            codes.append(res.status_code)

        threads = [threading.Thread(target=guess) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(codes) == [401] * 3 + [429] * 13
        assert counted.calls == 3


# --- one class with an audit, shared by the tests below -----------------------------------
@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data = tmp_path_factory.mktemp("svc") / "data"
    cls = write_small_class(tmp_path_factory.mktemp("src"), prefix=PREFIX_A)
    with service(data) as client:
        inspector = _token(client, "inspector")
        up = upload_folder(client, cls, _token(client, "inst_a")).json()
        assert wait_audit(client, up["audit_id"], inspector)["state"] == "done"
        clip = next(p for p in cls.rglob("*.mp4")).relative_to(cls).as_posix()
        res = client.post(
            f"/api/classes/{up['id']}/evidence",
            json={"clip": clip, "at": 0.5, "note": "抽查"},
            headers=inspector,
        )
        assert res.status_code == 201, res.text
        yield client, up, data, clip


def test_not_yours_and_no_such_read_the_same(running: Any) -> None:
    client, up, _, clip = running
    other = _token(client, "inst_b")
    cid, aid = up["id"], up["audit_id"]
    routes = [
        ("GET", "/api/classes/{c}"),
        ("GET", "/classes/{c}"),
        ("POST", "/api/classes/{c}/audits"),
        ("GET", "/api/audits/{a}"),
        ("GET", "/api/audits/{a}/findings"),
        ("GET", "/api/audits/{a}/report.json"),
        ("GET", "/api/audits/{a}/faces/0123456789abcdef.jpg"),
        ("GET", "/classes/{c}/files/" + clip),
        ("GET", "/classes/{c}/play?clip=" + clip),
        ("GET", "/evidence/{e}/frame.png"),
    ]
    for method, route in routes:
        answers = []
        for c, a, e in ((cid, aid, 1), (cid + 999, aid + 999, 999)):
            url = route.format(c=c, a=a, e=e)
            res = client.request(method, url, headers={**other, "Accept": "application/json"})
            answers.append((res.status_code, res.json()))
        assert answers[0] == answers[1], route  # nothing tells "not yours" from "no such"
        assert answers[0][0] == 404 and "不存在，或您无权查看" in answers[0][1]["detail"]
    inspector = _token(client, "inspector")
    for url in (f"/api/classes/{cid + 999}", f"/api/audits/{aid + 999}/findings"):
        assert "不存在，或您无权查看" in client.get(url, headers=inspector).json()["detail"]
    for method in ("GET", "POST"):  # spot-checks: the same 403 for every class id
        a = client.request(method, f"/api/classes/{cid}/spotchecks", headers=other, json={})
        b = client.request(method, f"/api/classes/{cid + 9}/spotchecks", headers=other, json={})
        assert a.status_code == b.status_code == 403 and a.json() == b.json()


def test_institutions_see_no_server_paths_and_no_inspector_logins(running: Any) -> None:
    client, up, data, _ = running
    own, inspector = _token(client, "inst_a"), _token(client, "inspector")
    root = str(data.resolve())
    aid = up["audit_id"]
    shown = client.get(f"/api/audits/{aid}/report.json", headers=inspector).text
    assert root in shown  # inspectors see where the server keeps the class
    for fmt in ("json", "html"):
        body = client.get(f"/api/audits/{aid}/report.{fmt}", headers=own).text
        assert root not in body and PREFIX_A in body
    xlsx = client.get(f"/api/audits/{aid}/report.xlsx", headers=own)
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["content-disposition"]
    book = load_workbook(io.BytesIO(xlsx.content))
    cells = [str(c.value) for s in book.worksheets for row in s.iter_rows() for c in row]
    assert not any(root in c for c in cells) and any(PREFIX_A in c for c in cells)
    for url in (f"/api/audits/{aid}", f"/api/audits/{aid}/findings"):
        assert root not in client.get(url, headers=own).text
    records = client.get("/api/evidence", headers=own).json()
    assert records and all(
        "source_path" not in r and "taken_by" not in r and "caption" not in r for r in records
    )
    full = client.get("/api/evidence", headers=inspector).json()
    assert full[0]["taken_by"] == "inspector" and full[0]["source_path"].startswith("/")
    login(client, "inst_a")
    for url in (f"/classes/{up['id']}", "/evidence"):
        page = client.get(url).text
        assert root not in page and ">inspector<" not in page and "· inspector ·" not in page
    client.cookies.clear()


# --- revocation -------------------------------------------------------------------------------
def test_logout_revokes_the_token_and_revoke_all_cuts_every_session(running: Any) -> None:
    client, _, data, _ = running
    first, second = _token(client, "inst_b"), _token(client, "inst_b")
    assert client.post("/api/logout", headers=first).status_code == 204
    assert client.get("/api/me", headers=first).status_code == 401  # this token only
    assert client.get("/api/me", headers=second).status_code == 200
    assert client.post("/logout", headers=second, follow_redirects=False).status_code == 303
    assert client.get("/api/me", headers=second).status_code == 401  # the form's logout too

    third, fourth = _token(client, "inst_b"), _token(client, "inst_b")
    assert client.post("/api/logout?everywhere=true", headers=third).status_code == 204
    assert client.get("/api/me", headers=fourth).status_code == 401

    tokens = [_token(client, "inst_b") for _ in range(2)]
    login(client, "inst_b")
    result = CliRunner().invoke(main, ["users", "revoke", "inst_b", "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert "已吊销" in result.output
    assert all(client.get("/api/me", headers=t).status_code == 401 for t in tokens)
    assert client.get("/classes", follow_redirects=False).status_code == 303  # the cookie too
    assert (
        CliRunner().invoke(main, ["users", "revoke", "nobody", "--data", str(data)]).exit_code == 2
    )

    kept = _token(client, "inst_b")
    new = "another horse battery"
    result = CliRunner().invoke(
        main,
        ["users", "passwd", "inst_b", "--password-stdin", "--data", str(data)],
        input=new + "\n",
    )
    assert result.exit_code == 0, result.output
    assert client.get("/api/me", headers=kept).status_code == 401
    assert client.post("/api/token", json={"name": "inst_b", "password": PASSWORD}).status_code
    assert client.get("/api/me", headers=_token(client, "inst_b", new)).status_code == 200
    client.cookies.clear()


# --- headers ----------------------------------------------------------------------------------
def test_every_response_carries_the_security_headers(running: Any) -> None:
    client, up, _, clip = running
    inspector = _token(client, "inspector")
    checks = [
        client.get("/login"),
        client.get("/health"),
        client.get("/classes", headers=inspector),
        client.get("/api/me", headers=inspector),
        client.get("/docs", headers=inspector),
        client.get(f"/api/audits/{up['audit_id']}/report.html", headers=inspector),
        client.get(f"/classes/{up['id']}/files/{clip}", headers=inspector),
        client.get("/static/app.js"),
        client.get("/api/classes/0", headers=inspector),
    ]
    for res in checks:
        h = res.headers
        csp = h["content-security-policy"]
        assert "frame-ancestors 'none'" in csp or csp == "sandbox", res.url
        assert h["x-content-type-options"] == "nosniff" and h["x-frame-options"] == "DENY"
        assert h["referrer-policy"] == "no-referrer"
    for res in checks[:7] + checks[8:]:
        assert (
            "no-store" in res.headers["cache-control"] or "private" in res.headers["cache-control"]
        ), res.url
    for res in checks[:5]:
        assert res.headers["cache-control"] == "no-store"
        assert "default-src 'self'" in res.headers["content-security-policy"]
        assert "script-src" not in res.headers["content-security-policy"]  # no inline script
    assert "no-store" not in checks[7].headers.get("cache-control", "")


def test_templates_hold_no_inline_script_style_or_handler() -> None:
    for path in TEMPLATES.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        scripts = re.findall(r"<script([^>]*)>", text)
        assert all("src=" in s or 'type="application/json"' in s for s in scripts), path
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=|javascript:", text), path


# --- long and spoofing names --------------------------------------------------------------
def test_too_long_paths_answer_404_or_400_never_500(running: Any, tmp_path: Path) -> None:
    client, up, _, _ = running
    inspector = _token(client, "inspector")
    for rel in ("a" * 300, "/".join(["长目录" * 20] * 40)):
        for url in (f"/classes/{up['id']}/files/{rel}", f"/classes/{up['id']}/play?clip={rel}"):
            res = client.get(url, headers={**inspector, "Accept": "application/json"})
            assert res.status_code == 404, (url[:80], res.status_code)
    deep = "/".join(["班级"] + ["长目录" * 20] * 20) + "/x.mp4"
    res = client.post(
        "/api/classes",
        files=[("files", ("x.mp4", b"x", "video/mp4"))],
        data={"paths": [deep]},
        headers=inspector,
    )
    assert res.status_code == 400 and "路径过长" in res.json()["detail"]


def test_bidi_controls_are_refused_in_uploads_and_shown_on_pages(running: Any) -> None:
    client, _, _, _ = running
    inspector = _token(client, "inspector")
    for char in (RLO, "\u2066", "\u200d"):
        res = client.post(
            "/api/classes",
            files=[("files", ("a.mp4", b"x", "video/mp4"))],
            data={"paths": [f"班级/6月3日/evil{char}4pm.mp4"]},
            headers=inspector,
        )
        assert res.status_code == 400, res.text
        assert f"<U+{ord(char):04X}>" in res.json()["detail"]
    # A name that got in another way (an older upload, the store) shows its controls on pages.
    store = client.app.state.service.store
    user = store.user_by_name("inspector")
    store.add_class(f"假班级{RLO}gepj.exe", f"机构{RLO}", "missing-folder", 0, 0, user["id"])
    page = client.get("/classes", headers=inspector).text
    assert RLO not in page
    assert "假班级&lt;U+202E&gt;gepj.exe" in page and "机构&lt;U+202E&gt;" in page
