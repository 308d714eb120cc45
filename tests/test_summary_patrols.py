"""The morning summary lists the live patrols of the day before the scan that did not pass:
unreachable or below the standard (LV01/LV02), missed, or cut short; never a credential. A
workspace without cameras, or a standalone scan database, shows no such list."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

from openpyxl import load_workbook

from video_audit.scan.summary import night_summary, render_html, render_text, render_xlsx
from video_audit.store import DB_NAME, Store
from video_audit.store.scan import ScanStore

RUN = "2026-12-02T02:00:00+08:00"
SECRET = "Hik12345"


def _patrol(
    conn: sqlite3.Connection, camera: int, started: str, state: str, **more: object
) -> None:
    result = more.get("result")
    conn.execute(
        "INSERT INTO patrols (camera_id, class_name, state, started, started_by, errors, "
        "warnings, result, error) VALUES (?, '第一期面点班', ?, ?, '定时巡查', ?, ?, ?, ?)",
        (
            camera,
            state,
            started,
            more.get("errors", 0),
            more.get("warnings", 0),
            None if result is None else json.dumps(result, ensure_ascii=False),
            more.get("error", ""),
        ),
    )


def _lv(code: str, severity: str) -> dict[str, object]:
    return {"reachable": code != "LV01", "findings": [{"code": code, "severity": severity}]}


def test_failed_patrols_of_the_day_before_are_listed(tmp_path: Path) -> None:
    db = tmp_path / DB_NAME
    store = Store(db)
    url = f"rtsp://admin:{SECRET}@10.1.2.3:554/Streaming/101"
    camera = store.add_camera(
        "阳光职业培训学校", "一楼教室", url, "rtsp://***@10.1.2.3:554/Streaming/101", "", "张三"
    )
    store.close()
    with sqlite3.connect(db) as conn:
        _patrol(conn, camera, "2026-12-01T09:12:00+08:00", "done", result={"findings": []})
        _patrol(
            conn, camera, "2026-12-01T10:00:00+08:00", "done", errors=1, result=_lv("LV01", "error")
        )
        _patrol(
            conn,
            camera,
            "2026-12-01T14:30:00+08:00",
            "done",
            warnings=1,
            result=_lv("LV02", "warning"),
        )
        _patrol(conn, camera, "2026-12-01T15:00:00+08:00", "missed", error="错过：计划 15:00")
        _patrol(
            conn, camera, "2026-11-29T10:00:00+08:00", "done", errors=1, result=_lv("LV01", "error")
        )
    conn.close()
    scan = ScanStore.open(db)
    try:
        run = scan.start_run("/srv/discs", RUN, 1, None, 0)
        scan.finish_run(run, RUN)
        s = night_summary(scan, run)
    finally:
        scan.close()
    assert s.patrols is not None
    assert [(p["started"][:16], p["verdict_zh"]) for p in s.patrols] == [
        ("2026-12-01T10:00", "视频调阅不通"),
        ("2026-12-01T14:30", "画面质量不足"),
        ("2026-12-01T15:00", "错过（计划时刻未能巡查）"),
    ]
    text = render_text(s)
    assert "未通过的远程巡查（本次扫描前 24 小时）:" in text
    assert (
        "2026-12-01 10:00  阳光职业培训学校 一楼教室  rtsp://***@10.1.2.3:554/Streaming/101" in text
    )
    assert "Live patrols that did not pass" in render_text(s, "en")
    html = render_html(s)
    assert "<h2>未通过的远程巡查（本次扫描前 24 小时）</h2>" in html and "画面质量不足" in html
    book = load_workbook(io.BytesIO(render_xlsx(s)))
    rows = list(book["未通过的远程巡查（本次扫描前 24 小时）"[:31]].iter_rows(values_only=True))
    assert rows[0] == ("巡查时间", "场所", "摄像头", "班级", "结果") and len(rows) == 4
    for out in (text, html, render_text(s, "en")):
        assert SECRET not in out and "admin" not in out


def test_no_cameras_no_list(tmp_path: Path) -> None:
    db = tmp_path / DB_NAME
    Store(db).close()
    scan = ScanStore.open(db)
    try:
        run = scan.start_run("/srv/discs", RUN, 1, None, 0)
        s = night_summary(scan, run)
    finally:
        scan.close()
    assert s.patrols is None and "远程巡查" not in render_text(s)
