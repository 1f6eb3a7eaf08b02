"""What each output shows of a finished dream frame: the whole frame, or a deliverable's crop of the
canvas (resampled to its size with an antialiased bicubic filter where the two differ), then its
overlays and words, placed in its own frame and safe area. Never fed back into the dream.
"""

from __future__ import annotations

from dataclasses import replace

import torch
import torch.nn.functional as F

from ..image import pixels
from ..image.compositing import composite, overlay_origin
from ..plan.deliver import OUTLINE_COLORS, DeliverableSpec
from ..plan.frames import OverlaySpec, Plan
from ..plan.text import safe_area
from .text import Texts


def overlay_corner(overlay: OverlaySpec, frame: tuple[int, int], drawn: tuple[int, int],
                   margins: tuple[float, float, float, float]) -> tuple[int, int]:
    """The whole pixel (left, top) where a drawn overlay (w, h) goes: its anchor at its position in
    the frame, or (safe) in the safe area inside `margins` and kept inside it where it fits."""
    left, top, width, height = safe_area(frame[0], frame[1], overlay.safe, margins)
    x, y = overlay_origin((width, height), drawn, overlay.position, overlay.anchor)
    x, y = x + round(left), y + round(top)
    if overlay.safe:
        x = max(round(left), min(x, round(left + width) - drawn[0]))
        y = max(round(top), min(y, round(top + height) - drawn[1]))
    return x, y


class FrameOverlays:
    """A plan's overlays, drawn once at their size on the device, laid over finished video frames
    (in the plan's frame and safe area)."""

    def __init__(self, plan: Plan, device: torch.device):
        self.plan = plan
        self.drawn = []
        for overlay in plan.overlays:
            rgba = pixels.rgba_at_width(overlay.image, max(1, round(overlay.width * plan.width)))
            tensor = torch.from_numpy(rgba).to(device).permute(2, 0, 1)[None].float().div_(255.0)
            corner = overlay_corner(overlay, (plan.width, plan.height), (rgba.shape[1], rgba.shape[0]), plan.safe)
            self.drawn.append((overlay, tensor, corner))

    def over(self, index: int, frame: torch.Tensor) -> torch.Tensor:
        """Video frame `index` with the overlays that show on it."""
        for overlay, tensor, corner in self.drawn:
            frame = composite(frame, tensor, corner, overlay.opacity_at(index, index + self.plan.loop))
        return frame


class Look:
    """What one output shows: `cut` takes its part of the dream frame, `over` lays its overlays and
    words on it. The whole frame for a scene with one output."""

    def __init__(self, plan: Plan, device: torch.device):
        self.plan = plan
        self.overlays = FrameOverlays(plan, device)
        self.texts = Texts(plan, device)

    def cut(self, index: int, frame: torch.Tensor) -> torch.Tensor:
        return frame

    def shown(self, index: int, video: int, frame: torch.Tensor) -> torch.Tensor:
        """Timeline frame `index` (video frame `video`) as this output shows it."""
        return self.texts.over(video, self.overlays.over(video, self.cut(index, frame)), video + self.plan.loop)


def deliverable_plan(plan: Plan, spec: DeliverableSpec) -> Plan:
    """The plan as one deliverable sees it: its size, its overlays, its safe area."""
    return replace(plan, width=spec.size[0], height=spec.size[1], overlays=spec.overlays, safe=spec.safe,
                   deliverables=())


class DeliverableLook(Look):
    """A deliverable: its crop of the canvas, centred on its focus (kept inside the canvas),
    resampled to its size where they differ."""

    def __init__(self, plan: Plan, spec: DeliverableSpec, device: torch.device):
        super().__init__(deliverable_plan(plan, spec), device)
        self.spec, self.canvas = spec, (plan.width, plan.height)

    def cut(self, index: int, frame: torch.Tensor) -> torch.Tensor:
        return crop(frame, self.spec, index, self.canvas)


def crop(frame: torch.Tensor, spec: DeliverableSpec, index: int, canvas: tuple[int, int]) -> torch.Tensor:
    """Deliverable `spec`'s part of canvas frame `index`, (1, 3, h, w) at its size."""
    left, top, _ = spec.crop_at(index, canvas)
    (cw, ch), (w, h) = spec.crop, spec.size
    part = frame[:, :, top:top + ch, left:left + cw]
    if (cw, ch) == (w, h):
        return part.contiguous()
    dtype = part.dtype
    resized = F.interpolate(part.float(), size=(h, w), mode="bicubic", align_corners=False, antialias=True)
    return resized.clamp_(0.0, 1.0).to(dtype)


def crop_boxes(plan: Plan, index: int) -> list[tuple[str, tuple[int, int, int, int], tuple[int, int, int]]]:
    """(label, (left, top, width, height) on the canvas, colour) of every deliverable's crop on timeline
    frame `index`: what the storyboard and the live page outline."""
    canvas = (plan.width, plan.height)
    boxes = []
    for spec in plan.deliverables:
        left, top, _ = spec.crop_at(index, canvas)
        label = spec.preset.name if spec.preset is not None else spec.output.name
        boxes.append((label, (left, top, *spec.crop), OUTLINE_COLORS[spec.index % len(OUTLINE_COLORS)]))
    return boxes


def outlined(frame: torch.Tensor, plan: Plan, index: int, thickness: int = 2) -> torch.Tensor:
    """A copy of canvas frame `index` with each deliverable's crop outlined in its colour."""
    out = frame.clone()
    for _, (x, y, w, h), color in crop_boxes(plan, index):
        rgb = torch.tensor(color, dtype=out.dtype, device=out.device).div_(255.0)[None, :, None, None]
        t = max(1, min(thickness, w // 4, h // 4))
        for region in (out[:, :, y:y + t, x:x + w], out[:, :, y + h - t:y + h, x:x + w],
                       out[:, :, y:y + h, x:x + t], out[:, :, y:y + h, x + w - t:x + w]):
            region.copy_(rgb.expand_as(region))
    return out


def outline_image(image, plan: Plan, index: int):
    """A PIL image of canvas frame `index` with each crop outlined and labelled (the storyboard's)."""
    from PIL import ImageDraw

    image = image.copy()
    draw = ImageDraw.Draw(image)
    for label, (x, y, w, h), color in crop_boxes(plan, index):
        draw.rectangle((x, y, x + w - 1, y + h - 1), outline=color, width=max(1, min(2, w // 4, h // 4)))
        draw.text((x + 3, y + 2), label, fill=color)
    return image
