"""Dense optical flow between consecutive clip frames, and carrying a dreamed frame along it, so
the dream sticks to moving things instead of boiling afresh on every frame of footage.

The flow is measured on the host with OpenCV's DIS (the clip's frames are decoded there anyway),
once per clip frame and only from the clip's own pixels; carrying the dream along it happens on
the device.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F


def _gray(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)


def optical_flow(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Where each pixel of `source` is found in `target`: (H, W, 2) float32 in pixels (x, y), for
    (H, W, 3) uint8 frames. OpenCV's DIS at its medium preset: fast, and robust to the large, smooth
    motions of footage."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return dis.calc(_gray(source), _gray(target), None)


def flows_between(previous: np.ndarray, current: np.ndarray) -> np.ndarray:
    """(2, H, W, 2): the flow from `current` back to `previous` (where each pixel came from), then
    forward (where each pixel of `previous` went), for carry()."""
    return np.stack([optical_flow(current, previous), optical_flow(previous, current)])


def _sources(flow: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each pixel's position plus `flow` (1, H, W, 2): the x and y it is read from, (1, H, W) each."""
    _, height, width, _ = flow.shape
    ys, xs = torch.meshgrid(torch.arange(height, device=flow.device, dtype=flow.dtype),
                            torch.arange(width, device=flow.device, dtype=flow.dtype), indexing="ij")
    return xs + flow[..., 0], ys + flow[..., 1]


def _sample(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """`image` (1, C, H, W) read at each pixel plus `flow` (1, H, W, 2), bilinear, edges clamped."""
    _, _, height, width = image.shape
    x, y = _sources(flow)
    x = x * (2.0 / max(1, width - 1)) - 1.0
    y = y * (2.0 / max(1, height - 1)) - 1.0
    return F.grid_sample(image, torch.stack([x, y], dim=-1), mode="bilinear", padding_mode="border",
                         align_corners=True)


def carry(previous: torch.Tensor, flows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The previous frame (1, 3, H, W) moved along the clip's motion, and how far to trust each
    pixel of it (1, 1, H, W) in 0..1.

    `flows` is flows_between()'s (2, H, W, 2) on the device. A pixel is trusted where the way back
    and the way forward agree (the forward-backward check of Sundaram et al.) and it came from
    inside the frame: new or uncovered content fails the check, so it shows the clip itself."""
    backward, forward = flows[0:1].to(previous.dtype), flows[1:2].to(previous.dtype)
    carried = _sample(previous, backward)
    returned = _sample(forward.permute(0, 3, 1, 2), backward).permute(0, 2, 3, 1)
    error = (backward + returned).square().sum(-1)
    allowed = 0.01 * (backward.square().sum(-1) + returned.square().sum(-1)) + 0.5
    _, _, height, width = previous.shape
    x, y = _sources(backward)
    inside = (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)
    trusted = ((error <= allowed) & inside).to(previous.dtype)[:, None]
    # A pixel wide soft edge, so the border between carried and fresh dream does not show as a seam.
    return carried, F.avg_pool2d(F.pad(trusted, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
