"""The frame loop: the only stateful part of a render. It holds no math of its own.

frame 0 is the start image (dreamed if the scene asks); frame n is
sharpen(color(dream(cut(motion(frame n-1))))). The network is built once;
the current frame stays on the device, and only the finished uint8 frame
crosses to the host.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import torch
from tqdm import tqdm

from . import images
from .color import keep_chroma, lab_stats, match_colors
from .dream import dream
from .encode import Audio, VideoWriter
from .models import DreamNet, load_model
from .motion import warp
from .objectives import Objective, channel_l2, class_logit, guide, layer_l2, weighted_sum
from .plan import FrameSpec, Plan
from .post import unsharp_mask
from .scene import Scene
from .sidecar import write_sidecar


@dataclass
class RenderResult:
    path: Path
    frames: int
    seconds: float
    device: str

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0


class RenderInterrupted(Exception):
    """Ctrl-C: what was rendered so far is kept as a playable partial video."""

    def __init__(self, partial: Path | None, frames: int):
        self.partial, self.frames = partial, frames
        super().__init__(f"interrupted after {frames} frames")


def frames_of(
    scene: Scene, plan: Plan, net: DreamNet, device: torch.device, stop: int | None = None
) -> Iterator[tuple[FrameSpec, torch.Tensor]]:
    """Dream the timeline frame by frame: yields (spec, frame) for frames 0..stop-1.

    The frame is (1, 3, H, W) in [0, 1] on `device`; the consumer decides what
    to do with it (encode it, pick it for a storyboard).
    """
    generator = torch.Generator().manual_seed(scene.seed)
    objectives: dict[tuple, Objective] = {}
    guide_features: dict[tuple, torch.Tensor] = {}
    cut_images: dict[str, torch.Tensor] = {}

    def image_for(start: str) -> torch.Tensor:
        if start not in cut_images:
            path = scene.resolve_image(start)
            pixels = images.start_frame(start, path, plan.width, plan.height, scene.seed)
            cut_images[start] = images.to_tensor(pixels, device)
        return cut_images[start]

    def term_objective(term) -> Objective:
        kind, *rest = term
        if kind == "layer":
            return layer_l2(rest[0])
        if kind == "channel":
            return channel_l2(rest[0], rest[1])
        if kind == "class":
            return class_logit(rest[0])
        image, layer = rest
        if (image, layer) not in guide_features:
            with torch.no_grad():
                acts = net(image_for(image), [layer])[layer]
            guide_features[image, layer] = acts.mean(dim=(0, 2, 3))
        return guide(layer, guide_features[image, layer])

    def objective_for(terms: dict) -> Objective:
        key = tuple(sorted(terms.items(), key=repr))
        if key not in objectives:
            objectives[key] = weighted_sum((term_objective(t), w) for t, w in terms.items())
        return objectives[key]

    frame = image_for(scene.start)
    color_reference = lab_stats(frame) if scene.color.reference == "start" else None
    for spec in plan.frames[:stop]:
        if spec.index > 0:
            m = spec.motion
            frame = warp(frame, m.zoom, m.rotate, m.translate, m.resample)
        if spec.cut is not None:
            start, weight = spec.cut
            frame = torch.lerp(frame, image_for(start), weight)
        undreamed = frame
        if spec.index > 0 or scene.dream_start:
            frame = dream(net, frame, objective_for(spec.terms), spec.dream, generator)
        if scene.color.mode == "luma":
            frame = keep_chroma(frame, undreamed, spec.color_strength)
        else:
            if color_reference is None:
                color_reference = lab_stats(frame)
            frame = match_colors(frame, color_reference, spec.color_strength)
        amount, radius = spec.sharpen
        frame = unsharp_mask(frame, amount, radius)
        yield spec, frame


def render(
    scene: Scene,
    plan: Plan,
    output: Path,
    device: torch.device,
    progress: bool = True,
    net: DreamNet | None = None,
    frames: range | None = None,
) -> RenderResult:
    """Render `plan` to `output`. `net` reuses an already loaded network.

    `frames` writes only that part of the timeline; earlier frames are still
    dreamed (each frame grows from the one before) but not encoded.
    """
    frames = frames or range(plan.frame_count)
    began = time.perf_counter()
    if net is None:
        net = load_model(scene.model, device, scene.weights_source)
    audio = None
    if scene.audio is not None:
        audio = Audio(scene.audio_path, scene.audio.fade_in, scene.audio.fade_out)
    writer = VideoWriter(
        output,
        plan.width,
        plan.height,
        plan.fps,
        crf=scene.encode.crf,
        preset=scene.encode.preset,
        codec=scene.encode.codec or "h264",
        audio=audio,
        frame_count=len(frames),
        fade=(scene.fade.fade_in, scene.fade.fade_out),
        first_frame=frames.start,
        total_frames=plan.frame_count,
    )
    bar = tqdm(
        total=frames.stop,
        unit="frame",
        desc=scene.file.stem,
        disable=not progress,
        dynamic_ncols=True,
    )
    try:
        for spec, frame in frames_of(scene, plan, net, device, frames.stop):
            if spec.index >= frames.start:
                writer.write(images.to_pixels(frame))
            bar.update()
        bar.close()
        path = writer.finish()
    except KeyboardInterrupt:
        bar.close()
        raise RenderInterrupted(writer.keep_partial(), writer.frames_written) from None
    except BaseException:
        bar.close()
        writer.discard()
        raise
    seconds = time.perf_counter() - began
    write_sidecar(
        scene,
        path,
        {
            "device": str(device),
            "preview": plan.preview,
            "size": [plan.width, plan.height],
            "frames": [frames.start, frames.stop - 1],
            "seconds": round(seconds, 2),
        },
    )
    return RenderResult(path, len(frames), seconds, str(device))
