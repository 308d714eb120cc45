"""Live patrol on the web (远程巡查): sites and their cameras, 立即巡查 by hand, the standing
random plan, schedule import, the class page's patrol section, and the service's patrol timer.

Inspectors and admins only: an institution account gets the inspectors-only 403 before any
lookup (so nothing says whether a site or patrol exists), and no page or answer ever holds a
camera's credentials (the store hands out shown URLs only; errors are scrubbed again here).
Every patrol runs in a thread of its own: the event loop never waits on a camera.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.auth import User
from api.context import current_user, lang_of, not_found, require_inspector, service, text
from api.pages import page
from video_audit.evidence import EvidenceLog
from video_audit.findings import rule
from video_audit.patrol.plan import ScheduleError
from video_audit.patrol.schedule import (
    CameraRetired,
    PatrolRunner,
    PatrolSettings,
    add_camera,
    import_schedule,
)
from video_audit.patrol.stream import hide_credentials
from video_audit.patrol.views import class_patrols, patrol_view, plan_views, site_views
from video_audit.patrol.words import attendance_summary, head_gap, measure_lines
from video_audit.standard import Profile
from video_audit.store import Store

router = APIRouter(tags=["patrols"])
log = logging.getLogger("video_audit.serve.patrol")

SCHEDULE_SUFFIXES = (".csv", ".xlsx", ".xls")
SCHEDULE_MAX_BYTES = 10 * 1024**2
STOPPED = (
    "巡查在限定时间内没有结束（服务或定时任务中途停止），结果未知，请重新巡查 / the patrol did "
    "not finish in time (its service or timer stopped): patrol again"
)
LAST_PATROLS = 5  # a camera's patrols the site page lists
PLANS_SHOWN = 3  # the newest plans the sites page lists


class Busy(Exception):
    """Every hand-patrol slot is taken."""


class LivePatrols:
    """The service's patrols: by hand (bounded by [patrol] workers, each in a thread of its own)
    and by the timer (PatrolRunner.run_due every interval, never two runs at once)."""

    def __init__(
        self, store: Store, evidence: EvidenceLog, root: Path, profile: Profile, interval: float
    ) -> None:
        self.store = store
        self.settings = PatrolSettings.of(profile)
        self.runner = PatrolRunner(store, evidence, root, profile, self.settings)
        self.interval = interval
        self.head_gap_ratio = float(profile.section("patrol").get("head_gap_ratio", 0.3))
        self._slots = threading.BoundedSemaphore(max(1, self.settings.workers))
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._timer: asyncio.Task[None] | None = None

    def finish_stale(self) -> list[int]:
        """Patrols still 'running' longer than any patrol can (a stopped service or cron job
        left them), finished as failed, said in Chinese; one running now elsewhere is left."""
        cutoff = dt.datetime.now().astimezone() - dt.timedelta(
            seconds=self.settings.longest_seconds
        )
        stale = self.store.stale_patrols(cutoff.isoformat(timespec="seconds"))
        for pid in stale:
            self.store.finish_patrol(pid, "failed", None, STOPPED)
        return stale

    def _spawn(self, target: Callable[[], None], name: str) -> threading.Thread:
        def body() -> None:
            try:
                target()
            except Exception as exc:  # a store closed under a patrol at shutdown, say
                log.warning("巡查线程出错 / patrol thread failed: %s", hide_credentials(str(exc)))
            finally:
                with self._lock:
                    self._threads.discard(thread)

        thread = threading.Thread(target=body, name=name, daemon=True)
        with self._lock:
            self._threads.add(thread)
        thread.start()
        return thread

    def start_by_hand(self, camera_id: int, by: str, class_name: str) -> int:
        """Start a patrol of the camera now (立即巡查); its id. Busy when every slot is taken,
        KeyError for no such camera."""
        if not self._slots.acquire(blocking=False):
            raise Busy
        try:
            pid = self.runner.start(camera_id, by, class_name)
            assert pid is not None  # only a plan's moment can be taken already
        except BaseException:
            self._slots.release()
            raise

        def run() -> None:
            try:
                self.runner.run(pid)
            finally:
                self._slots.release()

        self._spawn(run, f"patrol-{pid}")
        return pid

    def run_due(self) -> None:
        """One run of the plan's due patrols (the timer's); failures are logged, never raised."""
        try:
            for pid in self.finish_stale():
                log.warning("巡查 #%d 未能完成，已记为失败 / patrol %d cut short", pid, pid)
            outcome = self.runner.run_due(dt.datetime.now())
        except Exception as exc:
            said = hide_credentials(str(exc))
            log.warning("定时巡查未能运行 / the patrol timer failed: %s", said)
            return
        for pid in outcome.patrolled + outcome.missed:
            row = self.store.patrol_row(pid)
            if row is None:
                continue
            view = patrol_view(row)
            if view["failed"]:
                log.warning(
                    "巡查 #%d %s %s：%s %s",
                    pid,
                    view["site"],
                    view["url"],  # the shown URL: ***@ for credentials
                    view["verdict_zh"],
                    hide_credentials(view["error"]),
                )

    def start_timer(self) -> None:
        """The timer as a task of the running loop (nothing when the interval is 0)."""
        if self.interval > 0:
            self._timer = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        # At once on start (a moment due while the service was down is run or said missed),
        # then every interval after the last run ended.
        while True:
            thread = self._spawn(self.run_due, "patrol-timer")
            while thread.is_alive():
                await asyncio.sleep(0.2)
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        """Stop the timer; give running patrols the time one patrol may take to finish."""
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
        limit = asyncio.get_running_loop().time() + self.settings.seconds + self.settings.timeout
        while asyncio.get_running_loop().time() < limit:
            with self._lock:
                if not any(t.is_alive() for t in self._threads):
                    return
            await asyncio.sleep(0.1)


def live(request: Request) -> LivePatrols:
    patrols: LivePatrols = request.app.state.patrols
    return patrols


# -- what pages and answers show --------------------------------------------------------------


def patrol_json(view: dict[str, Any], lang: str) -> dict[str, Any]:
    """A patrol view for pages and the API: frame image links, the verdict, measures, the
    attendance and each finding's title and remedy in LANG."""
    out = dict(view)
    out["frames"] = [
        {
            **f,
            "png_url": f"/evidence/{f['seq']}/frame.png",
            "caption_url": f"/evidence/{f['seq']}/caption.png",
        }
        for f in view["frames"]
    ]
    out["verdict"] = view["verdict_zh" if lang == "zh" else "verdict_en"]
    out["measure_lines"] = measure_lines(view["measures"], lang)
    out["attendance_summary"] = attendance_summary(view["attendance"], lang)
    out["findings"] = [
        {
            **f,
            "title": rule(f["code"]).title[lang],
            "remedy": rule(f["code"]).remedy.get(lang, ""),
        }
        for f in view["findings_en" if lang == "en" else "findings"]
    ]
    out["error"] = hide_credentials(view["error"])
    out["done"] = view["state"] != "running"
    out["card_url"] = f"/patrols/{view['id']}/card"
    return out


