"""Audits: start one again, its status, its findings, its report files (JSON, HTML, XLSX)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from api.auth import User
from api.context import Service, class_path, current_user, not_found, service, visible_class
from api.redact import PathScrubber
from api.reportview import with_decisions
from api.routes.ledger import ledger_profile
from api.routes.spotchecks import spotcheck_views

router = APIRouter(tags=["audits"])
FACE_NAME = re.compile(r"[0-9a-f]{8,64}\.jpg")
# The stored HTML report: its own inline styles and thumbnails, no script, no forms.
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
MEDIA_TYPES = {
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _audit(svc: Service, user: User, audit_id: int) -> Any:
    row = svc.store.audit(audit_id)
    if row is None:
        raise not_found()
    visible_class(svc, user, row["class_id"])
    return row


def audit_dict(row: Any, progress: dict[str, Any] | None = None) -> dict[str, Any]:
    """An audit's state; PROGRESS ({phase, done, total, clip, remaining_seconds}) while it runs."""
    return {
        "id": row["id"],
        "class_id": row["class_id"],
        "state": row["state"],
        "created": row["created"],
        "started": row["started"],
        "finished": row["finished"],
        "error": row["error"],
        "summary": json.loads(row["summary"]) if row["summary"] else None,
        "downloads": sorted(json.loads(row["files"] or "{}")),
        "progress": progress if row["state"] == "running" else None,
    }


@router.post("/api/classes/{class_id}/audits", status_code=202)
async def start_audit(
    request: Request, class_id: int, user: Annotated[User, Depends(current_user)]
) -> dict[str, Any]:
    """重新审核该班级 / audit the class again (runs in a worker process)."""
    svc = service(request)
    row = await run_in_threadpool(visible_class, svc, user, class_id)
    audit_id = await run_in_threadpool(svc.store.add_audit, class_id)
    svc.runner.start(audit_id, class_path(svc, row))
    return svc.scrub(user, audit_dict(await run_in_threadpool(svc.store.audit, audit_id)))


@router.get("/api/audits/{audit_id}")
def audit_status(
    request: Request, audit_id: int, user: Annotated[User, Depends(current_user)]
) -> dict[str, Any]:
    """审核状态：queued、running、done、failed / an audit's state and summary."""
    svc = service(request)
    row = _audit(svc, user, audit_id)
    return svc.scrub(user, audit_dict(row, svc.runner.progress(audit_id)))


@router.get("/api/audits/{audit_id}/findings")
def audit_findings(
    request: Request, audit_id: int, user: Annotated[User, Depends(current_user)]
) -> list[dict[str, Any]]:
    """审核发现的问题 / the audit's findings (messages in Chinese)."""
    svc = service(request)
    _audit(svc, user, audit_id)
    findings = [
        {
            "code": f["code"],
            "severity": f["severity"],
            "path": f["path"],
            "message": f["message"],
            "details": json.loads(f["details"]),
        }
        for f in svc.store.findings(audit_id)
    ]
    scrubbed: list[dict[str, Any]] = svc.scrub(user, findings)
    return scrubbed


@router.get("/api/audits/{audit_id}/report.{fmt}")
def audit_report(
    request: Request,
    audit_id: int,
    fmt: str,
    user: Annotated[User, Depends(current_user)],
    lang: str = "zh",
) -> Response:
    """下载报告 / download the report: json, html or xlsx; lang zh or en."""
    svc = service(request)
    row = _audit(svc, user, audit_id)
    if fmt not in MEDIA_TYPES or lang not in ("zh", "en"):
        raise HTTPException(404, "没有这种格式 / no such format")
    name = json.loads(row["files"] or "{}").get(f"{fmt}-{lang}")
    path = svc.reports_dir / str(audit_id) / name if name else None
    if path is None or not path.is_file():
        raise HTTPException(404, "该报告文件不存在 / that report file does not exist")
    cls = svc.store.class_row(row["class_id"])
    stem = f"{cls['name'] if cls else 'report'}-审核报告-{audit_id}"
    disposition = "inline" if fmt == "html" else "attachment"
    # A stored HTML report is a document of its own (inline styles), shown in a sandbox.
    headers = {"Content-Security-Policy": REPORT_CSP} if fmt == "html" else None
    decided = bool(svc.store.class_decisions(row["class_id"]))
    # Inspectors see the class's live patrols and spot-checks beside the disc audit
    # (institutions never do).
    patrols = _patrols(svc, cls) if user.sees_all and cls is not None else []
    spots = spotcheck_views(svc, int(row["class_id"])) if user.sees_all else []
    if not user.sees_all or decided or patrols or spots:  # institutions: no server paths
        data = path.read_bytes()
        if decided or patrols or spots:  # the stored files stay as the audit wrote them
            data = _served(svc, row, fmt, lang, data, decided, patrols, spots)
        if not user.sees_all:
            data = PathScrubber(svc.workspace.root, svc.uploads.classes).report_file(data, fmt)
        filename = quote(f"{stem}.{fmt}")
        return Response(
            data,
            media_type=MEDIA_TYPES[fmt],
            headers={
                **(headers or {}),
                "Content-Disposition": f"{disposition}; filename*=utf-8''{filename}",
            },
        )
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[fmt],
        filename=f"{stem}.{fmt}",
        content_disposition_type=disposition,
        headers=headers,
    )


