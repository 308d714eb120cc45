"""Patrols in words (texts.toml beside this file): the picture's measures, the roster check, and
the live head count beside the disc's face rolls. Shared by the web pages and the class report,
so both say the same."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any


@cache
def _texts() -> dict[str, dict[str, str]]:
    return tomllib.loads(Path(__file__).with_name("texts.toml").read_text(encoding="utf-8"))


def word(lang: str, key: str, **params: Any) -> str:
    """A patrol text in LANG (zh when LANG has none), its {params} filled in."""
    texts = _texts()
    return texts.get(lang, texts["zh"])[key].format(**params)


def measure_lines(measures: dict[str, Any] | None, lang: str) -> list[str]:
    """首帧用时、实际帧率、分辨率、码率、卡顿 in words (nothing when no picture came)."""
    if not measures or not measures.get("width"):
        return []
    out = []
    if measures.get("first_frame_ms") is not None:
        out.append(word(lang, "measure_first_frame", s=f"{measures['first_frame_ms'] / 1000:.1f}"))
    if measures.get("fps") is not None:
        out.append(word(lang, "measure_fps", fps=f"{measures['fps']:.1f}"))
    out.append(word(lang, "measure_resolution", w=measures["width"], h=measures["height"]))
    if measures.get("bitrate_kbps") is not None:
        out.append(word(lang, "measure_bitrate", kbps=f"{measures['bitrate_kbps']:.0f}"))
    gap = f"{measures.get('longest_gap') or 0:.1f}"
    stalls = measures.get("stalls") or 0
    out.append(
        word(lang, "measure_stalls", n=stalls, gap=gap)
        if stalls
        else word(lang, "measure_no_stalls", gap=gap)
    )
    return out


def attendance_summary(att: dict[str, Any] | None, lang: str) -> dict[str, Any] | None:
    """A patrol's roster check: counts of present / to review / unknown / absent, who was
    present and who not, and one line saying it (or why it could not be checked)."""
    if not att:
        return None
    if att.get("state") != "checked" or not att.get("days"):
        return {"checked": False, "line": word(lang, f"att_{att.get('state') or 'no_frames'}")}
    names = {p["key"]: p["name"] for p in att.get("roster", [])}
    day = att["days"][0]
    present = [names.get(k, k) for k in day.get("present", [])]
    absent = [names.get(k, k) for k in day.get("absent", [])]
    counts = {
        "roster": len(names),
        "present": len(present),
        "review": len(day.get("review", [])),
        "unknown": len(day.get("unknown", [])),
        "absent": len(absent),
    }
    line = word(
        lang,
        "att_line",
        names="、".join(present) or "—",
        absent_names="、".join(absent) or "—",
        **counts,
    )
    return {"checked": True, **counts, "line": line}


def head_gap(
    patrols: list[dict[str, Any]], report: dict[str, Any] | None, ratio: float, lang: str = "zh"
) -> dict[str, Any] | None:
    """The most heads a patrol of the class saw live beside the most people the disc's face
    rolls recognised on one day (REPORT: the class's stored report, JSON); `differ` when the gap
    is more than RATIO of the larger. None when either side has nothing to show."""
    heads = [p["heads"] for p in patrols if p.get("heads") is not None]
    days = [
        d
        for c in (report or {}).get("classes", [])
        if isinstance(c.get("attendance"), dict)
        for d in c["attendance"].get("days", [])
    ]
    if not heads or not days:
        return None
    live, disc = max(heads), max(len(d.get("present", [])) for d in days)
    larger = max(live, disc)
    differ = larger > 0 and abs(live - disc) > ratio * larger
    line = word(lang, "gap", live=live, disc=disc)
    advice = word(lang, "gap_differ") if differ else ""
    text = f"{line}{'。' if lang == 'zh' else '. '}{advice}" if differ else line
    return {"live": live, "disc": disc, "differ": differ, "line": line, "advice": advice,
            "text": text}  # fmt: skip
