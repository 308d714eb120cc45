"""A ledger as a clerk reads it: a text table (Chinese first) and an XLSX workbook whose every
string goes through spreadsheet.put (a name like `=1+2` stays text, never a formula)."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from video_audit.spreadsheet import keep_text_everywhere, put

WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "补贴台账",
        "class": "班级",
        "name": "姓名",
        "id": "身份证号",
        "verified": "核实天数",
        "pending": "待核实天数",
        "amount": "补贴金额（元）",
        "employed": "已就业",
        "total": "合计",
        "rule": "拨付规则",
        "full": "就业率达标，按培训人数全额拨付",
        "by_employed": "就业率未达标，按实际就业人数申领",
        "unknown": "未提供就业情况，暂按培训人数计算（拨付前须补充就业名单或人数）",
        "rate": "就业率",
        "standard": "补贴标准",
        "standard_text": "前{first_days}天每人每天{first_rate}元，之后每人每天{later_rate}元，"
        "每人最高{cap}元；就业率达到{threshold}及以上按培训人数全额拨付",
        "findings": "核对发现的问题",
        "problems": "签到表或就业名单中无法读取的行",
        "none": "无",
        "days": "逐日明细",
        "date": "日期",
        "folder": "视频文件夹",
        "state": "状态",
        "reason": "说明",
        "checkins": "签到",
        "day_rate": "当日补贴（元）",
        "verified_state": "计补贴",
        "pending_state": "待核实",
        "unpaid_state": "不计",
        "code": "代码",
        "severity": "级别",
        "path": "位置",
        "message": "说明",
        "hash": "台账校验值（SHA-256）",
        "yes": "是",
        "no": "否",
    },
    "en": {
        "title": "Subsidy ledger",
        "class": "Class",
        "name": "Name",
        "id": "ID number",
        "verified": "Verified days",
        "pending": "Days in review",
        "amount": "Amount (yuan)",
        "employed": "Employed",
        "total": "Total",
        "rule": "Rule",
        "full": "employment rate reached: paid by trainees",
        "by_employed": "employment rate not reached: only the employed are paid",
        "unknown": "no employment data: computed as if paid by trainees (add it before payment)",
        "rate": "Employment rate",
        "standard": "Standard",
        "standard_text": "first {first_days} days {first_rate} yuan a day, later days "
        "{later_rate}, at most {cap} a trainee; paid by trainees at {threshold} employment",
        "findings": "Findings",
        "problems": "Rows of the check-in or employment file that could not be read",
        "none": "none",
        "days": "Days",
        "date": "Date",
        "folder": "Day folder",
        "state": "State",
        "reason": "Why",
        "checkins": "Check-ins",
        "day_rate": "Day's amount (yuan)",
        "verified_state": "paid",
        "pending_state": "in review",
        "unpaid_state": "not paid",
        "code": "Code",
        "severity": "Severity",
        "path": "Path",
        "message": "Message",
        "hash": "Ledger hash (SHA-256)",
        "yes": "yes",
        "no": "no",
    },
}


def _w(lang: str) -> dict[str, str]:
    return WORDS.get(lang, WORDS["en"])


def rule_text(ledger: Mapping[str, Any], lang: str = "zh") -> str:
    """The rule applied, in words."""
    w = _w(lang)
    return {"full": w["full"], "employed": w["by_employed"]}.get(
        str(ledger.get("rule")), w["unknown"]
    )


def standard_text(ledger: Mapping[str, Any], lang: str = "zh") -> str:
    """The subsidy standard the ledger applied, in words."""
    s = ledger["standard"]
    return _w(lang)["standard_text"].format(threshold=f"{s['employment_threshold']:.0%}", **s)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(c + " " * (w - _width(c)) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in rows
    ]


def text(ledger: Mapping[str, Any], lang: str = "zh") -> str:
    """The ledger as a text report: a table of trainees, the totals, the rule, the findings."""
    w = _w(lang)
    sep = "：" if lang == "zh" else ": "
    out = [f"{w['title']}{sep}{ledger['class']}", ""]
    header = [w["name"], w["id"], w["verified"], w["pending"], w["amount"]]
    rows = [
        [
            str(t["name"]),
            str(t["id"]),
            str(t["verified_days"]),
            str(t["pending_days"]),
            str(t["amount"]),
        ]
        for t in ledger["trainees"]
    ]
    s = ledger["summary"]
    total = [w["total"], "", str(s["verified_days"]), str(s["pending_days"]), str(ledger["total"])]
    out += _table([header, *rows, total])
    rate = ledger.get("employment_rate")
    out += [
        "",
        f"{w['rate']}{sep}{'—' if rate is None else f'{rate:.1%}'}",
        f"{w['rule']}{sep}{rule_text(ledger, lang)}",
        f"{w['standard']}{sep}{standard_text(ledger, lang)}",
        "",
        f"{w['findings']}{sep}" + ("" if ledger["findings"] else w["none"]),
    ]
    out += [f"  {f['code']} {f['path']}{sep}{f['message']}" for f in ledger["findings"]]
    if ledger.get("problems"):
        out += ["", f"{w['problems']}{sep}"] + [f"  {p}" for p in ledger["problems"]]
    out += ["", f"{w['hash']}{sep}{ledger['hash']}"]
    return "\n".join(out) + "\n"


def xlsx(ledger: Mapping[str, Any], lang: str = "zh") -> bytes:
    """The ledger as a workbook: trainees (with totals), every trainee-day, the findings."""
    import openpyxl

    w = _w(lang)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = w["title"]
    put(sheet, 1, 1, f"{w['title']}：{ledger['class']}" if lang == "zh" else w["title"])
    header = [w["name"], w["id"], w["verified"], w["pending"], w["amount"], w["employed"]]
    for c, value in enumerate(header, 1):
        put(sheet, 3, c, value)
    row = 4
    for t in ledger["trainees"]:
        employed = {True: w["yes"], False: w["no"]}.get(t.get("employed"), "")
        values = [t["name"], t["id"], t["verified_days"], t["pending_days"], t["amount"], employed]
        for c, value in enumerate(values, 1):
            put(sheet, row, c, value)
        row += 1
    s = ledger["summary"]
    for c, value in enumerate(
        [w["total"], "", s["verified_days"], s["pending_days"], ledger["total"]], 1
    ):
        put(sheet, row, c, value)
    rate = ledger.get("employment_rate")
    notes = [
        (w["rate"], "—" if rate is None else f"{rate:.1%}"),
        (w["rule"], rule_text(ledger, lang)),
        (w["standard"], standard_text(ledger, lang)),
        (w["hash"], ledger["hash"]),
    ]
    for n, (label, value) in enumerate(notes, row + 2):
        put(sheet, n, 1, label)
        put(sheet, n, 2, value)

    days = book.create_sheet(w["days"])
    states = {k: w[f"{k}_state"] for k in ("verified", "pending", "unpaid")}
    header = [w["name"], w["id"], w["date"], w["folder"], w["state"], w["reason"]]
    header += [w["checkins"], w["day_rate"]]
    for c, value in enumerate(header, 1):
        put(days, 1, c, value)
    row = 2
    for t in ledger["trainees"]:
        for d in t["days"]:
            times = "、".join(f"{c['at']}（{c['row']}）" for c in d.get("checkins") or [])
            values = [t["name"], t["id"], d["date"], d.get("path") or "", states[d["state"]]]
            values += [d.get("text") or d["reason"], times, d.get("rate", "")]
            for c, value in enumerate(values, 1):
                put(days, row, c, value)
            row += 1

    found = book.create_sheet(w["findings"])
    for c, value in enumerate([w["code"], w["severity"], w["path"], w["message"]], 1):
        put(found, 1, c, value)
    for r, f in enumerate(ledger["findings"], 2):
        for c, value in enumerate([f["code"], f["severity"], f["path"], f["message"]], 1):
            put(found, r, c, value)
    for r, problem in enumerate(ledger.get("problems") or [], len(ledger["findings"]) + 3):
        put(found, r, 4, problem)
    keep_text_everywhere(book)
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()
