"""The morning summary as one self-contained HTML page (no scripts, no external files).

The page is templates/summary.html; its words, overview and reasons come from scan/summary.py,
which calls this module (never the other way round) so every renderer says the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from video_audit import __version__
from video_audit.findings import catalogue

if TYPE_CHECKING:
    from video_audit.scan.summary import NightSummary


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("summary.html")


def render(
    s: NightSummary,
    lang: str,
    words: Mapping[str, str],
    overview: list[tuple[str, Any]],
    reason: Callable[[dict[str, Any], str], str],
    patrol_line: Callable[[dict[str, Any], str], list[str]] | None = None,
) -> str:
    """The page in LANG, with summary.py's WORDS, OVERVIEW rows and REASON for waiting classes."""
    widest = max((n["audited"] for n in s.trend), default=0)
    return _template().render(
        s=s,
        w=words,
        lang=lang,
        overview=overview,
        reason=reason,
        patrol_line=patrol_line,
        titles={code: r.title[lang] for code, r in catalogue().items()},
        scale=200 / widest if widest else 0,
        version=__version__,
    )
