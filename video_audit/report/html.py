"""The HTML report: one self-contained page an inspector opens offline or prints."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from video_audit import __version__
from video_audit.audit import AuditReport
from video_audit.disc import ClassFolder, Clip
from video_audit.faces.images import face_images
from video_audit.faces.matrix import attendance_matrix, engine_line
from video_audit.findings import Finding
from video_audit.report.details import detail_parts, remedy
from video_audit.report.details import details_text as details_text
from video_audit.report.matrix import (
    Cell,
    CellState,
    day_rows,
    disc_level,
    outside_days,
    slots,
    year_note,
)
from video_audit.report.texts import t
from video_audit.rules.format import CONTAINER_NAMES, clock

CELL_MARK: dict[CellState, str] = {"ok": "✓", "warning": "!", "error": "✗", "missing": ""}


def relative(path: str, base: str, lang: str, in_class: bool = True) -> str:
    """A finding's path as seen from its class (in_class) or from the disc root."""
    if path == base:
        return t(lang, "class_folder" if in_class else "disc_root")
    if base in (".", ""):
        return path
    return path[len(base) + 1 :] if path.startswith(base + "/") else path


def clip_info(clip: Clip) -> str:
    """Duration, display resolution and container of a probed clip, e.g. 10:05 · 1024×768 · MP4."""
    media = clip.media
    if media is None:
        return ""
    parts = []
    if media.duration is not None:
        parts.append(clock(media.duration))
    size = media.display_size
    if size:
        parts.append(f"{size[0]}×{size[1]}")
    if media.container:
        parts.append(CONTAINER_NAMES.get(media.container, media.container.upper()))
    return " · ".join(parts)


def cell_mark(cell: Cell, lang: str) -> str:
    """✓, !, ✗ or the word for missing."""
    return CELL_MARK[cell.state] or t(lang, "missing")


def _finding_view(f: Finding, base: str | None, lang: str) -> dict[str, Any]:
    """One finding for the template; base None: a disc-level finding."""
    return {
        "severity": f.severity,
        "severity_label": t(lang, f"severity_{f.severity}"),
        "code": f.code,
        "title": f.rule.title.get(lang) or f.rule.title["en"],
        "file": relative(f.path, base or ".", lang, in_class=base is not None),
        "message": f.message(lang),
        "details": detail_parts(f, lang),
        "remedy": remedy(f, lang),
    }


def _class_view(
    report: AuditReport, cls: ClassFolder, index: int, data: dict[str, Any], lang: str
) -> dict[str, Any]:
    rows = day_rows(report, cls)
    slotted = {c.rel for row in rows for cell in row.cells for c in cell.clips}
    # The recorded range from each clip's on-screen clock, or 未找到画面时间 (video_audit.clock).
    clocks = {rel: c.label(lang) for rel, c in report.extras.get("clock", {}).items()}
    days = []
    for row in rows:
        days.append(
            {
                "date": row.day.date.isoformat() if row.day.date else t(lang, "no_date"),
                "dated": row.day.date is not None,
                "folder": row.day.folder,
                "state": row.state,
                "errors": sum(f.severity == "error" for f in row.findings),
                "warnings": sum(f.severity == "warning" for f in row.findings),
                "cells": [
                    {
                        "state": cell.state,
                        "mark": cell_mark(cell, lang),
                        "codes": cell.codes,
                        "clips": [
                            {"file": c.filename, "info": clip_info(c), "clock": clocks.get(c.rel)}
                            for c in cell.clips
                        ],
                    }
                    for cell in row.cells
                ],
                "others": _join([c.filename for c in row.day.clips if c.rel not in slotted], lang),
            }
        )
    ordered = outside_days(report, cls) + [f for row in rows for f in row.findings]
    return {
        "id": f"class-{index + 1}",
        "folder": cls.folder,
        "prefix": cls.prefix or "",
        "year_note": year_note(cls, lang) or "",
        "roster": cls.roster.name if cls.roster else "",
        "summary": data["summary"],
        "days": days,
        "clips": sum(1 for _ in cls.clips),
        "findings": [_finding_view(f, cls.rel, lang) for f in ordered],
        "attendance": _attendance_view(data.get("attendance"), cls.rel, lang),
    }


