"""After the dream: pure functions on (1, 3, H, W) RGB tensors in [0, 1]."""

from __future__ import annotations

import torch

from .blur import gaussian_blur, local_range


def unsharp_mask(image: torch.Tensor, amount: float, radius: float = 1.0) -> torch.Tensor:
    """Add back `amount` of the detail finer than `radius` pixels.

    Every frame of a zoom is resampled from the last, which softens it a
    little each time; a gentle unsharp mask per frame holds the crispness.
    Each pixel stays within its neighbours' range: no halo, and nothing crushed
    to black or blown to white.
    """
    if amount <= 0:
        return image
    low, high = local_range(image)
    return torch.minimum(torch.maximum(image + amount * (image - gaussian_blur(image, radius)), low), high)
