"""Renderers of an AuditReport (text, JSON, HTML, XLSX): one render() for every front end."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from video_audit.audit import AuditReport

FORMATS = ("text", "json", "html", "xlsx")


def render(report: AuditReport, fmt: str, lang: str) -> bytes:
    """The report in one of FORMATS, as bytes (ValueError names an unknown format).

    Each renderer is imported when asked for, so a build without openpyxl still renders the
    others (ImportError tells the caller that one is missing).
    """
    if fmt == "json":
        from video_audit.report import json_report

        return json_report.render(report, lang).encode("utf-8")
    if fmt == "html":
        from video_audit.report import html

        return html.render(report, lang).encode("utf-8")
    if fmt == "xlsx":
        from video_audit.report import xlsx

        return xlsx.render(report, lang)
    if fmt == "text":
        from video_audit.report import text

        return text.render(report, lang).encode("utf-8")
    raise ValueError(f"unknown report format {fmt!r} (one of {', '.join(FORMATS)})")
