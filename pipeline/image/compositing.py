"""What sits over the dream and what holds it back: overlays composited onto a finished
frame, and masks that decide where a frame may change. Pure functions on tensors:
frames are (1, 3, H, W), masks (1, 1, H, W), all in [0, 1].
"""

from __future__ import annotations

import torch

from .blur import gaussian_blur

ANCHOR_OFFSETS = {  # where the anchor sits in the overlay, as fractions of its width and height
    "center": (0.5, 0.5), "top-left": (0.0, 0.0), "top": (0.5, 0.0), "top-right": (1.0, 0.0),
    "left": (0.0, 0.5), "right": (1.0, 0.5), "bottom-left": (0.0, 1.0), "bottom": (0.5, 1.0),
    "bottom-right": (1.0, 1.0),
}


def overlay_origin(frame_size: tuple[int, int], overlay_size: tuple[int, int], position: tuple[float, float],
                   anchor: str) -> tuple[int, int]:
    """The whole pixel (left, top) where an overlay of overlay_size (w, h) goes so that its `anchor`
    lands on `position` (fractions of frame_size (w, h)): whole pixels keep it as sharp as drawn."""
    ax, ay = ANCHOR_OFFSETS[anchor]
    return (round(position[0] * frame_size[0] - ax * overlay_size[0]),
            round(position[1] * frame_size[1] - ay * overlay_size[1]))


def composite(frame: torch.Tensor, overlay: torch.Tensor, origin: tuple[int, int], opacity: float) -> torch.Tensor:
    """`overlay` (1, 4, h, w), straight alpha, laid over `frame` with its top-left at `origin`
    (it may hang over the edges: only what is inside is drawn), scaled by `opacity`."""
    if opacity <= 0:
        return frame
    _, _, height, width = frame.shape
    left, top = origin
    h, w = overlay.shape[2:]
    x0, y0, x1, y1 = max(0, left), max(0, top), min(width, left + w), min(height, top + h)
    if x0 >= x1 or y0 >= y1:
        return frame
    patch = overlay[:, :, y0 - top:y1 - top, x0 - left:x1 - left]
    alpha = patch[:, 3:4] * opacity
    out = frame.clone()
    out[:, :, y0:y1, x0:x1] = torch.lerp(frame[:, :, y0:y1, x0:x1], patch[:, :3], alpha)
    return out


def soft_mask(gray: torch.Tensor, feather: float, invert: bool) -> torch.Tensor:
    """A mask (1, 1, H, W) from a greyscale picture: 1 where the frame may change; `feather`
    (pixels) blurs its edge, `invert` swaps what changes and what is kept."""
    mask = 1.0 - gray if invert else gray
    if feather <= 0:
        return mask
    sigma = min(feather / 2.0, (min(mask.shape[2:]) - 1) / 3.0)  # the blur needs its radius inside the frame
    return gaussian_blur(mask, sigma).clamp(0.0, 1.0)


def masked(kept: torch.Tensor, changed: torch.Tensor, mask: torch.Tensor, strength: float) -> torch.Tensor:
    """`changed` where the mask is 1, `kept` where it is 0 (strength 1), between in grey; at
    strength 0 the mask is off and everything changes."""
    if strength <= 0:
        return changed
    weight = 1.0 - strength * (1.0 - mask)
    return torch.lerp(kept, changed, weight)
