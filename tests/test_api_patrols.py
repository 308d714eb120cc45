"""Live patrol in the web service: schedule import, sites, 立即巡查 on a loopback HTTP-TS camera
(frames as they arrive, the verdict, the class page's section), inspectors only, no credential
in any answer, the hand-patrol bound (429), and the service's timer running a due moment."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.streams import silent_camera
from tests.web_fixtures import (
    INSTITUTION_A,
    PREFIX_A,
    bearer,
    login,
    service,
    upload_folder,
    wait_audit,
    write_small_class,
)
from video_audit.evidence import EvidenceLog
from video_audit.patrol.schedule import current_plan, import_schedule
from video_audit.patrol.stream import hide_credentials
from video_audit.patrol.words import head_gap
from video_audit.standard import DEFAULT_PROFILE
from video_audit.store import Store
from video_audit.workspace import Workspace

SECRET = "Pa55word9"
CLASS = "2024年第1期中式面点师培训班"  # the schedule's name for the uploaded class PREFIX_A


@pytest.fixture
def quick_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped profile with one hand patrol at a time and a 2 s connect timeout."""
    text = DEFAULT_PROFILE.read_text(encoding="utf-8")
    assert "\nworkers = 4\n" in text and "\ntimeout = 10.0\n" in text
    text = text.replace("\nworkers = 4\n", "\nworkers = 1\n")
    text = text.replace("\ntimeout = 10.0\n", "\ntimeout = 2.0\n")
    path = tmp_path / "profile.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("VIDEO_AUDIT_STANDARD", str(path))
    return path


