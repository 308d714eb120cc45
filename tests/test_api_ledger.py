"""补贴核算与签字 over the web API: check-ins and employment uploaded per class, the ledger built
from the latest audit, two signatures by two accounts (one account refused as both), what an
institution sees, voids recorded once with their reason, and the signatures in the evidence
chain (an edited signature record fails verification)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from tests.web_fixtures import (
    bearer,
    service,
    upload_folder,
    wait_audit,
    write_small_class,
)

# The small class's roster: 王芳 140423199001011234 (nobody is seen in its generated clips).
CHECKINS = (
    "姓名,身份证号,签到时间,签到地点\n"
    "王芳,140423199001011234,2024-06-03 08:55:00,教室\n"
    "王芳,140423199001011234,2024-06-04 08:57:10,教室\n"
    "李四,140423199912310000,2024-06-03 09:01:00,教室\n"
)
MALFORMED = CHECKINS + "王芳,140423199001011234,昨天,教室\n"  # row 5: no time


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A service with a second inspector and one audited class of institution A (two days)."""
    data = tmp_path_factory.mktemp("svc") / "data"
    cls = write_small_class(tmp_path_factory.mktemp("src"), days=2)
    with service(data) as client:
        store = client.app.state.service.store  # type: ignore[attr-defined]
        admin_hash = store.user_by_name("admin")["password_hash"]
        store.add_user("复核员", "inspector", None, admin_hash)
        up = upload_folder(client, cls, bearer(client, "inst_a")).json()
        status = wait_audit(client, up["audit_id"], bearer(client, "inspector"))
        assert status["state"] == "done", status["error"]
        yield {"client": client, "id": up["id"], "data": data}


def _ledger(w: dict[str, Any], who: str = "inspector") -> dict[str, Any]:
    res = w["client"].get(f"/api/classes/{w['id']}/ledger", headers=bearer(w["client"], who))
    assert res.status_code == 200, res.text
    data: dict[str, Any] = res.json()
    return data


def _sign(w: dict[str, Any], who: str, **body: Any) -> Any:
    client = w["client"]
    return client.post(
        f"/api/classes/{w['id']}/ledger/sign", json=body, headers=bearer(client, who)
    )


def _checkins(w: dict[str, Any], text: str, name: str = "签到.csv", codec: str = "gbk") -> Any:
    client = w["client"]
    return client.post(
        f"/api/classes/{w['id']}/checkins",
        files={"file": (name, text.encode(codec), "text/csv")},
        headers=bearer(client, "inspector"),
    )


def _records(w: dict[str, Any], kind: str) -> list[sqlite3.Row]:
    with sqlite3.connect(w["data"] / "video-audit.sqlite") as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(
            "SELECT * FROM evidence WHERE kind = ? ORDER BY seq", (kind,)
        ).fetchall()


def test_a_ledger_needs_check_ins_and_refuses_files_it_cannot_read(world: dict[str, Any]) -> None:
    first = _ledger(world)
    assert first["state"] == "draft" and first["state_text"] == "草稿"
    assert first["missing"] == ["checkins"] and first["ledger"] is None
    assert first["may_sign"] is False and "打卡记录" in first["refusal"]
    assert _sign(world, "inspector").status_code == 409
    bad = _checkins(world, "甲,乙\n1,2\n")
    assert bad.status_code == 400 and "表头" in bad.json()["detail"]
    exe = _checkins(world, CHECKINS, name="签到.exe")
    assert exe.status_code == 400
    assert _ledger(world)["missing"] == ["checkins"]  # nothing refused was kept


