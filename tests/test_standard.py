"""The standard profile: loading, errors, and reading a [section] into typed settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from video_audit.clock import ClockConfig
from video_audit.picture.measures import PictureConfig
from video_audit.rules.picture import PictureRules
from video_audit.standard import DEFAULT_PROFILE, ProfileError, load_profile, section_values


@dataclass(frozen=True)
class Example:
    seconds: float = 1.0
    count: int = 3
    enabled: bool = True


def test_section_values_converts_to_the_defaults_types_and_skips_missing_keys() -> None:
    section = {"wait_seconds": 2, "count": 5.0, "enabled": False, "unrelated": "x"}
    values = section_values(section, Example, {"seconds": "wait_seconds", "count": "count"})
    assert values == {"seconds": 2.0, "count": 5}
    assert isinstance(values["seconds"], float) and isinstance(values["count"], int)
    assert Example(**section_values(section, Example(), ("enabled",))) == Example(enabled=False)
    assert section_values({}, Example, ("seconds", "count")) == {}


def test_profile_sections_reach_the_analyzers(tmp_path: Path) -> None:
    text = DEFAULT_PROFILE.read_text(encoding="utf-8")
    shipped = load_profile()
    assert PictureRules.from_profile(shipped).frozen_seconds == 10.0
    changed = tmp_path / "county.toml"
    edited = text.replace("frozen_seconds = 10.0", "frozen_seconds = 25", 1)
    assert edited != text, "the shipped profile names frozen_seconds"
    changed.write_text(edited, encoding="utf-8")
    profile = load_profile(changed)
    assert PictureRules.from_profile(profile).frozen_seconds == 25.0
    assert PictureConfig.from_profile(profile) == PictureConfig.from_profile(shipped)
    assert ClockConfig.from_profile(profile) == ClockConfig.from_profile(shipped)


def test_broken_profiles_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="no such standard profile"):
        load_profile(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[profile]\nid = 'x'\n[names]\nroll = '('\n", encoding="utf-8")
    with pytest.raises(ProfileError):
        load_profile(bad)
