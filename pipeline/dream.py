"""The dream core: octave pyramid, jitter and normalized gradient ascent on pixels.

It knows a network, an objective and settings; nothing about scenes or files.
Everything stays on the image's device: jitter offsets come from a CPU
generator (no device sync), and no value is read back while dreaming.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
import torch.nn.functional as F

from .objectives import Objective
from .plan import DreamSettings


def octave_sizes(
    height: int, width: int, octaves: int, scale: float, min_size: int
) -> list[tuple[int, int]]:
    """(h, w) per octave, smallest first, ending at full size.

    Octaves whose short side would fall under the network's minimum input are
    dropped rather than shrunk past it.
    """
    sizes = []
    for level in range(octaves - 1, 0, -1):
        factor = scale**level
        h, w = round(height / factor), round(width / factor)
        if min(h, w) >= min_size:
            sizes.append((h, w))
    sizes.append((height, width))
    return sizes


@lru_cache(maxsize=32)
def _gaussian_kernel(sigma: float, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    radius = max(1, math.ceil(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-0.5 * (x / sigma) ** 2)
    return (kernel / kernel.sum()).to(device=device, dtype=dtype)


def gaussian_blur(image: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (N, C, H, W) with mirrored edges."""
    if sigma <= 0:
        return image
    kernel = _gaussian_kernel(float(sigma), image.device, image.dtype)
    radius = kernel.numel() // 2
    if min(image.shape[2:]) <= radius:  # too small to mirror-pad: nothing to smooth
        return image
    channels = image.shape[1]
    x = F.pad(image, (radius, radius, radius, radius), mode="reflect")
    x = F.conv2d(x, kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)
    return F.conv2d(x, kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)


def ascent_step(
    net,
    image: torch.Tensor,
    objective: Objective,
    step: float,
    jitter: int,
    smooth: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """One jittered, smoothed, normalized gradient step that raises the objective."""
    if jitter > 0:
        dy, dx = torch.randint(-jitter, jitter + 1, (2,), generator=generator).tolist()
    else:
        dy = dx = 0
    shifted = torch.roll(image, shifts=(dy, dx), dims=(2, 3)).detach().requires_grad_(True)
    value = objective(net(shifted, objective.layers))
    (grad,) = torch.autograd.grad(value, shifted)
    grad = torch.roll(grad, shifts=(-dy, -dx), dims=(2, 3))
    grad = gaussian_blur(grad, smooth)
    grad = grad / (grad.abs().mean() + 1e-8)
    return (image + step * grad).clamp(0.0, 1.0)


def _resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(image.shape[2:]) == tuple(size):
        return image
    shrinking = size[0] < image.shape[2]
    return F.interpolate(image, size=size, mode="bilinear", align_corners=False, antialias=shrinking)


def dream(
    net,
    image: torch.Tensor,
    objective: Objective,
    settings: DreamSettings,
    generator: torch.Generator,
) -> torch.Tensor:
    """DeepDream `image` (1, 3, H, W) in [0, 1]; returns a new tensor of the same shape.

    Dreams on the smallest octave first, then carries the added detail up the
    pyramid, so large structures and fine texture both grow.
    """
    if settings.iterations <= 0 or settings.step <= 0:
        return image
    height, width = image.shape[2:]
    sizes = octave_sizes(height, width, settings.octaves, settings.octave_scale, net.spec.min_size)
    detail = torch.zeros_like(_resize(image, sizes[0]))
    with torch.enable_grad():
        for size in sizes:
            base = _resize(image, size)
            x = (base + _resize(detail, size)).clamp(0.0, 1.0)
            for _ in range(settings.iterations):
                x = ascent_step(
                    net, x, objective, settings.step, settings.jitter, settings.smooth, generator
                )
            detail = x - base
    return x.detach()
