"""Documents the bureau prints and files: 审核意见表, 整改通知, 公示名单 (PDF, HTML, XLSX).

Made from plain dicts (an audit report's `to_dict("zh")`, a ledger dict, spot checks and
evidence references as lists), so the CLI, the web service and scripts make the same papers.
Never imports `api`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from video_audit.documents.calendar import CalendarError, publicity_period
from video_audit.documents.content import notice, opinion, publicity
from video_audit.documents.model import Document
from video_audit.documents.source import (
    DocumentError,
    class_names,
    pick_class,
    standard_text,
)

KINDS = ("opinion", "notice", "publicity")
FORMATS = ("pdf", "html", "xlsx")

__all__ = [
    "FORMATS",
    "KINDS",
    "CalendarError",
    "Document",
    "DocumentError",
    "build_document",
    "ledger_pdf",
    "render_document",
]


def build_document(
    kind: str,
    report: Mapping[str, Any],
    *,
    ledger: Mapping[str, Any] | None = None,
    class_path: str | None = None,
    institution: str | None = None,
    spot_checks: Sequence[Mapping[str, Any]] = (),
    evidence: Sequence[Mapping[str, Any]] = (),
    start: dt.date | None = None,
    deadline: dt.date | None = None,
    standard: str | None = None,
) -> Document:
    """One document's content. Raises DocumentError (bad inputs) or CalendarError (公示 dates
    in a year the holiday calendar lacks)."""
    if kind not in KINDS:
        raise DocumentError(f"unknown document kind {kind!r} (one of {', '.join(KINDS)})")
    cls = pick_class(report, class_path, ledger)
    names = class_names(cls, institution)
    if kind == "opinion":
        return opinion(
            report, cls, names, ledger=ledger, spot_checks=spot_checks, evidence=evidence
        )
    if kind == "notice":
        return notice(report, names, deadline=deadline)
    if ledger is None:
        raise DocumentError("公示名单需要补贴台账（--ledger）/ the 公示 list needs a ledger")
    period = publicity_period(start or dt.date.today())
    return publicity(names, ledger, period, standard_text(ledger, standard, _profile_subsidy()))


def _profile_subsidy() -> Mapping[str, Any]:
    """The shipped profile's [subsidy] tiers (the 公示 states the standard the ledger applied)."""
    from video_audit.standard import load_profile

    return load_profile().section("subsidy")


def render_document(doc: Document, fmt: str, ledger: Mapping[str, Any] | None = None) -> bytes:
    """The document as PDF, HTML, or (the 公示 list with its ledger) XLSX."""
    if fmt == "pdf":
        from video_audit.documents.pdf import render_pdf

        return render_pdf(doc)
    if fmt == "html":
        from video_audit.documents.html import render_html

        return render_html(doc)
    if fmt == "xlsx":
        if doc.kind != "publicity" or ledger is None:
            raise DocumentError("XLSX 仅用于公示名单与台账 / XLSX is for the 公示 list and ledger")
        from video_audit.documents.xlsx import render_xlsx

        return render_xlsx(doc, ledger)
    raise DocumentError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")


def ledger_pdf(ledger: Mapping[str, Any], lang: str = "zh") -> bytes:
    """The subsidy ledger as a printable A4 PDF (`video-audit ledger --format pdf`): each
    trainee's verified and pending days and amount, the totals, the rule, signature lines."""
    from video_audit.documents.content import ledger_document
    from video_audit.documents.pdf import render_pdf

    return render_pdf(ledger_document(ledger))
