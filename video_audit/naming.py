"""Annex 4 names: parsing clip names and day-folder dates, normalising what Windows discs mangle."""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from video_audit.standard import NameRules

ClipKind = Literal["roll", "lesson"]
_SPACES = re.compile(r"\s+")
# Keywords whose presence shows that a mojibake repair produced a real Annex 4 name.
_ANCHORS = ("月", "日", "视频", "授课", "培训", "机构", "学校", "班", "天")


@dataclass(frozen=True)
class Normalised:
    """A name after normalising, and which repairs it needed."""

    text: str
    fixes: tuple[str, ...]


@dataclass(frozen=True)
class ClipName:
    """A clip file name parsed by the Annex 4 scheme."""

    kind: ClipKind
    prefix: str
    month: int
    day: int
    slot: int | None
    stem: str
    fixes: tuple[str, ...]

    @property
    def date_text(self) -> str:
        return f"{self.month}月{self.day}日"

    @property
    def slot_key(self) -> str:
        return f"roll{self.slot}" if self.kind == "roll" else "lesson"


@dataclass(frozen=True)
class FolderDate:
    """A date read from a folder name; year is None when the name has none."""

    year: int | None
    month: int
    day: int


def recover_name(name: str) -> tuple[str, bool]:
    """Repair a file name whose GBK bytes were decoded wrongly; (name, repaired?)."""
    if any("\udc80" <= ch <= "\udcff" for ch in name):
        # Raw bytes that were not UTF-8 (surrogate-escaped by the OS layer): most often GBK.
        raw = os.fsencode(name)
        for codec in ("gbk", "gb18030", "big5"):
            try:
                return raw.decode(codec), True
            except UnicodeDecodeError:
                continue
        return raw.decode("utf-8", "replace"), True
    if any(anchor in name for anchor in _ANCHORS):
        return name, False
    # GBK bytes shown as cp437 (old zip tools) or latin-1 / cp1252 (Windows copies).
    for wrong in ("cp437", "cp1252", "latin-1"):
        try:
            repaired = name.encode(wrong).decode("gbk")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if any(anchor in repaired for anchor in _ANCHORS):
            return repaired, True
    # UTF-8 bytes shown as GBK ("璇剧▼" for "课程").
    try:
        repaired = name.encode("gbk").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return name, False
    if any(anchor in repaired for anchor in _ANCHORS):
        return repaired, True
    return name, False


# Characters a name may carry that would act instead of show: control characters (a terminal
# obeys ESC sequences; a newline breaks a report's lines) and the bidi controls that make a
# name read backwards (U+202E …exe.mp4).
_ACTIVE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """TEXT with every control or bidi character shown as <U+XXXX>: it prints as it is."""
    return _ACTIVE.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


def display_name(name: str) -> str:
    """A name safe to print and to put into JSON (recovered when possible, never surrogates,
    control and bidi characters shown as <U+XXXX>)."""
    recovered, _ = recover_name(name)
    return visible(recovered.encode("utf-8", "replace").decode("utf-8"))


def normalise(text: str) -> Normalised:
    """NFKC (full-width digits and letters), spaces removed; fixes list what changed."""
    fixes: list[str] = []
    recovered, repaired = recover_name(text)
    if repaired:
        fixes.append("gbk")
    folded = unicodedata.normalize("NFKC", recovered)
    if folded != recovered:
        fixes.append("fullwidth")
    squeezed = _SPACES.sub("", folded)
    if squeezed != folded:
        fixes.append("spaces")
    return Normalised(squeezed, tuple(fixes))


def split_extension(filename: str) -> tuple[str, str]:
    """(stem, lower-case extension with the dot)."""
    stem, ext = os.path.splitext(filename)
    return stem, ext.lower()


def _valid_date(year: int | None, month: int, day: int) -> bool:
    try:
        dt.date(year or 2024, month, day)  # 2024 is a leap year: 2月29日 stays valid
    except ValueError:
        return False
    return True


def parse_clip_name(filename: str, rules: NameRules) -> ClipName | None:
    """Parse a clip's file name; None when it fits neither scheme."""
    stem, _ = split_extension(filename)
    norm = normalise(stem)
    for kind, pattern in (("roll", rules.roll), ("lesson", rules.lesson)):
        m = pattern.match(norm.text)
        if not m:
            continue
        fixes = list(norm.fixes)
        month_text, day_text = m.group("month"), m.group("day")
        if (len(month_text) > 1 and month_text.startswith("0")) or (
            len(day_text) > 1 and day_text.startswith("0")
        ):
            fixes.append("zero_padding")
        slot = int(m.group("slot")) if kind == "roll" else None
        return ClipName(
            kind="roll" if kind == "roll" else "lesson",
            prefix=m.group("prefix"),
            month=int(month_text),
            day=int(day_text),
            slot=slot,
            stem=norm.text,
            fixes=tuple(fixes),
        )
    return None


def canonical_stem(name: ClipName) -> str:
    """The name as Annex 4 writes it (no padding, half-width, no spaces)."""
    if name.kind == "roll":
        return f"{name.prefix}{name.date_text}课间人脸识别视频{name.slot}"
    return f"{name.prefix}{name.date_text}授课过程"


def parse_folder_date(name: str, rules: NameRules) -> FolderDate | None:
    """The date in a day folder's name, or None."""
    text = unicodedata.normalize("NFKC", recover_name(name)[0])
    for pattern in rules.day_folder:
        for m in pattern.finditer(text):
            groups = m.groupdict()
            year = int(groups["year"]) if groups.get("year") else None
            month, day = int(groups["month"]), int(groups["day"])
            if _valid_date(year, month, day):
                return FolderDate(year, month, day)
    return None


def parse_class_year(name: str, rules: NameRules) -> int | None:
    """A year named in a class folder ("2024年第3期…"), or None."""
    m = rules.class_year.search(unicodedata.normalize("NFKC", recover_name(name)[0]))
    return int(m.group("year")) if m else None


def date_exists(year: int | None, month: int, day: int) -> bool:
    """Whether month/day is a real calendar date (in year, when known)."""
    return _valid_date(year, month, day)