def class_section(request: Request, row: Any, view: dict[str, Any] | None) -> dict[str, Any]:
    """The class page's 远程巡查 section: the class's patrols and the head-count comparison."""
    lang = lang_of(request)
    desk = live(request)
    patrols = [
        patrol_json(p, lang)
        for p in class_patrols(desk.store, int(row["id"]), row["name"], row["institution"])
    ]
    return {"patrols": patrols, "gap": head_gap(patrols, view, desk.head_gap_ratio, lang)}


def _site(store: Store, site_id: int, lang: str) -> dict[str, Any]:
    row = store.site(site_id)
    if row is None:
        raise not_found()
    sessions = store.site_sessions(site_id=site_id)
    cameras = []
    for cam in store.cameras(site_id):
        rows = store.patrol_rows(camera_id=int(cam["id"]), limit=LAST_PATROLS)
        classes = sorted({s["class_name"] for s in sessions if s["camera_id"] == cam["id"]})
        cameras.append(
            {
                "id": int(cam["id"]),
                "name": cam["name"],
                "url": cam["shown_url"],
                "retired": cam["retired"],
                "retired_by": cam["retired_by"],
                "classes": classes,
                "patrols": [patrol_json(patrol_view(r), lang) for r in rows],
            }
        )
    return {
        "id": int(row["id"]),
        "institution": row["institution"],
        "name": row["name"],
        "cameras": cameras,
        "sessions": [
            {
                "id": int(s["id"]),
                "camera_id": int(s["camera_id"]),
                "class": s["class_name"],
                "date": s["date"],
                "start": s["start"],
                "end": s["end"],
            }
            for s in sessions
        ],
    }


