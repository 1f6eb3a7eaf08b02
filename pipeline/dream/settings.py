"""How hard and at which scales one frame is dreamed. Plain data with no torch,
so the plan (which must not import torch) can build it for the dream core."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DreamSettings:
    octaves: int
    octave_scale: float
    iterations: int
    step: float
    jitter: int  # pixels
    smooth: float  # gradient blur sigma, pixels
    top: float = 1.0  # the pyramid's top octave against the frame's size: below 1, its detail is carried up

    @property
    def feature_scale(self) -> float:
        """The scene's key as this frame dreams it: the frame against its top octave (a preview already
        smaller than the full render's top octave dreams at its own size: 1)."""
        return 1.0 / self.top
