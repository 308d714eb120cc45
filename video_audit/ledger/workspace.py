"""A class's ledger as the workspace stores it now: the latest finished audit (the class's
standing attendance decisions applied), the newest check-in file and employment list → one
`build_ledger`, and the basis a signature keeps. The web service (api/routes/ledger.py) and the
nightly summary (video_audit/scan/summary.py) build it here, so both see the same ledger.

Nothing here writes: voiding signatures whose basis changed is the web service's business.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from video_audit.faces.decisions import Decision, apply_decisions, map_decisions, person_descriptor
from video_audit.faces.review import stored_report
from video_audit.ledger.build import build_ledger, canonical
from video_audit.ledger.checkins import read_checkins, read_employed
from video_audit.standard import Profile, ProfileError
from video_audit.store import Store

CLASSES_FOLDER = "classes"
"""Where the web service keeps committed class folders, under the workspace (api/uploads.py)."""


@dataclass
class Current:
    """The ledger as its inputs make it now, and the basis a signature would keep."""

    class_id: int
    ledger: dict[str, Any] | None
    basis: dict[str, Any]
    missing: list[str] = field(default_factory=list)
    error: str | None = None
    auditing: bool = False
    inputs: dict[str, Any] = field(default_factory=dict)


def input_dict(row: Any) -> dict[str, Any] | None:
    """An uploaded input as the API shows it (None when none was given)."""
    if row is None:
        return None
    return {
        "id": row["id"],
        "name": row["name"],
        "sha256": row["sha256"],
        "employed": row["employed"],
        "by": row["uploaded_by"],
        "at": row["uploaded_at"],
    }


def employment_basis(row: Any) -> str | None:
    if row is None:
        return None
    return str(row["sha256"]) if row["file"] else f"n={row['employed']}"


def with_decisions(store: Store, audit: Any, report: dict[str, Any]) -> dict[str, Any]:
    """The report with the class's standing attendance decisions applied to its attendance."""
    rows = store.class_decisions(int(audit["class_id"]))
    if not rows:
        return report
    decisions = [Decision.of(r) for r in rows]
    classes = []
    for cls in report.get("classes") or []:
        att = cls.get("attendance")
        if isinstance(att, dict) and att.get("people"):
            seen = store.seen_people(person_descriptor(p) for p in att["people"])
            decided, _ = map_decisions(decisions, att["people"], int(audit["id"]), seen)
            cls = {**cls, "attendance": apply_decisions(att, decided)}
        classes.append(cls)
    return {**report, "classes": classes}


def class_ledger(
    store: Store,
    row: Any,
    *,
    root: Path,
    reports_dir: Path,
    class_folder: Path,
    profile: Callable[[], Profile],
) -> Current:
    """Build the ledger of the class ROW (a `classes` row) from what is stored now.

    ROOT is the workspace (check-in files are kept relative to it), REPORTS_DIR its reports,
    CLASS_FOLDER the class's committed folder; PROFILE is called only when a ledger is built.
    """
    class_id = int(row["id"])
    audit = store.latest_done_audit(class_id)
    latest = store.latest_audit(class_id)
    checkins = store.ledger_input(class_id, "checkins")
    employment = store.ledger_input(class_id, "employment")
    decisions = sorted(int(d["id"]) for d in store.class_decisions(class_id))
    basis: dict[str, Any] = {
        "class_id": class_id,
        "audit_id": int(audit["id"]) if audit is not None else None,
        "decisions": decisions,
        "checkins": checkins["sha256"] if checkins is not None else None,
        "employment": employment_basis(employment),
        "ledger_hash": None,
        "inputs": None,
    }
    out = Current(class_id, None, basis)
    out.auditing = latest is not None and latest["state"] in ("queued", "running")
    out.inputs = {"checkins": input_dict(checkins), "employment": input_dict(employment)}
    if audit is None:
        out.missing.append("audit")
    if checkins is None:
        out.missing.append("checkins")
    if out.missing:
        return out
    assert audit is not None and checkins is not None
    report = stored_report(reports_dir, audit, "zh")
    if report is None:
        out.missing.append("audit")
        return out
    report = with_decisions(store, audit, report)
    try:
        parsed = read_checkins(root / checkins["file"])
        employed: Any = None
        if employment is not None and employment["file"]:
            employed = read_employed(root / employment["file"])
        elif employment is not None:
            employed = int(employment["employed"])
        ledger = build_ledger(report, str(class_folder), parsed, employed, profile())
    except (OSError, ValueError, ProfileError) as exc:
        out.error = str(exc)
        return out
    out.ledger = ledger
    basis["ledger_hash"] = ledger.get("hash")
    basis["inputs"] = hashlib.sha256(canonical(ledger.get("inputs"))).hexdigest()
    return out


class StoreReader(Store):
    """The store's queries on a connection someone else opened (e.g. the nightly scan's,
    read-only): for reading only; it owns no writer and closes nothing."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:  # no writer thread
        self.path = path
        self._conn = conn

    def read(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        return list(self._conn.execute(sql, params))

    def close(self) -> None:
        pass
