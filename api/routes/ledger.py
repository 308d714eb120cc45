"""补贴核算与签字: a class's ledger from its latest audit (the class's attendance decisions
applied), its check-in file and employment list; two signatures by two accounts (经办, then 复核)
and what voids them.

A ledger's basis is everything it is built from: the audit, the class's standing attendance
decisions, the check-in file's and the employment list's content, and the ledger's own content
hash. A signature keeps the basis it signed. Whenever the ledger is read, signed or one of its
inputs uploaded, the basis is built again; if it differs from the signed one, the signatures are
voided there and then: once (under the write lock, in the transaction of a `ledger_void`
evidence record), with the reason, who noticed and when. Decisions and re-audits need no hook of
their own: the next read notices them, and the reason names the change's own author and time.

Inspectors and admins upload, read and sign; an institution reads the state and the amounts of
its own classes (no days, no findings, no inputs) and gets no control.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.auth import User
from api.context import (
    Service,
    class_path,
    current_user,
    require_inspector,
    service,
    visible_class,
)
from video_audit.evidence import EvidenceKeyError
from video_audit.files import write_atomic
from video_audit.ledger import read_checkins, read_employed
from video_audit.ledger.workspace import Current, class_ledger
from video_audit.ledger.workspace import input_dict as _input_dict
from video_audit.settings import AuditSettings
from video_audit.standard import load_profile
from video_audit.store import now
from video_audit.store.ledgers import SignatureConflict, insert_signature, void_signatures

router = APIRouter(tags=["ledger"])

MAX_INPUT_BYTES = 20 * 1024**2
SUFFIXES = (".csv", ".xlsx", ".xls", ".txt")
STATES = {(): "draft", ("first",): "first_signed", ("first", "second"): "second_signed"}
STATE_TEXT = {"draft": "草稿", "first_signed": "经办已签", "second_signed": "复核已签"}
ROLE_TEXT = {"first": "经办", "second": "复核"}
PUBLIC_TRAINEE = ("key", "name", "id", "verified_days", "pending_days", "amount")


class SignRequest(BaseModel):
    role: str | None = Field(None, max_length=10, description="first（经办）或 second（复核）")
    hash: str | None = Field(
        None, max_length=80, description="签字人看到的账目哈希：账目已变则拒绝 / the hash seen"
    )


def _short(at: Any) -> str:
    return str(at or "")[:16].replace("T", " ")


def ledger_profile() -> Any:
    """The profile ledgers are built with (the service's audit standard)."""
    return load_profile(AuditSettings().standard)


def current(svc: Service, row: Any) -> Current:
    """Build the class's ledger from what is stored now (no write)."""
    return class_ledger(
        svc.store,
        row,
        root=svc.workspace.root,
        reports_dir=svc.reports_dir,
        class_folder=class_path(svc, row),
        profile=ledger_profile,
    )


def basis_digest(basis: dict[str, Any]) -> str:
    text = json.dumps(basis, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def void_reason(svc: Service, class_id: int, signed: dict[str, Any], now_: dict[str, Any]) -> str:
    """What changed between the signed basis and the current one, in Chinese, each change with
    who made it and when."""
    store = svc.store
    parts: list[str] = []
    if signed.get("audit_id") != now_.get("audit_id"):
        audit = store.audit(int(now_["audit_id"])) if now_.get("audit_id") else None
        finished = _short(audit["finished"]) if audit is not None else ""
        parts.append(f"重新审核（审核 #{now_.get('audit_id')}，{finished} 完成）")
    before, after = set(signed.get("decisions") or []), set(now_.get("decisions") or [])
    for decision_id in sorted(before - after):
        d = store.attendance_decision(decision_id)
        who = f"{d['revoked_by']} {_short(d['revoked_at'])}" if d is not None else ""
        parts.append(f"考勤决定 #{decision_id} 已撤销（{who}）")
    for decision_id in sorted(after - before):
        d = store.attendance_decision(decision_id)
        who = f"{d['decided_by']} {_short(d['decided_at'])}" if d is not None else ""
        parts.append(f"新的考勤决定 #{decision_id}（{who}）")
    for kind, words in (("checkins", "打卡记录已更新"), ("employment", "就业名单已更新")):
        if signed.get(kind) != now_.get(kind):
            row = store.ledger_input(class_id, kind)
            who = f"{row['uploaded_by']} {_short(row['uploaded_at'])}" if row is not None else ""
            parts.append(f"{words}（{who}）")
    if not parts:
        parts.append("核算结果已变化")
    return "；".join(parts)


class _Gone(Exception):
    """Another request voided the signatures first."""


def settle(svc: Service, cur: Current, by: str) -> str | None:
    """Void the standing signatures when the basis they signed is not the current one (once:
    the UPDATE and the evidence record stand or fall together); the reason, or None."""
    standing = svc.store.ledger_signatures(cur.class_id)
    if not standing:
        return None
    signed = json.loads(standing[0]["basis"])
    basis = cur.basis
    if signed == basis:
        return None
    reason = void_reason(svc, cur.class_id, signed, basis)
    ids = [int(s["id"]) for s in standing]
    at = now()
    body = {
        "class_id": cur.class_id,
        "voids": ids,
        "reason": reason,
        "signed": basis_digest(signed),
        "basis": basis_digest(basis),
        "by": by,
        "at": at,
    }

    def alongside(conn: Any, record: dict[str, Any]) -> None:
        if void_signatures(conn, ids, by, at, reason, int(record["seq"])) != len(ids):
            raise _Gone

    try:
        svc.evidence.record_decision(
            "ledger_void", body, by, f"补贴核算签字失效：{reason}", cur.class_id, alongside
        )
    except _Gone:
        return None
    return reason


def _state(svc: Service, class_id: int) -> tuple[str, list[Any]]:
    standing = svc.store.ledger_signatures(class_id)
    roles = tuple(sorted(str(s["role"]) for s in standing))
    return STATES.get(roles, "draft"), standing


def _signature_dict(s: Any) -> dict[str, Any]:
    return {
        "id": s["id"],
        "role": s["role"],
        "role_text": ROLE_TEXT[s["role"]],
        "by": s["signed_by"],
        "at": s["signed_at"],
        "ledger_hash": s["ledger_hash"],
        "evidence_seq": s["evidence_seq"],
        "voided_at": s["voided_at"],
    }


def _voids(svc: Service, class_id: int) -> list[dict[str, Any]]:
    """Each void, newest first: its reason, when and by whom it was noticed, what it ended."""
    groups: dict[int, dict[str, Any]] = {}
    for s in svc.store.ledger_signatures(class_id, standing=False):
        if s["void_seq"] is None:
            continue
        group = groups.setdefault(
            int(s["void_seq"]),
            {
                "seq": s["void_seq"],
                "reason": s["void_reason"],
                "at": s["voided_at"],
                "by": s["voided_by"],
                "text": f"签字已失效：{s['void_reason']} {_short(s['voided_at'])}",
                "signatures": [],
            },
        )
        group["signatures"].append(_signature_dict(s))
    return [groups[k] for k in sorted(groups, reverse=True)]


def _next_role(state: str) -> str | None:
    return {"draft": "first", "first_signed": "second"}.get(state)


def _refusal(cur: Current, state: str, standing: list[Any], user: User) -> str | None:
    """Why USER cannot sign now (Chinese), or None."""
    if cur.missing or cur.ledger is None:
        return "还不能签字：" + (cur.error or "缺少" + "、".join(_missing_text(cur.missing)))
    if cur.auditing:
        return "正在重新审核，请等审核完成后再签字"
    if state == "second_signed":
        return "已复核签字，账目已锁定"
    if state == "first_signed" and int(standing[0]["user_id"]) == user.id:
        return (
            f"同一账号不能既经办又复核：经办签字人是 {standing[0]['signed_by']}，"
            "复核须由另一位检查人员签字"
        )
    return None


def _missing_text(missing: list[str]) -> list[str]:
    words = {"audit": "已完成的审核", "checkins": "打卡记录"}
    return [words.get(m, m) for m in missing]


def ledger_view(svc: Service, row: Any, user: User) -> dict[str, Any]:
    """The contract of GET …/ledger (what an institution may see, for an institution)."""
    cur = current(svc, row)
    settle(svc, cur, user.name)
    state, standing = _state(svc, cur.class_id)
    out: dict[str, Any] = {
        "class_id": cur.class_id,
        "state": state,
        "state_text": STATE_TEXT[state],
        "missing": cur.missing,
        "missing_text": _missing_text(cur.missing),
        "error": cur.error,
        "auditing": cur.auditing,
        "audit_id": cur.basis["audit_id"],
        "signatures": [_signature_dict(s) for s in standing],
        "voids": _voids(svc, cur.class_id),
    }
    if not user.sees_all:
        out["ledger"] = _public(cur.ledger)
        out.pop("error")
        return svc.scrub(user, out)
    role = _next_role(state)
    refusal = _refusal(cur, state, standing, user)
    out.update(
        ledger=cur.ledger,
        inputs=cur.inputs,
        basis=basis_digest(cur.basis),
        next_role=role,
        may_sign=refusal is None and role is not None,
        refusal=refusal,
    )
    return out


def _public(ledger: dict[str, Any] | None) -> dict[str, Any] | None:
    if ledger is None:
        return None
    return {
        "class": ledger.get("class"),
        "rule": ledger.get("rule"),
        "employment_rate": ledger.get("employment_rate"),
        "total": ledger.get("total"),
        "trainees": [{k: t.get(k) for k in PUBLIC_TRAINEE} for t in ledger.get("trainees") or []],
    }


@router.get("/api/classes/{class_id}/ledger")
async def get_ledger(
    request: Request, class_id: int, user: Annotated[User, Depends(current_user)]
) -> dict[str, Any]:
    """补贴核算：账目、状态（草稿 / 经办已签 / 复核已签）、签字与失效记录 / the class's ledger."""
    svc = service(request)
    row = visible_class(svc, user, class_id)
    try:
        return await run_in_threadpool(ledger_view, svc, row, user)
    except EvidenceKeyError as exc:
        raise HTTPException(500, f"无法记录：{exc.both()}") from exc


def _sign(svc: Service, row: Any, user: User, body: SignRequest) -> dict[str, Any]:
    cur = current(svc, row)
    settle(svc, cur, user.name)
    state, standing = _state(svc, cur.class_id)
    role = _next_role(state)
    refusal = _refusal(cur, state, standing, user)
    if refusal is not None:
        raise HTTPException(409, refusal)
    assert role is not None and cur.ledger is not None
    if body.role is not None and body.role != role:
        if body.role == "second":
            raise HTTPException(409, "还没有经办签字，复核签字须在经办签字之后")
        first = standing[0]["signed_by"] if standing else ""
        raise HTTPException(409, f"已有经办签字（{first}），请复核签字")
    if body.hash is not None and body.hash != cur.ledger.get("hash"):
        raise HTTPException(409, "账目已变化，请刷新页面，核对后再签字")
    basis = cur.basis
    at = now()
    ledger_hash = str(cur.ledger.get("hash") or "")
    record_body = {
        "class_id": cur.class_id,
        "role": role,
        "by": user.name,
        "user_id": user.id,
        "at": at,
        "ledger_hash": ledger_hash,
        "basis": basis_digest(basis),
        "audit_id": basis["audit_id"],
        "total": cur.ledger.get("total"),
    }
    fields = {
        "class_id": cur.class_id,
        "role": role,
        "user_id": user.id,
        "signed_by": user.name,
        "signed_at": at,
        "ledger_hash": ledger_hash,
        "basis": json.dumps(basis, sort_keys=True),
        "total": cur.ledger.get("total"),
    }
    made: dict[str, int] = {}

    def alongside(conn: Any, record: dict[str, Any]) -> None:
        made["id"] = insert_signature(conn, {**fields, "evidence_seq": record["seq"]})

    note = f"补贴核算{ROLE_TEXT[role]}签字：{user.name}（合计 {cur.ledger.get('total')} 元）"
    try:
        svc.evidence.record_decision(
            "ledger_signature", record_body, user.name, note, cur.class_id, alongside
        )
    except SignatureConflict as exc:
        reason, who = exc.args
        if reason == "same_account":
            raise HTTPException(409, f"同一账号不能既经办又复核：经办签字人是 {who}") from None
        raise HTTPException(409, f"签字未能完成（{ROLE_TEXT[role]}），请刷新后再试") from None
    except EvidenceKeyError as exc:
        raise HTTPException(500, f"无法记录：{exc.both()}") from exc
    signature = svc.store.ledger_signature(made["id"])
    return {**_signature_dict(signature), "state": _state(svc, cur.class_id)[0]}


@router.post("/api/classes/{class_id}/ledger/sign", status_code=201)
async def sign_ledger(
    request: Request,
    class_id: int,
    body: SignRequest,
    user: Annotated[User, Depends(current_user)],
) -> dict[str, Any]:
    """签字：草稿时为经办签字，经办已签时由另一账号复核签字（记入证据链）/ sign the ledger."""
    svc = service(request)
    require_inspector(user)
    row = visible_class(svc, user, class_id)
    return await run_in_threadpool(_sign, svc, row, user, body)


_SAFE_SUFFIX = re.compile(r"^\.[a-z0-9]{1,5}$")


async def _read_upload(upload: UploadFile) -> bytes:
    data = await upload.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise HTTPException(
            413, f"文件过大（上限 {MAX_INPUT_BYTES // 1024**2} MB）/ file too large"
        )
    if not data:
        raise HTTPException(400, "文件是空的 / the file is empty")
    return data


def store_input(
    svc: Service, row: Any, user: User, kind: str, filename: str, data: bytes | None, n: int | None
) -> dict[str, Any]:
    """Keep the file under the workspace (by content), check it reads, record it, then settle
    the signatures against the ledger it makes."""
    class_id = int(row["id"])
    rel, digest, name = None, None, None
    if data is not None:
        suffix = Path(filename).suffix.lower()
        if not _SAFE_SUFFIX.match(suffix) or suffix not in SUFFIXES:
            raise HTTPException(400, f"只接受 CSV、XLSX 或 XLS 文件，而不是 {filename!r}")
        digest = hashlib.sha256(data).hexdigest()
        rel = f"ledgers/{class_id}/{kind}-{digest[:16]}{suffix}"
        target = svc.workspace.root / rel
        fresh = not target.exists()
        if fresh:
            write_atomic(target, data)
        parsed: Any = read_checkins(target) if kind == "checkins" else read_employed(target)
        usable = parsed.rows if kind == "checkins" else parsed.ids
        if not usable:
            if fresh:  # a file that was refused is not kept
                target.unlink(missing_ok=True)
            problems = "；".join(parsed.errors[:5]) or "没有可用的行"
            raise HTTPException(400, f"无法使用该文件：{problems}")
        name = Path(filename).name[:200]
        errors = list(parsed.errors)
    else:
        errors = []
    at = now()
    input_id = svc.store.add_ledger_input(
        class_id, kind, user.name, at, file=rel, name=name, sha256=digest, employed=n
    )
    cur = current(svc, row)
    voided = settle(svc, cur, user.name)
    state, _ = _state(svc, class_id)
    return {
        **(_input_dict(svc.store.ledger_input_by_id(input_id)) or {}),
        "errors": errors,
        "voided": voided,
        "state": state,
    }


@router.post("/api/classes/{class_id}/checkins", status_code=201)
async def upload_checkins(
    request: Request,
    class_id: int,
    user: Annotated[User, Depends(current_user)],
    file: Annotated[UploadFile, File(description="手机签到记录（CSV/XLSX/XLS）")],
) -> dict[str, Any]:
    """上传手机签到记录（新文件使已有签字失效）/ upload the check-in export."""
    svc = service(request)
    require_inspector(user)
    row = visible_class(svc, user, class_id)
    data = await _read_upload(file)
    return await run_in_threadpool(
        store_input, svc, row, user, "checkins", file.filename or "", data, None
    )


@router.post("/api/classes/{class_id}/employment", status_code=201)
async def upload_employment(
    request: Request,
    class_id: int,
    user: Annotated[User, Depends(current_user)],
    file: Annotated[UploadFile | None, File(description="就业名单（CSV/XLSX/XLS）")] = None,
    employed: Annotated[int | None, Form(ge=0, le=100000, description="就业人数")] = None,
) -> dict[str, Any]:
    """上传就业名单，或填写就业人数 / the employment list, or the number employed."""
    svc = service(request)
    require_inspector(user)
    row = visible_class(svc, user, class_id)
    if (file is None) == (employed is None):
        raise HTTPException(400, "请上传就业名单或填写就业人数（二选一）")
    data = await _read_upload(file) if file is not None else None
    name = (file.filename or "") if file is not None else ""
    return await run_in_threadpool(store_input, svc, row, user, "employment", name, data, employed)