def _join(items: list[str], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(items)


def _count(value: Any) -> int:
    if isinstance(value, int):
        return value
    return len(value) if isinstance(value, list | tuple | dict) else 0


def _attendance_view(attendance: Any, base: str, lang: str) -> dict[str, Any] | None:
    """Whatever faces put in classes[].attendance, as counts per day (None until faces land)."""
    if not isinstance(attendance, Mapping):
        return None
    engine, advice = engine_line(attendance, lang)
    # absent lists roster keys (masked IDs in reports before keys): shown as names.
    names = {
        r.get("key") or r.get("id"): f"{r.get('name', '')} {r.get('id', '')}".strip()
        for r in attendance.get("roster") or []
        if isinstance(r, Mapping)
    }
    days = []
    for day in attendance.get("days") or []:
        if not isinstance(day, Mapping):
            continue
        absent = day.get("absent") or []
        head = day.get("head_count")
        days.append(
            {
                "date": day.get("date") or t(lang, "no_date"),
                "folder": relative(str(day.get("path", "")), base, lang),
                "present": _count(day.get("present")),
                "absent": _count(absent),
                "review": _count(day.get("review")),
                "unknown": _count(day.get("unknown")),
                "head_count": head.get("count") if isinstance(head, Mapping) else None,
                "absent_ids": _join([names.get(a, str(a)) for a in absent], lang)
                if isinstance(absent, list)
                else "",
            }
        )
    return {
        "engine": engine,
        "engine_advice": advice,
        "error": str(attendance.get("error") or ""),
        "days": days,
        "head_counts": any(d["head_count"] is not None for d in days),
        "matrix": attendance_matrix(attendance, lang),
    }


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def _image_sources(report: AuditReport, faces: bool) -> dict[str, str]:
    """Each face thumbnail as a data: URI, by its path in the JSON: the page is one file that
    can be mailed or archived. Without faces (--no-faces) none: the page shows no face at all."""
    if not faces:
        return {}
    return {
        name: "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")
        for name, data in face_images(report.extras).items()
    }


def render(report: AuditReport, lang: str = "zh", faces: bool = True) -> str:
    """The whole report as one HTML document (inline CSS, no scripts, no external links; face
    thumbnails embedded, or left out with faces=False)."""
    data = report.to_dict(lang)
    images = _image_sources(report, faces)
    classes = [
        _class_view(report, cls, i, data["classes"][i], lang)
        for i, cls in enumerate(report.disc.classes)
    ]
    summary = report.summary
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            lang=lang,
            colon="：" if lang == "zh" else ": ",
            T=lambda key, **params: t(lang, key, **params),
            version=__version__,
            standard=report.profile.name(lang),
            path=str(report.root),
            audited_at=f"{report.finished:%Y-%m-%d %H:%M:%S}",
            summary={**summary, "verdict_label": t(lang, summary["verdict"])},
            slots=slots(report),
            disc_findings=[_finding_view(f, None, lang) for f in disc_level(report)],
            classes=classes,
            face=lambda path: images.get(path) if path else None,
        )
    )


def after_attendance(page: str, classes: int, name: str, fragment: str) -> str:
    """PAGE with FRAGMENT as section NAME after each of its CLASSES' attendance (replacing
    that section when an earlier serving added it); a page without the marks stays as it is."""
    for i in range(classes):
        end = f"<!-- /attendance:{i} -->"
        begin_s, end_s = f"<!-- {name}:{i} -->", f"<!-- /{name}:{i} -->"
        if begin_s in page and end_s in page:
            head, rest = page.split(begin_s, 1)
            page = head + rest.split(end_s, 1)[1]
        if end in page:
            head, tail = page.split(end, 1)
            page = f"{head}{end}\n{begin_s}\n{fragment}{end_s}{tail}"
    return page


def with_attendance(
    page: str, data: Mapping[str, Any], lang: str, faces_dir: Path | None = None
) -> str:
    """A stored HTML report with each class's attendance made again from DATA (the report's
    JSON with an inspector's decisions applied); the rest of the page stays as the audit wrote
    it. Thumbnails come from FACES_DIR (the faces/ folder written beside the report). A page
    written before these sections were marked is returned as it is."""
    images: dict[str, str] = {}
    if faces_dir is not None and faces_dir.is_dir():
        for image in sorted(faces_dir.glob("*.jpg")):
            encoded = base64.b64encode(image.read_bytes()).decode("ascii")
            images[f"{faces_dir.name}/{image.name}"] = "data:image/jpeg;base64," + encoded
    template = _environment().get_template("class_attendance.html.j2")
    for i, cls in enumerate(data.get("classes") or []):
        begin, end = f"<!-- attendance:{i} -->", f"<!-- /attendance:{i} -->"
        if begin not in page or end not in page:
            continue
        view = {"attendance": _attendance_view(cls.get("attendance"), cls.get("path", "."), lang)}
        fragment = template.render(
            c=view,
            colon="：" if lang == "zh" else ": ",
            T=lambda key, **params: t(lang, key, **params),
            face=lambda path: images.get(path) if path else None,
        )
        head, rest = page.split(begin, 1)
        _, tail = rest.split(end, 1)
        page = f"{head}{begin}\n{fragment}{end}{tail}"
    return page
