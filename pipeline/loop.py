"""The frame loop: the only stateful part of a render. It holds no math of its own.

frame 0 is the start image (dreamed if the scene asks); frame n is
color(dream(motion(frame n-1))). The network is built once; the current
frame stays on the device, and only the finished uint8 frame crosses to the
host.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from . import images
from .color import lab_stats, match_colors
from .dream import dream
from .encode import VideoWriter
from .models import DreamNet, load_model
from .motion import warp
from .objectives import Objective, weighted_layers
from .plan import Plan
from .scene import Scene


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


def render(
    scene: Scene,
    plan: Plan,
    output: Path,
    device: torch.device,
    progress: bool = True,
    net: DreamNet | None = None,
) -> RenderResult:
    """Render `plan` to `output`. `net` reuses an already loaded network."""
    began = time.perf_counter()
    if net is None:
        net = load_model(scene.model, device, scene.weights_source)
    generator = torch.Generator().manual_seed(scene.seed)
    objectives: dict[tuple, Objective] = {}

    def objective_for(layers: dict[str, float]) -> Objective:
        key = tuple(sorted(layers.items()))
        if key not in objectives:
            objectives[key] = weighted_layers(layers)
        return objectives[key]

    pixels = images.start_frame(scene.start, scene.start_image, plan.width, plan.height, scene.seed)
    frame = images.to_tensor(pixels, device)
    color_reference = lab_stats(frame) if scene.color.reference == "start" else None
    writer = VideoWriter(output, plan.width, plan.height, plan.fps, scene.encode.crf, scene.encode.preset)
    bar = tqdm(
        total=plan.frame_count,
        unit="frame",
        desc=scene.file.stem,
        disable=not progress,
        dynamic_ncols=True,
    )
    try:
        for spec in plan.frames:
            if spec.index > 0:
                m = spec.motion
                frame = warp(frame, m.zoom, m.rotate, m.translate)
            if spec.index > 0 or scene.dream_start:
                frame = dream(net, frame, objective_for(spec.layers), spec.dream, generator)
            if color_reference is None:
                color_reference = lab_stats(frame)
            frame = match_colors(frame, color_reference, spec.color_strength)
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
    return RenderResult(path, plan.frame_count, time.perf_counter() - began, str(device))
