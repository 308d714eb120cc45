"""Face-analysis settings from the standard profile's [faces] section (thresholds are data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from video_audit.faces.analysis import RollSettings
from video_audit.faces.engine import EngineError, Thresholds
from video_audit.standard import section_values


@dataclass(frozen=True)
class FaceSettings:
    """Everything face analysis reads from the profile."""

    roll: RollSettings = field(default_factory=RollSettings)
    roll_slots: tuple[int, ...] = (1, 2)
    agreement: float = 0.6
    calibration: float = 0.8
    lesson_samples: int = 6
    lesson_share: float = 1.0
    detect_width: int = 512
    detector: str = "mtcnn"
    detect_min_face: float = 60.0
    wide_min_face: float = 32.0
    det_size: int = 640
    engines: dict[str, Thresholds] = field(default_factory=dict)

    def thresholds(self, engine: str) -> Thresholds:
        try:
            return self.engines[engine]
        except KeyError:
            raise EngineError(f"the standard profile has no [faces.{engine}] thresholds") from None


def face_settings(section: dict[str, Any], roll_slots: tuple[int, ...] = (1, 2)) -> FaceSettings:
    """Build FaceSettings from a profile's [faces] table (missing keys keep their defaults)."""
    roll_keys = ("step", "min_step", "min_face", "min_sharpness", "keep", "fast_pan", "slow_pan")
    roll = RollSettings(**section_values(section, RollSettings, roll_keys))
    engines = {
        name: Thresholds.from_table(table, f"[faces.{name}]")
        for name, table in section.items()
        if isinstance(table, dict)
    }
    simple = section_values(
        section,
        FaceSettings,
        (
            "agreement",
            "calibration",
            "lesson_samples",
            "lesson_share",
            "detect_width",
            "detector",
            "detect_min_face",
            "wide_min_face",
            "det_size",
        ),
    )
    return FaceSettings(roll=roll, roll_slots=roll_slots, engines=engines, **simple)
