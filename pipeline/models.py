"""Runs any zoo network on canonical frames (see zoo.py for the entries)."""

from __future__ import annotations

import importlib
from pathlib import Path

import torch
from torch import nn

from .weights import read_checkpoint
from .zoo import ZOO, ModelSpec


class PooledClassifier(nn.Module):
    """Global average pool, flatten, then the classifier: ImageNet logits as a stage."""

    def __init__(self, classifier: nn.Module):
        super().__init__()
        self.classifier = classifier

    def forward(self, x):
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class DreamNet(nn.Module):
    """A zoo network as ordered stages; returns the activations asked for.

    The forward pass stops after the deepest requested layer, so dreaming on
    low layers costs only the low part of the network. Input normalization
    (range, channel order) happens here, so callers always pass RGB [0, 1].
    """

    def __init__(self, spec: ModelSpec, stages: nn.ModuleDict):
        super().__init__()
        self.spec = spec
        self.stages = stages
        norm = spec.normalization
        self.bgr = norm.bgr
        self.register_buffer("mean", torch.tensor(norm.mean).view(1, 3, 1, 1))
        self.register_buffer("factor", (norm.scale / torch.tensor(norm.std)).view(1, 3, 1, 1))

    def forward(self, image: torch.Tensor, wanted) -> dict[str, torch.Tensor]:
        """image: (N, 3, H, W) RGB in [0, 1] -> {layer: activation} for `wanted`."""
        remaining = set(wanted)
        found = {}
        x = image.flip(1) if self.bgr else image
        x = (x - self.mean) * self.factor
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


def load_model(name: str, device: torch.device | str = "cpu", weights: str | Path = "pretrained") -> DreamNet:
    """Build a zoo network, ready to dream on `device`.

    weights: "pretrained" (the entry's source), "random" (no download, for
    timing and tests) or the path of a state_dict for the same architecture.
    Raises ModelUnavailable with instructions when weights cannot be had.
    """
    spec = ZOO[name]
    builder = importlib.import_module(spec.module)
    model = builder.architecture(name)
    if weights == "pretrained":
        builder.load_pretrained(model, name)
    elif weights != "random":
        model.load_state_dict(read_checkpoint(Path(weights)))
    net = DreamNet(spec, builder.stages(model, name)).eval().requires_grad_(False)
    return net.to(device)
