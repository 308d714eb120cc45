"""Classes: the list, uploads (folder picker or zip), and the report page of one class."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.auth import User
from api.classlist import PARAMS, class_query, page_links
from api.context import (
    Service,
    class_path,
    current_user,
    lang_of,
    service,
    text,
    visible_class,
)
from api.pages import page
from api.reportview import report_view
from api.routes.patrols import class_section
from api.routes.spotchecks import spotcheck_views
from api.uploads import Quota, Staged, UploadRefused
from video_audit.evidence import split_prefix

router = APIRouter()
FORM_OVERHEAD = 1 << 20  # multipart boundaries and small fields on top of the files
# Uploads are checked against quotas and earlier content, and committed, one at a time.
_COMMIT = threading.Lock()


def class_dict(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "institution": row["institution"],
        "files": row["files"],
        "bytes": row["bytes"],
        "uploaded_at": row["uploaded_at"],
        "audit": None
        if row["audit_id"] is None
        else {
            "id": row["audit_id"],
            "state": row["audit_state"],
            "summary": json.loads(row["audit_summary"]) if row["audit_summary"] else None,
        },
    }


@router.get("/classes", response_class=HTMLResponse, include_in_schema=False)
def classes_page(request: Request, user: Annotated[User, Depends(current_user)]) -> Response:
    svc = service(request)
    params = dict(request.query_params)
    query = class_query(params, user)
    rows, total = svc.store.find_classes(query)
    return page(
        request,
        "classes.html",
        user,
        classes=[class_dict(r) for r in rows],
        query=query,
        form={k: params.get(k, "") for k in PARAMS},
        institutions=svc.store.class_institutions(query.visible),
        years=range(dt.date.today().year + 1, 2019, -1),
        pages=page_links(params, query, total),
        max_bytes=svc.settings.max_upload_bytes,
        max_files=svc.settings.max_upload_files,
    )


@router.get("/api/classes", tags=["classes"])
def list_classes(
    request: Request, response: Response, user: Annotated[User, Depends(current_user)]
) -> list[dict[str, Any]]:
    """能看到的班级（机构只能看到本机构的），可检索、筛选、排序、分页 / the classes this user may
    see, one page of them.

    Query: `q` (class, institution or trainee name), `institution`, `verdict`
    (pass/fail/running), `uploaded_from`/`uploaded_to` (YYYY-MM-DD), `year` (statistics year:
    December counts toward the next), `review=1` (people left to review), `sort`
    (uploaded/name/institution/errors), `order` (asc/desc), `page`, `per_page` (≤ 500, 50 by
    default). The total is in `X-Total-Count`, the next and previous pages in `Link`.
    """
    params = dict(request.query_params)
    query = class_query(params, user)
    rows, total = service(request).store.find_classes(query)
    links = page_links(params, query, total)
    response.headers["X-Total-Count"] = str(total)
    rels = [f'</api/classes{links[r]}>; rel="{r}"' for r in ("prev", "next") if links[r]]
    if rels:
        response.headers["Link"] = ", ".join(rels)
    return [class_dict(r) for r in rows]


@router.get("/api/classes/{class_id}", tags=["classes"])
def get_class(
    request: Request, class_id: int, user: Annotated[User, Depends(current_user)]
) -> dict[str, Any]:
    """一个班级及其最新审核 / one class and its latest audit."""
    svc = service(request)
    visible_class(svc, user, class_id)
    return class_dict(svc.store.class_summary(class_id))


def _institution(user: User, asked: str | None, folder: str) -> str:
    if user.role == "institution":
        return user.institution or ""
    return (asked or "").strip() or split_prefix(folder)[0] or "未指定"


def _quota(svc: Service, user: User) -> Quota | None:
    """The quota an upload by USER counts against: institution accounts' only (0: none)."""
    limit = svc.settings.institution_quota_bytes
    if user.role != "institution" or limit <= 0:
        return None
    institution = user.institution or ""
    return Quota(institution, svc.store.institution_bytes(institution), limit)


def _refuse_early(svc: Service, user: User, length: int) -> None:
    """Before the body is read: a disk under its reserve (507) or a quota the request cannot
    fit in (413)."""
    svc.uploads.check_disk(length)
    quota = _quota(svc, user)
    if quota is not None and (quota.room <= 0 or length - FORM_OVERHEAD > quota.room):
        raise quota.refusal(max(0, length - FORM_OVERHEAD))


