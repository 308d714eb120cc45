"""Attendance review of a stored class: the decisions of its latest audit's people, made and
revoked with who and when in the workspace database and in the evidence log (the web service's
考勤核实 and `video-audit attendance`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from video_audit.evidence import EvidenceLog
from video_audit.faces.decisions import (
    Decision,
    apply_decisions,
    map_decisions,
    person_descriptor,
)
from video_audit.store import Store, now
from video_audit.store.decisions import (
    DECISION_KINDS,
    Conflict,
    insert_decision,
    revoke_decision,
    to_blob,
)


class ReviewError(Exception):
    """A decision that cannot be made: its message is Chinese first (then English)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def stored_report(reports_dir: Path, audit: Any, lang: str = "zh") -> dict[str, Any] | None:
    """A finished audit's JSON report in LANG (the file written at audit time, else the stored
    zh one); None while the audit is not done. The one reader of stored reports."""
    if audit is None or audit["state"] != "done":
        return None
    files = json.loads(audit["files"] or "{}")
    name = files.get(f"json-{lang}")
    if name:
        path = reports_dir / str(audit["id"]) / name
        if path.is_file():
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return data
    return json.loads(audit["report"]) if audit["report"] else None


def class_attendance(report: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(class, attendance) of a one-class report with class-level people ({} when none)."""
    for cls in (report or {}).get("classes") or []:
        att = cls.get("attendance")
        if isinstance(att, dict) and att.get("people") is not None:
            return cls, att
    return {}, {}


def class_key(cls: Mapping[str, Any], folder: Path) -> str:
    """The class as audits know it (as the footage fingerprints do): its prefix, else its
    folder's path."""
    return str(cls.get("prefix") or folder.resolve())


@dataclass
class ClassReview:
    """A stored class's latest audit, its people and the class's decisions mapped onto them."""

    class_id: int
    audit_id: int | None
    key: str
    attendance: dict[str, Any]
    decided: dict[str, Decision] = field(default_factory=dict)
    not_found: list[Decision] = field(default_factory=list)

    @classmethod
    def load(cls, store: Store, reports_dir: Path, class_id: int, folder: Path) -> ClassReview:
        audit = store.latest_audit(class_id)
        report = stored_report(reports_dir, audit)
        cls_, att = class_attendance(report)
        review = cls(class_id, audit["id"] if audit is not None else None, "", att)
        review.key = class_key(cls_, folder)
        decisions = [Decision.of(r) for r in store.class_decisions(class_id)]
        people = att.get("people") or []
        seen = store.seen_people(person_descriptor(p) for p in people)
        review.decided, review.not_found = map_decisions(decisions, people, review.audit_id, seen)
        return review

    def served(self) -> dict[str, Any]:
        """The attendance with the decisions applied (what every page and download shows)."""
        return apply_decisions(self.attendance, self.decided)

    def person(self, name: str) -> dict[str, Any]:
        for p in self.attendance.get("people") or []:
            if p.get("person") == name:
                return dict(p)
        raise ReviewError(f"本次审核中没有人员 {name} / no person {name} in this audit")

    def roster(self) -> dict[str, dict[str, Any]]:
        return {str(e.get("key")): e for e in self.attendance.get("roster") or []}

    def decide(
        self,
        store: Store,
        evidence: EvidenceLog,
        person: str,
        kind: str,
        key: str | None,
        by: str,
    ) -> Decision:
        """Record a decision on PERSON (in the database and the evidence log, together)."""
        if kind not in DECISION_KINDS:
            raise ReviewError(
                f"决定只能是 confirm（是某某）、stranger（名册外人员）或 undecidable（无法判断）"
                f"，而不是 {kind!r} / kind must be confirm, stranger or undecidable"
            )
        if self.audit_id is None or not self.attendance:
            raise ReviewError("该班级还没有可核实的考勤 / this class has no attendance to review")
        p = self.person(person)
        entry = None
        if kind == "confirm":
            entry = self.roster().get(str(key)) if key else None
            if entry is None:
                raise ReviewError(f"名册中没有编号 {key} / no roster key {key!r}")
        elif key:
            raise ReviewError("只有“是某某”需要名册编号 / only confirm takes a roster key")
        if person in self.decided:
            raise ReviewError(
                f"人员 {person} 已有决定（#{self.decided[person].id}），请先撤销 / "
                "that person has a decision: revoke it first",
                409,
            )
        descriptor = person_descriptor(p)
        seen = store.seen_people([descriptor]).get(descriptor)
        at = now()
        name = str(entry.get("name")) if entry else None
        body = {
            "decision": kind,
            "class_id": self.class_id,
            "audit_id": self.audit_id,
            "person": person,
            "descriptor": descriptor,
            "key": key if entry else None,
            "name": name,
            "days": list(p.get("days") or []),
            "by": by,
            "at": at,
        }
        fields: dict[str, Any] = {
            "class_id": self.class_id,
            "class_key": self.key,
            "audit_id": self.audit_id,
            "person": person,
            "descriptor": descriptor,
            "kind": kind,
            "key": body["key"],
            "name": name,
            "days": json.dumps(body["days"], ensure_ascii=False),
            "thumbnails": json.dumps([f.get("thumbnail") for f in p.get("faces") or []]),
            "centre": to_blob(seen.centre[None, :]) if seen else None,
            "faces": to_blob(seen.faces) if seen else None,
            "dim": int(seen.faces.shape[1]) if seen else None,
            "engine": seen.engine if seen else None,
            "decided_by": by,
            "decided_at": at,
        }
        made: dict[str, int] = {}

        def alongside(conn: Any, record: dict[str, Any]) -> None:
            made["id"] = insert_decision(conn, {**fields, "evidence_seq": record["seq"]})

        note = _note(kind, person, name, key)
        try:
            evidence.record_decision(
                "attendance_decision", body, by, note, self.class_id, alongside
            )
        except Conflict as exc:
            raise ReviewError(
                f"人员 {person} 已有决定（#{exc.args[0]}），请先撤销 / "
                "that person has a decision: revoke it first",
                409,
            ) from None
        row = store.attendance_decision(made["id"])
        decision = Decision.of(row)
        self.decided[person] = decision
        return decision


def revoke(
    store: Store, evidence: EvidenceLog, class_id: int, decision_id: int, by: str
) -> Decision:
    """Revoke a decision of the class (recorded in the database and the evidence log)."""
    row = store.attendance_decision(decision_id)
    if row is None or row["class_id"] != class_id:
        raise ReviewError(f"没有决定 #{decision_id} / no such decision", 404)
    if row["revoked_at"]:
        raise ReviewError(f"决定 #{decision_id} 已撤销 / already revoked", 409)
    at = now()
    body = {
        "revokes": decision_id,
        "class_id": class_id,
        "person": row["person"],
        "descriptor": row["descriptor"],
        "by": by,
        "at": at,
    }
    done: dict[str, bool] = {}

    def alongside(conn: Any, record: dict[str, Any]) -> None:
        done["ok"] = revoke_decision(conn, decision_id, by, at, int(record["seq"]))
        if not done["ok"]:
            raise Conflict(decision_id)

    try:
        evidence.record_decision(
            "attendance_revocation",
            body,
            by,
            f"撤销考勤决定 #{decision_id}（{row['person']}）",
            class_id,
            alongside,
        )
    except Conflict:
        raise ReviewError(f"决定 #{decision_id} 已撤销 / already revoked", 409) from None
    return Decision.of(store.attendance_decision(decision_id))


def _note(kind: str, person: str, name: str | None, key: str | None) -> str:
    if kind == "confirm":
        return f"考勤核实：{person} 是 {name}（{key}）"
    if kind == "stranger":
        return f"考勤核实：{person} 为名册外人员"
    return f"考勤核实：{person} 无法判断（留待现场核查）"
