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
    xyz = _matrix(to_xyz, _decode(rgb)) / white
    f = torch.where(xyz > _EPS**3, xyz.clamp_min(1e-12) ** (1 / 3), xyz / (3 * _EPS**2) + 4 / 29)
    return torch.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], 1)


def lab_to_rgb(lab: torch.Tensor, knee: float = 1.0) -> torch.Tensor:
    """Inverse of rgb_to_lab. A colour outside sRGB keeps its hue and about its lightness and loses
    only as much saturation as it must to fit (clamping each channel instead would flatten it into
    pure red, blue, black or white: clipped pixels).

    knee < 1 eases in every colour that reaches further than `knee` of the way from its grey to
    the edge of the range, so none lands on the edge: what a loop that moves colours every
    frame needs, or its most saturated pixels pile up there, crushed to 0 or blown to 255.
    """
    return _into_gamut(*_unbounded_rgb(lab), knee)


def _unbounded_rgb(lab: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """LAB -> (encoded RGB, outside [0, 1] where the colour is outside sRGB; its grey (N, 1, H, W))."""
    fy = (lab[:, 0].clamp(0.0, 100.0) + 16) / 116
    f = torch.stack([fy + lab[:, 1] / 500, fy, fy - lab[:, 2] / 200], 1)
    xyz = torch.where(f > _EPS, f**3, 3 * _EPS**2 * (f - 4 / 29))
    _, to_rgb, white = _constants(lab.device, lab.dtype)
    xyz = xyz * white
    return _encode(_matrix(to_rgb, xyz)), _encode(xyz[:, 1:2].clamp(0.0, 1.0))


def _decode(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB's gamma-encoded values -> linear light."""
    return torch.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)


def _encode(linear: torch.Tensor) -> torch.Tensor:
    """Linear light -> sRGB's gamma-encoded values; values outside [0, 1] follow the same curves."""
    return torch.where(linear > 0.0031308, 1.055 * linear.clamp_min(1e-12) ** (1 / 2.4) - 0.055, 12.92 * linear)


def _into_gamut(rgb: torch.Tensor, grey: torch.Tensor, knee: float) -> torch.Tensor:
    """Encoded RGB moved toward its grey until it lies in [0, 1]; with knee < 1, eased in past
    `knee` of the way to the edge, and a grey near black or white eased in past LIGHT_KNEE.

    Measured in encoded values, as the eye and an 8-bit file see them: in linear light a dark
    blue eased 5% from the edge still has a channel at 1 of 255.
    """
    if knee < 1.0:
        eased = 0.5 + (grey - 0.5).sign() * _ease((2.0 * grey - 1.0).abs(), LIGHT_KNEE) / 2
        rgb, grey = rgb + (eased - grey), eased
    reach = _reach(rgb, grey)
    return (grey + _ease(reach, knee) / reach.clamp_min(1e-12) * (rgb - grey)).clamp(0.0, 1.0)


def _reach(rgb: torch.Tensor, grey: torch.Tensor) -> torch.Tensor:
    """How far each colour lies from its grey toward the edge of the range, (N, 1, H, W): 0 at the
    grey, 1 on the edge (a channel at 0 or 1), over 1 outside."""
    room = torch.where(rgb > grey, 1.0 - grey, grey).clamp_min(1e-6)
    return ((rgb - grey).abs() / room).amax(dim=1, keepdim=True)


def _ease(reach: torch.Tensor, knee: float) -> torch.Tensor:
    """A reach (0 at the grey, 1 at the edge) capped at 1, or past a knee < 1 bent smoothly so it
    never gets there."""
    if knee >= 1.0:
        return reach.clamp(max=1.0)
    return torch.where(reach > knee, knee + (1.0 - knee) * torch.tanh((reach - knee) / (1.0 - knee)), reach)


POST_KNEE = 0.5  # colour matching, luma mode and the dream ease in colours past half the way to the edge
LIGHT_KNEE = 0.8  # and greys in the darkest and the lightest tenth


def ease_into_range(rgb: torch.Tensor, knee: float = POST_KNEE) -> torch.Tensor:
    """(N, 3, H, W) sRGB in [0, 1] whose colours reaching further than `knee` of the way from
    their grey to the edge of the range are eased in, hue and about their lightness kept.

    A step that raises saturation frame after frame piles the strongest colours up on the edge
    (a channel crushed to 0 or blown to 255, its detail lost); eased in once per frame, they
    settle short of it.
    """
    to_xyz, _, _ = _constants(rgb.device, rgb.dtype)
    return _into_gamut(rgb, _encode(_matrix(to_xyz[1:2], _decode(rgb))), knee)


def lab_stats(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel LAB mean and std of (1, 3, H, W) RGB, each (1, 3, 1, 1)."""
    lab = rgb_to_lab(image)
    return lab.mean(dim=(2, 3), keepdim=True), lab.std(dim=(2, 3), keepdim=True)


LIGHTNESS_PULL, COLOUR_PULL = 2.0, 3.0  # how much faster than the spread the mean lightness and colour move
ROOM_FREE, ROOM_NONE = POST_KNEE, 0.95  # reach at which a pixel starts being held back, and is held still
MAX_BOOST = 3.0  # the most a pixel with room moves, against the frame's average move
MAX_CHROMA_GAIN = 4.0  # the most the frame's chroma may be asked to grow by in one go (a frame about grey)


def match_colors(
    image: torch.Tensor, reference: tuple[torch.Tensor, torch.Tensor], strength: float
) -> torch.Tensor:
    """Move `image`'s LAB spread toward `reference` (from lab_stats) by `strength` in [0, 1], its mean
    lightness twice and its mean colour three times as far (at most all the way), keeping each pixel's
    hue and the most saturated pixels where they are.

    Shifting every pixel alike would not do: where a dream greys a vivid start picture, the shift
    that brings the mean colour back pushes the already vivid pixels out of the range (a purple shift
    crushes green to 0) and turns every hue toward the reference's. So the mean colour (LAB a, b)
    comes back by scaling and turning the frame's colours about grey as one: greyed pixels regain
    their colour and hues keep their relations. The spread moves least, as the dream's texture is the
    spread (pulled to a flat picture's, the detail softens). Then each pixel moves only as far as its
    colour has room: fully up to half the way to the edge of the range, not at all past 0.95 of it;
    pixels with room move further (up to MAX_BOOST times), so the frame's mean still moves about as
    far as asked.
    """
    if strength <= 0:
        return image
    lab = rgb_to_lab(image)
    mean, std = lab.mean(dim=(2, 3), keepdim=True), lab.std(dim=(2, 3), keepdim=True)
    ref_mean, ref_std = reference
    move = (lab - mean) * (strength * (ref_std / (std + 1e-5) - 1.0))
    lightness = min(1.0, LIGHTNESS_PULL * strength) * (ref_mean[:, :1] - mean[:, :1])
    colourful = (_rms_chroma(ref_mean, ref_std) / _rms_chroma(mean, std).clamp_min(1e-6)).clamp(1.0, MAX_CHROMA_GAIN)
    colour = _chroma_turn(lab[:, 1:], mean[:, 1:], ref_mean[:, 1:], min(1.0, COLOUR_PULL * strength), colourful)
    move = move + torch.cat([lightness.expand_as(lab[:, :1]), colour], 1)
    room = ((ROOM_NONE - _reach(*_unbounded_rgb(lab + move))) / (ROOM_NONE - ROOM_FREE)).clamp(0.0, 1.0)
    room = room / room.mean().clamp_min(1.0 / MAX_BOOST)
    return lab_to_rgb(lab + move * room, POST_KNEE)


def _rms_chroma(mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """How colourful a picture is overall, from its LAB mean and std: the root mean square of its
    pixels' chroma (distance from grey in a, b), (N, 1, 1, 1)."""
    return (mean[:, 1:] ** 2 + std[:, 1:] ** 2).sum(dim=1, keepdim=True).sqrt()


def _chroma_turn(ab: torch.Tensor, mean: torch.Tensor, ref_mean: torch.Tensor, pull: float,
                 max_gain: torch.Tensor) -> torch.Tensor:
    """How each pixel's (a, b) moves when the frame's colours are scaled and turned about grey so that
    their mean goes `pull` of the way to `ref_mean`: as complex numbers, z (w - 1) with
    w = 1 + pull (r / m - 1). The gain |r / m| is capped at `max_gain` (what makes the frame as
    colourful as the reference, at least 1: a frame of vivid hues that cancel out, its mean near
    grey, is not made more vivid still); the rest of the way is a shift of every pixel alike."""
    ma, mb, ra, rb = mean[:, 0:1], mean[:, 1:2], ref_mean[:, 0:1], ref_mean[:, 1:2]
    norm = (ma * ma + mb * mb).clamp_min(1e-6)
    qa, qb = (ra * ma + rb * mb) / norm, (rb * ma - ra * mb) / norm  # r / m
    gain = torch.sqrt(qa * qa + qb * qb).clamp_min(1e-12)
    capped = torch.minimum(gain, max_gain) / gain
    wa, wb = pull * (qa * capped - 1.0), pull * qb * capped  # w - 1
    rest_a = pull * (ra - ma) - (wa * ma - wb * mb)  # 0 unless the gain was capped
    rest_b = pull * (rb - mb) - (wb * ma + wa * mb)
    a, b = ab[:, 0:1], ab[:, 1:2]
    return torch.cat([wa * a - wb * b + rest_a, wb * a + wa * b + rest_b], 1)


def keep_chroma(dreamed: torch.Tensor, undreamed: torch.Tensor, strength: float) -> torch.Tensor:
    """Luma-only dreaming: lightness from the dream, colour (LAB a, b) from before it.

    With strength 1 the dream changes only light and shade, so the colours
    stay those the start image brought in; 0 leaves the dream's colours.
    """
    if strength <= 0:
        return dreamed
    lab, before = rgb_to_lab(dreamed), rgb_to_lab(undreamed)
    kept = torch.cat([lab[:, :1], torch.lerp(lab[:, 1:], before[:, 1:], strength)], 1)
    return lab_to_rgb(kept, POST_KNEE)
