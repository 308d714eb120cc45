"""Patrols as people read them: one dict per patrol (never a credential: the store gives the
shown URL only), a site's cameras with their last patrol, a class's patrols beside its disc
audit, and the failed patrols the morning summary lists."""

from __future__ import annotations

import json
from typing import Any

from video_audit.findings import rule
from video_audit.store import Store

# What a patrol's outcome is called (zh, en); a finding's own title is used when it has one.
VERDICTS: dict[str, tuple[str, str]] = {
    "running": ("正在巡查", "in progress"),
    "ok": ("正常", "normal"),
    "failed": (
        "巡查未能完成（请重试或人工调阅）",
        "the patrol could not run (retry, or view by hand)",
    ),
    "missed": ("错过（计划时刻未能巡查）", "missed (not patrolled at its planned moment)"),
}


def patrol_view(row: Any) -> dict[str, Any]:
    """One stored patrol (a store row) for pages, reports, JSON and the summary."""
    result = json.loads(row["result"]) if row["result"] else None
    findings = list((result or {}).get("findings", []))
    state = str(row["state"])
    codes = sorted({f["code"] for f in findings})
    if state in ("running", "failed", "missed"):
        zh, en = VERDICTS[state]
    elif codes:
        titles = [rule(c).title for c in codes]
        zh, en = "、".join(t["zh"] for t in titles), "; ".join(t["en"] for t in titles)
    else:
        zh, en = VERDICTS["ok"]
    frames = json.loads(row["frames"] or "[]")
    return {
        "id": int(row["id"]),
        "camera_id": int(row["camera_id"]),
        "camera": row["camera"],
        "url": row["shown_url"],
        "site_id": int(row["site_id"]),
        "site": row["site"],
        "institution": row["institution"],
        "class": row["class_name"] or None,
        "class_id": row["class_id"],
        "plan_id": row["plan_id"],
        "moment": row["moment"],
        "due": row["due"],
        "state": state,
        "started": row["started"],
        "finished": row["finished"],
        "by": row["started_by"],
        "reachable": None if row["reachable"] is None else bool(row["reachable"]),
        "heads": row["heads"],
        "frames": frames,
        "measures": _measures(result),
        "attendance": (result or {}).get("attendance"),
        "findings": findings,
        "findings_en": list((result or {}).get("findings_en", findings)),
        "error": row["error"] or "",
        "failed": state in ("failed", "missed") or bool(findings),
        "verdict_zh": zh,
        "verdict_en": en,
    }


def _measures(result: dict[str, Any] | None) -> dict[str, Any] | None:
    if result is None:
        return None
    keys = ("first_frame_ms", "fps", "width", "height", "seconds", "stalls", "longest_gap")
    return {k: result.get(k) for k in (*keys, "corrupt", "bitrate_kbps")}


def site_views(store: Store, institution: str | None = None) -> list[dict[str, Any]]:
    """Sites with their cameras (shown URLs) and each camera's last patrol."""
    out = []
    for site in store.sites(institution):
        cameras = []
        for cam in store.cameras(int(site["id"])):
            last = store.patrol_row(int(cam["last_patrol"])) if cam["last_patrol"] else None
            cameras.append(
                {
                    "id": int(cam["id"]),
                    "name": cam["name"],
                    "url": cam["shown_url"],
                    "retired": cam["retired"],
                    "last_patrol": patrol_view(last) if last is not None else None,
                }
            )
        out.append(
            {
                "id": int(site["id"]),
                "institution": site["institution"],
                "name": site["name"],
                "cameras": cameras,
            }
        )
    return out


def class_patrols(store: Store, class_id: int, name: str, institution: str) -> list[dict[str, Any]]:
    """The patrols of an uploaded class, newest first: those made knowing it, and those whose
    schedule named it (the class name, or the end of it at the same institution)."""
    return [patrol_view(r) for r in store.class_patrol_rows(class_id, name, institution)]


def failed_patrols(store: Store, since: str) -> list[dict[str, Any]]:
    """Patrols since SINCE that failed, were missed, or found LV01/LV02, oldest first."""
    rows = store.patrol_rows(since=since, failed_only=True, limit=1000)
    return [patrol_view(r) for r in reversed(rows)]


def plan_dict(row: Any) -> dict[str, Any]:
    """A stored plan: its seed, range, the digest of the sessions it was drawn over, who drew
    it when, its evidence record, and its moments as drawn."""
    return {
        "id": int(row["id"]),
        "seed": int(row["seed"]),
        "per_day": int(row["per_day"]),
        "first_day": row["first_day"],
        "last_day": row["last_day"],
        "schedule_sha256": row["schedule_sha256"],
        "drawn": row["drawn"],
        "drawn_by": row["drawn_by"],
        "evidence_seq": int(row["evidence_seq"]),
        "moments": json.loads(row["moments"]),
    }


def plan_views(store: Store, limit: int = -1) -> list[dict[str, Any]]:
    """The drawn plans, newest first (LIMIT of them; -1: all): seed and digest, each moment
    with its patrol."""
    out = []
    for row in store.plans(limit):
        plan = plan_dict(row)
        rows = store.patrol_rows(plan_id=plan["id"], limit=100000)
        done = {int(r["moment"]): r for r in rows}
        for m in plan["moments"]:
            r = done.get(int(m["seq"]))
            m["patrol"] = patrol_view(r) if r is not None else None
        out.append(plan)
    return out
