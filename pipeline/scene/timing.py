"""Moments on the timeline, as a scene writes them: a frame (150), a time (5s, 2.5s, 1m30s)
or a beat (16b: sixteen beats after beat_offset at the scene's bpm). Each lands on the
nearest frame, halves rounding up."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

TIME = re.compile(r"^\s*(?:(?P<minutes>\d+(?:\.\d+)?)\s*m)?\s*(?:(?P<seconds>\d+(?:\.\d+)?)\s*s)?\s*$")
BEAT = re.compile(r"^\s*(?P<beats>\d+(?:\.\d+)?)\s*b\s*$")
MOMENT_PATTERN = r"^\s*([0-9]+|([0-9]+(\.[0-9]+)?\s*m)?\s*([0-9]+(\.[0-9]+)?\s*s)?|[0-9]+(\.[0-9]+)?\s*b)\s*$"
MOMENT_SCHEMA = {"anyOf": [{"type": "integer", "minimum": 0},
                           {"type": "string", "pattern": MOMENT_PATTERN, "examples": ["150", "5s", "1m30s", "16b"]}]}
HINT = "a frame (150), a time ('5s', '2.5s', '1m30s') or a beat ('16b', with bpm set)"


@dataclass(frozen=True)
class Timing:
    """What turns times and beats into frames: the scene's fps, bpm and beat_offset."""

    fps: float = 30.0
    bpm: float | None = None
    beat_offset: float = 0.0  # seconds

    @classmethod
    def of(cls, data: Any) -> Timing:
        """The timing raw scene data asks for; values the scene's own validation will refuse
        (a bad fps, say) fall back to the defaults here, so each problem is reported once."""
        def number(key, default, low, high):
            value = data.get(key, default) if isinstance(data, dict) else default
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and low < value <= high
            return float(value) if ok else default

        return cls(number("fps", 30.0, 0, 240), number("bpm", None, 0, 1000), number("beat_offset", 0.0, -1, 1e6))

    def frame_of_seconds(self, seconds: float) -> int:
        return math.floor(seconds * self.fps + 0.5)  # the nearest frame; a half rounds up

    def frame(self, raw: Any) -> int:
        """The frame a moment lands on; ValueError naming the forms allowed."""
        if isinstance(raw, bool) or not isinstance(raw, (int, str)):
            raise ValueError(f"expected {HINT}, got {raw!r}")
        if isinstance(raw, int) or raw.strip().isdigit():
            frame = int(raw)
        elif BEAT.match(raw):
            if self.bpm is None:
                raise ValueError(f"{raw!r} is in beats: set bpm (beats per minute) at the top of the scene")
            seconds = self.beat_offset + float(BEAT.match(raw)["beats"]) * 60.0 / self.bpm
            frame = self.frame_of_seconds(seconds)
        else:
            match = TIME.match(raw)
            if not match or not (match["minutes"] or match["seconds"]):
                raise ValueError(f"expected {HINT}, got {raw!r}")
            frame = self.frame_of_seconds(float(match["minutes"] or 0) * 60 + float(match["seconds"] or 0))
        if frame < 0:
            raise ValueError(f"{raw!r} is before the first frame")
        return frame


def timing_from(info) -> Timing:
    """The Timing a pydantic validator was given in its context (the defaults without one)."""
    context = getattr(info, "context", None) or {}
    return context.get("timing") or Timing()
