"""The JSON report: the DESIGN.md contract, for scripts."""

from __future__ import annotations

import json

from video_audit.audit import AuditReport


def render(report: AuditReport, lang: str = "zh") -> str:
    """The report as a JSON document (UTF-8 text, Chinese kept readable)."""
    return json.dumps(report.to_dict(lang), ensure_ascii=False, indent=2) + "\n"
