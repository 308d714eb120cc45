"""What the parts of one audit share: the context the rules see, progress, and the audit's error.

Below the rules, the analyzers and the orchestrator (audit.py); the types it names are only
imported for the type checker, so every part of the pipeline can import this module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from video_audit.disc import Disc
    from video_audit.media.frames import ClipPass
    from video_audit.picture.fingerprints import Fingerprint
    from video_audit.settings import AuditSettings
    from video_audit.standard import Profile

Progress = Callable[[int, int, str], None]
"""Called as (done, total, what) while clips are probed, then decoded."""


class AuditError(Exception):
    """The audit could not run at all (exit 2): a missing path, a bad profile, a broken store."""


class RememberedClip(Protocol):
    """A clip an earlier audit remembered (the fingerprint store's row, read-only)."""

    @property
    def class_folder(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def audited(self) -> str: ...
    @property
    def fingerprint(self) -> Fingerprint: ...


class FingerprintLookup(Protocol):
    """The clips of other classes that may match a fingerprint, most likely first."""

    def __call__(self, fingerprint: Fingerprint, class_key: str) -> Sequence[RememberedClip]: ...


RememberedClass = tuple[str, str, list[tuple[str, "Fingerprint"]]]
"""What the fingerprint store keeps of one class: its key, its folder, (clip path, fingerprint)s."""


@dataclass
class AuditContext:
    """What every rule group sees: the walked disc, the profile, the settings and the passes."""

    disc: Disc
    profile: Profile
    settings: AuditSettings
    faces: dict[str, Any] = field(default_factory=dict)
    """Attendance by class rel (video_audit.faces.run.FaceAudit): classes with a roster only."""
    frames: dict[str, ClipPass] = field(default_factory=dict)
    """The shared frame pass by clip rel (video_audit.media.frames): clips that probed fine."""
    fingerprints: FingerprintLookup | None = None
    """Earlier audits' clips, when the orchestrator opened a fingerprint store (settings)."""
    remember: list[RememberedClass] = field(default_factory=list)
    """Classes the rules ask to remember; the orchestrator writes them after every check ran."""
