"""考勤核实: the class's people of its latest audit, and the inspectors' decisions on them.

Inspectors and admins only; an institution gets the uniform 404, as for anything not its own.
The decisions are kept in the workspace database and the evidence log (video_audit/faces/
review.py); the class page and the report downloads show the attendance with them applied.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

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
from video_audit.evidence import EvidenceKeyError
from video_audit.faces.decisions import Decision, owed
from video_audit.faces.review import ClassReview, ReviewError, revoke

router = APIRouter(tags=["attendance"])


class DecisionRequest(BaseModel):
    person: str = Field(max_length=40, description="本次审核中的人员编号，如 p3 / the person")
    kind: str = Field(
        max_length=20,
        description="confirm（是某某）、stranger（名册外人员）、undecidable（无法判断）",
    )
    key: str | None = Field(None, max_length=40, description="名册编号，如 r2 / roster key")


def _inspector_class(svc: Service, user: User, class_id: int) -> Any:
    """The class row for an inspector or admin; the uniform 404 for anyone else."""
    if not user.sees_all:
        raise not_found()
    return visible_class(svc, user, class_id)


def _review(svc: Service, row: Any) -> ClassReview:
    return ClassReview.load(svc.store, svc.reports_dir, int(row["id"]), class_path(svc, row))


def _day(path: str) -> str:
    return Path(str(path)).name or str(path)


def _url(audit_id: int | None, thumbnail: Any) -> str | None:
    return f"/api/audits/{audit_id}/{thumbnail}" if thumbnail and audit_id else None


def _photos(att: dict[str, Any]) -> dict[str, str]:
    """Roster photo thumbnails by roster key, from the review cases that show them."""
    out: dict[str, str] = {}
    cases = list(att.get("people") or [])
    cases += [r for d in att.get("days") or [] for r in d.get("review") or []]
    for case in cases:
        for key, photo in zip(case.get("candidates") or [], case.get("photos") or [], strict=False):
            if photo:
                out.setdefault(str(key), str(photo))
    return out


def decision_dict(d: Decision) -> dict[str, Any]:
    return d.to_dict()


def review_dict(review: ClassReview, lang: str) -> dict[str, Any]:
    """The contract of GET …/attendance/review."""
    att = review.attendance
    served = review.served()
    roster = review.roster()
    photos = _photos(att)
    accept = (att.get("thresholds") or {}).get("accept")
    machine = {str(p["person"]): p for p in att.get("people") or []}
    people = []
    for p in served.get("people") or []:
        name = str(p["person"])
        before = machine.get(name, p)
        candidates = []
        keys = list(before.get("candidates") or [])
        dists = list(before.get("distances") or [])
        if before.get("state") == "present" and before.get("key"):
            keys, dists = [before["key"]], [before.get("distance")]
        for n, key in enumerate(keys):
            entry = roster.get(str(key), {})
            dist = dists[n] if n < len(dists) else None
            words = ""
            if dist is not None and accept is not None:
                near = "att_near" if dist <= accept else "att_far"
                words = text(lang, near, distance=f"{dist:.2f}", accept=f"{accept:.2f}")
            candidates.append(
                {
                    "key": key,
                    "name": entry.get("name"),
                    "id": entry.get("id"),
                    "photo_url": _url(review.audit_id, photos.get(str(key))),
                    "words": words,
                }
            )
        decision = review.decided.get(name)
        people.append(
            {
                "person": name,
                "state": p.get("state"),
                "days": [_day(d) for d in p.get("days") or []],
                "faces": [
                    {
                        "day": _day(f.get("day", "")),
                        "url": _url(review.audit_id, f.get("thumbnail")),
                    }
                    for f in p.get("faces") or []
                ],
                "candidates": candidates,
                "decision": decision.to_dict() if decision else None,
                "machine": text(lang, f"att_machine_{before.get('state')}"),
            }
        )
    return {
        "audit_id": review.audit_id,
        "people": people,
        "owed": owed(served.get("people") or []),
        "not_found": [d.to_dict() for d in review.not_found],
    }


@router.get("/api/classes/{class_id}/attendance/review")
def attendance_review(
    request: Request, class_id: int, user: Annotated[User, Depends(current_user)]
) -> dict[str, Any]:
    """考勤核实：本班最近一次审核的人员、候选人与已做的决定 / the people to review."""
    svc = service(request)
    row = _inspector_class(svc, user, class_id)
    review = _review(svc, row)
    if review.audit_id is None:
        raise not_found()
    return review_dict(review, lang_of(request))


def _decide(svc: Service, row: Any, body: DecisionRequest, by: str) -> dict[str, Any]:
    review = _review(svc, row)
    try:
        decision = review.decide(svc.store, svc.evidence, body.person, body.kind, body.key, by)
    except ReviewError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    except EvidenceKeyError as exc:
        raise HTTPException(500, f"无法记录：{exc.both()}") from exc
    return decision.to_dict()


@router.post("/api/classes/{class_id}/attendance/decisions", status_code=201)
async def make_decision(
    request: Request,
    class_id: int,
    body: DecisionRequest,
    user: Annotated[User, Depends(current_user)],
) -> dict[str, Any]:
    """记录一个决定（是某某 / 名册外人员 / 无法判断），记入证据链 / record a decision."""
    svc = service(request)
    row = _inspector_class(svc, user, class_id)
    return await run_in_threadpool(_decide, svc, row, body, user.name)


def _revoke(svc: Service, class_id: int, decision_id: int, by: str) -> dict[str, Any]:
    try:
        return revoke(svc.store, svc.evidence, class_id, decision_id, by).to_dict()
    except ReviewError as exc:
        if exc.status == 404:
            raise not_found() from exc
        raise HTTPException(exc.status, str(exc)) from exc
    except EvidenceKeyError as exc:
        raise HTTPException(500, f"无法记录：{exc.both()}") from exc


@router.delete("/api/classes/{class_id}/attendance/decisions/{decision_id}")
async def revoke_decision(
    request: Request, class_id: int, decision_id: int, user: Annotated[User, Depends(current_user)]
) -> dict[str, Any]:
    """撤销一个决定（撤销也记入证据链）/ revoke a decision (recorded too)."""
    svc = service(request)
    _inspector_class(svc, user, class_id)
    return await run_in_threadpool(_revoke, svc, class_id, decision_id, user.name)
