"""`python -m video_audit.cli`: the same as the video-audit command."""

from video_audit.cli import main

main()
