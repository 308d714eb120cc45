"""Which face engine an audit runs: insightface when a trusted pack is installed, else embedded."""

from __future__ import annotations

from video_audit.faces.embedded import EmbeddedEngine
from video_audit.faces.engine import EngineError, FaceEngine
from video_audit.faces.insightface_engine import InsightfaceEngine
from video_audit.faces.packs import list_packs, model_roots, usable_pack
from video_audit.faces.settings import FaceSettings


def select_engine(choice: str, settings: FaceSettings) -> FaceEngine:
    """The engine to run: insightface when asked or (auto) when a pack is found, else embedded."""
    if choice in ("auto", "insightface"):
        pack = usable_pack()
        if pack is not None:
            return InsightfaceEngine(
                pack.path, settings.thresholds("insightface"), det_size=settings.det_size
            )
        if choice == "insightface":
            bad = [p.problem for p in list_packs() if p.problem]
            where = ", ".join(str(r) for r in model_roots())
            raise EngineError(bad[0] if bad else f"no model pack found (looked in {where})")
    return EmbeddedEngine(
        settings.thresholds("embedded"),
        detect_width=settings.detect_width,
        detector=settings.detector,
        min_face=settings.detect_min_face,
        wide_min_face=settings.wide_min_face,
    )
