"""The morning summary's two ledger lists, read from the workspace database: ledgers awaiting a
signature (经办 or 复核, the first signer) and classes whose current ledger shows 疑似代打卡
(CK01), each ledger built the way the web service builds it; a standalone scan database shows
neither list."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from tests.test_ledger import small_class
from video_audit.faces.roster import parse_roster
from video_audit.scan.summary import night_summary, render_html, render_text, render_xlsx
from video_audit.store import DB_NAME, Store
from video_audit.store.scan import ScanStore

AT = "2024-04-02T08:00:00"


def _class(root: Path, conn: sqlite3.Connection, name: str, absent_day: bool) -> int:
    """An uploaded class with a finished audit (three days) and its check-ins for every day;
    with ABSENT_DAY nobody is seen on the first day, so its check-in there is CK01."""
    token = f"t{conn.execute('SELECT count(*) FROM classes').fetchone()[0]}"
    cls, report = small_class(root / "classes" / token, 1, 3)
    if absent_day:
        report["classes"][0]["attendance"]["days"][0]["present"] = []
    cur = conn.execute(
        "INSERT INTO classes (name, institution, folder, files, bytes, uploaded_by, uploaded_at)"
        " VALUES (?, '壶关县第1职业培训学校', ?, 1, 1, 1, ?)",
        (name, f"{token}/班", AT),
    )
    class_id = int(cur.lastrowid or 0)
    conn.execute(
        "INSERT INTO audits (class_id, state, created, finished, report, files)"
        " VALUES (?, 'done', ?, ?, ?, '{}')",
        (class_id, AT, AT, json.dumps(report, ensure_ascii=False)),
    )
    [entry] = parse_roster(cls / "名册.csv").entries
    rel = f"ledgers/{class_id}/checkins.csv"
    (root / rel).parent.mkdir(parents=True)
    with (root / rel).open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["姓名", "身份证号", "签到时间", "签到地点"])
        for day in report["classes"][0]["days"]:
            w.writerow([entry.name, entry.id, f"{day['date']} 09:00:00", "教室"])
    conn.execute(
        "INSERT INTO ledger_inputs (class_id, kind, file, name, sha256, uploaded_by, uploaded_at)"
        " VALUES (?, 'checkins', ?, '签到.csv', 'abc', 'inspector', ?)",
        (class_id, rel, AT),
    )
    return class_id


def _sign(conn: sqlite3.Connection, class_id: int, role: str, by: str) -> None:
    conn.execute(
        "INSERT INTO ledger_signatures (class_id, role, user_id, signed_by, signed_at,"
        " ledger_hash, basis, evidence_seq) VALUES (?, ?, ?, ?, ?, 'h', '{}', 1)",
        (class_id, role, 1 if role == "first" else 2, by, AT),
    )


def _night(db: Path) -> Any:
    store = ScanStore.open(db)
    run = store.start_run("/srv/discs", AT, 1, None, 0)
    store.finish_run(run, AT)
    summary = night_summary(store, run)
    store.close()
    return summary


def _sheet(book: Any, title: str) -> list[tuple[Any, ...]]:
    return [row for row in book[title].iter_rows(values_only=True)]


def test_the_summary_lists_ledgers_awaiting_a_signature_and_proxy_check_ins(
    tmp_path: Path,
) -> None:
    root = tmp_path / "workspace"
    Store(root / DB_NAME).close()  # the workspace database, every migration applied
    with sqlite3.connect(root / DB_NAME) as conn:
        first_signed = _class(root, conn, "电工班", absent_day=False)
        _sign(conn, first_signed, "first", "经办员")
        _class(root, conn, "焊工班", absent_day=True)  # nobody signed; CK01 on day one
        locked = _class(root, conn, "厨师班", absent_day=True)
        _sign(conn, locked, "first", "经办员")
        _sign(conn, locked, "second", "复核员")
    conn.close()

    s = _night(root / DB_NAME)
    assert [(x["name"], x["due"], x["first_by"], x["ck01"]) for x in s.awaiting] == [
        ("焊工班", "first", None, 1),
        ("电工班", "second", "经办员", 0),
    ]
    assert [(x["name"], x["ck01"]) for x in s.proxies] == [("焊工班", 1)]
    assert s.awaiting[1]["total"] == 450 and s.awaiting[1]["error"] is None  # 3 × 150 元

    text = render_text(s)
    assert "待签字的补贴台账:" in text
    assert "电工班（壶关县第1职业培训学校）: 待签 复核, 经办签字人 经办员" in text
    assert "焊工班（壶关县第1职业培训学校）: 待签 经办" in text
    assert "疑似代打卡（CK01）:\n  焊工班（壶关县第1职业培训学校）: CK01 × 1" in text
    assert "厨师班" not in text  # 复核已签: nothing awaits
    english = render_text(s, "en")
    assert "Ledgers awaiting a signature:" in english and "Due second (复核)" in english
    assert "Proxy check-ins (CK01):" in english

    html = render_html(s)
    assert "<h2>待签字的补贴台账</h2>" in html and "<h2>疑似代打卡（CK01）</h2>" in html
    assert "<td>电工班</td>" in html and "<td>经办员</td>" in html and "厨师班" not in html
    assert "Ledgers awaiting a signature" in render_html(s, "en")

    book = load_workbook(io.BytesIO(render_xlsx(s)))
    assert _sheet(book, "待签字的补贴台账") == [
        ("班级", "机构", "待签", "经办签字人", "合计（元）", "说明"),
        ("焊工班", "壶关县第1职业培训学校", "经办", None, 300, None),
        ("电工班", "壶关县第1职业培训学校", "复核", "经办员", 450, None),
    ]
    assert _sheet(book, "疑似代打卡（CK01）")[1:] == [("焊工班", "壶关县第1职业培训学校", 1)]
    english_book = load_workbook(io.BytesIO(render_xlsx(s, "en")))
    assert {"Ledgers awaiting a signature", "Proxy check-ins (CK01)"} <= set(
        english_book.sheetnames
    )


def test_a_class_whose_ledger_cannot_be_built_is_still_listed(tmp_path: Path) -> None:
    root = tmp_path / "workspace"
    Store(root / DB_NAME).close()
    with sqlite3.connect(root / DB_NAME) as conn:
        class_id = _class(root, conn, "电工班", absent_day=False)
        conn.execute("UPDATE audits SET state = 'running' WHERE class_id = ?", (class_id,))
    conn.close()
    s = _night(root / DB_NAME)
    [waiting] = s.awaiting
    assert (waiting["name"], waiting["error"], waiting["ck01"]) == ("电工班", "no_audit", None)
    assert s.proxies == []
    assert "电工班（壶关县第1职业培训学校）: 待签 经办 — 尚无已完成的审核" in render_text(s)
    assert "疑似代打卡（CK01）:\n  无" in render_text(s)


def test_a_standalone_scan_database_shows_neither_list(tmp_path: Path) -> None:
    s = _night(tmp_path / "state" / "audits.db")
    assert s.awaiting is None and s.proxies is None
    for lang in ("zh", "en"):
        text, html = render_text(s, lang), render_html(s, lang)
        assert "待签字" not in text and "CK01" not in text and "awaiting" not in text
        assert "待签字" not in html and "CK01" not in html
        book = load_workbook(io.BytesIO(render_xlsx(s, lang)))
        assert not {"待签字的补贴台账", "Ledgers awaiting a signature"} & set(book.sheetnames)
