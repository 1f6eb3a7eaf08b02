"""Deliverables, resolved: each one's output, size and crop at the plan's scale, its focus over the
timeline, its overlays, fade, safe area and its preset's encoding. Pure, no torch.

The dream runs once per frame on the canvas (the plan's width and height); each deliverable is cut
from the finished canvas frame, resampled where its size differs from its crop, and gets its own
overlays and words in its own frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..scene.deliver import crop_for, placed
from ..scene.formats import format_of
from ..scene.presets import Preset
from ..scene.schema import TITLE_SAFE, Scene

TITLE_SAFE_MARGINS = (TITLE_SAFE,) * 4  # top, right, bottom, left
OUTLINE_COLORS = ((255, 196, 0), (0, 200, 255), (255, 64, 160), (120, 230, 80), (255, 255, 255), (170, 120, 255))
"""Each deliverable's colour where its crop is outlined on the canvas (storyboard, live page), by index."""


@dataclass(frozen=True)
class DeliverableSpec:
    index: int
    output: Path
    size: tuple[int, int]  # pixels, at the plan's scale
    crop: tuple[int, int]  # canvas pixels, at the plan's scale
    focus: Any  # Track | Formula of [x, y], fractions of the canvas, over the timeline
    preset: Preset | None = None
    overlays: tuple = ()  # the scene's, then its own (OverlaySpecs)
    fade: tuple[float, float] = (0.0, 0.0)  # seconds from and to black
    safe: tuple[float, float, float, float] = TITLE_SAFE_MARGINS  # margins: top, right, bottom, left (fractions)

    @property
    def label(self) -> str:
        """How messages name it: deliver.1 (reels)."""
        return f"deliver.{self.index}" + (f" ({self.preset.name})" if self.preset is not None else "")

    @property
    def resampled(self) -> bool:
        return self.crop != self.size

    def crop_at(self, n: int, canvas: tuple[int, int]) -> tuple[int, int, bool]:
        """(left, top, clamped) of its crop on timeline frame n: centred on the focus, kept inside the canvas."""
        return placed(self.focus.at(n), self.crop, canvas)


def even(n: float) -> int:
    """Round up to an even number of pixels (yuv420p video needs even sides)."""
    return max(2, math.ceil(round(n, 6) / 2) * 2)


def deliverable_specs(scene: Scene, canvas: tuple[int, int], scale: float, notes: list[str],
                      overlay_specs: Callable) -> tuple[DeliverableSpec, ...]:
    """The scene's deliverables at the plan's `scale` (a preview scales the canvas and every
    deliverable by the same factor); what was rounded goes to `notes`. `overlay_specs(scene, items)`
    resolves overlay keys (plan/frames.py's)."""
    full_canvas = tuple(scene.size)
    specs = []
    shared = overlay_specs(scene, scene.overlay)
    for index, item in enumerate(scene.deliver):
        output = scene.file.parent / item.output
        size, crop = item.frame_size, item.crop_in(full_canvas)
        if format_of(output).even_sides:
            rounded = (even(size[0]), even(size[1]))
            if rounded != tuple(size):
                notes.append(f"deliver.{index}: size {size[0]}x{size[1]} rounded to {rounded[0]}x{rounded[1]}: this "
                             "video format needs even sides")
            size = rounded
            crop = crop_for(size, full_canvas, item.crop)  # its own size where the canvas holds it, as written
        if scale != 1.0:
            same = tuple(crop) == tuple(size)
            size = ((even(size[0] * scale), even(size[1] * scale)) if format_of(output).even_sides
                    else (max(1, round(size[0] * scale)), max(1, round(size[1] * scale))))
            crop = size if same else (round(crop[0] * scale), round(crop[1] * scale))
        crop = (max(1, min(crop[0], canvas[0])), max(1, min(crop[1], canvas[1])))
        if scene.audio is not None and not format_of(output).audio:
            notes.append(f"deliver.{index}: a {format_of(output).name} has no sound track: it is silent")
        preset = item.platform
        wanted = scene.audio.loudness if scene.audio is not None else None
        if preset is not None and wanted is not None and abs(wanted - preset.loudness) > 1:
            notes.append(f"deliver.{index} ({preset.name}): its sound is brought to the scene's audio.loudness, "
                         f"{wanted:g} LUFS, not {preset.name}'s {preset.loudness:g}: check --preset "
                         f"{preset.name} will say so")
        margins = tuple(preset.safe) if preset is not None else TITLE_SAFE_MARGINS
        fade = item.fade or scene.fade
        specs.append(DeliverableSpec(index, output, tuple(size), tuple(crop), item.focus, preset,
                                     shared + overlay_specs(scene, item.overlay), (fade.fade_in, fade.fade_out),
                                     margins))
    return tuple(specs)


def sound_target(scene: Scene, preset: Preset | None) -> tuple[float | None, float]:
    """(loudness in LUFS or None, true peak in dBTP) an output's sound is brought to: the scene's
    audio.loudness where it sets one, else its preset's; None without a target (or a sound)."""
    if scene.audio is None:
        return None, -1.0
    if scene.audio.loudness is None and preset is not None:
        return preset.loudness, preset.true_peak
    return scene.audio.loudness, scene.audio.true_peak


def clamped_ranges(spec: DeliverableSpec, canvas: tuple[int, int], frames: int) -> list[tuple[int, int]]:
    """The frame ranges (first, last) on which the crop would leave the canvas and is moved back inside."""
    if getattr(spec.focus, "is_constant", False):
        return [(0, frames - 1)] if spec.crop_at(0, canvas)[2] else []
    ranges: list[tuple[int, int]] = []
    for n in range(frames):
        if spec.crop_at(n, canvas)[2]:
            if ranges and ranges[-1][1] == n - 1:
                ranges[-1] = (ranges[-1][0], n)
            else:
                ranges.append((n, n))
    return ranges
