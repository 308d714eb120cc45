"""The standard profile: Annex 4's thresholds and name patterns as data (TOML)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_PROFILE = Path(__file__).with_name("huguan-2024.toml")


class ProfileError(ValueError):
    """A standard profile file that cannot be used."""


@dataclass(frozen=True)
class NameRules:
    """Patterns that recognise clip names and day-folder dates."""

    roll: re.Pattern[str]
    lesson: re.Pattern[str]
    roll_slots: tuple[int, ...]
    day_folder: tuple[re.Pattern[str], ...]
    class_year: re.Pattern[str]
    roster_files: tuple[str, ...]


@dataclass(frozen=True)
class FormatRules:
    """Container, resolution and duration duties."""

    container: str
    min_width: int
    min_height: int
    min_lesson_seconds: float
    video_extensions: frozenset[str]
    recently_modified_seconds: float
    header_duration_tolerance: float = 0.2
    """FM06 when a header's claimed duration is off the pictures' real length by more than this
    share of the real length (and by more than header_duration_slack seconds)."""
    header_duration_slack: float = 30.0
    max_clip_seconds: float = 86400.0
    """FM06 for a clip whose pictures span longer than this (a day folder's clip cannot)."""
    min_frame_rate: float = 0.5
    """FM06 for a clip with fewer pictures a second than this over its length (not video)."""


@dataclass(frozen=True)
class Profile:
    """One county's standard: identity, naming and format rules, plus any extra sections."""

    id: str
    name_zh: str
    name_en: str
    source: Path
    names: NameRules
    format: FormatRules
    sections: dict[str, Any]

    def section(self, name: str) -> dict[str, Any]:
        """A raw section of the profile (for rule groups that bring their own thresholds)."""
        value = self.sections.get(name, {})
        return value if isinstance(value, dict) else {}

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


def section_values(
    section: Mapping[str, Any], defaults: object, keys: Mapping[str, str] | Iterable[str]
) -> dict[str, Any]:
    """Dataclass arguments from a profile [section]: each field read from its TOML key (KEYS maps
    field -> key, or lists fields named as their keys) and converted to the type of the field's
    default in DEFAULTS (a dataclass or an instance). Missing keys are left out: the dataclass
    keeps its default."""
    pairs = keys.items() if isinstance(keys, Mapping) else ((k, k) for k in keys)
    return {
        name: type(getattr(defaults, name))(section[key]) for name, key in pairs if key in section
    }


def _compile(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ProfileError(f"{where}: bad regular expression: {exc}") from exc


def _require(table: dict[str, Any], key: str, where: str) -> Any:
    if key not in table:
        raise ProfileError(f"{where}: missing key '{key}'")
    return table[key]


def load_profile(path: Path | None = None) -> Profile:
    """Load a standard profile; None loads the shipped Huguan 2024 profile."""
    source = path or DEFAULT_PROFILE
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ProfileError(f"{source}: no such standard profile") from exc
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"{source}: cannot read standard profile: {exc}") from exc
    try:
        meta = _require(data, "profile", str(source))
        names = _require(data, "names", str(source))
        fmt = _require(data, "format", str(source))
        where = f"{source} [names]"
        name_rules = NameRules(
            roll=_compile(_require(names, "roll", where), where + " roll"),
            lesson=_compile(_require(names, "lesson", where), where + " lesson"),
            roll_slots=tuple(int(s) for s in _require(names, "roll_slots", where)),
            day_folder=tuple(
                _compile(p, where + " day_folder") for p in _require(names, "day_folder", where)
            ),
            class_year=_compile(_require(names, "class_year", where), where + " class_year"),
            roster_files=tuple(_require(names, "roster_files", where)),
        )
        where = f"{source} [format]"
        format_rules = FormatRules(
            container=str(_require(fmt, "container", where)),
            min_width=int(_require(fmt, "min_width", where)),
            min_height=int(_require(fmt, "min_height", where)),
            min_lesson_seconds=float(_require(fmt, "min_lesson_seconds", where)),
            video_extensions=frozenset(e.lower() for e in _require(fmt, "video_extensions", where)),
            recently_modified_seconds=float(fmt.get("recently_modified_seconds", 300)),
            header_duration_tolerance=float(fmt.get("header_duration_tolerance", 0.2)),
            header_duration_slack=float(fmt.get("header_duration_slack", 30)),
            max_clip_seconds=float(fmt.get("max_clip_seconds", 86400)),
            min_frame_rate=float(fmt.get("min_frame_rate", 0.5)),
        )
        return Profile(
            id=str(_require(meta, "id", f"{source} [profile]")),
            name_zh=str(meta.get("name_zh", meta["id"])),
            name_en=str(meta.get("name_en", meta["id"])),
            source=source,
            names=name_rules,
            format=format_rules,
            sections=data,
        )
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ProfileError):
            raise
        raise ProfileError(f"{source}: {exc}") from exc
