"""The per-frame recipe: frame n = post(dream(cut(warp(frame n-1)))).

It reads only the plan (never the scene) and holds the state that carries
from frame to frame: the current frame on the device, the random generator,
the colour reference. `state()` and `restore()` let a checkpoint carry a
render across processes with bit-identical results on the CPU.
"""

from __future__ import annotations

from typing import Iterator

import torch

from ..dream.engine import DreamEngine
from ..dream.caches import Recent
from ..dream.objectives import Guide
from ..image import pixels
from ..image.color import keep_chroma, lab_stats, match_colors
from ..image.motion import warp
from ..image.sharpen import unsharp_mask
from ..models.network import DreamNet
from ..plan import FrameSpec, Picture, Plan


PICTURES_KEPT = 8  # start, cut and guide pictures on the device


def picture_pixels(picture: Picture, width: int, height: int):
    """A Picture as (H, W, 3) uint8: the image cover-fit, a solid colour, or soft noise."""
    if picture.image is not None:
        return pixels.cover_fit(picture.image, width, height)
    if picture.color is not None:
        return pixels.solid_color(picture.color, width, height)
    return pixels.smooth_noise(width, height, picture.seed)


class Dreamer:
    """The loop's state between frames, and the step from one frame to the next."""

    def __init__(self, plan: Plan, net: DreamNet, device: torch.device, engine: DreamEngine | None = None):
        self.plan, self.net, self.device = plan, net, device
        self.engine = engine or DreamEngine(net, device)
        self.engine.guide_target = self.guide_target
        self.generator = torch.Generator().manual_seed(plan.seed)
        self.pictures: Recent[torch.Tensor] = Recent(PICTURES_KEPT)
        self.guide_features: Recent[torch.Tensor] = Recent(PICTURES_KEPT)
        self.frame = self.picture(plan.start)
        self.color_reference = lab_stats(self.frame) if plan.color_reference == "start" else None
        self.next_frame = 0

    def picture(self, picture: Picture) -> torch.Tensor:
        return self.pictures.get(picture, lambda: pixels.to_tensor(
            picture_pixels(picture, self.plan.width, self.plan.height), self.device))

    def guide_target(self, guide: Guide) -> torch.Tensor:
        """The guide picture's mean feature at the guide's layer, (C,): what the engine's guide
        objective moves the frame's features toward. Kept per guide, as every objective that
        holds the guide (a crossfade makes several) asks for it."""
        def features():
            with torch.no_grad():
                acts = self.net(self.picture(guide.source), [guide.layer])[guide.layer]
            return acts.mean(dim=(0, 2, 3))

        return self.guide_features.get(guide, features)

    def step(self, spec: FrameSpec) -> torch.Tensor:
        """Make frame `spec.index` from the current one."""
        frame = self.frame
        if spec.warped:
            m = spec.motion
            frame = warp(frame, m.zoom, m.rotate, m.translate, m.resample, m.center)
        if spec.cut is not None:
            picture, weight = spec.cut
            frame = torch.lerp(frame, self.picture(picture), weight)
        undreamed = frame
        if spec.dreamed:
            frame = self.engine.dream(frame, spec.terms, spec.dream, self.generator)
        self.frame = self.post(frame, undreamed, spec)
        self.next_frame = spec.index + 1
        return self.frame

    def post(self, frame: torch.Tensor, undreamed: torch.Tensor, spec: FrameSpec) -> torch.Tensor:
        """Colour (against drift) and sharpening (against resampling blur)."""
        if self.plan.color_mode == "luma":
            frame = keep_chroma(frame, undreamed, spec.color_strength)
        else:
            if self.color_reference is None:
                self.color_reference = lab_stats(frame)
            frame = match_colors(frame, self.color_reference, spec.color_strength)
        amount, radius = spec.sharpen
        return unsharp_mask(frame, amount, radius)

    def frames(self, stop: int | None = None) -> Iterator[tuple[FrameSpec, torch.Tensor]]:
        """Yields (spec, frame) from the next frame up to `stop`; frames are (1, 3, H, W) on the device."""
        for index in range(self.next_frame, len(self.plan.frames) if stop is None else stop):
            spec = self.plan.frames[index]
            yield spec, self.step(spec)

    def state(self) -> dict:
        reference = None if self.color_reference is None else [t.cpu() for t in self.color_reference]
        return {"frame": self.frame.cpu(), "rng": self.generator.get_state(), "color_reference": reference,
                "next_frame": self.next_frame}

    def restore(self, state: dict) -> None:
        self.frame = state["frame"].to(self.device)
        self.generator.set_state(state["rng"])
        reference = state["color_reference"]
        self.color_reference = None if reference is None else tuple(t.to(self.device) for t in reference)
        self.next_frame = state["next_frame"]


def frames_of(plan: Plan, net: DreamNet, device: torch.device, stop: int | None = None):
    """Dream the timeline from frame 0: yields (spec, frame) for frames 0..stop-1."""
    return Dreamer(plan, net, device).frames(stop)
