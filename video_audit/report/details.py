"""A finding's details as people read them (the 测量值与阈值 column): measured against required,
then the few details worth a reader's time, each with a label in the report's language.

Keys without a label (`detail_<key>` in texts.toml) stay out of the human view; every key stays
in the JSON. Machine forms (seconds, ISO times, hash distances) become spans, words and levels.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from video_audit.findings import Finding, localise
from video_audit.report.texts import t
from video_audit.rules.format import clock

# Detail pairs shown as "measured … / required …": (measured keys, threshold keys, relation).
_PAIRS: tuple[tuple[tuple[str, ...], tuple[str, ...], str], ...] = (
    (("width", "height"), ("min_width", "min_height"), "≥ "),
    (("duration",), ("minimum",), "≥ "),
    (("found",), ("expected",), ""),
    (("count",), ("expected",), "≥ "),
    (("measured",), ("threshold",), ""),
)
# Footage-match distances (mean differing bits of 64-bit picture hashes; the standard profile
# accepts up to 12): up to 4 reads as 高 similarity, up to 8 as 中, beyond as 低.
_SIMILARITY_BANDS = ((4.0, "high"), (8.0, "medium"))
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class DetailPart:
    """One detail as shown: the words, and the exact figure behind them (a tooltip), if any."""

    text: str
    exact: str = ""


def _value(value: Any, lang: str) -> str:
    return str(localise(value, lang))


def _spans(value: Any, lang: str) -> str:
    """[[300.0, 399.0], …] seconds as 5:00–6:39、…"""
    sep = "、" if lang == "zh" else ", "
    spans = [
        f"{clock(float(s[0]))}–{clock(float(s[1]))}"
        for s in value or []
        if isinstance(s, list | tuple) and len(s) == 2
    ]
    return sep.join(spans)


def _size(value: Any, lang: str) -> str:
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(value)  # pragma: no cover


def _seconds_ago(value: Any, lang: str) -> str:
    return t(lang, "detail_seconds_ago", seconds=round(float(value)))


def _rotation(value: Any, lang: str) -> str:
    return f"{value}°" if value else ""


def _decoder(value: Any, lang: str) -> str:
    """A decoder's own message: English text from FFmpeg, left out of Chinese reports (the
    finding's message already says what is wrong in words)."""
    text = str(value or "")
    return text if lang != "zh" or _CJK.search(text) else ""


def similarity_level(distance: float) -> str:
    """high, medium or low for a footage-match distance."""
    for limit, level in _SIMILARITY_BANDS:
        if distance <= limit:
            return level
    return "low"


# How a labelled key's value is written; the others are written as they are (localised).
_FORMAT: dict[str, Callable[[Any, str], str]] = {
    "stretches": _spans,
    "size": _size,
    "modified_seconds_ago": _seconds_ago,
    "rotation": _rotation,
    "error": _decoder,
}


def _has_label(key: str, lang: str) -> bool:
    return t(lang, f"detail_{key}") != f"detail_{key}"


def detail_parts(finding: Finding, lang: str) -> list[DetailPart]:
    """The details a person reads, in order: measured against required, then labelled keys."""
    details: Mapping[str, Any] = finding.details
    message = finding.message(lang)
    sep, colon = ("；", "：") if lang == "zh" else ("; ", ": ")
    parts: list[DetailPart] = []
    used: set[str] = set()
    for measured, limit, relation in _PAIRS:
        keys = (*measured, *limit)
        if all(k in details and k not in used for k in keys):
            got = "×".join(_value(details[k], lang) for k in measured)
            need = "×".join(_value(details[k], lang) for k in limit)
            text = f"{t(lang, 'measured')} {got}{sep}{t(lang, 'required')} {relation}{need}"
            parts.append(DetailPart(text))
            used |= {*measured, *limit}
    for key, value in details.items():
        if key in used or key.startswith(("min_", "max_")):
            continue
        for bound, relation in (("min_", "≥ "), ("max_", "≤ ")):
            if bound + key in details and _has_label(key, lang):
                limit_text = _value(details[bound + key], lang)
                parts.append(
                    DetailPart(
                        f"{t(lang, f'detail_{key}')}{colon}{t(lang, 'measured')} "
                        f"{_value(value, lang)}{sep}{t(lang, 'required')} {relation}{limit_text}"
                    )
                )
                break
        else:
            if key == "distance" and isinstance(value, int | float):
                level = t(lang, f"similarity_{similarity_level(float(value))}")
                exact = t(lang, "detail_distance_exact", distance=value)
                parts.append(DetailPart(f"{t(lang, 'detail_distance')} {level}", exact))
                continue
            if not _has_label(key, lang):
                continue
            shown = _FORMAT.get(key, _value)(value, lang)
            if shown in ("", "0", "None") or shown in message:
                continue
            parts.append(DetailPart(f"{t(lang, f'detail_{key}')}{colon}{shown}"))
    return parts


def details_text(finding: Finding, lang: str) -> str:
    """The details as one line (text and XLSX): exact figures in brackets after their words."""
    sep = "；" if lang == "zh" else "; "
    return sep.join(
        f"{p.text}（{p.exact}）"
        if p.exact and lang == "zh"
        else f"{p.text} ({p.exact})"
        if p.exact
        else p.text
        for p in detail_parts(finding, lang)
    )


def remedy(finding: Finding, lang: str) -> str:
    """What the institution does about this finding (the catalogue's remedy)."""
    texts = finding.rule.remedy
    return str(texts.get(lang) or texts.get("en") or "")
