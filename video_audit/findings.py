"""Findings and the rule catalogue: stable codes, zh/en texts, severities — from rules/catalogue.

Below everything that raises or renders a finding; it imports nothing of video_audit.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
# The catalogue is data shipped beside the rule modules that raise its codes.
CATALOGUE_DIR = Path(__file__).with_name("rules") / "catalogue"


@dataclass(frozen=True)
class Rule:
    """One rule of the catalogue."""

    code: str
    severity: Severity
    group: str
    duty: str
    title: Mapping[str, str]
    description: Mapping[str, str]
    messages: Mapping[str, Mapping[str, str]]
    remedy: Mapping[str, str] = field(default_factory=dict)
    """What the institution does about it (整改通知): zh/en, plain words."""

    def message(self, variant: str, lang: str, details: Mapping[str, Any]) -> str:
        """The finding text for one variant, filled from the finding's details."""
        texts = self.messages.get(variant)
        if texts is None:
            return self.title[lang]
        template = texts.get(lang) or texts["en"]
        try:
            values = {k: _counted(localise(v, lang)) for k, v in details.items()}
            return template.format_map(_Lenient(values))
        except (ValueError, IndexError):
            return template


# Words that details carry as stable codes and reports show in the reader's language.
TERMS: dict[str, dict[str, str]] = {
    "zh": {
        "fullwidth": "全角字符",
        "spaces": "空格",
        "zero_padding": "数字补零",
        "gbk": "GBK 乱码",
        "roll1": "课间人脸识别视频1",
        "roll2": "课间人脸识别视频2",
        "lesson": "授课过程视频",
        "metadata": "文件元数据",
        "clock": "画面时钟",
        # What could not be completed (FM05).
        "check_probe": "文件信息读取",
        "check_picture": "画面质量",
        "check_clock": "画面时钟",
        "check_faces": "人脸识别",
        "check_decode": "视频解码",
        "rules_layout": "目录结构",
        "rules_naming": "文件命名",
        "rules_content": "每日视频齐全",
        "rules_format": "视频格式",
        "rules_picture": "画面与录制",
        "rules_clock": "画面时钟",
        "rules_people": "人脸与考勤",
    },
    "en": {
        "fullwidth": "full-width characters",
        "spaces": "spaces",
        "zero_padding": "zero padding",
        "gbk": "mis-decoded GBK",
        "roll1": "face-roll clip 1",
        "roll2": "face-roll clip 2",
        "lesson": "lesson clip",
        "metadata": "file metadata",
        "clock": "on-screen clock",
        "check_probe": "file information",
        "check_picture": "picture quality",
        "check_clock": "on-screen clock",
        "check_faces": "face recognition",
        "check_decode": "decoding",
        "rules_layout": "folder layout",
        "rules_naming": "file naming",
        "rules_content": "complete days",
        "rules_format": "video format",
        "rules_picture": "picture and recording",
        "rules_clock": "on-screen clock",
        "rules_people": "faces and attendance",
    },
}


class Bilingual(str):
    """An English text that carries its Chinese (a roster problem, say): as a str it is the
    English; localise() gives a Chinese reader the Chinese."""

    zh: str

    def __new__(cls, en: str, zh: str) -> Bilingual:
        text = super().__new__(cls, en)
        text.zh = zh
        return text

    def __reduce__(self) -> tuple[type[Bilingual], tuple[str, str]]:
        return (Bilingual, (str.__str__(self), self.zh))

    def join_with(self, other: str, sep: tuple[str, str] = (": ", "：")) -> Bilingual:
        """SELF sep OTHER in both languages (OTHER's own Chinese where it has one)."""
        zh = other.zh if isinstance(other, Bilingual) else other
        return Bilingual(f"{self}{sep[0]}{other}", f"{self.zh}{sep[1]}{zh}")


def localise(value: Any, lang: str) -> Any:
    """A detail value as a reader sees it: known codes translated, lists joined."""
    if isinstance(value, Bilingual):
        return value.zh if lang == "zh" else str.__str__(value)
    terms = TERMS.get(lang, TERMS["en"])
    if isinstance(value, list | tuple):
        sep = "、" if lang == "zh" else ", "
        return sep.join(str(localise(v, lang)) for v in value)
    if isinstance(value, str):
        return terms.get(value, value)
    return value


class _Count(int):
    """A whole number a message may agree with: {count:person/people} picks the singular for 1
    ("1 person", "2 people"), as English needs; any other format spec is an int's."""

    def __format__(self, spec: str) -> str:
        if "/" in spec:
            one, many = spec.split("/", 1)
            return one if self == 1 else many
        return super().__format__(spec)


def _counted(value: Any) -> Any:
    return _Count(value) if isinstance(value, int) and not isinstance(value, bool) else value


class _Lenient(dict[str, Any]):
    """Leaves {unknown} placeholders visible instead of failing the report."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@cache
def catalogue() -> dict[str, Rule]:
    """Every rule, by code: all catalogue/*.toml files, grouped LY, NM, CT, FM, QA, PP, RT, CK."""
    rules: dict[str, Rule] = {}
    for source in sorted(CATALOGUE_DIR.glob("*.toml")):
        for code, entry in tomllib.loads(source.read_text(encoding="utf-8")).items():
            if code in rules:
                raise ValueError(f"{source}: rule {code} is defined twice")
            rules[code] = _rule(source, code, entry)
    return dict(sorted(rules.items(), key=lambda item: _ORDER.get(item[0][:2], 99)))


# Report order of the rule groups (by code prefix); codes keep their catalogue order within.
_ORDER = {"LY": 0, "NM": 1, "CT": 2, "FM": 3, "QA": 4, "PP": 5, "RT": 6, "CK": 7, "LV": 8}


def _rule(source: Path, code: str, entry: dict[str, Any]) -> Rule:
    severity = entry["severity"]
    if severity not in SEVERITIES:
        raise ValueError(f"{source}: {code}: unknown severity {severity!r}")
    return Rule(
        code=code,
        severity=severity,
        group=entry["group"],
        duty=entry.get("duty", ""),
        title=entry["title"],
        description=entry["description"],
        messages=entry.get("messages", {}),
        remedy=entry.get("remedy", {}),
    )


def rule(code: str) -> Rule:
    """The rule with this code (KeyError names an unknown code)."""
    return catalogue()[code]


@dataclass(frozen=True)
class Finding:
    """One departure from the standard, at one path (relative to the audited PATH)."""

    code: str
    path: str
    variant: str
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def rule(self) -> Rule:
        return rule(self.code)

    @property
    def severity(self) -> Severity:
        return self.rule.severity

    def message(self, lang: str = "zh") -> str:
        return self.rule.message(self.variant, lang, self.details)

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        """The JSON contract: code, severity, path, message, details (+ title)."""
        return {
            "code": self.code,
            "severity": self.severity,
            "path": self.path,
            "message": self.message(lang),
            "title": self.rule.title[lang],
            "details": dict(self.details),
        }


def finding(code: str, path: str, variant: str, **details: Any) -> Finding:
    """Build a finding, checking that the code and variant exist in the catalogue."""
    r = rule(code)
    if r.messages and variant not in r.messages:
        raise KeyError(f"{code} has no message variant {variant!r}")
    return Finding(code=code, path=path, variant=variant, details=details)
