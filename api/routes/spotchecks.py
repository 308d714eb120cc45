"""随机抽查: N random moments across a class's footage, seeded and recorded (repeatable)."""

from __future__ import annotations

import json
import random
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from api.auth import User
from api.context import current_user, require_inspector, service, visible_class
from api.reportview import stored_report
from video_audit.media.grab import time_code

router = APIRouter(tags=["spot-checks"])


class SpotCheckRequest(BaseModel):
    count: int = Field(5, ge=1, description="抽查时刻数 / how many moments")
    seed: int | None = Field(None, ge=0, lt=2**63, description="种子；不填则随机 / seed")


def propose(clips: list[tuple[str, float]], count: int, seed: int) -> list[dict[str, Any]]:
    """count moments spread over the clips by their length; the same seed gives the same ones."""
    usable = sorted((path, d) for path, d in clips if d > 0)
    total = sum(d for _, d in usable)
    if not usable:
        return []
    rng = random.Random(seed)
    moments = []
    for _ in range(count):
        point = rng.random() * total
        chosen, length = usable[-1]
        for path, duration in usable:
            if point < duration:
                chosen, length = path, duration
                break
            point -= duration
        at = min(round(point, 3), max(0.0, length - 0.001))
        moments.append({"clip": chosen, "at": at, "time_code": time_code(at)})
    return sorted(moments, key=lambda m: (m["clip"], m["at"]))


@router.post("/api/classes/{class_id}/spotchecks", status_code=201)
def new_spotcheck(
    request: Request,
    class_id: int,
    body: SpotCheckRequest,
    user: Annotated[User, Depends(current_user)],
) -> dict[str, Any]:
    """随机抽查：按片段时长随机选 N 个时刻，记录种子以便复查 / N random, recorded moments."""
    require_inspector(user)
    svc = service(request)
    visible_class(svc, user, class_id)
    if body.count > svc.settings.spotcheck_max:
        raise HTTPException(422, f"一次最多抽查 {svc.settings.spotcheck_max} 个时刻 / too many")
    audit = svc.store.latest_audit(class_id)
    report = stored_report(svc, audit, "zh") if audit is not None else None
    if report is None:
        raise HTTPException(409, "请等审核完成后再抽查 / wait for the audit to finish")
    clips = [
        (clip["path"], float((clip.get("media") or {}).get("duration") or 0))
        for cls in report.get("classes", [])
        for day in cls["days"]
        for clip in day["clips"]
        if (clip.get("media") or {}).get("problem") is None
    ]
    seed = body.seed if body.seed is not None else secrets.randbits(48)
    moments = propose(clips, body.count, seed)
    if not moments:
        raise HTTPException(409, "该班级没有可播放的视频 / no playable clip in this class")
    spot_id = svc.store.add_spotcheck(class_id, seed, moments, user.id)
    return {"id": spot_id, "class_id": class_id, "seed": seed, "moments": moments}


@router.get("/api/classes/{class_id}/spotchecks")
def list_spotchecks(
    request: Request, class_id: int, user: Annotated[User, Depends(current_user)]
) -> list[dict[str, Any]]:
    """该班级的抽查记录 / the class's spot-checks."""
    require_inspector(user)
    svc = service(request)
    visible_class(svc, user, class_id)
    return [
        {
            "id": s["id"],
            "seed": s["seed"],
            "count": s["count"],
            "moments": json.loads(s["moments"]),
            "by": s["by_name"],
            "created": s["created"],
        }
        for s in svc.store.spotchecks(class_id)
    ]
