"""Moments on the timeline, as a scene writes them: a frame (150), a time (5s, 2.5s, 1m30s)
or a beat (16b: sixteen beats after beat_offset at the scene's bpm). Each lands on the
nearest frame, halves rounding up."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

_AMOUNT = r"[0-9]+(?:\.[0-9]+)?"
FRAME = r"^[0-9]+$"
TIME = rf"^(?=[0-9])(?:({_AMOUNT})m)?(?:({_AMOUNT})s)?$"  # 5s, 2.5s, 1m30s, 2m
BEAT = rf"^({_AMOUNT})b$"
MOMENT_PATTERN = "|".join((FRAME, TIME, BEAT))  # the loader's own patterns, for the JSON Schema too
MOMENT_SCHEMA = {"anyOf": [{"type": "integer", "minimum": 0},
                           {"type": "string", "pattern": MOMENT_PATTERN, "examples": ["150", "5s", "1m30s", "16b"]}]}
HINT = "a frame (150), a time ('5s', '2.5s', '1m30s') or a beat ('16b', with bpm set)"


MAX_FRAMES = 1_000_000  # over 9 hours at 30 fps; bounds every frame count before anything is allocated
MAX_SECONDS = 1e6  # a duration's sanity bound; frame counts are bounded more tightly by the scene
DURATION = re.compile(r"^\s*(?=[0-9])(?:([0-9]+(?:\.[0-9]+)?)\s*m)?\s*(?:([0-9]+(?:\.[0-9]+)?)\s*s?)?\s*$")


def parse_duration(raw: Any) -> float:
    """'10s', '1m30s', '2m', 12.5 -> seconds."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        try:
            seconds = float(raw)
        except OverflowError:  # an integer too large for a float
            seconds = math.inf
    else:
        match = DURATION.match(raw) if isinstance(raw, str) else None
        if not match or not any(match.groups()):
            raise ValueError(f"duration must look like '10s', '1m30s' or 12.5, got {raw!r}")
        minutes, secs = match.groups()
        seconds = float(minutes or 0) * 60 + float(secs or 0)
    if not math.isfinite(seconds):
        raise ValueError(f"duration must be a finite number, got {raw!r}")
    if not 0 < seconds <= MAX_SECONDS:
        raise ValueError(f"duration must be positive and at most {MAX_SECONDS:g} s, got {raw!r}")
    return seconds


@dataclass(frozen=True)
class Timing:
    """What turns times and beats into frames: the scene's fps, bpm and beat_offset."""

    fps: float = 30.0
    bpm: float | None = None
    beat_offset: float = 0.0  # seconds
    frame_count: int | None = None  # frames on the timeline (a loop's included); unknown while invalid
    has_audio: bool = False  # the scene has a sound track, so audio features may be used
    features: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)  # name -> per-frame values
    provisional: bool = False  # bpm: auto before the analysis: beats land on a stand-in tempo
    awaiting: set = field(default_factory=set, compare=False, repr=False)  # names formulas use before the analysis

    @classmethod
    def of(cls, data: Any) -> Timing:
        """The timing raw scene data asks for; values the scene's own validation will refuse
        (a bad fps, say) fall back to the defaults here, so each problem is reported once.
        With bpm: auto the tempo is a stand-in until the sound track is analysed (analysed())."""
        def number(key, default, low, high):
            value = data.get(key, default) if isinstance(data, dict) else default
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and low < value <= high
            return float(value) if ok else default

        fps = number("fps", 30.0, 0, 240)
        auto = isinstance(data, dict) and data.get("bpm") == AUTO
        return cls(fps, STAND_IN_BPM if auto else number("bpm", None, 0, 1000),
                   number("beat_offset", 0.0, -1, 1e6), timeline_frames(data, fps),
                   has_audio=isinstance(data, dict) and data.get("audio") is not None, provisional=auto)

    def analysed(self, bpm: float, beat_offset: float, features: Mapping[str, Any]) -> Timing:
        """This timing once the sound track is known: its tempo and first beat, its features."""
        return replace(self, bpm=bpm, beat_offset=beat_offset, features=features, provisional=False)

    def frame_of_seconds(self, seconds: float) -> int:
        return math.floor(seconds * self.fps + 0.5)  # the nearest frame; a half rounds up

    def frame(self, raw: Any) -> int:
        """The frame a moment lands on; ValueError naming the forms allowed."""
        if isinstance(raw, bool) or not isinstance(raw, (int, str)):
            raise ValueError(f"expected {HINT}, got {raw!r}")
        if isinstance(raw, int) or re.match(FRAME, raw):
            frame = int(raw)
        elif beats := re.match(BEAT, raw):
            if self.bpm is None:
                raise ValueError(f"{raw!r} is in beats: set bpm (beats per minute) at the top of the scene")
            frame = self.frame_of_seconds(self.beat_offset + float(beats[1]) * 60.0 / self.bpm)
        elif time := re.match(TIME, raw):
            minutes, seconds = time.groups()
            frame = self.frame_of_seconds(float(minutes or 0) * 60 + float(seconds or 0))
        else:
            raise ValueError(f"expected {HINT}, got {raw!r}")
        if frame < 0:
            raise ValueError(f"{raw!r} is before the first frame")
        return frame


AUTO = "auto"  # bpm: auto, the tempo found in the sound track
STAND_IN_BPM = 120.0  # where beats land while an automatic tempo is not yet known


def loop_frames(frame_count: int, fps: float) -> int:
    """How many frames a loop's end blends into its start: a second, at most a third of the video."""
    return max(1, min(round(fps), frame_count // 3))


def timeline_frames(data: Any, fps: float) -> int | None:
    """The frames the timeline holds: the video's, and with loop: true the blend dreamed past its end."""
    count = _frame_count(data, fps)
    if count is not None and isinstance(data, dict) and data.get("loop") is True:
        count += loop_frames(count, fps)
    return count


def _frame_count(data: Any, fps: float) -> int | None:
    """The video's length in frames as the scene's frames or duration say, if they say it well."""
    frames = data.get("frames") if isinstance(data, dict) else None
    if isinstance(frames, int) and not isinstance(frames, bool) and 1 <= frames <= MAX_FRAMES:
        return frames
    try:
        count = max(1, round(parse_duration(data.get("duration")) * fps)) if isinstance(data, dict) else None
    except ValueError:
        return None
    return count if count is not None and count <= MAX_FRAMES else None


def timing_from(info) -> Timing:
    """The Timing a pydantic validator was given in its context (the defaults without one)."""
    context = getattr(info, "context", None) or {}
    return context.get("timing") or Timing()