def test_two_accounts_sign_and_one_account_is_refused_as_both(world: dict[str, Any]) -> None:
    client = world["client"]
    up = _checkins(world, MALFORMED)
    assert up.status_code == 201, up.text
    assert up.json()["by"] == "inspector" and up.json()["name"] == "签到.csv"
    assert any("第 5 行" in e for e in up.json()["errors"])  # the malformed row, by its number
    stored = world["data"] / "ledgers" / str(world["id"])
    assert [p.suffix for p in stored.iterdir()] == [".csv"]  # kept under the workspace

    view = _ledger(world)
    ledger = view["ledger"]
    assert view["missing"] == [] and view["state"] == "draft" and view["next_role"] == "first"
    [wang] = ledger["trainees"]
    assert wang["name"] == "王芳" and wang["id"] == "140***********1234"
    assert wang["verified_days"] == 0 and wang["amount"] == 0 and ledger["total"] == 0
    assert {d["reason"] for d in wang["days"]} == {"not_seen"}  # checked in, never seen: CK01
    assert {"CK01", "CK05"} <= {f["code"] for f in ledger["findings"]}
    assert view["inputs"]["checkins"]["by"] == "inspector"

    # The second role before the first, or a ledger that changed since it was shown: refused.
    assert _sign(world, "inspector", role="second").status_code == 409
    stale = _sign(world, "inspector", role="first", hash="0" * 64)
    assert stale.status_code == 409 and "账目已变化" in stale.json()["detail"]

    first = _sign(world, "inspector", role="first", hash=ledger["hash"])
    assert first.status_code == 201, first.text
    assert first.json()["state"] == "first_signed" and first.json()["by"] == "inspector"
    assert _ledger(world)["state_text"] == "经办已签"
    again = _sign(world, "inspector", role="second")
    assert again.status_code == 409
    assert "同一账号不能既经办又复核" in again.json()["detail"]
    assert _ledger(world)["refusal"].startswith("同一账号不能既经办又复核")

    second = _sign(world, "复核员", role="second", hash=ledger["hash"])
    assert second.status_code == 201, second.text
    locked = _ledger(world)
    assert locked["state"] == "second_signed" and locked["state_text"] == "复核已签"
    assert [(s["role_text"], s["by"]) for s in locked["signatures"]] == [
        ("经办", "inspector"),
        ("复核", "复核员"),
    ]
    assert all(s["ledger_hash"] == ledger["hash"] for s in locked["signatures"])
    assert locked["may_sign"] is False and locked["next_role"] is None
    assert "已锁定" in _sign(world, "admin").json()["detail"]

    # Each signature is a record of the evidence chain: who, when, the ledger's hash.
    records = _records(world, "ledger_signature")
    assert [r["taken_by"] for r in records] == ["inspector", "复核员"]
    assert all(ledger["hash"] in r["body"] for r in records)
    assert [r["seq"] for r in records] == [s["evidence_seq"] for s in locked["signatures"]]
    verdict = client.get("/api/evidence/verify", headers=bearer(client, "admin")).json()
    assert verdict["ok"] is True, verdict


def test_an_institution_sees_the_state_and_amounts_never_the_controls(
    world: dict[str, Any],
) -> None:
    client = world["client"]
    seen = _ledger(world, "inst_a")
    assert seen["state"] == "second_signed"
    assert seen["ledger"]["total"] == 0 and seen["ledger"]["trainees"][0]["name"] == "王芳"
    assert "days" not in seen["ledger"]["trainees"][0] and "findings" not in seen["ledger"]
    assert not {"inputs", "may_sign", "refusal", "basis"} & set(seen)
    assert _sign(world, "inst_a").status_code == 403
    files = {"file": ("a.csv", CHECKINS.encode(), "text/csv")}
    url = f"/api/classes/{world['id']}"
    inst = bearer(client, "inst_a")
    assert client.post(f"{url}/checkins", files=files, headers=inst).status_code == 403
    assert client.post(f"{url}/employment", data={"employed": 1}, headers=inst).status_code == 403
    assert client.get(f"{url}/ledger", headers=bearer(client, "inst_b")).status_code == 404
    page = client.get(f"/classes/{world['id']}", headers=inst).text
    assert 'id="ledger"' in page and 'data-controls=""' in page
    assert "ledger-sign-first" not in page and "ledger-checkins-form" not in page
    page = client.get(f"/classes/{world['id']}", headers=bearer(client, "inspector")).text
    assert "ledger-sign-first" in page and 'src="/static/ledger.js"' in page


