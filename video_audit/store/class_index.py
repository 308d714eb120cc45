"""What the class list searches, filters and sorts by, taken from a class's latest finished audit.

Kept as columns of `classes` (written when an audit finishes, filled in by migration 9 for
audits stored before), so that a list of thousands of classes is one indexed query, never a
parse of every stored report.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

FACT_COLUMNS = ("trainees", "start_date", "verdict", "errors", "review", "facts_audit")


@dataclass(frozen=True)
class ClassFacts:
    """A finished audit's facts about its class."""

    trainees: str
    """The roster's names, one a line (searched with LIKE; never ids: 证件号 are not searched)."""
    start_date: str | None
    """The first training day (ISO date): the statistics year counts by it."""
    verdict: str | None
    errors: int | None
    review: str | None
    """JSON [[person, descriptor], …]: the people the audit left to review."""

    def values(self, audit_id: int) -> tuple[Any, ...]:
        return (
            self.trainees,
            self.start_date,
            self.verdict,
            self.errors,
            self.review,
            audit_id,
        )


def descriptor_of(thumbnails: Iterable[str]) -> str:
    """A person's descriptor id, as video_audit.faces.decisions.descriptor_id makes it (the
    store imports nothing above itself; tests/test_api_classlist.py holds the two equal)."""
    text = "\n".join(sorted(set(thumbnails)))
    return "d" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def report_facts(report: Mapping[str, Any]) -> ClassFacts:
    """The facts of one audit's JSON report (every class folder it holds, together)."""
    names: list[str] = []
    dates: list[str] = []
    review: list[list[str]] = []
    for cls in report.get("classes") or []:
        dates += [str(d["date"]) for d in cls.get("days") or [] if d.get("date")]
        att = cls.get("attendance")
        if not isinstance(att, Mapping):
            continue
        names += [str(e["name"]) for e in att.get("roster") or [] if e.get("name")]
        for person in att.get("people") or []:
            if person.get("state") == "review" and not person.get("decided_by"):
                thumbs = (str(f.get("thumbnail")) for f in person.get("faces") or [])
                review.append([str(person.get("person")), descriptor_of(thumbs)])
    summary = report.get("summary") or {}
    errors = summary.get("errors")
    return ClassFacts(
        trainees="\n".join(dict.fromkeys(names)),
        start_date=min(dates) if dates else None,
        verdict=summary.get("verdict"),
        errors=int(errors) if errors is not None else None,
        review=json.dumps(review, ensure_ascii=False) if review else None,
    )
