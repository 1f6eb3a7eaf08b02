"""Runs any zoo network on canonical frames (see zoo.py for the entries)."""

from __future__ import annotations

import importlib

import torch
from torch import nn

from .zoo import ZOO, ModelSpec


class DreamNet(nn.Module):
    """Runs a zoo network on canonical frames and returns the activations asked for.

    The forward pass stops after the deepest requested layer, so dreaming on
    low layers costs only the low part of the network.
    """

    def __init__(self, spec: ModelSpec, stages: nn.ModuleDict):
        super().__init__()
        self.spec = spec
        self.stages = stages
        low, high = spec.input_range
        self.scale, self.offset = high - low, low

    def forward(self, image: torch.Tensor, wanted) -> dict[str, torch.Tensor]:
        """image: (N, 3, H, W) RGB in [0, 1] -> {layer: activation} for `wanted`."""
        remaining = set(wanted)
        found = {}
        x = image * self.scale + self.offset
        for name, stage in self.stages.items():
            if not remaining:
                break
            x = stage(x)
            if name in remaining:
                found[name] = x
                remaining.discard(name)
        if remaining:
            raise KeyError(f"no such layer(s): {sorted(remaining)}")
        return found


def load_model(name: str, device: torch.device | str = "cpu") -> DreamNet:
    """Build a zoo network with its weights, ready to dream on `device`."""
    spec = ZOO[name]
    builder = importlib.import_module(spec.module)
    stages = builder.build_stages()
    builder.load_pretrained(stages)
    net = DreamNet(spec, stages).eval().requires_grad_(False)
    return net.to(device)