def test_a_new_employment_figure_voids_the_signatures_once(world: dict[str, Any]) -> None:
    client = world["client"]
    url = f"/api/classes/{world['id']}/employment"
    insp = bearer(client, "inspector")
    assert client.post(url, headers=insp).status_code == 400  # neither a file nor a number
    res = client.post(url, data={"employed": 1}, headers=insp)
    assert res.status_code == 201, res.text
    assert res.json()["voided"].startswith("就业名单已更新（inspector ")
    assert res.json()["state"] == "draft"
    view = _ledger(world, "复核员")
    assert view["state"] == "draft" and view["signatures"] == []
    [void] = view["voids"]
    assert void["text"].startswith("签字已失效：就业名单已更新（inspector ")
    assert void["by"] == "inspector" and len(void["signatures"]) == 2
    assert view["ledger"]["rule"] == "full" and view["ledger"]["employment_rate"] == 1
    _ledger(world, "admin")
    assert len(_records(world, "ledger_void")) == 1  # read again: recorded once


def test_a_re_audit_voids_the_signatures_with_its_reason(world: dict[str, Any]) -> None:
    client = world["client"]
    assert _sign(world, "复核员", role="first").status_code == 201
    insp = bearer(client, "inspector")
    again = client.post(f"/api/classes/{world['id']}/audits", headers=insp).json()
    assert wait_audit(client, again["id"], insp)["state"] == "done"
    view = _ledger(world, "inst_a")  # whoever reads first notices, and is named
    assert view["state"] == "draft"
    assert view["voids"][0]["text"].startswith(f"签字已失效：重新审核（审核 #{again['id']}")
    assert view["voids"][0]["by"] == "inst_a"
    assert len(_records(world, "ledger_void")) == 2
    # The same check-in file again changes nothing the ledger depends on: no void, no record.
    assert _sign(world, "admin", role="first").status_code == 201
    assert _checkins(world, MALFORMED).json()["voided"] is None
    assert _ledger(world)["state"] == "first_signed"
    store = client.app.state.service.store
    assert [tuple(r) for r in store.awaiting_signature()] == [(world["id"], "admin")]


def test_an_edited_signature_record_fails_verification(world: dict[str, Any]) -> None:
    client = world["client"]
    admin = bearer(client, "admin")
    assert client.get("/api/evidence/verify", headers=admin).json()["ok"] is True
    first = _records(world, "ledger_signature")[0]
    forged = first["body"].replace('"by":"inspector"', '"by":"复核员"')
    assert forged != first["body"]
    with sqlite3.connect(world["data"] / "video-audit.sqlite") as conn:
        conn.execute("UPDATE evidence SET body = ? WHERE seq = ?", (forged, first["seq"]))
    verdict = client.get("/api/evidence/verify", headers=admin).json()
    assert verdict["ok"] is False and verdict["seq"] == first["seq"], verdict
    assert verdict["problem"] == "content"


def test_check_ins_and_employment_handed_in_with_the_class(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """An institution puts the real-name system's export and its employment list in the class
    folder: they are the class's ledger inputs from the upload on, never stray files, and an
    employment list named …名单 is not taken for the roster."""
    from openpyxl import Workbook

    data = tmp_path_factory.mktemp("svc2") / "data"
    cls = write_small_class(tmp_path_factory.mktemp("src2"), days=2)
    (cls / "2024年6月手机签到记录.csv").write_bytes(CHECKINS.encode("gbk"))
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "身份证号"])
    sheet.append(["王芳", "140423199001011234"])
    book.save(cls / "就业名单.xlsx")
    with service(data) as client:
        up = upload_folder(client, cls, bearer(client, "inst_a"))
        assert up.status_code == 201, up.text
        handed = up.json()["ledger_inputs"]
        assert handed["checkins"]["name"] == "2024年6月手机签到记录.csv"
        assert handed["employment"]["name"] == "就业名单.xlsx"
        audit_id = up.json()["audit_id"]
        assert wait_audit(client, audit_id, bearer(client, "inspector"))["state"] == "done"
        findings = client.get(
            f"/api/audits/{audit_id}/findings", headers=bearer(client, "inspector")
        ).json()
        assert not [f for f in findings if f["code"] == "LY03"], findings
        view = client.get(
            f"/api/classes/{up.json()['id']}/ledger", headers=bearer(client, "inspector")
        ).json()
        assert view["missing"] == [] and view["ledger"]["employment_rate"] is not None
        assert {t["name"] for t in view["ledger"]["trainees"]} == {"王芳"}
