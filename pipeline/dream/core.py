"""The dream core: octave pyramid, jitter and normalized gradient ascent on pixels.

It knows a network, an objective and settings; nothing about scenes or files.
Every per-step value that changes (jitter offsets, step size, term weights)
may be a tensor on the image's device, so the whole octave loop runs without
reading anything back to the host, and can be captured once as a CUDA graph
and replayed (engine.py). `dream()` here is the plain eager entry point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import torch
import torch.nn.functional as F

from ..image.blur import gaussian_kernel, separable_blur
from ..image.color import ease_into_range
from .objectives import Objective
from .settings import DreamSettings

TILE_MARGIN = 64  # pixels of context around each tile; only the tile's inside keeps its gradient
TILE_ALIGN = 32  # the zoo's coarsest stride: tiles start on this grid


def octave_sizes(
    height: int, width: int, octaves: int, scale: float, min_size: int, top: float = 1.0
) -> list[tuple[int, int]]:
    """(h, w) per octave, smallest first, ending at the top octave: the frame's size, or `top` of it
    (never under the network's minimum input, nor over the frame).

    Octaves whose short side would fall under the network's minimum input are
    dropped rather than shrunk past it.
    """
    if top < 1.0:
        top = min(1.0, max(top, min_size / min(height, width)))
    height_top, width_top = (height, width) if top >= 1.0 else (round(height * top), round(width * top))
    sizes = []
    for level in range(octaves - 1, 0, -1):
        factor = scale**level
        h, w = round(height_top / factor), round(width_top / factor)
        if min(h, w) >= min_size:
            sizes.append((h, w))
    sizes.append((height_top, width_top))
    return sizes


def jitter_offsets(count: int, jitter: int, generator: torch.Generator) -> torch.Tensor:
    """(count, 2) random (dy, dx) shifts in [-jitter, jitter], drawn on the CPU."""
    if jitter <= 0:
        return torch.zeros(count, 2, dtype=torch.long)
    return torch.randint(-jitter, jitter + 1, (count, 2), generator=generator)


def roll(image: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """torch.roll over (H, W) by a (2,) integer tensor; one on a GPU is used there, with no host read."""
    if shift.device.type == "cpu":  # read for free; torch.roll is 5x faster than two gathers
        return torch.roll(image, tuple(shift.tolist()), (2, 3))
    return roll_on_device(image, shift)


def roll_on_device(image: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """roll() as two gathers whose indices come from `shift` on the image's device (graph-capturable)."""
    height, width = image.shape[2:]
    rows = (torch.arange(height, device=image.device) - shift[0]).remainder(height)
    cols = (torch.arange(width, device=image.device) - shift[1]).remainder(width)
    return image.index_select(2, rows).index_select(3, cols)


@dataclass(frozen=True)
class Tile:
    """A window the network sees (outer) and the part of it whose gradient is kept (inner), as (y0, y1, x0, x1)."""

    outer: tuple[int, int, int, int]
    inner: tuple[int, int, int, int]


def _splits(length: int, parts: int, align: int) -> list[int]:
    """parts+1 boundaries from 0 to length, all but the last on multiples of align."""
    units = -(-length // align)
    return [min(length, (i * units // parts) * align) for i in range(parts + 1)]


@lru_cache(maxsize=64)
def tile_grid(
    height: int, width: int, max_pixels: int | None, min_side: int = 32, align: int = TILE_ALIGN
) -> tuple[Tile, ...]:
    """The fewest tiles whose windows (tile plus margin) hold at most max_pixels each.

    None (or a frame that fits) gives one tile: the whole frame. Windows start
    on multiples of `align` (the network's coarsest stride), so every window
    sees the same pixel grid as the whole frame would; they are at least
    min_side (the network's smallest input) each way. Raises ValueError when
    even small tiles do not fit.
    """
    whole = Tile((0, height, 0, width), (0, height, 0, width))
    if max_pixels is None or height * width <= max_pixels:
        return (whole,)
    margin = align * max(1, min(TILE_MARGIN, math.isqrt(max_pixels) // 6) // align)

    def windows(bounds, length):
        return [(max(0, a - margin), min(length, b + margin)) for a, b in zip(bounds, bounds[1:])]

    best = None
    for rows in range(1, -(-height // align) + 1):
        ys = windows(_splits(height, rows, align), height)
        if min(b - a for a, b in ys) < min_side:
            break
        tallest = max(b - a for a, b in ys)
        for cols in range(1, -(-width // align) + 1):
            xs = windows(_splits(width, cols, align), width)
            if min(b - a for a, b in xs) < min_side:
                break
            if tallest * max(b - a for a, b in xs) <= max_pixels:
                if best is None or rows * cols < best[0] * best[1]:
                    best = (rows, cols)
                break
    if best is None:
        raise ValueError(f"a {width}x{height} frame cannot be split into tiles of at most {max_pixels} pixels")
    ys, xs = (_splits(height, best[0], align), _splits(width, best[1], align))
    return tuple(
        Tile((max(0, y0 - margin), min(height, y1 + margin), max(0, x0 - margin), min(width, x1 + margin)),
             (y0, y1, x0, x1))
        for y0, y1 in zip(ys, ys[1:])
        for x0, x1 in zip(xs, xs[1:])
    )


@dataclass(frozen=True)
class Precision:
    """How the network runs: dtype and memory layout (fp32 NCHW is the reference)."""

    dtype: torch.dtype = torch.float32
    channels_last: bool = False

    def prepare(self, window: torch.Tensor) -> torch.Tensor:
        if self.dtype == torch.float32 and not self.channels_last:
            return window
        layout = torch.channels_last if self.channels_last else torch.contiguous_format
        return window.to(dtype=self.dtype, memory_format=layout)


FP32 = Precision()


def pixel_gradient(
    net, image: torch.Tensor, objective: Objective, tiles: tuple[Tile, ...], precision: Precision = FP32
) -> torch.Tensor:
    """d objective / d pixels of `image` (float32), computed tile by tile.

    Each tile's objective is weighted by its share of the frame, so tiled and
    whole-frame gradients are on the same scale.
    """
    height, width = image.shape[2:]
    if len(tiles) == 1 and tiles[0].outer == (0, height, 0, width):
        leaf = image.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(objective(net(precision.prepare(leaf), objective.layers)), leaf)
        return grad
    grad = torch.empty_like(image)
    for tile in tiles:
        oy0, oy1, ox0, ox1 = tile.outer
        iy0, iy1, ix0, ix1 = tile.inner
        leaf = image[:, :, oy0:oy1, ox0:ox1].detach().requires_grad_(True)
        share = (oy1 - oy0) * (ox1 - ox0) / (height * width)
        value = objective(net(precision.prepare(leaf), objective.layers)) * share
        (window_grad,) = torch.autograd.grad(value, leaf)
        grad[:, :, iy0:iy1, ix0:ix1] = window_grad[:, :, iy0 - oy0 : iy1 - oy0, ix0 - ox0 : ix1 - ox0]
    return grad


def ascent_step(
    net,
    image: torch.Tensor,
    objective: Objective,
    step,
    shift: torch.Tensor,
    kernel: torch.Tensor | None,
    tiles: tuple[Tile, ...] | None = None,
    precision: Precision = FP32,
) -> torch.Tensor:
    """One jittered, smoothed, normalized gradient step that raises the objective.

    step: float or 0-d tensor; shift: (2,) jitter on the device; kernel: 1-D
    smoothing kernel or None. Rolling the frame before tiling moves the tile
    seams to a new random place every step, so none builds up.
    """
    tiles = tiles or tile_grid(*image.shape[2:], None)
    grad = pixel_gradient(net, roll(image, shift), objective, tiles, precision)
    grad = roll(grad, -shift)
    if kernel is not None:
        grad = separable_blur(grad, kernel)
    return bounded_step(image, normalized_delta(grad, step))


GRADIENT_TAIL = 4.0  # a normalized gradient's pixel moves at most this many times the mean step


def normalized_delta(grad: torch.Tensor, step) -> torch.Tensor:
    """step * grad / mean |grad|, each pixel held within GRADIENT_TAIL times the step: the mean
    taken in one pass without a temporary |grad|, and the scale and the bound applied in two
    (a step is bound by passes over memory once the network's work is done)."""
    scale = step / (torch.linalg.vector_norm(grad, 1) / grad.numel() + 1e-8)
    limit = step * GRADIENT_TAIL
    return (grad * scale).clamp_(-limit, limit)


def bounded_step(image: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
    """image + delta, slowed by the room left toward black or white (full speed at mid grey), so
    pixels approach the ends of the range instead of being cut off there. A plain step and clamp
    crushes the few pixels with the largest gradient to 0 or 1 every step; in a feedback loop they
    pile up into flat, clipped regions."""
    room = torch.where(delta > 0, 1.0 - image, image)
    return torch.addcmul(image, delta, room, value=2.0).clamp_(0.0, 1.0)


def resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(image.shape[2:]) == tuple(size):
        return image
    shrinking = size[0] < image.shape[2]
    return F.interpolate(image, size=size, mode="bilinear", align_corners=False, antialias=shrinking)


def run_octaves(
    net,
    image: torch.Tensor,
    objective: Objective,
    sizes: list[tuple[int, int]],
    iterations: int,
    step,
    offsets: torch.Tensor,
    kernel: torch.Tensor | None,
    max_tile_pixels: int | None = None,
    precision: Precision = FP32,
    on_step: Callable[[float], None] | None = None,
) -> torch.Tensor:
    """The octave loop: dream the smallest size first, then carry the added
    detail up the pyramid, so large structures and fine texture both grow; a top
    octave smaller than the image (larger features) has its detail carried up to it.

    offsets: (len(sizes) * iterations, 2) jitter on the image's device.
    Shapes and counts are fixed by the arguments, so the loop can be captured.
    on_step(share done) is called before each step (never inside a captured
    graph): it may raise to abandon the frame. The dreamed frame's strongest colours are
    eased in from the edge of the range, so a loop's saturation settles short of clipping.
    """
    detail = torch.zeros_like(resize(image, sizes[0]))
    with torch.enable_grad():
        for level, size in enumerate(sizes):
            tiles = tile_grid(*size, max_tile_pixels, net.spec.min_size)
            base = resize(image, size)
            x = (base + resize(detail, size)).clamp(0.0, 1.0)
            for i in range(iterations):
                if on_step is not None:
                    on_step((level * iterations + i) / (len(sizes) * iterations))
                shift = offsets[level * iterations + i]
                x = ascent_step(net, x, objective, step, shift, kernel, tiles, precision)
            detail = x - base
    if tuple(sizes[-1]) != tuple(image.shape[2:]):
        x = (image + resize(detail, image.shape[2:])).clamp(0.0, 1.0)
    return ease_into_range(x.detach())


def dream(
    net,
    image: torch.Tensor,
    objective: Objective,
    settings: DreamSettings,
    generator: torch.Generator,
    max_tile_pixels: int | None = None,
) -> torch.Tensor:
    """DeepDream `image` (1, 3, H, W) in [0, 1], eagerly in float32; returns a new tensor."""
    if settings.iterations <= 0 or settings.step <= 0:
        return image
    sizes = octave_sizes(*image.shape[2:], settings.octaves, settings.octave_scale, net.spec.min_size, settings.top)
    offsets = jitter_offsets(len(sizes) * settings.iterations, settings.jitter, generator).to(image.device)
    kernel = gaussian_kernel(settings.smooth).to(image.device) if settings.smooth > 0 else None
    return run_octaves(net, image, objective, sizes, settings.iterations, settings.step, offsets, kernel,
                       max_tile_pixels)
