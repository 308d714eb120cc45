"""A class's spot-checks (随机抽查) in its report: each moment drawn and the result an inspector
recorded there (正常 / 异常 with the note, who, when, the evidence record), added when the
report is served as attendance decisions and live patrols are (JSON `spotchecks`, an HTML
section, an XLSX sheet). SPOTS are the web's spot-check views: plain dicts, newest first."""

from __future__ import annotations

import io
from typing import Any

from video_audit.report.texts import t

RESULT_WORDS = {"normal": ("正常", "normal"), "abnormal": ("异常", "abnormal")}


def spot_rows(spot: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """Each moment of one spot-check with its standing result, in words."""
    rows = []
    for moment, result in zip(spot["moments"], spot["results"], strict=True):
        if result:
            zh, en = RESULT_WORDS.get(result["result"], (result["result"],) * 2)
            said, state = (
                (zh if lang == "zh" else en),
                ("error" if result["result"] == "abnormal" else "ok"),
            )
        else:
            said, state = t(lang, "spot_open"), "missing"
        rows.append(
            {
                "day": moment.get("day") or "",
                "time_code": moment.get("time_code") or "",
                "clip": str(moment.get("clip") or "").rsplit("/", 1)[-1],
                "result": said,
                "state": state,
                "note": (result or {}).get("note") or "",
                "by": (result or {}).get("by") or "",
                "seq": (result or {}).get("evidence_seq") or "",
                "disputed": bool((result or {}).get("disputed")),
            }
        )
    return rows


def _line(spot: dict[str, Any], lang: str) -> str:
    return t(
        lang,
        "spot_line",
        id=spot["id"],
        by=spot["by"],
        created=str(spot["created"]).replace("T", " ")[:16],
        seed=spot["seed"],
        done=spot["done"],
        count=len(spot["moments"]),
    )


def with_spotchecks_json(report: dict[str, Any], spots: list[dict[str, Any]]) -> dict[str, Any]:
    """REPORT with its (only) class's spot-checks added."""
    for cls in report.get("classes") or []:
        cls["spotchecks"] = spots
    return report


def with_spotchecks_html(page: str, report: dict[str, Any], spots: list[dict[str, Any]],
                         lang: str) -> str:  # fmt: skip
    """A stored HTML report with the spot-checks' section after each class's attendance
    (replacing one added before); a page without the attendance marks stays as it is."""
    from video_audit.report.html import _environment, after_attendance

    views = [{"line": _line(s, lang), "rows": spot_rows(s, lang)} for s in spots]
    fragment = (
        _environment()
        .get_template("class_spotchecks.html.j2")
        .render(spots=views, T=lambda key, **params: t(lang, key, **params))
    )
    return after_attendance(page, len(report.get("classes") or []), "spotchecks", fragment)


def with_spotchecks_xlsx(workbook: bytes, spots: list[dict[str, Any]], lang: str) -> bytes:
    """A stored report workbook with a sheet of the class's spot-checks (made again)."""
    from openpyxl import load_workbook
    from openpyxl.styles import Font

    from video_audit.spreadsheet import put

    wb = load_workbook(io.BytesIO(workbook))
    title = t(lang, "spot_section")
    if title in wb.sheetnames:
        del wb[title]
    sheet = wb.create_sheet(title)
    keys = ("spot_moment", "spot_clip", "spot_result", "spot_note", "spot_by", "spot_evidence")
    n = 1
    for spot in spots:
        put(sheet, n, 1, _line(spot, lang)).font = Font(bold=True)
        n += 1
        for column, key in enumerate(keys, start=1):
            put(sheet, n, column, t(lang, key)).font = Font(bold=True)
        for row in spot_rows(spot, lang):
            n += 1
            result = row["result"] + (f"（{t(lang, 'spot_disputed')}）" if row["disputed"] else "")
            values = [f"{row['day']} {row['time_code']}".strip(), row["clip"], result,
                      row["note"], row["by"], row["seq"]]  # fmt: skip
            for column, value in enumerate(values, start=1):
                put(sheet, n, column, value)
        n += 2
    for letter, width in zip("ABCDEF", (22, 40, 14, 40, 12, 10), strict=True):
        sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
