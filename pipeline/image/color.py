"""Colour stability: pure functions on (1, 3, H, W) RGB tensors in [0, 1].

Long feedback loops drift (darker, oversaturated, one hue). Matching each
frame's colour statistics to a reference in CIE LAB pulls it back while the
dream keeps its structure.
"""

from __future__ import annotations

from functools import lru_cache

import torch

# sRGB (D65) -> XYZ, and the D65 white point.
_RGB_TO_XYZ = torch.tensor(
    [[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]]
)
_WHITE = torch.tensor([0.950456, 1.0, 1.088754])
_EPS = 6.0 / 29.0


@lru_cache(maxsize=16)
def _constants(device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """RGB->XYZ, XYZ->RGB and the white point on `device`, copied there once (a copy waits for the GPU)."""
    return (_RGB_TO_XYZ.to(device, dtype), torch.linalg.inv(_RGB_TO_XYZ).to(device, dtype),
            _WHITE.to(device, dtype).view(1, 3, 1, 1))


def _matrix(matrix: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,njhw->nihw", matrix, image)


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) sRGB in [0, 1] -> LAB (L in [0, 100], a/b roughly [-110, 110])."""
    to_xyz, _, white = _constants(rgb.device, rgb.dtype)
    linear = torch.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = _matrix(to_xyz, linear) / white
    f = torch.where(xyz > _EPS**3, xyz.clamp_min(1e-12) ** (1 / 3), xyz / (3 * _EPS**2) + 4 / 29)
    return torch.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], 1)


def lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    """Inverse of rgb_to_lab. A colour outside sRGB keeps its luminance and hue and loses only as
    much saturation as it must to fit (clamping each channel instead would flatten it into
    pure red, blue, black or white: clipped pixels)."""
    fy = (lab[:, 0].clamp(0.0, 100.0) + 16) / 116
    f = torch.stack([fy + lab[:, 1] / 500, fy, fy - lab[:, 2] / 200], 1)
    xyz = torch.where(f > _EPS, f**3, 3 * _EPS**2 * (f - 4 / 29))
    _, to_rgb, white = _constants(lab.device, lab.dtype)
    xyz = xyz * white
    linear = _into_gamut(_matrix(to_rgb, xyz), xyz[:, 1:2].clamp(0.0, 1.0))
    rgb = torch.where(linear > 0.0031308, 1.055 * linear.clamp_min(1e-12) ** (1 / 2.4) - 0.055, 12.92 * linear)
    return rgb.clamp(0.0, 1.0)


def _into_gamut(linear: torch.Tensor, grey: torch.Tensor) -> torch.Tensor:
    """Linear RGB moved toward the grey of its own luminance just far enough to lie in [0, 1]."""
    over = torch.where(linear > 1.0, (1.0 - grey) / (linear - grey).clamp_min(1e-12), torch.ones_like(linear))
    under = torch.where(linear < 0.0, grey / (grey - linear).clamp_min(1e-12), torch.ones_like(linear))
    keep = torch.minimum(over, under).amin(dim=1, keepdim=True).clamp(0.0, 1.0)
    return (grey + keep * (linear - grey)).clamp(0.0, 1.0)


def lab_stats(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel LAB mean and std of (1, 3, H, W) RGB, each (1, 3, 1, 1)."""
    lab = rgb_to_lab(image)
    return lab.mean(dim=(2, 3), keepdim=True), lab.std(dim=(2, 3), keepdim=True)


def match_colors(
    image: torch.Tensor, reference: tuple[torch.Tensor, torch.Tensor], strength: float
) -> torch.Tensor:
    """Move `image`'s LAB mean/std toward `reference` (from lab_stats) by `strength` in [0, 1]."""
    if strength <= 0:
        return image
    lab = rgb_to_lab(image)
    mean, std = lab.mean(dim=(2, 3), keepdim=True), lab.std(dim=(2, 3), keepdim=True)
    ref_mean, ref_std = reference
    matched = (lab - mean) / (std + 1e-5) * ref_std + ref_mean
    return lab_to_rgb(lab + strength * (matched - lab))


def keep_chroma(dreamed: torch.Tensor, undreamed: torch.Tensor, strength: float) -> torch.Tensor:
    """Luma-only dreaming: lightness from the dream, colour (LAB a, b) from before it.

    With strength 1 the dream changes only light and shade, so the colours
    stay those the start image brought in; 0 leaves the dream's colours.
    """
    if strength <= 0:
        return dreamed
    lab, before = rgb_to_lab(dreamed), rgb_to_lab(undreamed)
    kept = torch.cat([lab[:, :1], torch.lerp(lab[:, 1:], before[:, 1:], strength)], 1)
    return lab_to_rgb(kept)
