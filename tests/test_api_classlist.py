"""Finding a class: search, filters, sorting and pages of GET /api/classes; whole-disc uploads."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web_fixtures import (
    INSTITUTION_A,
    INSTITUTION_B,
    PREFIX_A,
    PREFIX_B,
    bearer,
    service,
    upload_zip,
    wait_audit,
    write_small_class,
    zip_bytes,
)
from video_audit.faces.decisions import person_descriptor
from video_audit.store.class_index import report_facts


def _report(
    verdict: str, errors: int, date: str, names: list[str], review: list[str]
) -> dict[str, Any]:
    people = [
        {"person": p, "state": "review", "faces": [{"thumbnail": f"{p}.jpg"}]} for p in review
    ]
    return {
        "summary": {"verdict": verdict, "errors": errors, "warnings": 0},
        "findings": [],
        "classes": [
            {
                "days": [{"date": date}],
                "attendance": {
                    "roster": [{"key": n, "name": n, "role": "trainee"} for n in names],
                    "people": people,
                },
            }
        ],
    }


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with service(tmp_path_factory.mktemp("svc") / "data") as c:
        yield c


@pytest.fixture(scope="module")
def seeded(client: TestClient) -> dict[str, int]:
    """Five classes with finished audits (two institutions), one still queued."""
    store = client.app.state.service.store  # type: ignore[attr-defined]
    by = store.user_by_name("inspector")["id"]
    ids: dict[str, int] = {}
    rows = [
        ("A面点1班", INSTITUTION_A, "pass", 0, "2024-06-03", ["王芳", "李雷"], []),
        ("A面点2班", INSTITUTION_A, "fail", 3, "2024-12-02", ["张伟"], ["人员1"]),
        ("A面点3班", INSTITUTION_A, "fail", 1, "2025-01-10", ["赵敏"], ["人员2"]),
        ("B电工1班", INSTITUTION_B, "pass", 0, "2024-11-30", ["王芳"], []),
        ("B电工2班", INSTITUTION_B, "fail", 7, "2023-12-01", ["孙丽"], []),
    ]
    for name, inst, verdict, errors, date, names, review in rows:
        class_id = store.add_class(name, inst, f"x/{name}", 1, 10, by)
        audit = store.add_audit(class_id)
        store.audit_started(audit)
        store.audit_done(audit, _report(verdict, errors, date, names, review), {})
        ids[name] = class_id
    ids["A排队班"] = store.add_class("A排队班", INSTITUTION_A, "x/q", 1, 10, by)
    store.add_audit(ids["A排队班"])
    return ids


def _names(client: TestClient, query: str, who: str = "inspector") -> list[str]:
    res = client.get(f"/api/classes?{query}", headers=bearer(client, who))
    assert res.status_code == 200, res.text
    return [c["name"] for c in res.json()]


def test_search_by_class_institution_and_trainee_name(client, seeded) -> None:
    assert set(_names(client, "q=面点2")) == {"A面点2班"}
    assert set(_names(client, "q=华森")) == {"B电工1班", "B电工2班"}
    assert set(_names(client, "q=王芳")) == {"A面点1班", "B电工1班"}
    assert _names(client, "q=%25") == []  # a LIKE wildcard is searched for as itself


def test_institutions_see_only_their_own_under_search(client, seeded) -> None:
    assert _names(client, "q=王芳", "inst_a") == ["A面点1班"]
    assert _names(client, "q=王芳", "inst_b") == ["B电工1班"]
    assert _names(client, f"institution={INSTITUTION_B}", "inst_a") == []
    page = client.get("/classes?q=电工", headers=bearer(client, "inst_a")).text
    assert "B电工" not in page and INSTITUTION_B not in page


def test_filters(client, seeded) -> None:
    assert set(_names(client, f"institution={INSTITUTION_B}")) == {"B电工1班", "B电工2班"}
    assert set(_names(client, "verdict=pass")) == {"A面点1班", "B电工1班"}
    assert set(_names(client, "verdict=fail")) == {"A面点2班", "A面点3班", "B电工2班"}
    assert _names(client, "verdict=running") == ["A排队班"]
    today = client.get("/api/classes", headers=bearer(client, "inspector")).json()[0]
    day = today["uploaded_at"][:10]
    assert len(_names(client, f"uploaded_from={day}&uploaded_to={day}")) == 6
    assert _names(client, "uploaded_to=2020-01-01") == []
    bad = client.get("/api/classes?verdict=maybe", headers=bearer(client, "inspector"))
    assert bad.status_code == 400 and "verdict" in bad.json()["detail"]


def test_statistics_year_counts_december_toward_the_next(client, seeded) -> None:
    # 2025 runs from 2024-12-01 to 2025-11-30 (the profile's first_month = 12).
    assert set(_names(client, "year=2025")) == {"A面点2班", "A面点3班"}
    assert set(_names(client, "year=2024")) == {"A面点1班", "B电工1班", "B电工2班"}


def test_has_review_until_decided(client, seeded) -> None:
    assert set(_names(client, "review=1")) == {"A面点2班", "A面点3班"}
    store = client.app.state.service.store
    class_id = seeded["A面点2班"]
    audit = store.latest_audit(class_id)["id"]

    def decide(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO attendance_decisions (class_id, class_key, audit_id, person, descriptor,"
            " kind, days, thumbnails, decided_by, decided_at) VALUES (?, 'k', ?, '人员1', 'd0',"
            " 'stranger', '[]', '[]', 'inspector', '2025-01-01')",
            (class_id, audit),
        )

    store.write(decide)
    assert _names(client, "review=1") == ["A面点3班"]


def test_the_descriptor_is_the_one_decisions_are_mapped_by() -> None:
    report = _report("fail", 1, "2024-06-03", [], ["人员9"])
    person = report["classes"][0]["attendance"]["people"][0]
    facts = report_facts(report)
    assert facts.review is not None and person_descriptor(person) in facts.review


def test_sorting(client, seeded) -> None:
    by_errors = _names(client, "sort=errors&order=desc")
    assert by_errors[:3] == ["B电工2班", "A面点2班", "A面点3班"]
    assert by_errors[-1] == "A排队班"  # no errors known yet: last either way
    assert _names(client, "sort=errors&order=asc")[-1] == "A排队班"
    names = _names(client, "sort=name&order=asc")
    assert names == sorted(names)
    institutions = [
        c["institution"]
        for c in client.get(
            "/api/classes?sort=institution&order=asc", headers=bearer(client, "inspector")
        ).json()
    ]
    assert institutions == sorted(institutions)
    assert _names(client, "sort=uploaded&order=desc")[0] == "A排队班"


def test_thousands_of_classes_page_by_page(tmp_path: Path) -> None:
    with service(tmp_path / "data") as c:
        store = c.app.state.service.store  # type: ignore[attr-defined]
        by = store.user_by_name("inspector")["id"]

        def insert(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT INTO classes (name, institution, folder, files, bytes, uploaded_by, "
                "uploaded_at, errors, trainees) VALUES (?, ?, ?, 1, 1, ?, ?, ?, ?)",
                [
                    (
                        f"班{n:04d}",
                        INSTITUTION_A if n % 3 else INSTITUTION_B,
                        f"x/{n}",
                        by,
                        f"2025-{1 + n % 12:02d}-01T08:00:00+08:00",
                        n % 17,
                        f"学员{n}",
                    )
                    for n in range(3000)
                ],
            )

        store.write(insert)
        h = bearer(c, "inspector")
        first = c.get("/api/classes?sort=name&order=asc&per_page=100", headers=h)
        assert first.headers["X-Total-Count"] == "3000"
        assert [x["name"] for x in first.json()] == [f"班{n:04d}" for n in range(100)]
        assert 'rel="next"' in first.headers["Link"]
        last = c.get("/api/classes?sort=name&order=asc&per_page=100&page=30", headers=h)
        assert last.json()[-1]["name"] == "班2999" and 'rel="next"' not in last.headers["Link"]
        assert c.get("/api/classes?page=31&per_page=100", headers=h).json() == []
        found = c.get("/api/classes?q=学员2999", headers=h)
        assert found.headers["X-Total-Count"] == "1"
        mine = c.get("/api/classes?per_page=500", headers=bearer(c, "inst_b"))
        assert mine.headers["X-Total-Count"] == "1000"
        assert {x["institution"] for x in mine.json()} == {INSTITUTION_B}
        page = c.get("/classes?sort=errors&page=2", headers=h)
        assert page.status_code == 200 and "共 3000 个班级" in page.text
        assert "page=3" in page.text and "page=1" in page.text
        plan = store.read("EXPLAIN QUERY PLAN SELECT MAX(id) FROM audits WHERE class_id = ?", (1,))
        assert any("audits_by_class" in str(tuple(r)) for r in plan)


def test_a_disc_at_once_makes_one_class_per_folder(client, tmp_path: Path) -> None:
    disc = tmp_path / "光盘"
    write_small_class(disc, PREFIX_A)
    write_small_class(disc, PREFIX_B, seed=5)
    entries = [
        (p.relative_to(tmp_path).as_posix(), p.read_bytes())
        for p in sorted(disc.rglob("*"))
        if p.is_file()
    ]
    h = bearer(client, "inspector")
    res = upload_zip(client, zip_bytes(entries), h, "光盘.zip")
    assert res.status_code == 201, res.text
    body = res.json()
    assert body["disc"] == "光盘" and body["url"] == "/classes" and body["refused"] == []
    assert {c["name"]: c["institution"] for c in body["classes"]} == {
        PREFIX_A: INSTITUTION_A,
        PREFIX_B: INSTITUTION_B,
    }
    for cls in body["classes"]:
        assert wait_audit(client, cls["audit_id"], h, limit=120)["state"] == "done"
    names = _names(client, "q=光盘")
    assert names == []  # no class named after the disc
    assert client.app.state.service.uploads.staging.exists()
    assert list(client.app.state.service.uploads.staging.iterdir()) == []
    # The same disc from an institution: its class already there is refused, the other stored.
    again = upload_zip(client, zip_bytes(entries), bearer(client, "inst_a"), "光盘.zip")
    assert again.status_code == 201, again.text
    refused = again.json()["refused"]
    assert [(r["name"], r["status"]) for r in refused] == [(PREFIX_A, 409)]
    assert [c["institution"] for c in again.json()["classes"]] == [INSTITUTION_A]
