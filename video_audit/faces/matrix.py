"""The attendance matrix an inspector reads: rows roster people, columns days, plus the review
pairs (roster photo beside the seen face) and the unknown people — from the JSON attendance."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from video_audit.findings import localise
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
        "distance_text": "与名册照片差距 {distance}（差距越小越像；自动认定须 ≤ {accept}）",
        "seen_in": "出现于",
        "thresholds": "判定阈值",
        "problems": "名册问题",
        "engine_embedded": "内置引擎",
        "engine_insightface": "insightface 模型包",
        "engine_advice_embedded": (
            "内置引擎对华人面孔区分力有限：无法确认的人员列为待核实，不会判为到课；"
            "对华人学员作出结论，建议安装 insightface 模型包"
        ),
        "reason": "原因",
        "reason_distance": "与名册照片的差距超出自动判定范围",
        "reason_margin": "与另一名册人员同样相近",
        "reason_rival": "当天另有一人与同一名册人员同样相近",
        "reason_frames": "各帧比对结果不一致",
        "reason_absent_nearby": "该学员当天未被认出，但有一张未认定的人脸与其相近，不能判为缺勤",
        "days_seen": "出现日期",
        "machine": "机器判定",
        "machine_similarity": (
            "机器判定：与名册照片的相似度 {similarity}（1 为完全相同），达到自动认定标准"
        ),
        "confirmed": "人工确认",
        "confirmed_present": "到课（人工确认）",
        "decided_stranger": "名册外人员",
        "decided_undecidable": "无法判断（留待现场核查）",
        "decisions": "人工核实结果",
        "state": "状态",
        "basis": "依据",
        "attendance_by_day": "出勤明细",
        "masked_id": "证件号（部分隐藏）",
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
        "distance_text": (
            "{distance} from the roster photo (smaller is closer; an automatic verdict needs"
            " ≤ {accept})"
        ),
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
        "reason": "why",
        "reason_distance": "farther from the roster photo than an automatic verdict allows",
        "reason_margin": "as close to another roster person",
        "reason_rival": "someone else that day is as close to the same roster person",
        "reason_frames": "the frames disagree",
        "reason_absent_nearby": (
            "the trainee was not recognised that day, but an unassigned face is close to them: "
            "not counted absent"
        ),
        "days_seen": "days seen",
        "machine": "machine verdict",
        "machine_similarity": (
            "machine verdict: similarity to the roster photo {similarity} (1 = identical), "
            "enough for an automatic verdict"
        ),
        "confirmed": "confirmed by an inspector",
        "confirmed_present": "present (confirmed)",
        "decided_stranger": "not on the roster",
        "decided_undecidable": "cannot tell (left for an on-site check)",
        "decisions": "Inspectors' decisions",
        "state": "state",
        "basis": "basis",
        "attendance_by_day": "Attendance by day",
        "masked_id": "ID (masked)",
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
    # A Chinese reader gets the plain label; the engine's own description (models, runtime) is
    # for English readers and the JSON.
    line = label if lang == "zh" else f"{label} ({described})"
    return line, w.get(f"engine_advice_{name}", "")


def _key(person: Mapping[str, Any]) -> Any:
    """How the attendance names a roster person: the roster key (reports before keys: the
    masked ID, which is what their present/absent lists held)."""
    return person.get("key") or person.get("id")


def reason_text(reason: Any, w: Mapping[str, str]) -> str:
    return w.get(f"reason_{reason}", "") if reason else ""


def decision_text(decided_by: Any, lang: str) -> str:
    """An inspector's decision as every format shows it: 人工确认：王检查 2024-06-05 10:12
    ('' for the machine's verdict). DECIDED_BY is a login, or {by, at, kind, …}."""
    if not decided_by:
        return ""
    w = words(lang)
    if isinstance(decided_by, Mapping):
        who = str(decided_by.get("by") or decided_by.get("name") or decided_by.get("login") or "")
        at = str(decided_by.get("at") or "")[:16].replace("T", " ")
        kind = decided_by.get("kind")
    else:
        who, at, kind = str(decided_by), "", None
    sep = "：" if lang == "zh" else ": "
    shown = " ".join(part for part in (who, at) if part)
    note = f"{w['confirmed']}{sep}{shown}" if shown else w["confirmed"]
    if kind in ("stranger", "undecidable"):
        note = f"{w[f'decided_{kind}']} · {note}"
    return note


def _decided(attendance: Mapping[str, Any]) -> dict[Any, Mapping[str, Any]]:
    """The class's people an inspector decided on, by person (attendance.people)."""
    return {
        p.get("person"): p
        for p in attendance.get("people") or []
        if isinstance(p, Mapping) and p.get("decided_by")
    }


def _cell(
    person: Mapping[str, Any],
    day: Mapping[str, Any],
    w: Mapping[str, str],
    decided: Mapping[Any, Mapping[str, Any]],
    lang: str,
) -> dict[str, Any]:
    pid = _key(person)
    if not day.get("footage", True):
        return {"state": "no_footage"}
    for match in day.get("matches") or []:
        if _key(match) == pid:
            by = match.get("decided_by") or (decided.get(match.get("person")) or {}).get(
                "decided_by"
            )
            return {
                "state": "present",
                "similarity": match.get("similarity"),
                "thumbnail": match.get("thumbnail"),
                "decided": decision_text(by, lang),
            }
    path = day.get("path")
    for case in day.get("review") or []:
        if pid in (case.get("candidates") or []):
            by = case.get("decided_by") or (decided.get(case.get("person")) or {}).get("decided_by")
            return {
                "state": "review",
                "reason": reason_text(case.get("reason"), w),
                "decided": decision_text(by, lang),
            }
    if pid in (day.get("absent") or []) or person.get("role") == "trainee":
        # A candidate the inspector ruled out (名册外人员) on this day: absent, by decision.
        ruled_out = next(
            (
                p
                for p in decided.values()
                if p.get("state") != "present"
                and path in (p.get("days") or [])
                and pid in (p.get("candidates") or [])
            ),
            None,
        )
        note = decision_text(ruled_out.get("decided_by"), lang) if ruled_out else ""
        return {"state": "absent", "decided": note}
    return {"state": "not_seen"}


def cell_basis(cell: Mapping[str, Any], w: Mapping[str, str]) -> str:
    """Why a cell holds its state, in words (the XLSX reason column, the HTML title)."""
    if cell.get("decided"):
        return str(cell["decided"])
    if cell["state"] == "present":
        similarity = cell.get("similarity")
        if similarity is None:
            return w["machine"]
        return w["machine_similarity"].format(similarity=f"{similarity:.2f}")
    return str(cell.get("reason") or "")


def attendance_matrix(attendance: Any, lang: str) -> dict[str, Any] | None:
    """Rows, columns, review cases and unknowns, ready for a template or a sheet.

    Review cases and unknowns are one per person of the class (attendance.people: one decision
    each, shown with every day the person was seen); reports before people: one per day."""
    if not isinstance(attendance, Mapping) or not attendance.get("roster"):
        return None
    w = words(lang)
    days = [d for d in attendance.get("days") or [] if isinstance(d, Mapping)]
    # A day by its date, an undated one by its own folder name (第三天), not its path.
    columns = [d.get("date") or str(d.get("path", "")).rsplit("/", 1)[-1] for d in days]
    decided = _decided(attendance)
    rows = []
    for person in attendance["roster"]:
        cells = []
        for day in days:
            cell = _cell(person, day, w, decided, lang)
            confirmed = cell["state"] == "present" and cell.get("decided")
            cell["label"] = w["confirmed_present"] if confirmed else w[cell["state"]]
            cell["basis"] = cell_basis(cell, w)
            cells.append(cell)
        rows.append(
            {
                "key": _key(person),
                "id": person.get("id"),
                "name": person.get("name"),
                "role": w.get(str(person.get("role")), str(person.get("role"))),
                "cells": cells,
            }
        )
    roster = {_key(p): p for p in attendance["roster"]}
    accept = (attendance.get("thresholds") or {}).get("accept")

    def distance_text(dist: Any) -> str:
        """A distance with what it means: the number alone says nothing to an inspector."""
        if not isinstance(dist, int | float):
            return ""
        if not isinstance(accept, int | float):
            return f"{w['distance']} {dist:.2f}"
        return w["distance_text"].format(distance=f"{dist:.2f}", accept=f"{accept:.2f}")

    def candidates(case: Mapping[str, Any]) -> list[dict[str, Any]]:
        keys = case.get("candidates") or []
        photos = case.get("photos") or [None] * len(keys)
        distances = case.get("distances") or [None] * len(keys)
        return [
            {
                "key": pid,
                "id": (roster.get(pid) or {}).get("id", ""),
                "name": (roster.get(pid) or {}).get("name", ""),
                "photo": photo,
                "distance": dist,
                "distance_text": distance_text(dist),
            }
            for pid, photo, dist in zip(keys, photos, distances, strict=False)
        ]

    def seen(case: Mapping[str, Any]) -> list[str]:
        return [s.rsplit("/", 1)[-1] for s in case.get("seen_in") or []]

    reviews: list[dict[str, Any]] = []
    unknowns: list[dict[str, Any]] = []
    decisions: list[dict[str, Any]] = []
    people = [p for p in attendance.get("people") or [] if isinstance(p, Mapping)]
    if people or "people" in attendance:
        column = {d.get("path"): c for c, d in zip(columns, days, strict=True)}
        sep = "、" if lang == "zh" else ", "
        for p in people:
            faces = [f for f in p.get("faces") or [] if isinstance(f, Mapping)]
            case = {
                "person": p.get("person"),
                "day": sep.join(str(column.get(d, d)) for d in p.get("days") or []),
                "days": len(p.get("days") or []),
                "thumbnail": faces[0].get("thumbnail") if faces else None,
                "thumbnails": [f.get("thumbnail") for f in faces],
                "seen_in": sorted({s for f in faces for s in seen(f)}),
            }
            if p.get("decided_by"):
                entry = roster.get(p.get("key")) if p.get("state") == "present" else None
                who = f"{entry.get('name', '')} {entry.get('id', '')}".strip() if entry else ""
                decisions.append({**case, "who": who, "note": decision_text(p["decided_by"], lang)})
            if p.get("state") in ("review", "undecidable"):  # undecidable: left for on site
                case["candidates"] = candidates(p)
                case["reason"] = reason_text(p.get("reason"), w)
                case["decided"] = decision_text(p.get("decided_by"), lang)
                reviews.append(case)
            elif p.get("state") in ("unknown", "stranger"):
                unknowns.append(case)
    else:
        for column_name, day in zip(columns, days, strict=True):
            for case in day.get("review") or []:
                reviews.append(
                    {
                        "day": column_name,
                        "thumbnail": case.get("thumbnail"),
                        "seen_in": seen(case),
                        "candidates": candidates(case),
                        "reason": reason_text(case.get("reason"), w),
                    }
                )
            for case in day.get("unknown") or []:
                unknowns.append(
                    {"day": column_name, "thumbnail": case.get("thumbnail"), "seen_in": seen(case)}
                )
    return {
        "words": w,
        "columns": columns,
        "rows": rows,
        "reviews": reviews,
        "unknowns": unknowns,
        "decisions": decisions,
        "thresholds": attendance.get("thresholds") or {},
        "problems": [localise(p, lang) for p in attendance.get("problems") or []],
    }


def add_attendance_sheet(workbook: Any, report: Mapping[str, Any], lang: str) -> None:
    """An attendance sheet (openpyxl): per class the matrix, then review cases and unknowns.

    Not added when no class has attendance. A cell holds the state only (the reason is in the
    出勤明细 sheet, a column of its own). Thumbnails are neither embedded nor named: the workbook
    stays small, free of face images and of paths to files outside it.
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
        "confirmed": PatternFill("solid", fgColor="C8E6C9"),
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
                target = put(ws, row, col, cell["label"])
                confirmed = cell["state"] == "present" and cell.get("decided")
                if (fill := fills.get("confirmed" if confirmed else cell["state"])) is not None:
                    target.fill = fill
        for title, cases in ((w["reviews"], m["reviews"]), (w["unknowns"], m["unknowns"])):
            if not cases:
                continue
            row += 2
            put(ws, row, 1, title).font = bold
            for case in cases:
                row += 1
                put(ws, row, 1, case["day"])
                put(ws, row, 2, ("、" if lang == "zh" else ", ").join(case["seen_in"]))
                for k, cand in enumerate(case.get("candidates", [])):
                    put(
                        ws,
                        row,
                        3 + k,
                        f"{cand['name']} {cand['id']}：{cand['distance_text']}"
                        if lang == "zh"
                        else f"{cand['name']} {cand['id']}: {cand['distance_text']}",
                    )
                if case.get("reason"):
                    put(ws, row, 3 + len(case.get("candidates", [])), case["reason"])
        row += 2
    for letter, width in zip("ABCDEFGHIJ", (14, 22, 10, 16, 16, 16, 16, 16, 16, 16), strict=True):
        ws.column_dimensions[letter].width = width