def _until_done(client: TestClient, pid: int, headers: dict[str, str]) -> list[dict[str, Any]]:
    """Every distinct answer of GET /api/patrols/{pid} until the patrol is done."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        res = client.get(f"/api/patrols/{pid}", headers=headers)
        assert res.status_code == 200, res.text
        body = res.json()

        def key(b: dict[str, Any]) -> tuple[Any, ...]:
            return (b["state"], len(b["frames"]), (b.get("progress") or {}).get("frames"))

        if not seen or key(body) != key(seen[-1]):
            seen.append(body)
        if body["done"]:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"patrol {pid} still running: {seen[-1:]}")


def test_sites_hand_patrols_class_page_and_roles(
    tmp_path: Path, camera: str, quick_profile: Path
) -> None:
    with silent_camera() as hung, service(tmp_path / "data") as client:
        said: list[str] = []  # every answer's text: none may hold the password

        def get(url: str, headers: dict[str, str] | None = None) -> Any:
            res = client.get(url, headers=headers)
            said.append(res.text)
            return res

        inspector = bearer(client, "inspector")
        inst = bearer(client, "inst_a")
        cls = write_small_class(tmp_path / "src", PREFIX_A)
        audit = upload_folder(client, cls, inspector).json()["audit_id"]

        schedule = (
            "班级,培训机构,地点,摄像头,日期,时段\n"
            f"{CLASS},{INSTITUTION_A},一楼教室,http://admin:{SECRET}@{camera}/room.ts,"
            "2026-12-01,全天\n"
            f"第二期电工班,{INSTITUTION_A},二楼实训室,http://admin:{SECRET}@127.0.0.1:{hung}/x.ts,"
            "2026-12-01,上午\n"
            f"第三期,{INSTITUTION_A},三楼,http://admin:{SECRET}@10.0.0.9/y,不是日期,上午\n"
        )
        files = {"schedule": ("课表.csv", schedule.encode(), "text/csv")}
        res = client.post("/api/sites/import", files=files, headers=inst)
        assert res.status_code == 403 and "仅检查人员" in res.json()["detail"]
        res = client.post("/api/sites/import", files=files, headers=inspector)
        said.append(res.text)
        assert res.status_code == 200, res.text
        added = res.json()
        assert (added["sites"], added["cameras"], added["sessions"]) == (2, 2, 3)
        assert added["schedule"] == "课表.csv" and len(added["errors"]) == 1
        assert "第 4 行" in added["errors"][0] and "/tmp" not in added["errors"][0]
        bad = client.post(
            "/api/sites/import",
            files={"schedule": ("课表.csv", b"a,b\n1,2\n", "text/csv")},
            headers=inspector,
        )
        assert bad.status_code == 422 and "找不到表头" in bad.json()["detail"]
        assert "/tmp" not in bad.json()["detail"] and "课表.csv" in bad.json()["detail"]
        wrong = client.post(
            "/api/sites/import",
            files={"schedule": ("课表.pdf", b"%PDF", "application/pdf")},
            headers=inspector,
        )
        assert wrong.status_code == 400 and "CSV" in wrong.json()["detail"]

        sites = get("/api/sites", inspector).json()
        by_name = {s["name"]: s for s in sites}
        room, hung_site = by_name["一楼教室"], by_name["二楼实训室"]
        (cam,) = room["cameras"]
        assert cam["url"].startswith("http://***@") and cam["last_patrol"] is None

        # An institution account sees none of it: the inspectors-only answer, before any lookup.
        for url in ("/api/sites", f"/api/sites/{room['id']}", "/api/sites/999",
                    "/api/patrol-plans", "/api/patrols/1", "/sites", f"/sites/{room['id']}",
                    "/patrols/1/card"):  # fmt: skip
            assert client.get(url, headers=inst).status_code == 403, url
        res = client.post(f"/api/cameras/{cam['id']}/patrols", json={}, headers=inst)
        assert res.status_code == 403
        assert client.get("/api/sites/999", headers=inspector).status_code == 404
        res = client.post("/api/cameras/999/patrols", json={}, headers=inspector)
        assert res.status_code == 404 and "不存在" in res.json()["detail"]

        wait_audit(client, audit, inspector)
        started = time.monotonic()
        res = client.post(
            f"/api/cameras/{cam['id']}/patrols", json={"class_name": CLASS}, headers=inspector
        )
        assert res.status_code == 202, res.text
        assert time.monotonic() - started < 2  # answered at once: the patrol runs behind
        pid = res.json()["id"]
        # One hand patrol at a time here (workers = 1): a second is refused, in Chinese.
        busy = client.post(f"/api/cameras/{cam['id']}/patrols", json={}, headers=inspector)
        assert busy.status_code == 429 and "正在进行" in busy.json()["detail"]
        assert int(busy.headers["Retry-After"]) > 0
        seen = _until_done(client, pid, inspector)
        said += [json.dumps(s, ensure_ascii=False) for s in seen]
        assert seen[0]["state"] == "running"
        # The read was shown going on (frames received so far), then the frames one by one.
        reads = [s["progress"]["frames"] for s in seen if s["state"] == "running" and s["progress"]]
        assert reads and reads == sorted(reads) and reads[-1] > 0
        assert [len(s["frames"]) for s in seen if s["state"] == "running"][-1] >= 1
        done = seen[-1]
        assert done["state"] == "done" and done["reachable"] is True
        assert len(done["frames"]) == 3 and done["heads"] is not None
        assert done["class"] == CLASS and done["class_id"] is not None
        assert "分辨率 1024×768" in done["measure_lines"]
        assert any(m.startswith("实际帧率") for m in done["measure_lines"])
        assert any(m.startswith("首帧用时") for m in done["measure_lines"])
        # The class's roster was checked: 王芳 has no photo (PP06, in words, with its remedy).
        att = done["attendance_summary"]
        assert att is not None and att["checked"] and "考勤（名册 1 人）" in att["line"]
        assert [f["code"] for f in done["findings"]] == ["PP06"]
        assert done["verdict"] == done["findings"][0]["title"] and done["findings"][0]["remedy"]
        frame = done["frames"][0]
        png = client.get(frame["png_url"], headers=inspector)
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        assert client.get(frame["caption_url"], headers=inspector).status_code == 200
        assert client.get(frame["png_url"], headers=inst).status_code == 404

        # The hung camera: LV01 in words with its remedy, after the (short) timeout.
        (dead,) = get(f"/api/sites/{hung_site['id']}", inspector).json()["cameras"]
        res = client.post(f"/api/cameras/{dead['id']}/patrols", json={}, headers=inspector)
        assert res.status_code == 202, res.text
        failed = _until_done(client, res.json()["id"], inspector)[-1]
        said.append(json.dumps(failed, ensure_ascii=False))
        assert [f["code"] for f in failed["findings"]] == ["LV01"]
        assert failed["verdict"] == "视频调阅不通" and failed["failed"]
        assert failed["findings"][0]["remedy"].startswith("检查摄像头")

        # Pages: the site list (verdicts in words, head counts), the site page, the card.
        login(client, "inspector")
        sites_page = get("/sites").text
        assert "一楼教室" in sites_page and "视频调阅不通" in sites_page
        assert done["verdict"] in sites_page
        assert INSTITUTION_A in sites_page and "***@" in sites_page
        assert 'id="sites-import-form"' in sites_page and "随机巡查计划" in sites_page
        site_page = get(f"/sites/{room['id']}").text
        assert "立即巡查" in site_page and f'id="patrol-{pid}"' in site_page
        assert f"/evidence/{frame['seq']}/frame.png" in site_page and CLASS in site_page
        assert "<script>" not in site_page and "/static/patrols.js" in site_page
        card = get(f"/patrols/{pid}/card").text
        assert card.lstrip().startswith("<div") and "分辨率 1024×768" in card
        assert "Resolution 1024×768".lower() in get(f"/patrols/{pid}/card?lang=en").text.lower()
        get("/sites?lang=zh")

        # The class page: its patrols beside the disc audit, and the head counts compared.
        class_id = done["class_id"]
        page = get(f"/classes/{class_id}").text
        assert 'id="patrols"' in page and f'id="patrol-{pid}"' in page
        assert f"远程巡查最多看到 {done['heads']} 人" in page
        assert "光盘点名视频中一天最多识别出 0 人" in page and 'data-differ="0"' in page
        login(client, "inst_a")
        own = client.get(f"/classes/{class_id}")
        assert own.status_code == 200 and 'id="patrols"' not in own.text
        assert "远程巡查" not in own.text and "***@" not in own.text

        plans = get("/api/patrol-plans", inspector).json()
        assert plans == []  # hand patrols draw no plan
        for text in said:
            assert SECRET not in text and "admin:" not in text


def test_head_counts_differing_much_are_highlighted() -> None:
    def report(*present: int) -> dict[str, Any]:
        days = [{"present": [f"p{i}" for i in range(n)]} for n in present]
        return {"classes": [{"attendance": {"days": days}}]}

    patrols: list[dict[str, Any]] = [{"heads": 8}, {"heads": 3}, {"heads": None}]

    def gap(*args: Any) -> tuple[Any, ...] | None:
        found = head_gap(*args)
        return None if found is None else (found["live"], found["disc"], found["differ"])

    assert gap(patrols, report(30, 25), 0.3) == (8, 30, True)
    assert gap([{"heads": 28}], report(30), 0.3) == (28, 30, False)
    assert gap([{"heads": 0}], report(0), 0.3) == (0, 0, False)
    assert head_gap([{"heads": None}], report(30), 0.3) is None
    assert head_gap([{"heads": 5}], None, 0.3) is None
    assert hide_credentials("open rtsp://a:b@h/x failed") == "open rtsp://***@h/x failed"
    said = hide_credentials("GET 'https://p.cn/1.m3u8?token=t0k&ch=2' 403")
    assert said == "GET 'https://p.cn/1.m3u8?token=***&ch=2' 403"


def test_the_timer_runs_a_due_moment_and_stale_patrols_fail(tmp_path: Path, camera: str) -> None:
    data = tmp_path / "data"
    workspace = Workspace.locate(data)
    workspace.root.mkdir(parents=True)
    # A session that ended a minute ago, and a plan drawn before it began: its moment is due.
    now = dt.datetime.now().replace(second=0, microsecond=0)
    start = now - dt.timedelta(minutes=3)
    start = min(start, start.replace(hour=23, minute=57))  # never across midnight
    end = start + dt.timedelta(minutes=2)
    sched = tmp_path / "课表.csv"
    sched.write_text(
        "班级,培训机构,地点,摄像头,日期,时段\n"
        f"第一期面点班,{INSTITUTION_A},一楼教室,http://admin:{SECRET}@{camera}/room.ts,"
        f"{start:%Y-%m-%d},{start:%H:%M}-{end:%H:%M}\n",
        encoding="utf-8",
    )
    store = Store(workspace.db)
    try:
        added, errors = import_schedule(store, sched, "王检查")
        assert added.sessions == 1 and errors == []
        log = EvidenceLog(store, workspace.evidence_dir)
        plan = current_plan(store, log, start - dt.timedelta(minutes=1), 1, "王检查")
        assert plan is not None and len(plan["moments"]) == 1
        (camera_row,) = store.cameras(int(store.sites()[0]["id"]))
        stale = store.start_patrol(int(camera_row["id"]), "王检查")
        running = store.start_patrol(int(camera_row["id"]), "cron")  # another process's, now
        assert stale is not None and running is not None
        long_ago = (dt.datetime.now().astimezone() - dt.timedelta(hours=1)).isoformat()
        store.write(
            lambda conn: conn.execute(
                "UPDATE patrols SET started = ? WHERE id = ?", (long_ago[:19], stale)
            )
        )
    finally:
        store.close()

    with service(data, patrol_interval_seconds=1) as client:
        inspector = bearer(client, "inspector")
        left = client.get(f"/api/patrols/{stale}", headers=inspector).json()
        assert left["state"] == "failed" and "服务或定时任务中途停止" in left["error"]
        other = client.get(f"/api/patrols/{running}", headers=inspector).json()
        assert other["state"] == "running"  # it may still be running elsewhere
        deadline = time.monotonic() + 45
        while True:
            (shown,) = client.get("/api/patrol-plans", headers=inspector).json()
            (moment,) = shown["moments"]
            p = moment["patrol"]
            if p is not None and p["state"] != "running":
                break
            assert time.monotonic() < deadline, moment
            time.sleep(0.2)
        assert p["state"] == "done" and p["by"] == "定时巡查" and p["findings"] == []
        assert len(p["frames"]) == 3 and p["plan_id"] == plan["id"]
        page = client.get("/sites", headers=inspector).text
        assert f"种子 {plan['seed']}" in page and SECRET not in page


def test_cameras_added_and_taken_out_of_service_on_the_web(tmp_path: Path, camera: str) -> None:
    with service(tmp_path / "data") as client:
        inspector = bearer(client, "inspector")
        inst = bearer(client, "inst_a")
        schedule = (
            "班级,培训机构,地点,摄像头,日期,时段\n"
            f"{CLASS},{INSTITUTION_A},一楼教室,http://admin:{SECRET}@{camera}/room.ts,"
            "2026-12-01,全天\n"
        )
        files = {"schedule": ("课表.csv", schedule.encode(), "text/csv")}
        assert client.post("/api/sites/import", files=files, headers=inspector).status_code == 200
        (site,) = client.get("/api/sites", headers=inspector).json()
        url = f"/api/sites/{site['id']}/cameras"
        new = {"url": f"rtsp://admin:{SECRET}@10.0.0.8:554/Streaming/101", "name": "后门"}
        assert client.post(url, json=new, headers=inst).status_code == 403
        res = client.post(url, json=new, headers=inspector)
        assert res.status_code == 201 and SECRET not in res.text
        added = res.json()
        assert added["url"] == "rtsp://***@10.0.0.8:554/Streaming/101" and added["name"] == "后门"
        bad = client.post(url, json={"url": "file:///etc/passwd"}, headers=inspector)
        assert bad.status_code == 422 and "不是视频流地址" in bad.json()["detail"]
        assert client.post("/api/sites/999/cameras", json=new, headers=inspector).status_code == 404

        retire = f"/api/cameras/{added['id']}/retire"
        assert client.post(retire, headers=inst).status_code == 403
        res = client.post(retire, headers=inspector)
        assert res.status_code == 200 and res.json()["retired_by"] == "inspector"
        assert client.post(retire, headers=inspector).status_code == 409
        res = client.post(f"/api/cameras/{added['id']}/patrols", json={}, headers=inspector)
        assert res.status_code == 409 and "已停用" in res.json()["detail"]
        login(client, "inspector")
        page = client.get(f"/sites/{site['id']}").text
        assert "已停用" in page and 'id="camera-add-form"' in page and SECRET not in page
        # Added again: back in service.
        assert client.post(url, json=new, headers=inspector).status_code == 201
        shown = client.get(f"/api/sites/{site['id']}", headers=inspector).json()
        assert [c["retired"] for c in shown["cameras"]] == [None, None]
