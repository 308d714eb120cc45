"""The attendance matrix an inspector reads: rows roster people, columns days, plus the review
pairs (roster photo beside the seen face) and the unknown people — from the JSON attendance."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from video_audit.spreadsheet import put

WORDS = {
    "zh": {
        "present": "到课",
        "review": "待核实",
        "absent": "缺勤",
        "not_seen": "未见",
        "no_footage": "无视频",
        "trainee": "学员",
        "teacher": "教师",
        "manager": "管理人员",
        "similarity": "相似度",
        "person": "人员",
        "role": "角色",
        "reviews": "待核实（请人工比对：左为名册照片，右为视频中的人脸）",
        "unknowns": "名册外人员（视频中出现、与名册上任何人都不相符）",
        "candidates": "候选人",
        "distance": "距离",
        "seen_in": "出现于",
        "thresholds": "判定阈值",
        "problems": "名册问题",
        "engine_embedded": "内置引擎",
        "engine_insightface": "insightface 模型包",
        "engine_advice_embedded": (
            "内置引擎对华人面孔区分力有限：无法确认的人员列为待核实，不会判为到课；"
            "对华人学员作出结论，建议安装 insightface 模型包"
        ),
    },
    "en": {
        "present": "present",
        "review": "to review",
        "absent": "absent",
        "not_seen": "not seen",
        "no_footage": "no footage",
        "trainee": "trainee",
        "teacher": "teacher",
        "manager": "manager",
        "similarity": "similarity",
        "person": "person",
        "role": "role",
        "reviews": "To review (compare by eye: roster photo left, face seen right)",
        "unknowns": "Not on the roster (seen in the clips, matching nobody)",
        "candidates": "candidates",
        "distance": "distance",
        "seen_in": "seen in",
        "thresholds": "decision thresholds",
        "problems": "roster problems",
        "engine_embedded": "built-in engine",
        "engine_insightface": "insightface model pack",
        "engine_advice_embedded": (
            "the built-in engine tells East Asian faces apart poorly: people it cannot confirm "
            "go to review, never to present; for verdicts on Chinese trainees install an "
            "insightface model pack"
        ),
    },
}


def words(lang: str) -> dict[str, str]:
    return WORDS.get(lang, WORDS["zh"])


def engine_line(attendance: Mapping[str, Any], lang: str) -> tuple[str, str]:
    """The engine as an inspector reads it, and the advice that goes with it ('' when none).

    The JSON keeps the engine's own description (`engine`); `engine_name` picks the words.
    """
    w = words(lang)
    described = str(attendance.get("engine") or "")
    name = str(attendance.get("engine_name") or described.split(" ", 1)[0])
    label = w.get(f"engine_{name}")
    if not label:
        return described, ""
    line = f"{label}（{described}）" if lang == "zh" else f"{label} ({described})"
    return line, w.get(f"engine_advice_{name}", "")


def _cell(person: Mapping[str, Any], day: Mapping[str, Any]) -> dict[str, Any]:
    pid = person.get("id")
    if not day.get("footage", True):
        return {"state": "no_footage"}
    for match in day.get("matches") or []:
        if match.get("id") == pid:
            return {
                "state": "present",
                "similarity": match.get("similarity"),
                "thumbnail": match.get("thumbnail"),
            }
    if any(pid in (r.get("candidates") or []) for r in day.get("review") or []):
        return {"state": "review"}
    if pid in (day.get("absent") or []):
        return {"state": "absent"}
    return {"state": "not_seen" if person.get("role") != "trainee" else "absent"}


def attendance_matrix(attendance: Any, lang: str) -> dict[str, Any] | None:
    """Rows, columns, review pairs and unknowns, ready for a template or a sheet."""
    if not isinstance(attendance, Mapping) or not attendance.get("roster"):
        return None
    w = words(lang)
    days = [d for d in attendance.get("days") or [] if isinstance(d, Mapping)]
    columns = [d.get("date") or d.get("path", "") for d in days]
    rows = []
    for person in attendance["roster"]:
        cells = []
        for day in days:
            cell = _cell(person, day)
            cell["label"] = w[cell["state"]]
            cells.append(cell)
        rows.append(
            {
                "id": person.get("id"),
                "name": person.get("name"),
                "role": w.get(str(person.get("role")), str(person.get("role"))),
                "cells": cells,
            }
        )
    roster = {p.get("id"): p for p in attendance["roster"]}
    reviews, unknowns = [], []
    for column, day in zip(columns, days, strict=True):
        for case in day.get("review") or []:
            ids = case.get("candidates") or []
            photos = case.get("photos") or [None] * len(ids)
            distances = case.get("distances") or [None] * len(ids)
            reviews.append(
                {
                    "day": column,
                    "thumbnail": case.get("thumbnail"),
                    "seen_in": [s.rsplit("/", 1)[-1] for s in case.get("seen_in") or []],
                    "candidates": [
                        {
                            "id": pid,
                            "name": (roster.get(pid) or {}).get("name", ""),
                            "photo": photo,
                            "distance": dist,
                        }
                        for pid, photo, dist in zip(ids, photos, distances, strict=False)
                    ],
                }
            )
        for case in day.get("unknown") or []:
            unknowns.append(
                {
                    "day": column,
                    "thumbnail": case.get("thumbnail"),
                    "seen_in": [s.rsplit("/", 1)[-1] for s in case.get("seen_in") or []],
                }
            )
    return {
        "words": w,
        "columns": columns,
        "rows": rows,
        "reviews": reviews,
        "unknowns": unknowns,
        "thresholds": attendance.get("thresholds") or {},
        "problems": attendance.get("problems") or [],
    }


def add_attendance_sheet(workbook: Any, report: Mapping[str, Any], lang: str) -> None:
    """An attendance sheet (openpyxl): per class the matrix, then review cases and unknowns.

    Not added when no class has attendance. Thumbnails are named by path (faces/…, beside the
    report file), not embedded: the workbook stays small and free of face images.
    """
    from openpyxl.styles import Font, PatternFill

    classes = [
        (c, m)
        for c in report.get("classes") or []
        if (m := attendance_matrix(c.get("attendance"), lang)) is not None
    ]
    if not classes:
        return
    w = words(lang)
    ws = workbook.create_sheet("出勤" if lang == "zh" else "Attendance")
    fills = {
        "present": PatternFill("solid", fgColor="E8F5E9"),
        "review": PatternFill("solid", fgColor="FFF8E1"),
        "absent": PatternFill("solid", fgColor="FDECEA"),
    }
    bold = Font(bold=True)
    row = 1
    for cls, m in classes:
        put(ws, row, 1, cls.get("folder") or cls.get("path")).font = bold
        row += 1
        for col, title in enumerate([w["person"], "ID", w["role"], *m["columns"]], start=1):
            put(ws, row, col, title).font = bold
        for r in m["rows"]:
            row += 1
            for col, value in enumerate([r["name"], r["id"], r["role"]], start=1):
                put(ws, row, col, value)
            for col, cell in enumerate(r["cells"], start=4):
                text = cell["label"]
                if cell.get("similarity") is not None:
                    text += f" {cell['similarity']:.2f}"
                target = put(ws, row, col, text)
                if cell["state"] in fills:
                    target.fill = fills[cell["state"]]
        for title, cases in ((w["reviews"], m["reviews"]), (w["unknowns"], m["unknowns"])):
            if not cases:
                continue
            row += 2
            put(ws, row, 1, title).font = bold
            for case in cases:
                row += 1
                put(ws, row, 1, case["day"])
                put(ws, row, 2, case["thumbnail"])
                put(ws, row, 3, "、".join(case["seen_in"]))
                for k, cand in enumerate(case.get("candidates", [])):
                    put(
                        ws,
                        row,
                        4 + k,
                        f"{cand['name']} {cand['id']} ({w['distance']} {cand['distance']})",
                    )
        row += 2
    for letter, width in zip("ABCDEFGHIJ", (14, 22, 10, 16, 16, 16, 16, 16, 16, 16), strict=True):
        ws.column_dimensions[letter].width = width
