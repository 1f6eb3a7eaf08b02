"""Camera motion between frames: pure functions on (1, 3, H, W) tensors in [0, 1]."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .blur import local_range
from .pixels import to_device


def affine_matrix(
    width: int, height: int, zoom: float, rotate: float, translate: tuple[float, float],
    center: tuple[float, float] = (0.5, 0.5),
) -> torch.Tensor:
    """The (1, 2, 3) sampling matrix for F.affine_grid, in normalized coordinates.

    zoom > 1 magnifies (zooms in) about `center` ([x, y] in fractions of the
    frame, the pivot, which stays in place); rotate turns the content
    counter-clockwise by that many degrees about it; translate moves the content by
    (dx, dy) pixels, +x right and +y down. Built in pixel space, then mapped
    to the [-1, 1] grid, so rotation stays round on non-square frames.
    """
    angle = math.radians(rotate)
    cos, sin = math.cos(angle), math.sin(angle)
    # Output pixel p (from the centre) samples input q = R p / zoom - t, where
    # R turns clockwise on screen (y points down): the content turns the other way.
    m00, m01 = cos / zoom, -sin / zoom
    m10, m11 = sin / zoom, cos / zoom
    sx, sy = 2.0 / width, 2.0 / height  # pixels -> normalized units
    dx, dy = translate
    a, b, c, d = m00, m01 * sx / sy, m10 * sy / sx, m11
    px, py = 2.0 * center[0] - 1.0, 2.0 * center[1] - 1.0  # the pivot on the [-1, 1] grid: it maps to itself
    return torch.tensor(
        [
            [
                [a, b, px - a * px - b * py - dx * sx],
                [c, d, py - c * px - d * py - dy * sy],
            ]
        ],
        dtype=torch.float32,
    )


def warp(
    image: torch.Tensor,
    zoom: float = 1.0,
    rotate: float = 0.0,
    translate: tuple[float, float] = (0.0, 0.0),
    resample: str = "bicubic",
    center: tuple[float, float] = (0.5, 0.5),
) -> torch.Tensor:
    """Zoom, rotate and pan `image` (1, 3, H, W) about `center` (fractions of the frame).
    Edges are mirrored, never black.

    resample: "bicubic" (sharper, the default) or "bilinear" (softer, cheaper).
    """
    if zoom == 1.0 and rotate == 0.0 and translate[0] == 0.0 and translate[1] == 0.0:
        return image
    _, _, height, width = image.shape
    theta = to_device(affine_matrix(width, height, zoom, rotate, translate, center), image.device).to(image.dtype)
    grid = F.affine_grid(theta, list(image.shape), align_corners=False)
    warped = _sample(image, grid, resample)
    if resample == "bicubic":  # each sample within the pixels it is drawn from
        low, high = local_range(image)
        warped = torch.minimum(torch.maximum(warped, _sample(low, grid)), _sample(high, grid))
    return warped.clamp(0.0, 1.0)


def _sample(image: torch.Tensor, grid: torch.Tensor, mode: str = "bilinear") -> torch.Tensor:
    return F.grid_sample(image, grid, mode=mode, padding_mode="reflection", align_corners=False)
