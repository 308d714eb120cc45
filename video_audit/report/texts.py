"""The words of reports and commands in zh and en (texts.toml); a leaf any layer may read."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any


@cache
def _texts() -> dict[str, dict[str, str]]:
    return tomllib.loads(Path(__file__).with_name("texts.toml").read_text(encoding="utf-8"))


def t(lang: str, key: str, **params: Any) -> str:
    """One UI text in zh or en, filled with params."""
    texts = _texts()
    table = texts.get(lang, texts["zh"])
    template = table.get(key) or texts["en"].get(key) or key
    return template.format(**params) if params else template
