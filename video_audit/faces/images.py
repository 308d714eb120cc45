"""Face thumbnails of a report: personal data, written beside the report file, never logged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from video_audit.files import write_atomic


def face_images(extras: dict[str, Any]) -> dict[str, bytes]:
    """Every thumbnail the report's attendance refers to, by its path relative to the report."""
    images: dict[str, bytes] = {}
    for result in extras.get("faces", {}).values():
        to_dict = getattr(result, "to_dict", None)
        if to_dict:
            to_dict()  # thumbnails are made as the attendance is described
        images.update(getattr(result, "images", {}))
    return images


def write_face_images(extras: dict[str, Any], folder: Path) -> int:
    """Write the thumbnails under FOLDER (names are content hashes: existing ones are kept)."""
    written = 0
    for name, data in face_images(extras).items():
        target = folder / name
        if not target.exists():
            write_atomic(target, data)
            written += 1
    return written
