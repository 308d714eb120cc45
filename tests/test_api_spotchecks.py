"""随机抽查: moments drawn per day and per clip (every day and clip when there are moments
enough), seeded and repeatable with the seed shown; each moment's result (正常 / 异常 + note)
stored, shown on the class page, and signed into the evidence log, where an edit is caught."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from api.routes.spotchecks import propose
from tests.web_fixtures import bearer, service, upload_folder, wait_audit, write_small_class

CLIPS = [
    ("d1/a.mp4", 600.0, "2024-06-03"),
    ("d1/b.mp4", 30.0, "2024-06-03"),
    ("d1/c.mp4", 30.0, "2024-06-03"),
    ("d2/a.mp4", 3600.0, "2024-06-04"),
    ("d3/a.mp4", 20.0, "2024-06-05"),
    ("d3/b.mp4", 20.0, "2024-06-05"),
]


@pytest.mark.parametrize("seed", [0, 1, 7, 20240603, 2**48 - 1])
def test_every_clip_and_day_is_drawn_when_moments_suffice(seed: int) -> None:
    moments = propose(CLIPS, len(CLIPS), seed)
    assert sorted(m["clip"] for m in moments) == sorted(c for c, _, _ in CLIPS)
    more = propose(CLIPS, 10, seed)
    assert {m["clip"] for m in more} == {c for c, _, _ in CLIPS} and len(more) == 10
    length = {c: d for c, d, _ in CLIPS}
    assert all(0 <= m["at"] < length[m["clip"]] for m in more)
    # Fewer moments than clips, as many as days: one on each day (not 3 in the long clip).
    few = propose(CLIPS, 3, seed)
    assert {m["day"] for m in few} == {"2024-06-03", "2024-06-04", "2024-06-05"}
    # Two moments in one clip fall in its two halves.
    two = [m["at"] for m in propose(CLIPS[3:4], 2, seed)]
    assert two[0] < 1800 <= two[1]


def test_the_same_seed_draws_the_same_moments() -> None:
    assert propose(CLIPS, 8, 42) == propose(list(reversed(CLIPS)), 8, 42)
    assert propose(CLIPS, 8, 42) != propose(CLIPS, 8, 43)
    assert propose([("x.mp4", 0.0, "d")], 3, 1) == []


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    cls = write_small_class(tmp_path_factory.mktemp("src"), days=2)
    data = tmp_path_factory.mktemp("svc") / "data"
    with service(data) as client:
        h = bearer(client, "inspector")
        made = upload_folder(client, cls, h).json()
        assert wait_audit(client, made["audit_id"], h)["state"] == "done"
        yield {"client": client, "id": made["id"], "data": data, "h": h}


def test_a_real_class_is_drawn_across_its_days_and_clips(world: dict[str, Any]) -> None:
    client, h = world["client"], world["h"]
    url = f"/api/classes/{world['id']}/spotchecks"
    spot = client.post(url, json={"count": 6, "seed": 99}, headers=h)
    assert spot.status_code == 201, spot.text
    moments = spot.json()["moments"]
    assert len({m["clip"] for m in moments}) == 6 and len({m["day"] for m in moments}) == 2
    assert client.post(url, json={"count": 6, "seed": 99}, headers=h).json()["moments"] == moments
    page = client.get(f"/classes/{world['id']}", headers=h).text
    assert '<code class="seed">99</code>' in page and "覆盖 2 天、6 个视频" in page


def test_results_are_recorded_shown_and_signed(world: dict[str, Any]) -> None:
    client, h = world["client"], world["h"]
    base = f"/api/classes/{world['id']}/spotchecks"
    spot = client.post(base, json={"count": 3, "seed": 5}, headers=h).json()
    url = f"{base}/{spot['id']}/results"
    ok = client.post(url, json={"moment": 0, "result": "normal"}, headers=h)
    assert ok.status_code == 201 and ok.json()["result_text"] == "正常"
    bare = client.post(url, json={"moment": 1, "result": "abnormal", "note": "  "}, headers=h)
    assert bare.status_code == 422 and "写明" in bare.json()["detail"]
    bad = client.post(
        url, json={"moment": 1, "result": "abnormal", "note": "画面中无教师"}, headers=h
    )
    assert bad.status_code == 201 and bad.json()["evidence_seq"] > ok.json()["evidence_seq"]
    assert client.post(url, json={"moment": 3, "result": "normal"}, headers=h).status_code == 422
    assert client.post(url, json={"moment": 0, "result": "maybe"}, headers=h).status_code == 422
    other = f"/api/classes/{world['id']}/spotchecks/{spot['id'] + 99}/results"
    assert client.post(other, json={"moment": 0, "result": "normal"}, headers=h).status_code == 404
    institution = bearer(client, "inst_a")
    assert (
        client.post(url, json={"moment": 0, "result": "normal"}, headers=institution).status_code
        == 403
    )

    listed = next(s for s in client.get(base, headers=h).json() if s["id"] == spot["id"])
    results = listed["results"]
    assert listed["moments"] == spot["moments"]
    assert results[0]["result"] == "normal" and results[1]["note"] == "画面中无教师"
    assert results[2] is None and listed["done"] == 2 and listed["seed"] == 5
    page = client.get(f"/classes/{world['id']}", headers=h).text
    assert "异常：画面中无教师" in page and "未记录" in page

    records = _records(world["data"], "spotcheck_result")
    body = json.loads(records[-1]["body"])
    assert body["result"] == "abnormal" and body["note"] == "画面中无教师"
    assert body["spotcheck"] == spot["id"] and body["seed"] == 5 and body["moment"] == 1
    verdict = client.get("/api/evidence/verify", headers=h).json()
    assert verdict["ok"] is True and verdict["records"] >= 2


def test_an_edited_result_is_caught(world: dict[str, Any]) -> None:
    client, h = world["client"], world["h"]
    base = f"/api/classes/{world['id']}/spotchecks"
    spot = client.post(base, json={"count": 2, "seed": 8}, headers=h).json()
    url = f"{base}/{spot['id']}/results"
    made = client.post(url, json={"moment": 0, "result": "abnormal", "note": "无人上课"}, headers=h)
    seq = made.json()["evidence_seq"]
    db = world["data"] / "video-audit.sqlite"
    # The stored row turned to 正常: the page marks it against its signed record.
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE spotcheck_results SET result = 'normal', note = '' WHERE evidence_seq = ?",
            (seq,),
        )
    assert "与证据记录不符" in client.get(f"/classes/{world['id']}", headers=h).text
    # The signed record turned too: verification names it.
    (record,) = [r for r in _records(world["data"], "spotcheck_result") if r["seq"] == seq]
    forged = record["body"].replace('"result":"abnormal"', '"result":"normal"')
    assert forged != record["body"]
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE evidence SET body = ? WHERE seq = ?", (forged, seq))
    verdict = client.get("/api/evidence/verify", headers=h).json()
    assert verdict["ok"] is False and verdict["seq"] == seq and verdict["problem"] == "content"
    with sqlite3.connect(db) as conn:  # put back, for any test after this one
        conn.execute("UPDATE evidence SET body = ? WHERE seq = ?", (record["body"], seq))
    assert client.get("/api/evidence/verify", headers=h).json()["ok"] is True


def _records(data: Path, kind: str) -> list[dict[str, Any]]:
    with sqlite3.connect(data / "video-audit.sqlite") as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT * FROM evidence WHERE kind = ? ORDER BY seq", (kind,))
        return [dict(r) for r in rows]


def test_served_reports_carry_the_spot_checks_and_their_results(world: dict[str, Any]) -> None:
    client, h = world["client"], world["h"]
    base = f"/api/classes/{world['id']}/spotchecks"
    spot = client.post(base, json={"count": 2, "seed": 31}, headers=h).json()
    url = f"{base}/{spot['id']}/results"
    note = "教室里只有三个人"
    client.post(url, json={"moment": 0, "result": "abnormal", "note": note}, headers=h)
    audit = client.get(f"/api/classes/{world['id']}", headers=h).json()["audit"]
    report = f"/api/audits/{audit['id']}/report"

    (cls,) = client.get(f"{report}.json", headers=h).json()["classes"]
    mine = next(s for s in cls["spotchecks"] if s["id"] == spot["id"])
    assert mine["seed"] == 31 and mine["results"][0]["note"] == note
    assert mine["results"][1] is None

    page = client.get(f"{report}.html", headers=h).text
    assert "<h3>随机抽查</h3>" in page and note in page and "未记录" in page
    assert f"抽查 #{spot['id']}：" in page and "种子 31" in page
    assert "<h3>Spot-checks</h3>" in client.get(f"{report}.html?lang=en", headers=h).text

    book = load_workbook(io.BytesIO(client.get(f"{report}.xlsx", headers=h).content))
    cells = [c for row in book["随机抽查"].iter_rows(values_only=True) for c in row if c]
    assert note in cells and "异常" in cells and "未记录" in cells

    # An institution's own download has none of it.
    institution = bearer(client, "inst_a")
    assert (
        "spotchecks" not in client.get(f"{report}.json", headers=institution).json()["classes"][0]
    )
