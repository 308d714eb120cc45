"""Playback: a class's files with HTTP range requests, and the player page with 截图取证."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from api.auth import User
from api.context import (
    Service,
    class_path,
    current_user,
    lang_of,
    not_found,
    service,
    text,
    visible_class,
)
from api.pages import page
from api.redact import evidence_record
from api.reportview import stored_report
from api.uploads import UploadRefused, safe_parts
from video_audit.rules.format import clock

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


# What Chromium, Firefox, Edge and Safari all play inside an MP4/MOV, and how the other
# containers are named to people (by content: an AVI renamed .mp4 is still an AVI).
BROWSER_CONTAINERS = {"mp4", "mov", "3gp"}
BROWSER_CODECS = {"h264", "vp8", "vp9", "av1"}
FORMAT_NAMES = {
    "avi": "AVI",
    "matroska": "MKV",
    "flv": "FLV",
    "asf": "WMV/ASF",
    "mpegts": "MPEG-TS",
    "mpeg": "MPEG-PS (VOB/MPG)",
}
CODEC_NAMES = {"mpeg4": "MPEG-4 Part 2", "hevc": "H.265/HEVC", "mpeg2video": "MPEG-2"}
# FM04's problems, in words that fit 「审核发现该视频文件…」 / "The audit found this file …".
PROBLEMS = {
    "zh": {
        "empty": "为空（0 字节）",
        "truncated": "不完整（被截断）",
        "corrupt": "已损坏",
        "no_video": "中没有视频画面",
        "unreadable": "无法读取",
        "being_written": "在检查时仍在变化（可能仍在复制中）",
        "oversized": "的画面尺寸大得不合常理",
    },
    "en": {
        "empty": "empty (0 bytes)",
        "truncated": "truncated",
        "corrupt": "corrupt",
        "no_video": "without a video stream",
        "unreadable": "unreadable",
        "being_written": "still changing (being copied?)",
        "oversized": "with an implausibly large picture",
    },
}


def unplayable(lang: str, media: dict[str, Any], path: Path | None) -> str | None:
    """Why the browser cannot play a clip, in plain words (None: it should play). From the
    audit's probe: FM04's problem, a container or codec browsers lack; never a server path or
    a decoder's message."""
    if path is None:
        return text(lang, "play_missing")
    problem = media.get("problem")
    if problem:
        words = PROBLEMS.get(lang, PROBLEMS["zh"])
        return text(lang, "play_broken", problem=words.get(problem, words["corrupt"]))
    container = media.get("container")
    if container is None and path.suffix.lower() not in INLINE:
        container = path.suffix.lower().lstrip(".") or "?"
    if container is not None and container not in BROWSER_CONTAINERS:
        return text(lang, "play_format", format=FORMAT_NAMES.get(container, container.upper()))
    codec = media.get("codec")
    if codec and codec not in BROWSER_CODECS:
        return text(lang, "play_codec", codec=CODEC_NAMES.get(codec, codec))
    return None


def flagged_span(t: float, end: float | None) -> tuple[float, float] | None:
    """The stretch a finding names, when the link gives one that makes sense."""
    if end is None or end <= t:
        return None
    return t, end


@router.get("/classes/{class_id}/play", response_class=HTMLResponse, include_in_schema=False)
def player_page(
    request: Request,
    class_id: int,
    clip: str,
    user: Annotated[User, Depends(current_user)],
    t: float = 0.0,
    end: float | None = None,
) -> Response:
    svc = service(request)
    row = visible_class(svc, user, class_id)
    lang = lang_of(request)
    audit = svc.store.latest_audit(class_id)
    report = stored_report(svc, audit, "zh") if audit is not None else None
    clips = {
        c["path"]: c.get("media") or {}
        for cls in (report or {}).get("classes", [])
        for day in cls["days"]
        for c in day["clips"]
    }
    try:
        path: Path | None = class_file(svc, row, clip)
    except HTTPException:
        if clip not in clips:  # a name the audit never saw: nothing to explain
            raise
        path = None  # a clip the audit saw whose file has gone since
    media = clips.get(clip, {})
    records = (
        [
            evidence_record(user, dict(r))
            for r in svc.store.evidence([class_id])
            if r["clip"] == clip
        ]
        if path is not None
        else []
    )
    start = max(0.0, t)
    span = flagged_span(start, end)
    return page(
        request,
        "player.html",
        user,
        status_code=200 if path is not None else 404,
        cls=dict(row),
        clip=clip,
        clip_name=clip.rsplit("/", 1)[-1],
        start=start,
        span=span,
        span_text=f"{clock(span[0])}–{clock(span[1])}" if span else "",
        duration=media.get("duration") or 0,
        fps=media.get("fps") or 25,
        problem=unplayable(lang, media, path),
        missing=path is None,
        records=records,
    )
