"""Reading the plain dicts documents are made from: an audit report (`report.to_dict(lang)`),
a ledger dict, spot checks and evidence references. Nothing here imports the ledger or the web.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from video_audit.findings import catalogue

# Where the institution's name ends in a clip prefix such as
# 壶关县鑫达职业培训学校2024年第1期中式面点师培训班.
_INSTITUTION = re.compile(
    r"^(.+?(?:职业技能培训学校|职业培训学校|培训学校|学校|培训中心|中心|有限责任公司|有限公司"
    r"|公司|学院|协会|机构))(?=.)"
)
_PERIOD = re.compile(r"^\s*\d{4}\s*年(?:度)?\s*(?:第\s*\d+\s*期)?")
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


class DocumentError(ValueError):
    """The inputs cannot make the document asked for (no such class, no ledger …)."""


@dataclass(frozen=True)
class ClassNames:
    """Who and what a document is about."""

    path: str
    institution: str
    name: str
    """The class as named (2024年第1期中式面点师培训班)."""

    @property
    def content(self) -> str:
        """The training content (培训内容): the class name without year and period."""
        return _PERIOD.sub("", self.name).strip() or self.name


def pick_class(
    report: Mapping[str, Any], class_path: str | None, ledger: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The report's class the document is about: CLASS_PATH (path or folder name), else the
    ledger's class, else the only class."""
    classes = list(report.get("classes") or [])
    wanted = class_path or (str(ledger["class"]) if ledger and ledger.get("class") else None)
    if wanted is not None:
        for cls in classes:
            if wanted in (cls.get("path"), cls.get("folder")):
                return dict(cls)
        if class_path is None and len(classes) == 1:
            return dict(classes[0])  # a ledger naming its class by another path
        raise DocumentError(f"审核报告中没有班级“{wanted}” / no class {wanted!r} in the report")
    if len(classes) == 1:
        return dict(classes[0])
    names = "、".join(str(c.get("path")) for c in classes) or "（无）"
    raise DocumentError(f"请指定班级（{names}）/ name the class: the report has {len(classes)}")


def class_names(cls: Mapping[str, Any], institution: str | None = None) -> ClassNames:
    """Institution and class name from the clip prefix (else the folder name)."""
    full = str(cls.get("prefix") or cls.get("folder") or cls.get("path") or "")
    m = _INSTITUTION.match(full)
    found = m.group(1) if m else ""
    name = full[len(found) :] if found else full
    return ClassNames(path=str(cls.get("path") or ""), institution=institution or found, name=name)


def in_class(path: str, class_path: str) -> bool:
    """Whether a finding's path lies in the class (a class audited by itself has path '')."""
    rel = class_path.strip("/")
    return rel in ("", ".") or path == rel or path.startswith(rel + "/")


@dataclass(frozen=True)
class FindingGroup:
    """The findings of one code in one class: how many, where, and what to do."""

    code: str
    severity: str
    title: str
    remedy: str
    places: tuple[str, ...]
    messages: tuple[str, ...]

    @property
    def severity_zh(self) -> str:
        return {"error": "不符合", "warning": "需注意", "info": "提示"}.get(self.severity, "")


def finding_groups(
    report: Mapping[str, Any], class_path: str, severities: Sequence[str] = ("error", "warning")
) -> list[FindingGroup]:
    """The class's findings grouped by code, errors first, then by code in catalogue order."""
    rules = catalogue()
    order = {code: n for n, code in enumerate(rules)}
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for f in report.get("findings") or []:
        if f.get("severity") in severities and in_class(str(f.get("path", "")), class_path):
            grouped.setdefault(str(f["code"]), []).append(f)
    groups = []
    for code, found in grouped.items():
        rule = rules.get(code)
        groups.append(
            FindingGroup(
                code=code,
                severity=str(found[0].get("severity")),
                title=str(found[0].get("title") or (rule.title["zh"] if rule else code)),
                remedy=rule.remedy.get("zh", "") if rule else "",
                places=tuple(_place(str(f.get("path", "")), class_path) for f in found),
                messages=tuple(str(f.get("message", "")) for f in found),
            )
        )
    groups.sort(key=lambda g: (SEVERITY_ORDER.get(g.severity, 9), order.get(g.code, 999)))
    return groups


def _place(path: str, class_path: str) -> str:
    rel = class_path.strip("/")
    if rel and path.startswith(rel + "/"):
        path = path[len(rel) + 1 :]
    elif path == rel:
        return "班级文件夹"
    return path or "班级文件夹"


def places_text(places: Sequence[str], limit: int = 4) -> str:
    """A few places, then how many more."""
    unique = list(dict.fromkeys(places))
    shown = "；".join(unique[:limit])
    return shown + (f" 等{len(unique)}处" if len(unique) > limit else "")


@dataclass(frozen=True)
class AttendanceRow:
    """One rostered person over the class's days."""

    name: str
    id: str
    role: str
    present: int
    absent: int


def attendance_rows(cls: Mapping[str, Any]) -> tuple[list[AttendanceRow], int, int] | str:
    """Per person present/absent day counts, the number of days and of cases in review;
    a sentence instead when attendance was not checked."""
    att = cls.get("attendance")
    if not att:
        return "未核对考勤（班级文件夹中没有可用的名册）。"
    if "error" in att:
        return f"考勤未能核对：{att['error']}"
    days = list(att.get("days") or [])
    rows = []
    for person in att.get("roster") or []:
        key = person.get("key")
        rows.append(
            AttendanceRow(
                name=str(person.get("name", "")),
                id=str(person.get("id", "")),
                role={"trainee": "学员", "teacher": "教师", "manager": "管理人员"}.get(
                    str(person.get("role")), str(person.get("role", ""))
                ),
                present=sum(key in (d.get("present") or []) for d in days),
                absent=sum(key in (d.get("absent") or []) for d in days),
            )
        )
    review = sum(len(d.get("review") or []) for d in days)
    return rows, len(days), review


def verdict_text(summary: Mapping[str, Any]) -> str:
    """通过 / 不通过 with the counts."""
    errors, warnings = int(summary.get("errors", 0)), int(summary.get("warnings", 0))
    word = "不通过" if errors else "通过"
    return f"{word}（不符合项 {errors} 类次，需注意项 {warnings} 类次）"


def standard_text(
    ledger: Mapping[str, Any] | None,
    given: str | None = None,
    profile_subsidy: Mapping[str, Any] | None = None,
) -> str:
    """The subsidy standard as the 公示 states it: GIVEN, else the ledger's own statement, else
    the standard profile's [subsidy] tiers."""
    if given:
        return given
    value = (ledger or {}).get("standard")
    if isinstance(value, str) and value:
        return value
    for tiers in (value, profile_subsidy):
        if not isinstance(tiers, Mapping):
            continue
        if tiers.get("zh"):
            return str(tiers["zh"])
        if all(k in tiers for k in ("first_days", "first_rate", "later_rate", "cap")):
            return (
                f"培训前{_num(tiers['first_days'])}天每人每天{_num(tiers['first_rate'])}元、"
                f"之后每人每天{_num(tiers['later_rate'])}元，每人最高{_num(tiers['cap'])}元"
            )
    raise DocumentError(
        "台账中没有补贴标准（standard），请用 --standard-text 写明 / "
        "the ledger states no subsidy standard: give --standard-text"
    )


def _num(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:.2f}"


def money(value: Any) -> str:
    """Yuan as printed: 1700, 1700.50."""
    return _num(value or 0)