def _served(
    svc: Service,
    row: Any,
    fmt: str,
    lang: str,
    data: bytes,
    decided: bool,
    patrols: list[dict[str, Any]],
    spots: list[dict[str, Any]],
) -> bytes:
    """A stored report file (DATA) as served: the class's attendance decisions applied, and
    for inspectors its live patrols (with the live head count against the face rolls) and
    spot-checks added. JSON is changed as it is; the HTML page and the workbook are made again
    where they show these, from the report's JSON read once (the audit's JSON in LANG)."""
    from video_audit.report import patrols as live
    from video_audit.report import spotchecks

    ratio = float(ledger_profile().section("patrol").get("head_gap_ratio", 0.3))
    if fmt == "json":
        report = json.loads(data)
        if decided:
            report = with_decisions(svc, row, report)
        if patrols:
            report = live.with_patrols_json(report, patrols, ratio, lang)
        if spots:
            report = spotchecks.with_spotchecks_json(report, spots)
        return json.dumps(report, ensure_ascii=False, indent=2).encode("utf-8")
    name = json.loads(row["files"] or "{}").get(f"json-{lang}")
    folder = svc.reports_dir / str(row["id"])
    if not name or not (folder / name).is_file():
        return data
    report = with_decisions(svc, row, json.loads((folder / name).read_bytes()))
    if fmt == "html":
        from video_audit.report.html import with_attendance

        page = data.decode("utf-8")
        if decided:
            page = with_attendance(page, report, lang, folder / "faces")
        if patrols:
            page = live.with_patrols_html(page, report, patrols, ratio, lang, _image_of(svc))
        if spots:
            page = spotchecks.with_spotchecks_html(page, report, spots, lang)
        return page.encode("utf-8")
    from video_audit.report.xlsx import with_attendance as xlsx_attendance

    if decided:
        data = xlsx_attendance(data, report, lang)
    if patrols:
        data = live.with_patrols_xlsx(data, report, patrols, ratio, lang)
    if spots:
        data = spotchecks.with_spotchecks_xlsx(data, spots, lang)
    return data


def _image_of(svc: Service) -> Callable[[int], bytes | None]:
    """An evidence record's frame PNG by its seq (None when it cannot be read)."""

    def image_of(seq: int) -> bytes | None:
        record = svc.store.evidence_record(seq)
        if record is None or not record["png"]:
            return None
        try:
            return svc.evidence.path_of(record["png"]).read_bytes()
        except OSError:
            return None

    return image_of


def _patrols(svc: Service, cls: Any) -> list[dict[str, Any]]:
    from video_audit.patrol.views import class_patrols

    return class_patrols(svc.store, int(cls["id"]), cls["name"], cls["institution"])


@router.get("/api/audits/{audit_id}/faces/{name}")
def face_thumbnail(
    request: Request, audit_id: int, name: str, user: Annotated[User, Depends(current_user)]
) -> FileResponse:
    """考勤中的人脸缩略图（个人信息，仅能看到该班级的用户可取）/ a face thumbnail."""
    svc = service(request)
    _audit(svc, user, audit_id)
    path = svc.reports_dir / str(audit_id) / "faces" / name
    if not FACE_NAME.fullmatch(name) or not path.is_file():
        raise not_found()
    return FileResponse(path, media_type="image/jpeg")
