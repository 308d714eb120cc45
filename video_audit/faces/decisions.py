"""Inspectors' decisions on a class's people: which person of an audit each one is about, and
the attendance with them applied.

A decision is about one class-level person (people.py) of the audit it was made on. It keeps
that person's descriptor (days, thumbnails, face embeddings: store/decisions.py). On a later
audit of the class the decisions are mapped to the new audit's people:
1. a decision made on this very audit: its person;
2. the same descriptor (the same faces: the same footage audited again);
3. the nearest person by the distance between the centres of their face embeddings, within the
   engine's cluster threshold for the class (the bound that joins two tracks into one person),
   one to one, closest pair first.
A decision that matches nobody is kept and listed as not found in this audit.

Applying never rewrites a stored report: the attendance is served with the decisions applied.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from video_audit.faces.engine import distances
from video_audit.store.decisions import SeenPerson, from_blob

STATES = {"confirm": "present", "stranger": "stranger", "undecidable": "undecidable"}
"""The person's state once an inspector decided."""


def descriptor_id(thumbnails: Iterable[str]) -> str:
    """A person's descriptor id: a digest of their faces' thumbnail names (each named by its
    image's digest), so the same faces audited again give the same id."""
    text = "\n".join(sorted(set(thumbnails)))
    return "d" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def person_descriptor(person: Mapping[str, Any]) -> str:
    """The descriptor id of an attendance.people entry."""
    return descriptor_id(str(f.get("thumbnail")) for f in person.get("faces") or [])


@dataclass(frozen=True)
class Decision:
    """One inspector's decision on one class person (without its embeddings' bytes)."""

    id: int
    class_id: int
    audit_id: int | None
    person: str
    descriptor: str
    kind: str
    key: str | None
    name: str | None
    by: str
    at: str
    days: list[str]
    centre: np.ndarray | None = None
    revoked_by: str | None = None
    revoked_at: str | None = None

    @classmethod
    def of(cls, row: Any) -> Decision:
        import json

        return cls(
            int(row["id"]),
            int(row["class_id"]),
            row["audit_id"],
            row["person"],
            row["descriptor"],
            row["kind"],
            row["key"],
            row["name"],
            row["decided_by"],
            row["decided_at"],
            json.loads(row["days"]),
            from_blob(row["centre"], row["dim"]),
            row["revoked_by"],
            row["revoked_at"],
        )

    def to_dict(self) -> dict[str, Any]:
        """As the API and the export show it (no embeddings)."""
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "key": self.key,
            "name": self.name,
            "by": self.by,
            "at": self.at,
            "person": self.person,
            "descriptor": self.descriptor,
            "audit_id": self.audit_id,
            "days": self.days,
        }
        if self.revoked_at:
            out["revoked_by"], out["revoked_at"] = self.revoked_by, self.revoked_at
        return out

    def decided_by(self) -> dict[str, Any]:
        """What a served attendance carries on a decided person: who, when, what."""
        return {"by": self.by, "at": self.at, "kind": self.kind, "id": self.id}


def map_decisions(
    decisions: Sequence[Decision],
    people: Sequence[Mapping[str, Any]],
    audit_id: int | None,
    seen: Mapping[str, SeenPerson],
) -> tuple[dict[str, Decision], list[Decision]]:
    """(person → decision) for the audit's PEOPLE (attendance.people), and the decisions that
    match none of them. SEEN: the stored people by descriptor (their embeddings)."""
    by_person: dict[str, Decision] = {}
    left: list[Decision] = []
    descriptors = {person_descriptor(p): str(p["person"]) for p in people}
    names = {str(p["person"]) for p in people}
    for d in decisions:  # 1. made on this audit; 2. the same faces
        if d.audit_id == audit_id and audit_id is not None and d.person in names:
            target: str | None = d.person
        else:
            target = descriptors.get(d.descriptor)
        if target is not None and target not in by_person:
            by_person[target] = d
        else:
            left.append(d)
    # 3. nearest by the centres of the faces, within the class's cluster bound, one to one.
    free = [
        (str(p["person"]), seen[person_descriptor(p)])
        for p in people
        if str(p["person"]) not in by_person and person_descriptor(p) in seen
    ]
    pairs: list[tuple[float, int, int]] = []
    for i, d in enumerate(left):
        if d.centre is None:
            continue
        for k, (_, s) in enumerate(free):
            centre = np.atleast_2d(d.centre)[:1]  # stored as one row
            if s.faces.shape[1] != centre.shape[1]:
                continue
            dist = float(distances(s.metric, centre, s.centre[None, :])[0, 0])  # type: ignore[arg-type]
            if dist <= s.threshold:
                pairs.append((dist, i, k))
    used_d: set[int] = set()
    used_p: set[int] = set()
    for _, i, k in sorted(pairs):
        if i in used_d or k in used_p:
            continue
        used_d.add(i)
        used_p.add(k)
        by_person[free[k][0]] = left[i]
    return by_person, [d for i, d in enumerate(left) if i not in used_d]


