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
