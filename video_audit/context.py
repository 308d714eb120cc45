"""What the parts of one audit share: the context the rules see, progress, and the audit's error.

Below the rules, the analyzers and the orchestrator (audit.py); the types it names are only
imported for the type checker, so every part of the pipeline can import this module.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from video_audit.disc import Disc
    from video_audit.media.frames import ClipPass
    from video_audit.picture.fingerprints import Fingerprint
    from video_audit.settings import AuditSettings
    from video_audit.standard import Profile

Progress = Callable[[int, int, str], None]
"""Called as (done, total, what) while clips are probed, then decoded (one count over both)."""


@runtime_checkable
class PhasedProgress(Protocol):
    """A Progress that also wants to know when a phase begins and what each of its clips weighs
    (media seconds): an Estimate. A plain Progress is never told."""

    def __call__(self, done: int, total: int, what: str) -> None: ...
    def phase(self, name: str, weights: Mapping[str, float | None]) -> None: ...


def announce(progress: Progress | None, name: str, weights: Mapping[str, float | None]) -> None:
    """Tell PROGRESS, when it is a PhasedProgress, that phase NAME begins over WEIGHTS' clips."""
    if isinstance(progress, PhasedProgress):
        progress.phase(name, weights)


@dataclass(frozen=True)
class ProgressState:
    """Where an audit stands: its phase ("probe", "decode"), the clips of that phase done and in
    all, the clip last done, and the seconds it should still take (None: not known yet)."""

    phase: str
    done: int
    total: int
    clip: str
    remaining_seconds: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "done": self.done,
            "total": self.total,
            "clip": self.clip,
            "remaining_seconds": self.remaining_seconds,
        }


class Estimate:
    """A PhasedProgress that keeps the audit's ProgressState and the time remaining.

    The estimate is the decode phase's wall time per media second so far, times the media
    seconds still to decode: clips of uneven length do not make it jump as a clip count would.
    Probing takes milliseconds per clip and says nothing about decoding, so until a clip has
    been decoded the time remaining is unknown (None). ON_STEP is called after each step.
    """

    def __init__(
        self,
        on_step: Callable[[ProgressState], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.on_step = on_step
        self.clock = clock
        self.state = ProgressState("", 0, 0, "", None)
        self._phase = ""
        self._weights: dict[str, float] = {}
        self._started = clock()
        self._weight_done = 0.0
        self._at = self._started

    def phase(self, name: str, weights: Mapping[str, float | None]) -> None:
        known = [w for w in weights.values() if w is not None and w > 0]
        usual = sum(known) / len(known) if known else 1.0
        # A clip of unknown length weighs as much as the usual one; none weighs nothing.
        self._weights = {
            rel: max(w if w is not None and w > 0 else usual, _LEAST_WEIGHT)
            for rel, w in weights.items()
        }
        self._phase, self._weight_done = name, 0.0
        self._started = self._at = self.clock()
        self.state = ProgressState(name, 0, len(self._weights), "", None)

    def __call__(self, done: int, total: int, what: str) -> None:
        count = len(self._weights)
        if self._phase and count and total >= count:  # the counts run on across the phases
            done, total = done - (total - count), count
        if self._phase == "decode":
            self._weight_done += self._weights.get(what, _LEAST_WEIGHT)
        self._at = self.clock()
        self.state = ProgressState(self._phase, done, total, what, self._remaining())
        if self.on_step is not None:
            self.on_step(self.state)

    def remaining(self) -> float | None:
        """The seconds still to go now: the last step's estimate less the time since."""
        left = self.state.remaining_seconds
        return None if left is None else max(0.0, left - (self.clock() - self._at))

    def _remaining(self) -> float | None:
        if self._phase != "decode" or self._weight_done <= 0:
            return None
        total = sum(self._weights.values())
        per_second = (self._at - self._started) / self._weight_done
        return max(0.0, per_second * (total - self._weight_done))


_LEAST_WEIGHT = 1.0
"""Media seconds a clip weighs at least: opening and setting up a clip costs time of its own."""


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
