"""Storyboard: a handful of frames across the timeline on one labelled sheet, fast.

It runs the real frame loop (every frame grows from the one before) at a
small size with few steps, and keeps the segment starts, midpoints and the
last frame, so a scene can be approved before the full render. A scene with
`deliver:` shows its canvas with every deliverable's crop outlined and labelled.
"""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image
from tqdm import tqdm

from ..image.pixels import to_pixels
from ..models.cache import network
from ..output.sheets import contact_sheet
from ..plan import describe_terms, make_plan
from ..scene import Scene
from .deliver import FrameOverlays, outline_image
from .recipe import frames_of
from .text import Texts

STORYBOARD_LONG_SIDE = 256
STORYBOARD_ITERATIONS = 2


def storyboard_frames(scene: Scene) -> list[int]:
    picks = {scene.frame_count - 1}
    for segment in scene.segments:
        first, end = segment.frames
        picks.update({first, (first + end) // 2})
    return sorted(picks)


def make_storyboard(scene: Scene, device: torch.device, progress: bool = True) -> Image.Image:
    return contact_sheet(storyboard_tiles(scene, device, progress))  # a grid that fits the number of tiles


def storyboard_tiles(scene: Scene, device: torch.device, progress: bool = True) -> list[tuple[str, Image.Image]]:
    """The storyboard's frames, each with its label, in timeline order."""
    plan = make_plan(
        scene, preview=True, long_side=STORYBOARD_LONG_SIDE, max_iterations=STORYBOARD_ITERATIONS,
        output=Path("storyboard"),  # a PNG: odd sides are fine
    )
    picks = set(storyboard_frames(scene))
    net = network(plan.model, device, plan.weights, seed=plan.seed)
    tiles = []
    last = max(picks) + 1
    frames = frames_of(plan, net, device, stop=last)
    overlays, texts = FrameOverlays(plan, device), Texts(plan, device)  # as the video shows them
    for spec, frame in tqdm(frames, total=last, desc="storyboard", unit="frame", disable=not progress):
        if spec.index in picks:
            video = plan.frame_count - 1 - spec.index if plan.reverse else spec.index
            if plan.deliverables:  # one board: the canvas, each deliverable's crop outlined and labelled
                tile = outline_image(Image.fromarray(to_pixels(frame)), plan, spec.index)
            else:
                tile = Image.fromarray(to_pixels(texts.over(video, overlays.over(video, frame), video + plan.loop,
                                                            measure=False)))
            tiles.append((tile_label(scene, spec), tile))
    return tiles


def tile_label(scene: Scene, spec) -> str:
    """Where a tile is on the timeline and what it dreams, in the scene's words: its layer aliases
    (or, for a segment without layers, its objectives)."""
    layers = scene.segments[spec.segment].layers
    words = ", ".join(layers) if layers else describe_terms(spec.terms)
    return f"frame {spec.index}  {spec.index / scene.fps:.2f} s\nsegment {spec.segment}: {words}"
