"""GET /health: the only route that needs no login (for load balancers and monitors)."""

from __future__ import annotations

from fastapi import APIRouter

from video_audit import __version__

router = APIRouter()


@router.get("/health", tags=["service"])
def health() -> dict[str, str]:
    """服务是否在运行 / whether the service is up."""
    return {"status": "ok", "version": __version__}