def apply_decisions(
    attendance: Mapping[str, Any], by_person: Mapping[str, Decision]
) -> dict[str, Any]:
    """A copy of the attendance (a report's JSON object) with the decisions applied: each
    decided person's state, key and decided_by, and every day they were seen: a confirmed
    person is present (their review or unknown case gone, their key not absent), a stranger
    is among the unknown, an undecidable one stays (or goes) to review, marked decided."""
    out: dict[str, Any] = copy.deepcopy(dict(attendance))
    if not by_person:
        return out
    roster = {str(e.get("key")): e for e in out.get("roster") or []}
    trainees = [str(e.get("key")) for e in out.get("roster") or [] if e.get("role") == "trainee"]
    for person in out.get("people") or []:
        d = by_person.get(str(person.get("person")))
        if d is None:
            continue
        person["machine_state"] = person.get("state")
        person["machine_key"] = person.get("key")
        person["state"] = STATES[d.kind]
        person["key"] = d.key if d.kind == "confirm" else None
        if d.kind == "confirm" and d.key in roster:
            person["name"], person["id"] = roster[d.key].get("name"), roster[d.key].get("id")
        person["decided_by"] = d.decided_by()
    for day in out.get("days") or []:
        touched = False
        for name in ("matches", "review", "unknown"):
            kept = []
            for case in day.get(name) or []:
                d = by_person.get(str(case.get("person")))
                if d is None:
                    kept.append(case)
                    continue
                touched = True
                _place(day, case, name, d, roster, kept)
            day[name] = kept
        if touched:
            _recount(day, trainees)
    return out


TARGETS = {"confirm": "matches", "stranger": "unknown", "undecidable": "review"}
"""Where a decided person's case of a day goes."""


def _place(
    day: dict[str, Any],
    case: dict[str, Any],
    came_from: str,
    d: Decision,
    roster: Mapping[str, Mapping[str, Any]],
    kept: list[dict[str, Any]],
) -> None:
    """Put a decided person's case of one day where the decision says."""
    case = dict(case)
    case["decided_by"] = d.decided_by()
    case["machine"] = came_from
    target = TARGETS[d.kind]
    if d.kind != "undecidable":
        for field in ("candidates", "ids", "names", "distances", "photos", "reasons", "reason"):
            case.pop(field, None)
    if d.kind == "confirm" and d.key:
        entry = roster.get(d.key) or {}
        case.update({"key": d.key, "id": entry.get("id"), "name": entry.get("name")})
    else:
        for field in ("key", "id", "name"):
            case.pop(field, None)
    if came_from == target:
        kept.append(case)
    else:
        day.setdefault(f"_{target}", []).append(case)


def _recount(day: dict[str, Any], trainees: Sequence[str]) -> None:
    """present and absent of a day from its cases once decisions moved them."""
    for name in TARGETS.values():
        day[name] = list(day.get(name) or []) + day.pop(f"_{name}", [])
    present = [str(m.get("key")) for m in day.get("matches") or [] if m.get("key")]
    day["present"] = list(dict.fromkeys(present))
    if not day.get("footage", True):
        day["absent"] = []
        return
    doubtful = {str(c) for r in day.get("review") or [] for c in r.get("candidates") or []}
    day["absent"] = [k for k in trainees if k not in day["present"] and k not in doubtful]


def owed(people: Iterable[Mapping[str, Any]]) -> int:
    """People still waiting for an inspector: to review, not decided."""
    return sum(1 for p in people if p.get("state") == "review" and not p.get("decided_by"))
