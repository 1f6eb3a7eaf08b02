"""Objectives: scalar values to maximise, computed from layer activations.

They are values that compose, so a segment's goal reads like arithmetic:
`layer_l2("mixed_3") * 0.7 + channel_l2("mixed_5", 3) * 0.3`. Each objective knows
which layers it needs, so the network runs only as deep as necessary.
"""

from __future__ import annotations

from typing import Callable, Mapping

import torch

Activations = Mapping[str, torch.Tensor]


class Objective:
    def __init__(self, fn: Callable[[Activations], torch.Tensor], layers, label: str):
        self.fn = fn
        self.layers = frozenset(layers)
        self.label = label

    def __call__(self, activations: Activations) -> torch.Tensor:
        return self.fn(activations)

    def __add__(self, other: "Objective") -> "Objective":
        return Objective(
            lambda acts: self(acts) + other(acts),
            self.layers | other.layers,
            f"{self.label} + {other.label}",
        )

    def __mul__(self, weight) -> "Objective":
        """weight: a number, or a tensor whose value may change between calls (read on the device)."""
        shown = f"{weight:g}" if isinstance(weight, (int, float)) else "w"
        return Objective(lambda acts: self(acts) * weight, self.layers, f"{shown}*{self.label}")

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"Objective({self.label})"


def layer_l2(layer: str) -> Objective:
    """Mean squared activation of a layer: its gradient is the activation itself."""
    return Objective(lambda acts: acts[layer].float().square().mean(), {layer}, layer)


def weighted_sum(terms) -> Objective:
    """Sum of (objective, weight) pairs, e.g. [(layer_l2("mixed_3"), 0.7), (channel_l2("mixed_5", 3), 0.3)]."""
    parts = [objective * weight for objective, weight in terms]
    if not parts:
        raise ValueError("an objective needs at least one term")
    return sum(parts[1:], parts[0])


def channel_l2(layer: str, channel: int) -> Objective:
    """Mean squared activation of one channel: grows that single feature."""
    return Objective(
        lambda acts: acts[layer][:, channel].float().square().mean(), {layer}, f"{layer}:{channel}"
    )


def class_logit(index: int, logits_layer: str = "logits") -> Objective:
    """The network's score for an ImageNet class: it dreams the label."""
    return Objective(lambda acts: acts[logits_layer][:, index].float().mean(), {logits_layer}, f"class {index}")


def guide(layer: str, target: torch.Tensor) -> Objective:
    """Move the layer's features toward a guide image's: dot product with its mean feature.

    target: (C,) the guide's activation at `layer`, averaged over positions.
    """
    direction = target.float() / (target.float().norm() + 1e-8)

    def value(acts):
        features = acts[layer].float()
        return (features * direction.view(1, -1, 1, 1).to(features.device)).sum(1).mean()

    return Objective(value, {layer}, f"guide@{layer}")
