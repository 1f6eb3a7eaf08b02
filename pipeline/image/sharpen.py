"""After the dream: pure functions on (1, 3, H, W) RGB tensors in [0, 1]."""

from __future__ import annotations

import torch

from .blur import gaussian_blur


def unsharp_mask(image: torch.Tensor, amount: float, radius: float = 1.0) -> torch.Tensor:
    """Add back `amount` of the detail finer than `radius` pixels.

    Every frame of a zoom is resampled from the last, which softens it a
    little each time; a gentle unsharp mask per frame holds the crispness.
    """
    if amount <= 0:
        return image
    return (image + amount * (image - gaussian_blur(image, radius))).clamp(0.0, 1.0)
