"""What every `video-audit` command shares: the language option and the one-line failure."""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import click

LANGS = click.Choice(["zh", "en"])


def default_lang() -> str:
    """zh unless VIDEO_AUDIT_LANG says en."""
    lang = os.environ.get("VIDEO_AUDIT_LANG", "zh")
    return lang if lang in ("zh", "en") else "zh"


def fail(message: str) -> NoReturn:
    """One line on stderr, exit 2: the command could not run."""
    click.echo(f"video-audit: {message}", err=True)
    sys.exit(2)
