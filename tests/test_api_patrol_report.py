"""The class report as served lists the class's live patrols beside the disc audit (JSON, HTML
with the frames, XLSX), with the live head count against the disc's face rolls; institution
accounts get the report without them; no credential anywhere."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from tests.web_fixtures import (
    INSTITUTION_A,
    PREFIX_A,
    bearer,
    service,
    upload_folder,
    wait_audit,
    write_small_class,
)
from video_audit.patrol.schedule import PatrolRunner, PatrolSettings
from video_audit.patrol.words import head_gap
from video_audit.standard import load_profile

SECRET = "Cam3raPw"
CLASS = "2024年第1期中式面点师培训班"  # the schedule's short name for PREFIX_A


def test_served_reports_list_the_class_patrols(tmp_path: Path, camera: str) -> None:
    with service(tmp_path / "data") as client:
        inspector = bearer(client, "inspector")
        inst = bearer(client, "inst_a")
        cls = write_small_class(tmp_path / "src", PREFIX_A)
        audit = upload_folder(client, cls, inst).json()["audit_id"]
        wait_audit(client, audit, inspector)
        svc = client.app.state.service  # type: ignore[attr-defined]
        camera_id = svc.store.add_camera(
            INSTITUTION_A,
            "一楼教室",
            f"http://admin:{SECRET}@{camera}/room.ts",
            f"http://***@{camera}/room.ts",
            "",
            "inspector",
        )
        runner = PatrolRunner(
            svc.store,
            svc.evidence,
            svc.workspace.root,
            load_profile(),
            PatrolSettings(seconds=2, timeout=5),
        )
        pid = runner.start(camera_id, "检查员甲", CLASS)
        assert pid is not None
        runner.run(pid)

        base = f"/api/audits/{audit}/report"
        served = client.get(f"{base}.json", headers=inspector)
        assert served.status_code == 200
        (klass,) = served.json()["classes"]
        (patrol,) = klass["patrols"]
        assert patrol["id"] == pid and patrol["class"] == CLASS and len(patrol["frames"]) == 3
        assert patrol["url"] == f"http://***@{camera}/room.ts"
        assert klass["patrol_heads"] is None or klass["patrol_heads"]["live"] == patrol["heads"]

        html = client.get(f"{base}.html", headers=inspector).text
        assert "<h3>远程巡查</h3>" in html and "一楼教室" in html and "手动巡查 · 检查员甲" in html
        assert html.count("data:image/png;base64,") >= 3  # the frames, embedded
        assert f"#{patrol['frames'][0]['seq']}" in html
        assert "分辨率 1024×768" in html
        english = client.get(f"{base}.html?lang=en", headers=inspector).text
        assert "<h3>Live patrols</h3>" in english and "by hand" in english

        book = load_workbook(io.BytesIO(client.get(f"{base}.xlsx", headers=inspector).content))
        rows = list(book["远程巡查"].iter_rows(values_only=True))
        assert rows[0][:4] == ("巡查时间", "场所", "摄像头", "结论")
        assert rows[1][1] == f"{INSTITUTION_A} 一楼教室" and rows[1][2].startswith("http://***@")

        # The institution's own download has no patrols.
        mine = client.get(f"{base}.json", headers=inst).json()
        assert "patrols" not in mine["classes"][0]
        assert "远程巡查" not in client.get(f"{base}.html", headers=inst).text
        for fmt in ("json", "html"):
            assert SECRET not in client.get(f"{base}.{fmt}", headers=inspector).text
        assert SECRET not in json.dumps(rows, ensure_ascii=False)


def test_the_head_gap_flags_few_live_heads_against_many_on_the_rolls() -> None:
    report = {"classes": [{"attendance": {"days": [{"present": ["a"] * 30}, {"present": []}]}}]}
    patrols: list[dict[str, Any]] = [{"heads": 8}, {"heads": 5}, {"heads": None}]
    gap = head_gap(patrols, report, 0.3)
    assert gap is not None and (gap["live"], gap["disc"], gap["differ"]) == (8, 30, True)
    assert gap["text"] == (
        "远程巡查最多看到 8 人，光盘点名视频中一天最多识别出 30 人。"
        "两者相差较大，请核实是否有人未到或点名视频有问题"
    )
    close = head_gap([{"heads": 27}], report, 0.3, "en")
    assert close is not None and not close["differ"] and close["text"].startswith("Live patrols")
    assert head_gap([], report, 0.3) is None and head_gap(patrols, {"classes": []}, 0.3) is None