def _duplicate(row: Any) -> HTTPException:
    return HTTPException(
        409,
        f"与已上传的班级“{row['name']}”（编号 {row['id']}，{row['uploaded_at']} 上传）内容完全"
        "相同，未重复保存；需要重新审核请在该班级页面点击“重新审核” / the same content as class "
        f"{row['id']} ({row['name']}), not stored again; audit that class again instead",
        headers={"Location": f"/classes/{row['id']}"},
    )


def _commit(svc: Service, user: User, staged: Staged, institution: str) -> tuple[int, Path]:
    """Under the commit lock: refuse, for an institution account, content its institution
    already has (409) or an upload past its quota (413); then move the class into place and
    record it; (class id, folder)."""
    with _COMMIT:
        # Institution accounts only: an inspector may store a disc twice on purpose.
        earlier = (
            svc.store.class_with_content(institution, staged.digest)
            if user.role == "institution"
            else None
        )
        if earlier is not None:
            raise _duplicate(earlier)
        quota = _quota(svc, user)
        if quota is not None and staged.size > quota.room:
            raise quota.refusal(staged.size)
        folder = svc.uploads.commit(staged)
        rel = folder.relative_to(svc.uploads.classes).as_posix()
        try:
            class_id = svc.store.add_class(
                staged.folder,
                institution,
                rel,
                staged.files,
                staged.size,
                user.id,
                staged.digest,
            )
        except Exception:
            svc.uploads.remove_committed(rel)
            raise
        return class_id, folder


def _ledger_files(svc: Service, user: User, class_id: int, folder: Path) -> dict[str, Any]:
    """The check-in export and employment list handed in inside the class folder (by the
    profile's [names] checkin_files / employment_files) become the class's ledger inputs, as
    if uploaded on the class page; one that cannot be used is said, and the upload stands."""
    from fastapi import HTTPException as Refused

    from api.routes.ledger import ledger_profile, store_input
    from video_audit.disc import DiscWalker

    walked = DiscWalker(ledger_profile()).walk(folder)
    cls = walked.classes[0] if walked.kind == "class" and walked.classes else None
    found = {"checkins": cls.checkins, "employment": cls.employment} if cls else {}
    row = svc.store.class_row(class_id)
    out: dict[str, Any] = {}
    for kind, path in found.items():
        if path is None:
            continue
        try:
            kept = store_input(svc, row, user, kind, path.name, path.read_bytes(), None)
            out[kind] = {"name": path.name, "errors": kept.get("errors", [])}
        except (Refused, OSError) as exc:
            out[kind] = {"name": path.name, "error": str(getattr(exc, "detail", exc))}
    return out


