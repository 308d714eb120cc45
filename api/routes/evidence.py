"""Evidence: capture the exact frame (截图取证), list the log, verify it, serve its images."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.auth import User
from api.context import (
    Service,
    current_user,
    lang_of,
    not_found,
    require_inspector,
    service,
    visible_class,
)
from api.pages import page
from api.redact import evidence_record
from api.reportview import stored_report
from api.routes.media import class_file
from video_audit.evidence import Caption, EvidenceKeyError, Head, describe_clip
from video_audit.media.grab import ScreenshotError, time_code
from video_audit.report.texts import t
from video_audit.store import now

router = APIRouter(tags=["evidence"])


CAPTURE_REFUSED = {
    "past_end": "无法截图：这个时刻已超出视频结尾，请在视频范围内选择 / past the end of the clip",
    "before_start": "无法截图：时刻不能早于视频开头 / before the start of the clip",
    "no_video": "无法截图：该文件中没有视频画面 / the file holds no video",
    "unreadable": "无法截图：该视频文件无法解码（可能已损坏或不完整），可下载原文件核查"
    " / the clip cannot be decoded",
}


class CaptureRequest(BaseModel):
    clip: str = Field(description="片段在班级文件夹中的相对路径 / the clip's path in the class")
    at: float = Field(ge=0, description="秒，播放器的 currentTime / seconds, the player's time")
    note: str = Field("", max_length=2000)


def _visible_ids(svc: Service, user: User) -> list[int] | None:
    if user.sees_all:
        return None
    return [r["id"] for r in svc.store.classes(user.institution or "\x00")]


def record_dict(row: Any) -> dict[str, Any]:
    record = dict(row)
    record["time_code"] = time_code(record["frame_time"])
    record["png_url"] = f"/evidence/{record['seq']}/frame.png"
    record["caption_url"] = f"/evidence/{record['seq']}/caption.png"
    return record


def _caption(svc: Service, row: Any, clip: str, fallback: Caption) -> Caption:
    date = fallback.date
    audit = svc.store.latest_audit(row["id"])
    report = stored_report(svc, audit, "zh") if audit is not None else None
    for cls in (report or {}).get("classes", []):
        for day in cls["days"]:
            if any(c["path"] == clip for c in day["clips"]) and day["date"]:
                date = day["date"]
    institution, name = row["institution"], row["name"]
    if name.startswith(institution) and len(name) > len(institution):
        name = name[len(institution) :]
    return Caption(institution, name, date)


@router.post("/api/classes/{class_id}/evidence", status_code=201)
def capture(
    request: Request,
    class_id: int,
    body: CaptureRequest,
    user: Annotated[User, Depends(current_user)],
) -> dict[str, Any]:
    """截图取证：服务器用 PyAV 取出该时刻的原始帧并记入证据链 / capture the exact frame."""
    require_inspector(user)
    svc = service(request)
    row = visible_class(svc, user, class_id)
    path = class_file(svc, row, body.clip)
    caption = _caption(svc, row, body.clip, describe_clip(path))
    try:
        record = svc.evidence.capture(
            path, body.at, user.name, body.note.strip(), caption, class_id, body.clip
        )
    except ScreenshotError as exc:  # its text names the server's path and FFmpeg's words
        raise HTTPException(
            422, CAPTURE_REFUSED.get(exc.reason, CAPTURE_REFUSED["unreadable"])
        ) from exc
    except EvidenceKeyError as exc:
        raise HTTPException(500, f"无法取证：{exc.both()}") from exc
    return record_dict(record)


@router.get("/api/evidence")
def list_evidence(
    request: Request, user: Annotated[User, Depends(current_user)]
) -> list[dict[str, Any]]:
    """证据记录（机构只能看到本机构班级的）/ the evidence log this user may see."""
    svc = service(request)
    return [
        evidence_record(user, record_dict(r)) for r in svc.store.evidence(_visible_ids(svc, user))
    ]


@router.get("/api/evidence/verify")
async def verify_evidence(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    head: Annotated[
        str | None, Query(description="另行保存的末端 COUNT:MAC / the head kept elsewhere")
    ] = None,
    sources: Annotated[
        bool, Query(description="重新核对源视频 / re-hash the sources still present")
    ] = True,
) -> dict[str, Any]:
    """校验证据链，指出第一条不符的记录 / verify the log; names the first bad record."""
    require_inspector(user)
    lang = lang_of(request)
    anchor = None
    if head:
        try:
            anchor = Head.parse(head)
        except ValueError as exc:
            raise HTTPException(422, t(lang, "ev_bad_head", detail=exc)) from exc
    try:
        verdict = await run_in_threadpool(service(request).evidence.verify, anchor, sources)
    except EvidenceKeyError as exc:
        raise HTTPException(500, exc.both()) from exc
    return verdict.to_dict(lang)


@router.get("/api/evidence/head")
def evidence_head(request: Request, user: Annotated[User, Depends(current_user)]) -> Response:
    """证据链末端 COUNT:MAC（JSON 下载，请另行保存）/ the chain's head, to keep elsewhere."""
    require_inspector(user)
    svc = service(request)
    head = svc.evidence.head()
    last = svc.store.last_evidence()
    body = {
        "head": head.text(),
        "records": head.count,
        "mac": head.link,
        "keyed": bool(last is not None and last["mac"]),
        "key_id": last["key_id"] if last is not None else None,
        "last_taken_at": last["taken_at"] if last is not None else None,
        "exported_at": now(),
    }
    return JSONResponse(
        body,
        headers={"Content-Disposition": f'attachment; filename="evidence-head-{head.count}.json"'},
    )


@router.get("/evidence", response_class=HTMLResponse, include_in_schema=False)
def evidence_page(request: Request, user: Annotated[User, Depends(current_user)]) -> Response:
    svc = service(request)
    ids = _visible_ids(svc, user)
    records = [evidence_record(user, record_dict(r)) for r in reversed(svc.store.evidence(ids))]
    names = {r["id"]: r["name"] for r in svc.store.classes()}
    head = svc.evidence.head() if user.sees_all else None
    return page(
        request,
        "evidence.html",
        user,
        records=records,
        class_names=names,
        head=head.text() if head and head.count else None,
    )


@router.get("/evidence/{seq}/{kind}.png")
def evidence_image(
    request: Request, seq: int, kind: str, user: Annotated[User, Depends(current_user)]
) -> FileResponse:
    """证据图片：frame 为原始帧，caption 为带说明文字的副本 / the frame or its captioned copy."""
    svc = service(request)
    row = svc.store.evidence_record(seq)
    if row is None or kind not in ("frame", "caption"):
        raise not_found()
    if not user.sees_all:
        if row["class_id"] is None:
            raise not_found()
        visible_class(svc, user, row["class_id"])
    path = svc.evidence.path_of(row["png"] if kind == "frame" else row["caption_png"])
    if not path.is_file():
        raise HTTPException(404, "证据图片缺失 / evidence image missing")
    return FileResponse(
        path,
        media_type="image/png",
        filename=f"evidence-{seq:06d}-{kind}.png",
        content_disposition_type="inline",
    )
