"""Playback: a class's files with HTTP range requests, and the player page with 截图取证."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from api.auth import User
from api.context import Service, class_path, current_user, not_found, service, visible_class
from api.pages import page
from api.redact import evidence_record
from api.reportview import stored_report
from api.uploads import UploadRefused, safe_parts

router = APIRouter(tags=["media"])
INLINE = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
}


def class_file(svc: Service, row: Any, rel: str) -> Path:
    """A file inside the class folder named by a relative path; 404 for anything else."""
    root = class_path(svc, row)
    try:
        parts = safe_parts(rel)
    except UploadRefused as exc:
        raise not_found() from exc
    path = root.joinpath(*parts)
    try:
        if path.is_symlink() or not path.is_file():
            raise not_found()
        if not path.resolve().is_relative_to(root.resolve()):
            raise not_found()
    except OSError as exc:  # a name the system refuses (too long, say): there is no such file
        raise not_found() from exc
    return path


@router.get("/classes/{class_id}/files/{rel:path}")
def class_file_content(
    request: Request, class_id: int, rel: str, user: Annotated[User, Depends(current_user)]
) -> FileResponse:
    """班级文件夹中的文件，支持 Range 请求（播放、拖动）/ a file, with HTTP range requests."""
    svc = service(request)
    row = visible_class(svc, user, class_id)
    path = class_file(svc, row, rel)
    suffix = path.suffix.lower()
    # Only pictures and video are shown inline; anything else an upload holds (an .html file,
    # say) is a download, and the sandbox header keeps it from running in this site's origin.
    headers = {
        "Cache-Control": "private, max-age=3600",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
    }
    if suffix in INLINE:
        return FileResponse(path, media_type=INLINE[suffix], headers=headers)
    return FileResponse(
        path,
        media_type="application/octet-stream",
        filename=path.name,
        headers=headers,
        content_disposition_type="attachment",
    )


@router.get("/classes/{class_id}/play", response_class=HTMLResponse, include_in_schema=False)
def player_page(
    request: Request,
    class_id: int,
    clip: str,
    user: Annotated[User, Depends(current_user)],
    t: float = 0.0,
) -> Response:
    svc = service(request)
    row = visible_class(svc, user, class_id)
    class_file(svc, row, clip)
    records = [
        evidence_record(user, dict(r)) for r in svc.store.evidence([class_id]) if r["clip"] == clip
    ]
    audit = svc.store.latest_audit(class_id)
    report = stored_report(svc, audit, "zh") if audit is not None else None
    media = next(
        (
            c.get("media") or {}
            for cls in (report or {}).get("classes", [])
            for day in cls["days"]
            for c in day["clips"]
            if c["path"] == clip
        ),
        {},
    )
    return page(
        request,
        "player.html",
        user,
        cls=dict(row),
        clip=clip,
        clip_name=clip.rsplit("/", 1)[-1],
        start=max(0.0, t),
        fps=media.get("fps") or 25,
        records=records,
    )
