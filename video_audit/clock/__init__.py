"""The camera's on-screen clock (OSD): found once per clip, read cheaply, held against the stream.

Used for QA07 (recording time; the clock is trusted before metadata) and QA06 (a clock that
jumps inside a lesson clip: a splice). See analyzer.py for the flow.
"""

from video_audit.clock.analyzer import ClipClock, ClockAnalyzer, ClockConfig, ClockTime
from video_audit.clock.parse import ClockText, parse_clock

__all__ = ["ClipClock", "ClockAnalyzer", "ClockConfig", "ClockText", "ClockTime", "parse_clock"]