@router.post("/api/classes", tags=["classes"], status_code=201)
async def upload_class(
    request: Request, user: Annotated[User, Depends(current_user)]
) -> dict[str, Any]:
    """上传班级文件夹（多文件 files + paths）或 zip（archive），并开始审核 / upload and audit.

    Multipart fields: `files` (repeated) with `paths` (the same count: each file's relative
    path, as the folder picker gives it), or one `archive` (a zip); `institution` (inspectors).
    Refused: 400 bad input, 409 the same content as an earlier class of the institution (named,
    with Location), 413 over the size or the institution's quota, 507 the disk under its reserve.

    A disc at once (多班级上传): when the upload's top level holds two or more class folders,
    each becomes a class of its own, audited on its own; the answer is then `{"disc", "classes":
    [one class as above…], "refused": [{"name", "status", "detail"}…], "url": "/classes"}`.
    """
    svc = service(request)
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        raise HTTPException(411, "上传需要 Content-Length / Content-Length required")
    if int(length) > svc.settings.max_upload_bytes + FORM_OVERHEAD:
        gib = svc.settings.max_upload_bytes / 1024**3
        raise HTTPException(413, f"上传内容超过 {gib:.3g} GiB 的上限 / upload too large")
    try:
        await run_in_threadpool(_refuse_early, svc, user, int(length))
    except UploadRefused as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    limit = svc.settings.max_upload_files
    try:
        form = await request.form(max_files=limit + 1, max_fields=limit + 10)
    except StarletteHTTPException as exc:  # the multipart parser's limits, worded in English
        raise HTTPException(
            400, f"上传内容无法读取（每次最多 {limit} 个文件）/ {exc.detail}"
        ) from exc
    try:
        archive = form.get("archive")
        files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
        paths = [p for p in form.getlist("paths") if isinstance(p, str)]
        asked = form.get("institution")
        try:
            quota = await run_in_threadpool(_quota, svc, user)
            if isinstance(archive, UploadFile):
                staged: Staged = await run_in_threadpool(
                    svc.uploads.stage_zip, archive.file, archive.filename or "upload.zip", quota
                )
            else:
                if paths and len(paths) != len(files):
                    raise UploadRefused("paths 与 files 数量不一致 / paths and files differ")
                names = paths or [f.filename or "" for f in files]
                pairs = [(name, f.file) for name, f in zip(names, files, strict=True)]
                staged = await run_in_threadpool(svc.uploads.stage_files, pairs, "upload", quota)
        except UploadRefused as exc:
            raise HTTPException(exc.status, str(exc)) from exc
    finally:
        await form.close()
    named = asked if isinstance(asked, str) else None
    try:
        folders = await run_in_threadpool(_disc_classes, svc, staged)
        parts = await run_in_threadpool(svc.uploads.split, staged, folders) if folders else []
    except BaseException:
        svc.uploads.discard(staged)
        raise
    if not parts:
        try:
            return await _store_class(svc, user, staged, named)
        except UploadRefused as exc:
            raise HTTPException(exc.status, str(exc)) from exc
    stored: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    for part in parts:  # each class on its own: one refused (a duplicate, say) stops no other
        try:
            stored.append(await _store_class(svc, user, part, named))
        except (UploadRefused, HTTPException) as exc:
            status = exc.status if isinstance(exc, UploadRefused) else exc.status_code
            detail = str(exc) if isinstance(exc, UploadRefused) else exc.detail
            refused.append({"name": part.folder, "status": status, "detail": detail})
    if not stored:
        raise HTTPException(refused[0]["status"], refused[0]["detail"])
    return {"disc": staged.folder, "classes": stored, "refused": refused, "url": "/classes"}


def _disc_classes(svc: Service, staged: Staged) -> list[str]:
    """The class folders at the top of a staged upload that is a disc (its top level holds two
    or more class folders), by name; [] for one class."""
    from api.routes.ledger import ledger_profile
    from video_audit.disc import DiscWalker

    root = svc.uploads.staging / staged.token / staged.folder
    walker = DiscWalker(ledger_profile())
    if walker.is_class_dir(root):
        return []
    subdirs = [e for e in root.iterdir() if e.is_dir() and not e.is_symlink()]
    names = sorted(e.name for e in subdirs if walker.is_class_dir(e))
    return names if len(names) >= 2 else []


async def _store_class(
    svc: Service, user: User, staged: Staged, asked: str | None
) -> dict[str, Any]:
    """Commit one staged class, queue its audit, take in its ledger files; what was stored."""
    institution = _institution(user, asked, staged.folder)
    try:
        class_id, folder = await run_in_threadpool(_commit, svc, user, staged, institution)
    finally:
        svc.uploads.discard(staged)  # nothing left in staging once committed or refused
    audit_id = await run_in_threadpool(svc.store.add_audit, class_id)
    svc.runner.start(audit_id, folder)
    handed_in = await run_in_threadpool(_ledger_files, svc, user, class_id, folder)
    return {
        "ledger_inputs": handed_in,
        "id": class_id,
        "name": staged.folder,
        "institution": institution,
        "files": staged.files,
        "bytes": staged.size,
        "audit_id": audit_id,
        "url": f"/classes/{class_id}",
    }


@router.get("/classes/{class_id}", response_class=HTMLResponse, include_in_schema=False)
def class_page(
    request: Request, class_id: int, user: Annotated[User, Depends(current_user)]
) -> Response:
    svc = service(request)
    row = visible_class(svc, user, class_id)
    lang = lang_of(request)
    audit = svc.store.latest_audit(class_id)
    view = report_view(svc, audit, lang) if audit is not None else None
    spotchecks = spotcheck_views(svc, class_id) if user.sees_all else []
    patrols = class_section(request, row, view) if user.sees_all else None
    return page(
        request,
        "class.html",
        user,
        cls=dict(row),
        audit=svc.scrub(user, dict(audit)) if audit else None,
        view=svc.scrub(user, view),
        spotchecks=spotchecks,
        patrols=patrols,
        folder_exists=class_path(svc, row).is_dir(),
        title=text(lang, "report_of", name=row["name"]),
    )
