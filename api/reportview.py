"""The report page's view of a stored audit: per day, per rule, attendance, downloads."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from api.context import Service
from video_audit.faces.matrix import words
from video_audit.findings import catalogue
from video_audit.ledger import workspace

SLOTS = ("roll1", "roll2", "lesson")
DOWNLOADS = (("json", "JSON"), ("html", "HTML"), ("xlsx", "Excel"))


def stored_report(svc: Service, audit: Any, lang: str) -> dict[str, Any] | None:
    """The audit's JSON report in lang (the file written at audit time), else the stored zh one."""
    return workspace.stored_report(svc.reports_dir, audit, lang)


def _slot(clip: dict[str, Any]) -> str | None:
    if clip.get("kind") == "roll" and clip.get("slot"):
        return f"roll{clip['slot']}"
    if clip.get("kind") == "lesson":
        return "lesson"
    return None


def _cell_state(clips: list[dict[str, Any]], severity: dict[str, str]) -> str:
    if not clips:
        return "missing"
    levels = {severity.get(code, "info") for c in clips for code in c["codes"]}
    if "error" in levels:
        return "error"
    if "warning" in levels:
        return "warning"
    return "ok"


def _days(cls: dict[str, Any], findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    severity = {f["code"]: f["severity"] for f in findings}
    rows = []
    for day in sorted(cls["days"], key=lambda d: (d["date"] is None, d["date"] or "", d["folder"])):
        cells = {}
        for slot in SLOTS:
            clips = [c for c in day["clips"] if _slot(c) == slot]
            cells[slot] = {"clips": clips, "state": _cell_state(clips, severity)}
        inside = [
            f
            for f in findings
            if f["path"] == day["path"] or f["path"].startswith(day["path"] + "/")
        ]
        others = [c for c in day["clips"] if _slot(c) is None]
        rows.append({**day, "cells": cells, "other_clips": others, "findings": inside})
    return rows


def _rules(findings: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        groups[f["code"]].append(f)
    rules = catalogue()
    out = []
    for code in sorted(
        groups, key=lambda c: ({"error": 0, "warning": 1}.get(groups[c][0]["severity"], 2), c)
    ):
        rule = rules.get(code)
        out.append(
            {
                "code": code,
                "severity": groups[code][0]["severity"],
                "title": rule.title.get(lang, code) if rule else code,
                "description": rule.description.get(lang, "") if rule else "",
                "findings": groups[code],
            }
        )
    return out


def with_decisions(svc: Service, audit: Any, report: dict[str, Any]) -> dict[str, Any]:
    """The report with the class's attendance decisions applied to each class's attendance
    (the stored file is never rewritten: decisions are applied as it is served)."""
    return workspace.with_decisions(svc.store, audit, report)


def report_view(svc: Service, audit: Any, lang: str) -> dict[str, Any] | None:
    """Everything class.html shows for a finished audit (None while queued/running/failed)."""
    report = stored_report(svc, audit, lang)
    if report is None:
        return None
    report = with_decisions(svc, audit, report)
    files = json.loads(audit["files"] or "{}")
    findings = report["findings"]
    classes = [
        {
            "path": cls.get("path", "."),
            "folder": cls.get("folder"),
            "summary": cls.get("summary"),
            "days": _days(cls, findings),
            "attendance": cls.get("attendance"),
            "words": words(lang),  # attendance words (review reasons) in the page's language
        }
        for cls in report.get("classes") or []
    ]
    return {
        "report": report,
        "summary": report["summary"],
        "classes": classes,
        "rules": _rules(findings, lang),
        "downloads": [
            (fmt, label)
            for fmt, label in DOWNLOADS
            if f"{fmt}-{lang}" in files or f"{fmt}-zh" in files
        ],
    }
