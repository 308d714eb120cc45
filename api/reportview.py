"""The report page's view of a stored audit: per day, per rule, attendance, downloads."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from api.context import Service
from video_audit.faces import review
from video_audit.faces.matrix import words
from video_audit.findings import catalogue
from video_audit.ledger import workspace
from video_audit.rules.format import clock

SLOTS = ("roll1", "roll2", "lesson")
DOWNLOADS = (("json", "JSON"), ("html", "HTML"), ("xlsx", "Excel"))


def stored_report(svc: Service, audit: Any, lang: str) -> dict[str, Any] | None:
    """The audit's JSON report in lang (the file written at audit time), else the stored zh one."""
    return review.stored_report(svc.reports_dir, audit, lang)


MOMENTS_SHOWN = 8


def finding_moments(finding: dict[str, Any]) -> list[dict[str, Any]]:
    """The clip times a finding names, for links to the player: stretches (QA03/QA04) and the
    reused stretch (QA05) as {t, end}, events (QA06) and worst frames (QA01/QA02) as {t}; QA07
    (the recording time, read where the clip begins) its start. Each with a label for people
    (5:00–6:39, 5:00)."""
    details = finding.get("details") or {}
    spans: list[tuple[float, float | None]] = []
    pairs = list(details.get("stretches") or [])
    if isinstance(details.get("span_seconds"), list | tuple):
        pairs.append(details["span_seconds"])
    for pair in pairs:
        if isinstance(pair, list | tuple) and len(pair) == 2:
            spans.append((float(pair[0]), float(pair[1])))
    for event in details.get("events") or []:
        if isinstance(event, dict) and isinstance(event.get("at"), int | float):
            spans.append((float(event["at"]), None))
    for key in ("at_seconds", "at"):
        if isinstance(details.get(key), int | float) and not spans:
            spans.append((float(details[key]), None))
    if not spans and finding.get("code") == "QA07":
        spans.append((0.0, None))
    moments: list[dict[str, Any]] = []
    for start, end in sorted(set(spans), key=lambda s: s[0])[:MOMENTS_SHOWN]:
        start = max(0.0, start)
        label = clock(start) if end is None else f"{clock(start)}–{clock(end)}"
        moments.append(
            {"t": round(start, 2), "end": None if end is None else round(end, 2), "label": label}
        )
    return moments


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
    clips = {
        c["path"] for cls in report.get("classes") or [] for d in cls["days"] for c in d["clips"]
    }
    findings = [
        {**f, "moments": finding_moments(f) if f["path"] in clips else []}
        for f in report["findings"]
    ]
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
