"""Runs any zoo network on canonical frames (see zoo.py for the entries)."""

from __future__ import annotations

import importlib
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

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
            if name in remaining:  # a faster stage may pass on its output before its final activation
                found[name] = stage.layer_output(x) if hasattr(stage, "layer_output") else x
                remaining.discard(name)
        if remaining:
            raise KeyError(f"no such layer(s): {sorted(remaining)}")
        return found


def _variance_preserving(model: nn.Module) -> None:
    """He-initialise every convolution, so random activations neither vanish nor blow up
    with depth: timing and tests then see real numbers, not zeros or denormals."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)


def fold_batch_norms(module: nn.Module) -> nn.Module:
    """Fold every eval-mode BatchNorm into the convolution registered just before it.

    In the zoo's networks a batch norm always directly follows its convolution
    in registration order (tested per model), so this is exact and removes a
    pass over every activation, forward and backward.
    """
    for parent in module.modules():
        children = list(parent.named_children())
        for (conv_name, conv), (bn_name, bn) in zip(children, children[1:]):
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d) and bn.track_running_stats:
                setattr(parent, conv_name, fuse_conv_bn_eval(conv.eval(), bn.eval()))
                setattr(parent, bn_name, nn.Identity())
    return module


def load_model(name: str, device: torch.device | str = "cpu", weights: str | Path = "pretrained",
               seed: int = 0) -> DreamNet:
    """Build a zoo network, ready to dream on `device`.

    weights: "pretrained" (the entry's source), "random" (no download, for
    timing and tests; drawn from `seed`, so the same seed gives the same
    network) or the path of a state_dict for the same architecture.
    Raises ModelUnavailable with instructions when weights cannot be had.
    """
    spec = ZOO[name]
    builder = importlib.import_module(spec.module)
    with torch.random.fork_rng(devices=[]):  # the caller's random state stays as it was
        torch.default_generator.manual_seed(seed)  # the CPU's, which builds it (manual_seed would reseed GPUs too)
        model = builder.architecture(name)
        if weights == "random":
            _variance_preserving(model)
    if weights == "pretrained":
        builder.load_pretrained(model, name)
    elif weights != "random":
        model.load_state_dict(read_checkpoint(Path(weights)))
    net = DreamNet(spec, fold_batch_norms(builder.stages(model, name).eval())).requires_grad_(False)
    return net.to(device)
