"""After the dream: pure functions on (1, 3, H, W) RGB tensors in [0, 1]."""

from __future__ import annotations

import torch

from .blur import gaussian_blur, local_range


LUMA = (0.2126, 0.7152, 0.0722)  # Rec. 709: how much each channel counts toward lightness


def unsharp_mask(image: torch.Tensor, amount: float, radius: float = 1.0) -> torch.Tensor:
    """Add back `amount` of the lightness detail finer than `radius` pixels.

    Every frame of a zoom is resampled from the last, which softens it a
    little each time; a gentle unsharp mask per frame holds the crispness.
    Only lightness is sharpened, the same amount added to each channel: sharpening
    each channel apart steepens colour edges pixel by pixel, and video's
    half-resolution colour (4:2:0) smears those into crushed and blown pixels.
    Each pixel stays within its neighbours' range: no halo, and nothing crushed
    to black or blown to white.
    """
    if amount <= 0:
        return image
    red, green, blue = LUMA  # plain numbers: no tensor to copy to the device every frame
    lightness = image[:, 0:1] * red + image[:, 1:2] * green + image[:, 2:3] * blue
    low, high = local_range(image)
    return torch.minimum(torch.maximum(image + amount * (lightness - gaussian_blur(lightness, radius)), low), high)
