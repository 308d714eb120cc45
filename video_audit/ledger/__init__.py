"""From verified attendance to payment: phone check-ins, the subsidy ledger (二(六), 四(二)).

`read_checkins` / `read_employed` read the real-name system's exports; `build_ledger` reconciles
the check-ins with an audit's attendance (rule codes CK01–CK05) and prices the verified days by
the profile's [subsidy] section. See docs/ledger.md.
"""

from __future__ import annotations

from video_audit.ledger.build import LedgerError, build_ledger, canonical, ledger_hash
from video_audit.ledger.checkins import (
    Checkin,
    CheckinFile,
    EmployedFile,
    read_checkins,
    read_employed,
)
from video_audit.ledger.subsidy import SubsidyRules, money

__all__ = [
    "Checkin",
    "CheckinFile",
    "EmployedFile",
    "LedgerError",
    "SubsidyRules",
    "build_ledger",
    "canonical",
    "ledger_hash",
    "money",
    "read_checkins",
    "read_employed",
]