def _sites(store: Store, lang: str) -> list[dict[str, Any]]:
    views = site_views(store)
    for site in views:
        for cam in site["cameras"]:
            last = cam["last_patrol"]
            cam["last_patrol"] = patrol_json(last, lang) if last is not None else None
    return views


def _patrol(request: Request, patrol_id: int) -> dict[str, Any]:
    desk = live(request)
    row = desk.store.patrol_row(patrol_id)
    if row is None:
        raise not_found()
    shown = patrol_json(patrol_view(row), lang_of(request))
    # While it reads: frames received and seconds so far (patrols run by this service).
    shown["progress"] = desk.runner.progress.get(patrol_id) if not shown["done"] else None
    return shown


# -- pages ------------------------------------------------------------------------------------


@router.get("/sites", response_class=HTMLResponse, include_in_schema=False)
def sites_page(request: Request, user: Annotated[User, Depends(current_user)]) -> Response:
    require_inspector(user)
    store = service(request).store
    lang = lang_of(request)
    sites = _sites(store, lang)
    institutions: dict[str, list[dict[str, Any]]] = {}
    for site in sites:
        institutions.setdefault(site["institution"], []).append(site)
    plans = plan_views(store, PLANS_SHOWN)  # the API and `sites plan` give them all
    for plan in plans:
        for m in plan["moments"]:
            m["patrol"] = patrol_json(m["patrol"], lang) if m["patrol"] else None
    return page(
        request,
        "sites.html",
        user,
        institutions=institutions,
        plans=plans,
        interval=service(request).settings.patrol_interval_seconds,
        title=text(lang, "sites_title"),
    )


@router.get("/sites/{site_id}", response_class=HTMLResponse, include_in_schema=False)
def site_page(
    request: Request, site_id: int, user: Annotated[User, Depends(current_user)]
) -> Response:
    require_inspector(user)
    site = _site(service(request).store, site_id, lang_of(request))
    return page(request, "site.html", user, site=site, title=f"{site['name']}")


@router.get("/patrols/{patrol_id}/card", response_class=HTMLResponse, include_in_schema=False)
def patrol_card(
    request: Request, patrol_id: int, user: Annotated[User, Depends(current_user)]
) -> Response:
    """One patrol as the pages show it (the site page fetches it as frames arrive)."""
    require_inspector(user)
    p = _patrol(request, patrol_id)
    return page(request, "patrol_card.html", user, p=p)


# -- API --------------------------------------------------------------------------------------


@router.get("/api/sites")
def list_sites(request: Request, user: Annotated[User, Depends(current_user)]) -> list[Any]:
    """培训场所及其摄像头（只显示隐去账号密码的地址）和最近一次巡查 / sites, cameras (shown URLs),
    each camera's last patrol. Inspectors only."""
    require_inspector(user)
    return _sites(service(request).store, lang_of(request))


@router.get("/api/sites/{site_id}")
def get_site(
    request: Request, site_id: int, user: Annotated[User, Depends(current_user)]
) -> dict[str, Any]:
    """一个场所：摄像头、各自最近的巡查、课次 / one site: cameras, their last patrols, sessions."""
    require_inspector(user)
    return _site(service(request).store, site_id, lang_of(request))


@router.get("/api/patrol-plans")
def list_plans(request: Request, user: Annotated[User, Depends(current_user)]) -> list[Any]:
    """随机巡查计划：种子、抽取时间与人、每个时刻及其巡查结果 / the drawn plans, their moments
    and outcomes (inspectors only: the moments are secret to institutions)."""
    require_inspector(user)
    return plan_views(service(request).store)


class PatrolRequest(BaseModel):
    class_name: str = Field("", max_length=200, description="班级（可选）/ the class, if any")


@router.post("/api/cameras/{camera_id}/patrols", status_code=202)
async def start_patrol(
    request: Request,
    camera_id: int,
    user: Annotated[User, Depends(current_user)],
    body: PatrolRequest | None = None,
) -> dict[str, Any]:
    """立即巡查：在后台读取摄像头，立即返回巡查编号；用 GET /api/patrols/{id} 查看进度 / patrol
    the camera now, in the background; 429 when as many hand patrols as [patrol] workers run."""
    require_inspector(user)
    desk = live(request)
    class_name = (body.class_name if body else "").strip()
    try:
        pid = await run_in_threadpool(desk.start_by_hand, camera_id, user.name, class_name)
    except KeyError:
        raise not_found() from None
    except CameraRetired:
        raise HTTPException(
            409, "该摄像头已停用，不再巡查 / this camera is out of service"
        ) from None
    except Busy:
        n = desk.settings.workers
        raise HTTPException(
            429,
            f"已有 {n} 个巡查正在进行，请稍后再试 / {n} patrols are running, try again shortly",
            headers={"Retry-After": str(int(desk.settings.seconds + desk.settings.timeout))},
        ) from None
    return {"id": pid, "url": f"/api/patrols/{pid}", "card_url": f"/patrols/{pid}/card"}


