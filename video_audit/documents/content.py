"""The three documents as content (model.Document): 审核意见表, 整改通知, 公示名单."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from video_audit.documents.calendar import PublicityPeriod
from video_audit.documents.model import Document, Section, Table
from video_audit.documents.source import (
    ClassNames,
    DocumentError,
    attendance_rows,
    finding_groups,
    money,
    places_text,
    verdict_text,
)

BLANK_DATE = "　　　　年　　月　　日"


def _date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def opinion(
    report: Mapping[str, Any],
    cls: Mapping[str, Any],
    names: ClassNames,
    *,
    ledger: Mapping[str, Any] | None = None,
    spot_checks: Sequence[Mapping[str, Any]] = (),
    evidence: Sequence[Mapping[str, Any]] = (),
) -> Document:
    """审核意见表: the class, the verdict, the findings that matter with their remedies,
    attendance, spot checks, evidence references, the ledger summary, two signatures."""
    summary = cls.get("summary") or report.get("summary") or {}
    fields = (
        ("培训机构", names.institution or "（未能从视频名称识别）"),
        ("培训班", names.name),
        ("审核对象", names.path or _cell(report.get("path"))),
        ("审核标准", _cell((report.get("standard") or {}).get("name"))),
        ("审核时间", _cell(report.get("finished"))),
        ("审核结论", verdict_text(summary)),
    )
    sections = [_findings_section(report, names), _attendance_section(cls)]
    if spot_checks:
        sections.append(_listed("抽查记录", spot_checks, ("时间", "内容", "结果")))
    if evidence:
        sections.append(_listed("证据引用", evidence, ("时间", "内容")))
    if ledger is not None:
        sections.append(_ledger_summary(ledger))
    sections.append(Section("审核意见", ("　" * 30, "　" * 30)))
    return Document(
        kind="opinion",
        title="培训视频审核意见表",
        fields=fields,
        sections=tuple(sections),
        signatures=("经办人", "复核人"),
    )


def _findings_section(report: Mapping[str, Any], names: ClassNames) -> Section:
    groups = finding_groups(report, names.path)
    if not groups:
        return Section("审核发现", ("未发现不符合项。",))
    rows = tuple(
        (
            g.severity_zh,
            f"{g.code} {g.title}",
            f"{len(g.places)}处：{places_text(g.places, 3)}",
            g.remedy,
        )
        for g in groups
    )
    return Section(
        "审核发现", (Table(("类别", "问题", "位置", "整改要求"), rows, (1, 2.4, 3.2, 3.4)),)
    )


def _attendance_section(cls: Mapping[str, Any]) -> Section:
    rows = attendance_rows(cls)
    if isinstance(rows, str):
        return Section("考勤汇总", (rows,))
    people, days, review = rows
    trainees = [p for p in people if p.role == "学员"] or people
    text = f"共 {days} 个培训日，名册学员 {len(trainees)} 人；待人工核实的人脸 {review} 例。"
    table = Table(
        ("姓名", "身份证号", "身份", "出勤天数", "未出现天数"),
        tuple((p.name, p.id, p.role, str(p.present), str(p.absent)) for p in people),
        (1.6, 2.6, 1.2, 1.2, 1.2),
    )
    return Section("考勤汇总", (text, table))


def _listed(heading: str, items: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> Section:
    """Spot checks or evidence references: seq, time, what (and the result when given)."""
    keys = {
        "时间": ("time", "at", "created"),
        "内容": ("what", "clip", "path", "moments"),
        "结果": ("result", "note", "outcome"),
    }
    rows = []
    for n, item in enumerate(items, start=1):
        row = [_cell(item.get("seq", n))]
        for column in columns:
            value = next((item[k] for k in keys[column] if item.get(k) not in (None, "")), "")
            row.append(_cell(value))
        rows.append(tuple(row))
    widths = (0.8, 2.0, 5.0, 2.2)[: len(columns) + 1]
    return Section(heading, (Table(("序号", *columns), tuple(rows), widths),))


def _ledger_summary(ledger: Mapping[str, Any]) -> Section:
    trainees = list(ledger.get("trainees") or [])
    verified = sum(int(t.get("verified_days") or 0) for t in trainees)
    pending = sum(int(t.get("pending_days") or 0) for t in trainees)
    rate = ledger.get("employment_rate")
    rule = {
        "full": "就业率达标，按培训人数全额拨付",
        "employed": "就业率未达标，按实际就业人数申领",
    }
    lines = [
        f"补贴学员 {len(trainees)} 人，核定培训 {verified} 人天，待核实 {pending} 人天；"
        f"补贴合计 {money(ledger.get('total'))} 元。",
        "就业率："
        + (f"{float(rate) * 100:.1f}%" if rate is not None else "未提供")
        + "；"
        + rule.get(str(ledger.get("rule")), "拨付规则待定（未提供就业名单）")
        + "。",
    ]
    if ledger.get("hash"):
        lines.append(f"台账内容摘要（SHA-256）：{ledger['hash']}")
    return Section("补贴台账", tuple(lines))


def notice(
    report: Mapping[str, Any], names: ClassNames, *, deadline: dt.date | None = None
) -> Document:
    """整改通知: per finding what to fix and how (the catalogue's remedy), then the deadline."""
    groups = finding_groups(report, names.path)
    blocks: list[str | Table] = [
        f"{names.institution or '贵单位'}：",
        f"　　贵单位报送的“{names.name}”培训视频资料经审核，发现下列问题。请按整改要求逐项整改，"
        "整改后连同书面说明一并重新报送。",
    ]
    if not groups:
        blocks.append("　　本次审核未发现需要整改的问题。")
    rows = tuple(
        (str(n), f"{g.title}（{g.code}，{g.severity_zh}）", places_text(g.places, 5), g.remedy)
        for n, g in enumerate(groups, start=1)
    )
    if rows:
        blocks.append(Table(("序号", "问题", "位置", "整改要求"), rows, (0.7, 2.6, 3.6, 3.6)))
    due = _date(deadline) if deadline else BLANK_DATE
    blocks.append(f"　　请于 {due} 前完成整改并重新报送；逾期未整改的，相关培训日不予认定补贴。")
    return Document(
        kind="notice",
        title="培训视频资料整改通知",
        fields=(("培训机构", names.institution), ("培训班", names.name)),
        sections=(Section("", tuple(blocks)),),
        signatures=("联系人",),
        closing=("（审核单位盖章）", BLANK_DATE),
    )


def publicity(
    names: ClassNames,
    ledger: Mapping[str, Any],
    period: PublicityPeriod,
    standard: str,
) -> Document:
    """公示名单: unit, names with masked IDs, training content, standard, days, amount, and a
    公示 period of at least five working days."""
    trainees = list(ledger.get("trainees") or [])
    if not trainees:
        raise DocumentError("台账中没有补贴学员 / the ledger lists no trainees")
    rows = tuple(
        (
            str(n),
            names.institution,
            _cell(t.get("name")),
            _cell(t.get("id")),
            names.content,
            standard,
            _cell(t.get("verified_days")),
            money(t.get("amount")),
        )
        for n, t in enumerate(trainees, start=1)
    )
    intro = (
        f"　　根据职业技能培训补贴资金管理有关规定，现将{names.institution}“{names.name}”"
        f"培训补贴申领情况予以公示。公示期为{_date(period.start)}至{_date(period.end)}"
        f"（{len(period.working_days)}个工作日）。如有异议，请在公示期内以书面形式向审核单位反映。"
    )
    total = f"合计：{len(trainees)}人，补贴金额{money(ledger.get('total'))}元。"
    table = Table(
        (
            "序号",
            "单位名称",
            "姓名",
            "身份证号",
            "培训内容",
            "补贴标准",
            "补贴天数",
            "补贴金额（元）",
        ),
        rows,
        (0.6, 1.8, 1.0, 2.6, 1.4, 2.4, 0.8, 1.1),
    )
    return Document(
        kind="publicity",
        title="职业技能培训补贴公示",
        sections=(Section("", (intro, table, total, "联系电话：")),),
        closing=("（公示单位盖章）", BLANK_DATE),
    )


def ledger_document(ledger: Mapping[str, Any]) -> Document:
    """补贴台账 as a document: one row per trainee (name, masked ID, verified days, days still in
    review, amount), the summary and rule, and the two signature lines of the sign-off."""
    trainees = list(ledger.get("trainees") or [])
    rows = tuple(
        (
            str(n),
            _cell(t.get("name")),
            _cell(t.get("id")),
            _cell(t.get("verified_days")),
            _cell(t.get("pending_days")),
            money(t.get("amount")),
        )
        for n, t in enumerate(trainees, start=1)
    )
    table = Table(
        ("序号", "姓名", "身份证号", "核定天数", "待核实天数", "补贴金额（元）"),
        rows,
        (0.6, 1.2, 2.6, 1.0, 1.0, 1.4),
    )
    name = str(ledger.get("class") or ledger.get("prefix") or "")
    return Document(
        "ledger",
        "培训补贴台账",
        fields=(("培训班", name),),
        sections=(_ledger_summary(ledger), Section("学员明细", (table,))),
        signatures=("经办人", "复核人"),
    )
