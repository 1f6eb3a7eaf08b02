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
from ..image.flow import carry
from ..image.compositing import masked, soft_mask
from ..image.motion import warp
from ..image.sharpen import unsharp_mask
from ..models.network import DreamNet
from ..plan.frames import FrameSpec, MaskSpec, Picture, Plan
from .footage import FootageFeed


PICTURES_KEPT = 8  # start, cut and guide pictures on the device
CARRIED_DREAMING = 0.25  # how much a fully carried pixel of footage dreams on, against a fresh one: a
# quarter keeps the dream nearly as strong as on fresh frames (flow 0.8) and a third as restless


def picture_pixels(picture: Picture, width: int, height: int):
    """A Picture as (H, W, 3) uint8: the image cover-fit, a solid colour, or soft noise."""
    if picture.image is not None:
        return pixels.cover_fit(picture.image, width, height)
    if picture.color is not None:
        return pixels.solid_color(picture.color, width, height)
    return pixels.smooth_noise(width, height, picture.seed)


class Dreamer:
    """The loop's state between frames, and the step from one frame to the next."""

    def __init__(self, plan: Plan, net: DreamNet, device: torch.device, **engine_options):
        """engine_options go to the DreamEngine (precision, max_vram_gib, on_step, fast_layers, ...)."""
        self.plan, self.net, self.device = plan, net, device
        self.engine = DreamEngine(net, device, guide_target=self.guide_target, **engine_options)
        self.generator = torch.Generator().manual_seed(plan.seed)
        self.pictures: Recent[torch.Tensor] = Recent(PICTURES_KEPT)
        self.guide_features: Recent[torch.Tensor] = Recent(PICTURES_KEPT)
        self.footage = FootageFeed(plan.width, plan.height, plan.fps)
        self.frame = None if plan.start is None else self.picture(plan.start)  # a clip: its first frame
        starts_on_picture = plan.color_reference == "start" and plan.start is not None
        self.color_reference = lab_stats(self.frame) if starts_on_picture else None
        self.next_frame = 0
        self.masks: Recent[torch.Tensor] = Recent(PICTURES_KEPT)
        self.moving_mask: tuple[str, torch.Tensor] | None = None  # a camera-following mask as moved so far

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

    def mask(self, mask: MaskSpec) -> torch.Tensor:
        """A mask as drawn, (1, 1, H, W) on the device: 1 where the frame may change."""
        def load():
            gray = pixels.cover_fit_gray(mask.image, self.plan.width, self.plan.height, alpha=mask.alpha)
            values = torch.from_numpy(gray).to(self.device).float().div_(255.0)[None, None]
            return soft_mask(1.0 - values if mask.alpha else values, mask.feather, mask.invert)

        return self.masks.get(mask, load)

    def mask_now(self, spec: FrameSpec) -> torch.Tensor:
        """This frame's mask: as drawn on screen, or (follows: camera) moved by every frame's motion
        since it began, like the picture under it."""
        mask, _ = spec.mask
        if mask.follows != "camera":
            return self.mask(mask)
        key = repr(mask)
        if self.moving_mask is None or self.moving_mask[0] != key:
            self.moving_mask = (key, self.mask(mask))
        elif spec.warped:
            m = spec.motion
            self.moving_mask = (key, warp(self.moving_mask[1], m.zoom, m.rotate, m.translate, "bilinear", m.center))
        return self.moving_mask[1]

    def step(self, spec: FrameSpec) -> torch.Tensor:
        """Make frame `spec.index` from the current one; a mask keeps what it covers as it was
        (on screen, or moved with the camera)."""
        frame = before = self.frame
        if spec.warped and spec.footage is None:
            m = spec.motion
            frame = warp(frame, m.zoom, m.rotate, m.translate, m.resample, m.center)
        moved = frame
        if spec.cut is not None:
            picture, weight = spec.cut
            frame = torch.lerp(frame, self.picture(picture), weight)
        carried = None
        if spec.footage is not None:
            frame, before, carried = self.over_footage(spec, frame)
            moved = before  # what a mask keeps: the clip's frame
        undreamed = frame
        if spec.dreamed:
            frame = self.engine.dream(frame, spec.terms, spec.dream, self.generator)
            if carried is not None:  # carried dream grows on slowly rather than boiling afresh
                frame = torch.lerp(undreamed, frame, 1.0 - carried * (1.0 - CARRIED_DREAMING))
        frame = self.post(frame, undreamed, spec)
        if spec.mask is not None:
            mask, strength = spec.mask
            frame = masked(moved if mask.follows == "camera" else before, frame, self.mask_now(spec), strength)
        self.frame = frame
        self.next_frame = spec.index + 1
        return self.frame

    def over_footage(self, spec: FrameSpec, frame: torch.Tensor | None):
        """(what the frame dreams on, the clip's frame, how much of each pixel was carried (1, 1, H, W)
        or None): the clip's frame with the previous dreamed frame carried along the clip's motion
        and blended in by `flow` where the flow is trusted; the scene's motion moves what is carried.
        While a cut blends into the clip, the frame before fades into it."""
        footage = spec.footage
        pixels_now, flows = self.footage.get(footage)
        clip = pixels.to_tensor(pixels_now, self.device)
        base, kept = clip, None
        if flows is not None and frame is not None:
            carried, trusted = carry(frame, pixels.to_device(torch.from_numpy(flows), self.device))
            if spec.warped:
                m = spec.motion
                carried = warp(carried, m.zoom, m.rotate, m.translate, m.resample, m.center)
                trusted = warp(trusted, m.zoom, m.rotate, m.translate, "bilinear", m.center)
            kept = trusted * footage.flow
            base = torch.lerp(clip, carried, kept)
        if footage.blend < 1.0 and frame is not None:  # the frame before, moving on as the camera does
            if spec.warped:
                m = spec.motion
                frame = warp(frame, m.zoom, m.rotate, m.translate, m.resample, m.center)
            base = torch.lerp(frame, base, footage.blend)
        if self.plan.color_reference == "start":
            self.color_reference = lab_stats(clip)  # the footage as it is now, not as it began
        return base, clip, kept

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
        stop = len(self.plan.frames) if stop is None else stop
        for index in range(self.next_frame, stop):
            spec = self.plan.frames[index]
            self.footage.prefetch(spec.footage)
            if index + 1 < stop:
                self.footage.prefetch(self.plan.frames[index + 1].footage)
            yield spec, self.step(spec)

    def close(self) -> None:
        """Stop reading clips."""
        self.footage.close()

    def state(self) -> dict:
        reference = None if self.color_reference is None else [t.cpu() for t in self.color_reference]
        moving = None if self.moving_mask is None else [self.moving_mask[0], self.moving_mask[1].cpu()]
        return {"frame": self.frame.cpu(), "rng": self.generator.get_state(), "color_reference": reference,
                "next_frame": self.next_frame, "moving_mask": moving}

    def restore(self, state: dict) -> None:
        self.frame = state["frame"].to(self.device)
        self.generator.set_state(state["rng"])
        reference = state["color_reference"]
        self.color_reference = None if reference is None else tuple(t.to(self.device) for t in reference)
        self.next_frame = state["next_frame"]
        moving = state.get("moving_mask")
        self.moving_mask = None if moving is None else (moving[0], moving[1].to(self.device))


def frames_of(plan: Plan, net: DreamNet, device: torch.device, stop: int | None = None):
    """Dream the timeline from frame 0: yields (spec, frame) for frames 0..stop-1."""
    dreamer = Dreamer(plan, net, device)
    try:
        yield from dreamer.frames(stop)
    finally:
        dreamer.close()
