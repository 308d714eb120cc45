"""video-audit: audit training-video discs against Annex 4."""

__version__ = "0.1.0"