class CameraRequest(BaseModel):
    url: str = Field(min_length=1, max_length=2000, description="视频流地址 / the stream URL")
    name: str = Field("", max_length=200, description="名称（可选）/ a name, if any")


@router.post("/api/sites/{site_id}/cameras", status_code=201)
def add_site_camera(
    request: Request,
    site_id: int,
    body: CameraRequest,
    user: Annotated[User, Depends(current_user)],
) -> dict[str, Any]:
    """给场所添加摄像头（或换密码、重新启用）；地址中的账号密码不回显 / add a camera to the site
    (or give it a new password, or bring it back into service); answers its shown URL only."""
    require_inspector(user)
    store = service(request).store
    try:
        camera_id = add_camera(store, site_id, body.url, body.name, user.name)
    except KeyError:
        raise not_found() from None
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    cam = store.camera(camera_id)
    assert cam is not None
    return {"id": camera_id, "site_id": site_id, "name": cam["name"], "url": cam["shown_url"]}


@router.post("/api/cameras/{camera_id}/retire")
def retire_camera(
    request: Request, camera_id: int, user: Annotated[User, Depends(current_user)]
) -> dict[str, Any]:
    """停用摄像头：巡查记录保留，之后的随机计划不再抽到 / take a camera out of service."""
    require_inspector(user)
    store = service(request).store
    if store.camera(camera_id) is None:
        raise not_found()
    if not store.retire_camera(camera_id, user.name):
        raise HTTPException(409, "该摄像头已停用 / this camera is out of service already")
    cam = store.camera(camera_id)
    assert cam is not None
    return {"id": camera_id, "retired": cam["retired"], "retired_by": cam["retired_by"]}


@router.get("/api/patrols/{patrol_id}")
def get_patrol(
    request: Request, patrol_id: int, user: Annotated[User, Depends(current_user)]
) -> dict[str, Any]:
    """一次巡查：状态、已截取的画面（证据图片链接）、测量、人数、考勤、问题 / one patrol as it
    goes: state, frames so far, measures, heads, attendance, findings with their remedy."""
    require_inspector(user)
    return _patrol(request, patrol_id)


@router.post("/api/sites/import")
async def import_sites(
    request: Request, user: Annotated[User, Depends(current_user)]
) -> dict[str, Any]:
    """导入课表（CSV/XLSX/XLS，multipart 字段 schedule）：场所、摄像头、课次 / import a schedule
    file; answers the counts added and the rows refused."""
    require_inspector(user)
    form = await request.form(max_files=1, max_fields=5)
    try:
        upload = form.get("schedule")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise HTTPException(400, "请选择课表文件 / choose a schedule file")
        name = Path(upload.filename.replace("\\", "/")).name
        if not name.lower().endswith(SCHEDULE_SUFFIXES):
            raise HTTPException(400, "课表须为 CSV、XLSX 或 XLS 文件 / CSV, XLSX or XLS only")
        data = await upload.read(SCHEDULE_MAX_BYTES + 1)
    finally:
        await form.close()
    if len(data) > SCHEDULE_MAX_BYTES:
        raise HTTPException(413, "课表文件过大（最多 10 MiB）/ schedule over 10 MiB")
    store = service(request).store
    added, errors = await run_in_threadpool(_import, store, name, data, user.name)
    return {
        "schedule": name,
        "sites": added.sites,
        "cameras": added.cameras,
        "sessions": added.sessions,
        "unchanged": added.unchanged,
        "errors": errors,
    }


def _import(store: Store, name: str, data: bytes, by: str) -> tuple[Any, list[str]]:
    with tempfile.TemporaryDirectory(prefix="schedule-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            added, errors = import_schedule(store, path, by)
        except ScheduleError as exc:  # its text names the file by the server's path
            raise HTTPException(422, str(exc).replace(str(path), name)) from exc
        return added, [e.replace(str(path), name).replace(tmp, "") for e in errors]
