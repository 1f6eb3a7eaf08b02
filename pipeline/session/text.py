"""The plan's words, laid over finished video frames, and how readable they were.

Each text is wrapped once and rasterised once per size it shows at (a keyframed scale
draws each distinct pixel size once, cached); per frame it is only placed and blended.
While it shows, the WCAG 2.x contrast ratio between its colour and what is behind its box
is measured, so a render can say which text was hard to read.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..dream.caches import Recent
from ..image.compositing import ANCHOR_OFFSETS, composite
from ..image.text import (MAX_LOW_SHARE, MIN_CONTRAST, Look, contrast_ratio, load_font, rasterise, readability_warning,
                          relative_luminance, wrap)
from ..plan.frames import Plan
from ..plan.text import TextSpec, safe_area

RASTERS_KEPT = 64


@dataclass
class Readability:
    """One text's contrast over the frames it showed on."""

    name: str
    content: str
    frames: int = 0
    low: int = 0  # frames below MIN_CONTRAST
    lowest: float = float("inf")
    total: float = 0.0

    def add(self, ratio: float) -> None:
        self.frames += 1
        self.low += ratio < MIN_CONTRAST
        self.lowest = min(self.lowest, ratio)
        self.total += ratio

    @property
    def hard_to_read(self) -> bool:
        return self.frames > 0 and self.low > MAX_LOW_SHARE * self.frames

    def record(self) -> dict:
        return {"text": self.name, "content": self.content[:60], "frames": self.frames, "below_3_to_1": self.low,
                "lowest": round(self.lowest, 2) if self.frames else None,
                "mean": round(self.total / self.frames, 2) if self.frames else None}


