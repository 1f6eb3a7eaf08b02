"""Gaussian blur, shared by the dream core (gradient smoothing) and sharpening; the local range that bounds
resampling and sharpening."""

from __future__ import annotations

import math
from functools import lru_cache

import torch
import torch.nn.functional as F


def gaussian_kernel(sigma: float) -> torch.Tensor:
    """1-D normalized Gaussian (float32, CPU) of radius ceil(3 sigma), at least 1."""
    radius = max(1, math.ceil(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-0.5 * (x / sigma) ** 2)
    return (kernel / kernel.sum()).float()


def separable_blur(image: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Blur (N, C, H, W) with a 1-D kernel along both axes, mirrored edges."""
    radius = kernel.numel() // 2
    if min(image.shape[2:]) <= radius:  # too small to mirror-pad: nothing to smooth
        return image
    channels = image.shape[1]
    kernel = kernel.to(image.dtype)
    x = F.pad(image, (radius, radius, radius, radius), mode="reflect")
    x = F.conv2d(x, kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)
    return F.conv2d(x, kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)


@lru_cache(maxsize=32)
def _kernel_on(sigma: float, device: torch.device) -> torch.Tensor:
    return gaussian_kernel(sigma).to(device)  # copied once: a copy to the GPU waits for it


def gaussian_blur(image: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (N, C, H, W) with mirrored edges."""
    if sigma <= 0:
        return image
    return separable_blur(image, _kernel_on(float(sigma), image.device))


def local_range(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each pixel's darkest and brightest 3x3 neighbour, per channel.

    Bicubic resampling and sharpening overshoot at sharp edges (a dark halo, a bright rim); cut off
    at the ends of the range that is a crushed or blown pixel, and a zoom loop resamples and
    sharpens every frame from the last, so the halos pile up. Bounded by this range they cannot.
    """
    padded = F.pad(image, (1, 1, 1, 1), mode="replicate")
    return _window3(padded, torch.minimum), _window3(padded, torch.maximum)


def _window3(padded: torch.Tensor, pick) -> torch.Tensor:
    """pick (torch.minimum or torch.maximum) over each 3x3 window of an image padded by one pixel, as
    three rows then three columns: four elementwise passes, where PyTorch's CPU max pooling of a
    3-channel image takes ten times as long (and a minimum pooling needs two negations more)."""
    rows = pick(pick(padded[:, :, :-2], padded[:, :, 1:-1]), padded[:, :, 2:])
    return pick(pick(rows[..., :-2], rows[..., 1:-1]), rows[..., 2:])
