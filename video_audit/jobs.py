"""Audit one class folder and (optionally) write its report files: the web's and the scan's job.

Runs in a worker process; what it returns is plain data, so it can cross a process boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from video_audit.audit import run_audit
from video_audit.context import AuditError, Progress
from video_audit.files import write_atomic
from video_audit.report import render
from video_audit.settings import AuditSettings

if TYPE_CHECKING:
    from video_audit.audit import AuditReport

REPORT_LANGS = ("zh", "en")
EXTRA_FORMATS = ("html", "xlsx")
"""Written beside the JSON when their renderer is installed (the JSON is always written)."""


@dataclass
class ClassAudit:
    """One class's audit: its JSON dict in one language, or why it could not run."""

    report: dict[str, Any] | None
    error: str | None
    files: dict[str, str] = field(default_factory=dict)
    """What write_reports wrote: {"json-zh": "report-zh.json", …, "xlsx-en-error": text}."""


def audit_class(
    path: Path,
    settings: AuditSettings,
    lang: str = "zh",
    out: Path | None = None,
    progress: Progress | None = None,
) -> ClassAudit:
    """Audit the class folder PATH; with OUT, write its reports and face thumbnails there.

    An audit that cannot run, or fails in any way, is an error of this class only.
    """
    try:
        report = run_audit(path, settings, progress=progress)
    except AuditError as exc:
        return ClassAudit(None, str(exc))
    except Exception as exc:  # one bad class never takes a service or a night down
        return ClassAudit(None, f"{type(exc).__name__}: {exc}")
    files = write_reports(report, out) if out is not None else {}
    return ClassAudit(report.to_dict(lang), None, files)


def write_reports(
    report: AuditReport, out: Path, langs: Sequence[str] = REPORT_LANGS
) -> dict[str, str]:
    """report-{lang}.json/.html/.xlsx and faces/ thumbnails under OUT, each written atomically.

    The JSON must be written (an OSError propagates); an HTML or XLSX renderer that is not
    installed is skipped, and one that fails is recorded as "{fmt}-{lang}-error".
    """
    files: dict[str, str] = {}
    for lang in langs:
        name = f"report-{lang}.json"
        write_atomic(out / name, render(report, "json", lang))
        files[f"json-{lang}"] = name
        for fmt in EXTRA_FORMATS:
            try:
                data = render(report, fmt, lang)
            except ImportError:  # that renderer is not installed in this build
                continue
            except Exception as exc:
                files[f"{fmt}-{lang}-error"] = f"{type(exc).__name__}: {exc}"
                continue
            name = f"report-{lang}.{fmt}"
            write_atomic(out / name, data)
            files[f"{fmt}-{lang}"] = name
    try:  # face thumbnails the attendance refers to ("faces/…jpg", beside the reports)
        from video_audit.faces.images import write_face_images

        write_face_images(report.extras, out)
    except ImportError:
        pass
    return files
