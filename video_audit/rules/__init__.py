"""The rule groups every audit runs (one module each); their codes live in catalogue/*.toml."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from video_audit.findings import Finding

if TYPE_CHECKING:
    from video_audit.context import AuditContext

Check = Callable[["AuditContext"], Iterable[Finding]]


def checks() -> list[Check]:
    """The rule groups run by every audit, in report order."""
    from video_audit.rules import clock, content, format, layout, naming, people, picture

    return [
        layout.check,
        naming.check,
        content.check,
        format.check,
        picture.check,
        clock.check,
        people.check,
    ]
