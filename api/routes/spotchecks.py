"""随机抽查: moments drawn across a class's days and clips (stratified, seeded, repeatable), and
each moment's result (正常 / 异常 + note), stored and written to the evidence log."""

from __future__ import annotations

import json
import random
import secrets
from collections import defaultdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from api.auth import User
from api.context import Service, current_user, not_found, require_inspector, service, visible_class
from api.reportview import stored_report
from video_audit.evidence import EvidenceKeyError
from video_audit.media.grab import time_code
from video_audit.store import now

router = APIRouter(tags=["spot-checks"])
RESULT_TEXT = {"normal": "正常", "abnormal": "异常"}


class SpotCheckRequest(BaseModel):
    count: int = Field(5, ge=1, description="抽查时刻数 / how many moments")
    seed: int | None = Field(None, ge=0, lt=2**63, description="种子；不填则随机 / seed")


class SpotCheckResult(BaseModel):
    moment: int = Field(ge=0, description="时刻的序号（从 0 起）/ the moment's index")
    result: Literal["normal", "abnormal"] = Field(description="正常 normal / 异常 abnormal")
    note: str = Field("", max_length=2000, description="说明；异常时必填 / a note (异常: required)")


def propose(clips: list[tuple[str, float, str]], count: int, seed: int) -> list[dict[str, Any]]:
    """COUNT moments over the (path, duration, day) clips, spread across days and clips:
    days take turns, and within a day its clips, in an order the seed shuffles, so every day is
    drawn when COUNT ≥ days and every clip when COUNT ≥ clips; the moments of one clip fall one
    in each equal part of it. The same seed gives the same moments."""
    usable = sorted((day, path, d) for path, d, day in clips if d > 0)
    if not usable:
        return []
    rng = random.Random(seed)
    by_day: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for day, path, duration in usable:
        by_day[day].append((path, duration))
    days = sorted(by_day)
    rng.shuffle(days)
    for day in days:
        rng.shuffle(by_day[day])
    taken: dict[tuple[str, str, float], int] = defaultdict(int)
    turn = dict.fromkeys(days, 0)
    # When there are moments enough, every clip gets one first; the rest take turns.
    if count >= len(usable):
        for day, path, duration in usable:
            taken[(day, path, duration)] = 1
    for k in range(count - sum(taken.values())):
        day = days[k % len(days)]
        path, duration = by_day[day][turn[day] % len(by_day[day])]
        turn[day] += 1
        taken[(day, path, duration)] += 1
    moments = []
    for (day, path, duration), n in sorted(taken.items()):
        for i in range(n):
            at = min(round((i + rng.random()) * duration / n, 3), max(0.0, duration - 0.001))
            moments.append({"clip": path, "day": day, "at": at, "time_code": time_code(at)})
    return sorted(moments, key=lambda m: (m["day"], m["clip"], m["at"]))


def _report_clips(report: dict[str, Any]) -> list[tuple[str, float, str]]:
    """(path, duration, day) of every clip that plays (no FM04 problem)."""
    return [
        (clip["path"], float((clip.get("media") or {}).get("duration") or 0), _day_name(day))
        for cls in report.get("classes", [])
        for day in cls["days"]
        for clip in day["clips"]
        if (clip.get("media") or {}).get("problem") is None
    ]


def _day_name(day: dict[str, Any]) -> str:
    return str(day.get("date") or day.get("folder") or day.get("path") or "")


@router.post("/api/classes/{class_id}/spotchecks", status_code=201)
def new_spotcheck(
    request: Request,
    class_id: int,
    body: SpotCheckRequest,
    user: Annotated[User, Depends(current_user)],
) -> dict[str, Any]:
    """随机抽查：按天、按视频分层随机选 N 个时刻，记录种子 / N stratified, recorded moments."""
    require_inspector(user)
    svc = service(request)
    visible_class(svc, user, class_id)
    if body.count > svc.settings.spotcheck_max:
        raise HTTPException(422, f"一次最多抽查 {svc.settings.spotcheck_max} 个时刻 / too many")
    audit = svc.store.latest_audit(class_id)
    report = stored_report(svc, audit, "zh") if audit is not None else None
    if report is None:
        raise HTTPException(409, "请等审核完成后再抽查 / wait for the audit to finish")
    seed = body.seed if body.seed is not None else secrets.randbits(48)
    moments = propose(_report_clips(report), body.count, seed)
    if not moments:
        raise HTTPException(409, "该班级没有可播放的视频 / no playable clip in this class")
    spot_id = svc.store.add_spotcheck(class_id, seed, moments, user.id)
    return {"id": spot_id, "class_id": class_id, "seed": seed, "moments": moments}


