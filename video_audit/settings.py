"""Settings: one pydantic-settings class; environment variables VIDEO_AUDIT_* override defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class AuditSettings(BaseSettings):
    """What one audit needs to know besides the folder itself."""

    model_config = SettingsConfigDict(
        env_prefix="VIDEO_AUDIT_", env_nested_delimiter="__", use_attribute_docstrings=True
    )

    standard: Path | None = None
    """A standard profile (TOML); None uses the shipped Huguan 2024 profile."""
    year: int | None = None
    """The year of day folders named without one (5月24日), when the class folder names none."""
    lang: Literal["zh", "en"] = "zh"
    """Language of reports and messages: zh (Chinese, the default) or en."""
    roster: Path | None = None
    """A roster (CSV, XLSX or XLS) for every audited class (else the class folder's own:
    名册.csv, 花名册.xlsx, 学员名单.xls … as the profile's roster_files name them)."""
    engine: Literal["auto", "insightface", "embedded"] = "auto"
    """Face engine: insightface (needs a model pack), embedded (built in), or auto."""
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

    model_config = SettingsConfigDict(
        env_prefix="VIDEO_AUDIT_", env_nested_delimiter="__", use_attribute_docstrings=True
    )

    data: Path | None = None
    """The workspace (accounts, uploaded classes, reports, evidence, scan state, fingerprints,
    model packs); None: $XDG_DATA_HOME/video-audit, i.e. ~/.local/share/video-audit. The same
    for every command (`--data` where a command has one)."""
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
    institution_quota_bytes: int = 500 * 1024**3
    """Most bytes one institution's stored classes may hold together; an upload by an
    institution account that would go past it is refused (0: no quota)."""
    disk_reserve_bytes: int = 2 * 1024**3
    """Free space the workspace's disk keeps: uploads are refused, and stopped while being
    extracted, when free space would fall below it; /health reports degraded below it."""
    max_expand_ratio: float = 100.0
    """Most a zip entry (over 1 MiB expanded) may expand: video does not compress, so an entry
    that grows more than this many times is a zip bomb and is refused before it is written."""
    audit_timeout_seconds: float = 6 * 3600.0
    """An audit running longer is stopped (its worker process killed) and marked failed;
    0: no limit."""
    evidence_key_file: Path | None = None
    """The key that signs the evidence log (HMAC-SHA256), kept outside the workspace; None:
    $XDG_CONFIG_HOME/video-audit/evidence.key (~/.config/…), made 0600 on the first capture.
    Every command reads the same variable. Back it up; a key inside the workspace is refused."""
    login_failures: int = 5
    """Failed logins of one account before it must wait (429 with Retry-After); each further
    failure doubles the wait."""
    login_address_failures: int = 20
    """Failed logins from one client address (any account) before it must wait."""
    login_window_s: float = 300.0
    """Failed logins older than this many seconds are forgotten."""
    login_backoff_s: float = 1.0
    """The first wait after the limit, in seconds (then 2, 4, 8 … times that)."""
    login_backoff_max_s: float = 900.0
    """The longest wait, in seconds."""
    login_table_max: int = 10000
    """Accounts and addresses the failed-login table holds at most (least recent forgotten)."""
    login_concurrency: int = 4
    """Password checks (argon2, about 64 MiB each) run at once; more wait their turn."""
    patrol_interval_seconds: float = 60.0
    """How often the service runs the live patrols now due (the standing random plan of the
    imported class sessions, as `video-audit patrol-run` does), in seconds: a patrol runs at
    most this late; 0: never (run `patrol-run` from cron instead)."""


def settings_markdown() -> str:
    """docs/settings.md: every setting, its environment variable, default and meaning."""
    lines = [
        "# 设置 / Settings",
        "",
        "<!-- Generated by `make docs` from video_audit/settings.py; a test fails when this page",
        "is out of date. -->",
        "",
        "Every setting can be given as an environment variable (`VIDEO_AUDIT_…`); command-line",
        "options, where a command has one, take precedence.",
    ]
    for cls in (AuditSettings, ServiceSettings):
        lines += ["", f"## {cls.__name__}", "", (cls.__doc__ or "").strip(), ""]
        lines += ["| variable | default | meaning |", "|---|---|---|"]
        for name, info in cls.model_fields.items():
            meaning = " ".join((info.description or "").split())
            lines.append(f"| `VIDEO_AUDIT_{name.upper()}` | `{info.default}` | {meaning} |")
    return "\n".join(lines) + "\n"
