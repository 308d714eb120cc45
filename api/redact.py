"""What an institution account is not shown: the server's paths and the inspectors' logins.

Inspectors and admins run the server and see everything as stored (absolute source paths help
them find a file on disk). An institution sees its own classes, but neither where the server
keeps them nor who of the bureau took a screenshot or spot-check: paths under the workspace
become the class folder's name (or disappear), and evidence records lose `source_path`,
`taken_by` and the caption text that names the inspector.
"""

from __future__ import annotations

import html
import io
import json
from pathlib import Path
from typing import Any

from api.auth import User

HIDDEN_EVIDENCE_FIELDS = ("source_path", "taken_by", "caption")


class PathScrubber:
    """Replaces the workspace's absolute paths in text: a class folder by its name, else '…'."""

    def __init__(self, workspace_root: Path, classes_dir: Path) -> None:
        roots = {str(workspace_root), str(workspace_root.resolve())}
        classes = {str(classes_dir), str(classes_dir.resolve())}
        # Longest first, so a class folder is named before its workspace is cut away.
        self._classes = sorted(classes, key=len, reverse=True)
        self._roots = sorted(roots, key=len, reverse=True)

    def text(self, value: str) -> str:
        for prefix in self._classes:
            value = value.replace(prefix + "/", "")
        for prefix in self._roots:
            value = value.replace(prefix, "…")
        return value

    def data(self, value: Any) -> Any:
        """The same JSON-like value with every string scrubbed."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, dict):
            return {k: self.data(v) for k, v in value.items()}
        return value

    def report_file(self, data: bytes, fmt: str) -> bytes:
        """A stored report file (json, html or xlsx) as an institution may download it."""
        if fmt == "json":
            doc = self.data(json.loads(data.decode("utf-8")))
            return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
        if fmt == "html":
            text = data.decode("utf-8")
            for prefix in self._classes:
                text = text.replace(html.escape(prefix + "/"), "")
            for prefix in self._roots:
                text = text.replace(html.escape(prefix), "…")
            return text.encode("utf-8")
        if fmt == "xlsx":
            from openpyxl import load_workbook

            from video_audit.spreadsheet import keep_text

            book = load_workbook(io.BytesIO(data))
            for sheet in book.worksheets:
                for row in sheet.iter_rows():
                    for cell in row:
                        if isinstance(cell.value, str):
                            cell.value = self.text(cell.value)
                            keep_text(cell)
            out = io.BytesIO()
            book.save(out)
            return out.getvalue()
        return data


def evidence_record(user: User, record: dict[str, Any]) -> dict[str, Any]:
    """An evidence record as this user may see it."""
    if user.sees_all:
        return record
    return {k: v for k, v in record.items() if k not in HIDDEN_EVIDENCE_FIELDS}
