"""The workspace: one folder for everything that is not a submitted disc.

It holds the one database (accounts, uploaded classes, audits, evidence records, the nightly
scan's state, footage fingerprints), the evidence files, the web service's uploads and reports,
and installed face-model packs. Every command finds it by the same rule: `--data DIR`, else
$VIDEO_AUDIT_DATA, else the per-user default `$XDG_DATA_HOME/video-audit`
(`~/.local/share/video-audit`). It never depends on the folder a command is run from.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from video_audit.store.db import DB_NAME

ENV = "VIDEO_AUDIT_DATA"
"""The environment variable naming the workspace."""
LEGACY_ENV = "VIDEO_AUDIT_DATA_DIR"
"""The name earlier versions read; still honoured after ENV."""
LEGACY_FOLDER = "video-audit-data"
"""Where earlier versions put the data when given nothing: relative to the current folder."""

Source = Literal["option", "env", "legacy_env", "default"]

_SOURCE_TEXT = {
    "zh": {
        "option": "来自 --data",
        "env": f"来自环境变量 {ENV}",
        "legacy_env": f"来自环境变量 {LEGACY_ENV}",
        "default": "默认位置",
    },
    "en": {
        "option": "from --data",
        "env": f"from ${ENV}",
        "legacy_env": f"from ${LEGACY_ENV}",
        "default": "the default location",
    },
}


def default_root(env: Mapping[str, str] | None = None) -> Path:
    """The per-user default: $XDG_DATA_HOME/video-audit, else ~/.local/share/video-audit."""
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "video-audit"


@dataclass(frozen=True)
class Workspace:
    """Where one installation keeps its state, and how that place was chosen."""

    root: Path
    source: Source

    @classmethod
    def locate(cls, data: Path | None = None, env: Mapping[str, str] | None = None) -> Workspace:
        """--data, else $VIDEO_AUDIT_DATA (or the older $VIDEO_AUDIT_DATA_DIR), else the default."""
        env = os.environ if env is None else env
        if data is not None:
            return cls(_absolute(data), "option")
        if env.get(ENV):
            return cls(_absolute(Path(env[ENV])), "env")
        if env.get(LEGACY_ENV):
            return cls(_absolute(Path(env[LEGACY_ENV])), "legacy_env")
        return cls(_absolute(default_root(env)), "default")

    @property
    def db(self) -> Path:
        """The one SQLite database."""
        return self.root / DB_NAME

    @property
    def evidence_dir(self) -> Path:
        """Evidence PNGs (by content hash) and the chain's HEAD file."""
        return self.root / "evidence"

    @property
    def reports_dir(self) -> Path:
        """Reports of audits run by the web service, one folder per audit."""
        return self.root / "reports"

    @property
    def models_dir(self) -> Path:
        """Face-model packs installed with `video-audit models install`."""
        return self.root / "models"

    def exists(self) -> bool:
        """Whether a workspace is here (its database exists)."""
        return self.db.is_file()

    def describe(self, lang: str = "zh", created: bool = False) -> str:
        """One line: which workspace a command uses and why (and whether it was just made)."""
        why = _SOURCE_TEXT.get(lang, _SOURCE_TEXT["en"])[self.source]
        if lang == "zh":
            return f"工作区：{self.root}（{why}{'，新建' if created else ''}）"
        return f"workspace: {self.root} ({why}{', new' if created else ''})"

    def missing_message(self) -> str:
        """Where it looked, how to choose another, and an older data folder if one is here."""
        why = _SOURCE_TEXT["zh"][self.source]
        message = (
            f"找不到工作区：{self.root}（{why}）下没有数据库 {DB_NAME}。"
            f"请用 --data 目录 或环境变量 {ENV} 指明工作区"
        )
        legacy = Path.cwd() / LEGACY_FOLDER / DB_NAME
        if legacy.is_file() and legacy.parent.resolve() != self.root:
            message += f"（当前目录下有旧版数据目录，可用 --data {legacy.parent}）"
        return f"{message} / no workspace at {self.root}"


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(path.expanduser()))
