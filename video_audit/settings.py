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
    frame_threads: int = 2
    """Clips decoded at once by the frame pass (FFmpeg and OpenCV work outside the GIL)."""
    fingerprint_db: Path | None = None
    """SQLite store of footage fingerprints, to find footage reused across classes (QA05);
    None remembers nothing between audits."""
    scan_settle_seconds: float = 120.0
    """Nightly scan: a class whose files changed less than this long ago is still being copied."""
    scan_pause_seconds: float = 0.0
    """Nightly scan: pause after each committed class (eases a busy server; tests use it)."""


class ServiceSettings(BaseSettings):
    """The inspector web service (`video-audit serve`): where it keeps data, what it accepts."""

    model_config = SettingsConfigDict(env_prefix="VIDEO_AUDIT_", env_nested_delimiter="__")

    data_dir: Path = Path("video-audit-data")
    """Uploaded classes, audit reports, evidence files and the SQLite store."""
    max_upload_bytes: int = 20 * 1024**3
    """Largest upload (a whole class folder or its zip), in bytes."""
    max_upload_files: int = 5000
    """Most files one upload may hold."""
    audit_workers: int = 2
    """Audits run at once, each in its own process."""
    session_hours: float = 12.0
    """How long a login lasts."""
    secure_cookies: bool = False
    """Mark the session cookie Secure (set when the service sits behind HTTPS)."""
    spotcheck_max: int = 50
    """Most moments one random spot-check may propose."""
