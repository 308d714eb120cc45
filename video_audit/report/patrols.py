"""A class's live patrols in its report (issue 17): beside the disc audit, what the patrols of
the class saw — time, site, camera (never its credentials), verdict, heads, the picture in
words, the roster check, the frames — and the live head count against the disc's face rolls.

The stored report stays as the audit wrote it; the web service adds this section when it serves
the report (JSON: each class's `patrols` and `patrol_heads`; HTML: a section after the class's
attendance; XLSX: a sheet), as it does with attendance decisions."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

from video_audit.findings import rule
from video_audit.patrol.words import attendance_summary, head_gap, measure_lines, word

ImageOf = Callable[[int], bytes | None]
"""The PNG of an evidence record (by its seq), or None when it cannot be read."""


def patrol_rows(patrols: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Each patrol (video_audit.patrol.views.patrol_view) as the report shows it."""
    out = []
    for p in patrols:
        att = attendance_summary(p.get("attendance"), lang)
        how = (
            word(lang, "planned", plan=p["plan_id"], moment=p["moment"])
            if p.get("plan_id")
            else word(lang, "by_hand")
        )
        findings = [
            {**f, "remedy": rule(f["code"]).remedy.get(lang, "")}
            for f in p.get("findings_en" if lang == "en" else "findings", [])
        ]
        out.append(
            {
                **p,
                "when": str(p["started"]).replace("T", " ")[:16],
                "how": f"{how} · {p['by']}",
                "verdict": p["verdict_zh"] if lang == "zh" else p["verdict_en"],
                "measure_lines": measure_lines(p.get("measures"), lang),
                "attendance_line": att["line"] if att else "",
                "findings": findings,
            }
        )
    return out


def with_patrols_json(
    report: dict[str, Any], patrols: list[dict[str, Any]], ratio: float, lang: str
) -> dict[str, Any]:
    """REPORT with its (only) class's patrols and the head-count comparison added."""
    for cls in report.get("classes") or []:
        cls["patrols"] = patrols
        cls["patrol_heads"] = head_gap(patrols, report, ratio, lang)
    return report


def with_patrols_html(
    page: str,
    report: dict[str, Any],
    patrols: list[dict[str, Any]],
    ratio: float,
    lang: str,
    image_of: ImageOf,
) -> str:
    """A stored HTML report with the patrols' section after each class's attendance (replacing
    one added before); a page written before attendance was marked is returned as it is."""
    from video_audit.report.html import _environment, after_attendance

    rows = patrol_rows(patrols, lang)
    for row in rows:
        for f in row["frames"]:
            png = image_of(int(f["seq"]))
            f["src"] = (
                "data:image/png;base64," + base64.b64encode(png).decode("ascii") if png else None
            )
    fragment = (
        _environment()
        .get_template("class_patrols.html.j2")
        .render(
            patrols=rows,
            gap=head_gap(patrols, report, ratio, lang),
            W=lambda key, **params: word(lang, key, **params),
        )
    )
    return after_attendance(page, len(report.get("classes") or []), "patrols", fragment)


def with_patrols_xlsx(
    workbook: bytes, report: dict[str, Any], patrols: list[dict[str, Any]], ratio: float, lang: str
) -> bytes:
    """A stored report workbook with a sheet of the class's patrols (made again each time)."""
    from openpyxl import load_workbook
    from openpyxl.styles import Font

    from video_audit.spreadsheet import put

    wb = load_workbook(io.BytesIO(workbook))
    title = word(lang, "section")
    if title in wb.sheetnames:
        del wb[title]
    sheet = wb.create_sheet(title)
    keys = ("time", "site", "camera", "verdict", "heads", "measures", "attendance", "frames")
    for column, key in enumerate(keys, start=1):
        put(sheet, 1, column, word(lang, key))
        sheet.cell(1, column).font = Font(bold=True)
    n = 1
    for n, p in enumerate(patrol_rows(patrols, lang), start=2):
        verdict = "；".join([p["verdict"], *(f"{f['code']} {f['message']}" for f in p["findings"])])
        values = [
            p["when"],
            f"{p['institution']} {p['site']}",
            p["url"],
            verdict,
            p["heads"],
            "；".join(p["measure_lines"]),
            p["attendance_line"],
            " ".join(f"#{f['seq']}" for f in p["frames"]),
        ]
        for column, value in enumerate(values, start=1):
            put(sheet, n, column, value)
    gap = head_gap(patrols, report, ratio, lang)
    if gap is not None:
        put(sheet, n + 2, 1, gap["text"])
    for letter, width in zip("ABCDEFGH", (18, 24, 36, 30, 8, 40, 50, 24), strict=True):
        sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