class Texts:
    """The plan's text items and captions, drawn once per size on the device, laid over video frames."""

    def __init__(self, plan: Plan, device: torch.device):
        self.plan, self.device = plan, device
        self.lines: dict[int, list[str]] = {}
        self.rasters: Recent = Recent(RASTERS_KEPT)
        # one record per text item, one for all the captions
        self.readability: dict[str, Readability] = {}
        self.group: list[Readability] = []
        for spec in plan.texts:
            key, content = spec.name, spec.content
            if not key.startswith("text."):  # 'captions (FILE line N)': the file's name stands for its cues
                key, content = "captions", spec.name.removeprefix("captions (").rpartition(" line ")[0]
            self.group.append(self.readability.setdefault(key, Readability(key, content)))

    def base_size(self, spec: TextSpec) -> int:
        return max(1, round(spec.style.size * self.plan.height))

    def wrapped(self, index: int, spec: TextSpec) -> list[str]:
        """Its lines, wrapped at its unscaled size: a growing title keeps its line breaks."""
        if index not in self.lines:
            s, size = spec.style, self.base_size(spec)
            _, _, area_w, _ = safe_area(self.plan.width, self.plan.height, s.safe, self.plan.safe)
            edge = (s.stroke[0] if s.stroke else 0.0) + (s.box[1] if s.box else 0.0)
            self.lines[index] = wrap(spec.content, s.font, size, max(1.0, s.max_width * area_w - 2 * edge * size))
        return self.lines[index]

    def raster(self, index: int, spec: TextSpec, scale: float):
        """(RGBA tensor (1, 4, h, w) on the device, body (x, y, w, h)) at this scale's pixel size."""
        base = self.base_size(spec)
        size = max(1, round(base * scale))
        if size > base:  # a huge scale: no larger than a few frames' worth of pixels, all it could show
            s = spec.style
            font_w = max((load_font(s.font, base).getlength(line) for line in self.wrapped(index, spec)), default=1)
            lines = max(1, min(len(self.wrapped(index, spec)), 2 * self.plan.height // base + 1))
            pixels = (font_w + 2 * base) * (lines + 1) * base * (size / base) ** 2
            room = 4.0 * self.plan.width * self.plan.height
            if pixels > room:
                size = max(base, int(size * (room / pixels) ** 0.5))

        def draw():
            s = spec.style
            look = Look(
                s.font, size, s.color, round(s.stroke[0] * size) if s.stroke else 0,
                s.stroke[1] if s.stroke else (0, 0, 0, 255),
                (round(s.shadow[0] * size), round(s.shadow[1] * size), s.shadow[2] * size, s.shadow[3])
                if s.shadow else None,
                (s.box[0], round(s.box[1] * size), round(s.box[2] * size)) if s.box else None, s.align)
            pixels, body = rasterise(self.wrapped(index, spec), look, max_height=2 * self.plan.height)
            tensor = torch.from_numpy(pixels).to(self.device).permute(2, 0, 1)[None].float().div_(255.0)
            return tensor, body

        return self.rasters.get((index, size), draw)

    def place(self, spec: TextSpec, body: tuple[int, int, int, int], n: int, timeline: int) -> tuple[int, int]:
        """The body's top-left pixel on video frame n: its anchor at position (within the safe area,
        and kept inside it, with `safe`)."""
        left, top, width, height = safe_area(self.plan.width, self.plan.height, spec.style.safe, self.plan.safe)
        x, y = spec.position.at(timeline)
        ax, ay = ANCHOR_OFFSETS[spec.anchor]
        bx = round(left + x * width - ax * body[2])
        by = round(top + y * height - ay * body[3])
        if spec.style.safe:  # inside the safe area where it fits, else from its top-left
            bx = max(round(left), min(bx, round(left + width) - body[2]))
            by = max(round(top), min(by, round(top + height) - body[3]))
        return bx, by

    def over(self, n: int, frame: torch.Tensor, timeline: int | None = None, measure: bool = True) -> torch.Tensor:
        """Video frame n with the words that show on it; `timeline` is the frame formulas read
        (default n); with `measure`, each text's contrast with the frame behind it is counted."""
        timeline = n if timeline is None else timeline
        for index, spec in enumerate(self.plan.texts):
            opacity = spec.opacity_at(n, timeline)
            if opacity <= 0:
                continue
            scale = float(spec.scale.at(timeline))
            tensor, body = self.raster(index, spec, scale)
            bx, by = self.place(spec, body, n, timeline)
            if measure:
                ratio = self.contrast(spec, frame, (bx, by, body[2], body[3]))
                if ratio is not None:
                    self.group[index].add(ratio)
            frame = composite(frame, tensor, (bx - body[0], by - body[1]), opacity)
        return frame

    def contrast(self, spec: TextSpec, frame: torch.Tensor, box: tuple[int, int, int, int]) -> float | None:
        """WCAG contrast of the text's colour against the mean relative luminance behind its box
        (a plate blended over it), or against its stroke, whichever is higher."""
        _, _, height, width = frame.shape
        x0, y0 = max(0, box[0]), max(0, box[1])
        x1, y1 = min(width, box[0] + box[2]), min(height, box[1] + box[3])
        if x0 >= x1 or y0 >= y1:
            return None
        patch = frame[0, :, y0:y1, x0:x1].float().clamp(0, 1)
        linear = torch.where(patch <= 0.04045, patch / 12.92, ((patch + 0.055) / 1.055) ** 2.4)
        # Rec. 709 luminance with plain numbers: no small tensor copied to the device every frame
        behind = float((0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]).mean())
        s = spec.style
        lum = lambda rgba: float(relative_luminance([c / 255.0 for c in rgba[:3]]))  # noqa: E731
        if s.box is not None:
            a = s.box[0][3] / 255.0
            behind = a * lum(s.box[0]) + (1 - a) * behind
        ratio = contrast_ratio(lum(s.color), behind)
        if s.stroke is not None and s.stroke[1][3] > 0:
            ratio = max(ratio, contrast_ratio(lum(s.color), lum(s.stroke[1])))
        return ratio

    def records(self) -> list[dict]:
        return [r.record() for r in self.readability.values()]

    def warnings(self) -> list[str]:
        return [w for w in map(readability_warning, self.records()) if w]

    def state(self) -> list[tuple]:
        return [(r.frames, r.low, r.lowest, r.total) for r in self.readability.values()]

    def restore(self, state: list | None) -> None:
        for r, saved in zip(self.readability.values(), state or []):
            r.frames, r.low, r.lowest, r.total = saved
