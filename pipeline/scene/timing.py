"""Moments on the timeline, as a scene writes them: a frame (150), a time (5s, 2.5s, 1m30s)
or a beat (16b: sixteen beats after beat_offset at the scene's bpm). Each lands on the
nearest frame, halves rounding up."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

_AMOUNT = r"[0-9]+(?:\.[0-9]+)?"
FRAME = r"^[0-9]+$"
TIME = rf"^(?=[0-9])(?:({_AMOUNT})m)?(?:({_AMOUNT})s)?$"  # 5s, 2.5s, 1m30s, 2m
BEAT = rf"^({_AMOUNT})b$"
MOMENT_PATTERN = "|".join((FRAME, TIME, BEAT))  # the loader's own patterns, for the JSON Schema too
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
        if isinstance(raw, int) or re.match(FRAME, raw):
            frame = int(raw)
        elif re.match(BEAT, raw):
            if self.bpm is None:
                raise ValueError(f"{raw!r} is in beats: set bpm (beats per minute) at the top of the scene")
            frame = self.frame_of_seconds(self.beat_offset + float(re.match(BEAT, raw)[1]) * 60.0 / self.bpm)
        elif re.match(TIME, raw):
            minutes, seconds = re.match(TIME, raw).groups()
            frame = self.frame_of_seconds(float(minutes or 0) * 60 + float(seconds or 0))
        else:
            raise ValueError(f"expected {HINT}, got {raw!r}")
        if frame < 0:
            raise ValueError(f"{raw!r} is before the first frame")
        return frame


def timing_from(info) -> Timing:
    """The Timing a pydantic validator was given in its context (the defaults without one)."""
    context = getattr(info, "context", None) or {}
    return context.get("timing") or Timing()
