"""Settings: one pydantic-settings class; environment variables VIDEO_AUDIT_* override defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class AuditSettings(BaseSettings):
    """What one audit needs to know besides the folder itself."""

    model_config = SettingsConfigDict(env_prefix="VIDEO_AUDIT_", env_nested_delimiter="__")

    standard: Path | None = None
    """A standard profile (TOML); None uses the shipped Huguan 2024 profile."""
    year: int | None = None
    """The year of day folders named without one (5月24日), when the class folder names none."""
    lang: Literal["zh", "en"] = "zh"
    roster: Path | None = None
    engine: Literal["auto", "insightface", "embedded"] = "auto"
    probe_threads: int = 4
    """Clips probed at once (probing is mostly I/O and FFmpeg work outside the GIL)."""
