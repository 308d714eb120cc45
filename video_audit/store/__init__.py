"""The workspace's one SQLite database: versioned migrations and one module per concern.

    db           connections, the one writer, transactions    migrations  the ordered schema
    accounts     users and login sessions                      audits      uploaded classes, audits
    evidence     the evidence log's records                    scan        the nightly scan's state
    fingerprints footage fingerprints (reuse across classes)
    decisions    attendance review: inspectors' decisions, the people audits saw
    ledgers      补贴核算: check-in files, employment lists, the ledgers' two signatures
    spotchecks   spot-check results: 正常 / 异常 and a note per drawn moment
    patrols      远程巡查: sites, cameras, class sessions, random plans, patrols

`Store` is the database as the web service and the account commands use it.
"""

from __future__ import annotations

from video_audit.store.accounts import ROLES, Accounts
from video_audit.store.audits import ClassAudits
from video_audit.store.base import StoreError, now
from video_audit.store.db import DB_NAME, Database
from video_audit.store.decisions import AttendanceDecisions
from video_audit.store.evidence import EvidenceRecords
from video_audit.store.ledgers import Ledgers
from video_audit.store.patrols import Patrols
from video_audit.store.spotchecks import SpotCheckResults

__all__ = ["DB_NAME", "ROLES", "Database", "Store", "StoreError", "now"]


class Store(
    Accounts,
    ClassAudits,
    EvidenceRecords,
    AttendanceDecisions,
    Ledgers,
    SpotCheckResults,
    Patrols,
):
    """The workspace database with every concern's queries. Create one per process; close()."""