def spotcheck_views(svc: Service, class_id: int) -> list[dict[str, Any]]:
    """The class's spot-checks, newest first: the moments as drawn and, beside them, each one's
    result that stands (the newest recorded; None before any), flagged when its evidence record
    no longer says the same."""
    spots = svc.store.spotchecks(class_id)
    standing: dict[tuple[int, int], dict[str, Any]] = {}
    for r in svc.store.spotcheck_results([int(s["id"]) for s in spots]):
        standing[(int(r["spotcheck_id"]), int(r["moment"]))] = _result_dict(svc, r)
    views = []
    for s in spots:
        moments = json.loads(s["moments"])
        results = [standing.get((int(s["id"]), n)) for n in range(len(moments))]
        views.append(
            {
                "id": s["id"],
                "seed": s["seed"],
                "count": s["count"],
                "moments": moments,
                "results": results,
                "by": s["by_name"],
                "by_name": s["by_name"],
                "created": s["created"],
                "days": len({m.get("day") for m in moments}),
                "clips": len({m["clip"] for m in moments}),
                "done": sum(1 for r in results if r),
            }
        )
    return views


def _result_dict(svc: Service, row: Any) -> dict[str, Any]:
    record = svc.store.evidence_record(int(row["evidence_seq"]))
    body = json.loads(record["body"] or "{}") if record is not None else {}
    return {
        "id": row["id"],
        "moment": row["moment"],
        "result": row["result"],
        "result_text": RESULT_TEXT[row["result"]],
        "note": row["note"],
        "by": row["by_name"],
        "at": row["recorded"],
        "evidence_seq": row["evidence_seq"],
        # The row and its signed record disagree: someone edited one of them.
        "disputed": body.get("result") != row["result"] or body.get("note") != row["note"],
    }


@router.get("/api/classes/{class_id}/spotchecks")
def list_spotchecks(
    request: Request, class_id: int, user: Annotated[User, Depends(current_user)]
) -> list[dict[str, Any]]:
    """该班级的抽查记录及每个时刻的结果 / the class's spot-checks and their results."""
    require_inspector(user)
    svc = service(request)
    visible_class(svc, user, class_id)
    return spotcheck_views(svc, class_id)


@router.post("/api/classes/{class_id}/spotchecks/{spot_id}/results", status_code=201)
def record_result(
    request: Request,
    class_id: int,
    spot_id: int,
    body: SpotCheckResult,
    user: Annotated[User, Depends(current_user)],
) -> dict[str, Any]:
    """记录抽查结果：正常 / 异常（须写说明），写入证据链 / record a moment's result."""
    require_inspector(user)
    svc = service(request)
    visible_class(svc, user, class_id)
    spot = svc.store.spotcheck(spot_id)
    if spot is None or spot["class_id"] != class_id:
        raise not_found()
    moments = json.loads(spot["moments"])
    if body.moment >= len(moments):
        raise HTTPException(422, f"没有第 {body.moment + 1} 个时刻 / no such moment")
    note = body.note.strip()
    if body.result == "abnormal" and not note:
        raise HTTPException(422, "记为异常时请写明看到的情况 / say what is abnormal")
    moment = moments[body.moment]
    at = now()
    record_body = {
        "class_id": class_id,
        "spotcheck": spot_id,
        "seed": spot["seed"],
        "moment": body.moment,
        "clip": moment["clip"],
        "time": moment["at"],
        "result": body.result,
        "note": note,
        "by": user.name,
        "at": at,
    }
    saved: dict[str, int] = {}

    def alongside(conn: Any, record: dict[str, Any]) -> None:
        saved["id"] = svc.store.insert_spotcheck_result(
            conn, spot_id, body.moment, body.result, note, user.id, at, int(record["seq"])
        )

    words = f"抽查结果：{moment['clip']} {moment['time_code']} {RESULT_TEXT[body.result]}"
    try:
        record = svc.evidence.record_decision(
            "spotcheck_result",
            record_body,
            user.name,
            f"{words} {note}".strip(),
            class_id,
            alongside,
        )
    except EvidenceKeyError as exc:
        raise HTTPException(500, f"无法记入证据链：{exc.both()}") from exc
    return {
        "id": saved["id"],
        "spotcheck": spot_id,
        "moment": body.moment,
        "result": body.result,
        "result_text": RESULT_TEXT[body.result],
        "note": note,
        "by": user.name,
        "at": at,
        "evidence_seq": record["seq"],
    }
