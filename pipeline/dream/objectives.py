"""Objectives: scalar values to maximise, computed from layer activations.

They are typed values that compose, so a segment's goal reads like arithmetic:
`LayerL2("mixed_3") * 0.7 + ChannelL2("mixed_5", 3) * 0.3`. The single terms are
frozen dataclasses, equal when they ask for the same thing, so the plan (which
has no torch) writes them and the engine recognises a dream it has captured by
them. Each objective knows which layers it needs, so the network runs only as
deep as necessary. Nothing here imports torch: the math is tensor methods.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Hashable, Mapping

if TYPE_CHECKING:
    import torch

    Activations = Mapping[str, torch.Tensor]


class Objective:
    """A value of the activations to raise; objectives add, and scale by numbers or tensors."""

    @property
    def layers(self) -> frozenset[str]:
        raise NotImplementedError

    @property
    def label(self) -> str:
        raise NotImplementedError

    def __call__(self, activations: Activations) -> torch.Tensor:
        raise NotImplementedError

    def __add__(self, other: Objective) -> Objective:
        return WeightedSum(((self, 1.0), (other, 1.0)))

    def __mul__(self, weight) -> Objective:
        """weight: a number, or a tensor whose value may change between calls (read on the device)."""
        return WeightedSum(((self, weight),))

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"Objective({self.label})"


@dataclass(frozen=True, repr=False)
class LayerL2(Objective):
    """Mean squared activation of a layer: its gradient is the activation itself."""

    layer: str

    @property
    def layers(self):
        return frozenset({self.layer})

    @property
    def label(self):
        return self.layer

    def __call__(self, acts):
        return acts[self.layer].float().square().mean()


@dataclass(frozen=True, repr=False)
class ChannelL2(Objective):
    """Mean squared activation of one channel: grows that single feature."""

    layer: str
    channel: int

    @property
    def layers(self):
        return frozenset({self.layer})

    @property
    def label(self):
        return f"{self.layer}:{self.channel}"

    def __call__(self, acts):
        return acts[self.layer][:, self.channel].float().square().mean()


@dataclass(frozen=True, repr=False)
class ClassLogit(Objective):
    """The network's score for an ImageNet class: it dreams the label."""

    index: int
    name: str = ""  # for labels only
    logits_layer: str = "logits"

    @property
    def layers(self):
        return frozenset({self.logits_layer})

    @property
    def label(self):
        return f"class {self.index}" + (f" ({self.name})" if self.name else "")

    def __call__(self, acts):
        return acts[self.logits_layer][:, self.index].float().mean()


@dataclass(frozen=True, repr=False)
class Guide(Objective):
    """Move the layer's features toward a guide image's: the dot product with its mean feature.

    `source` names the guide picture (equal sources, equal guides); `target`, the guide's
    activation at `layer` averaged over positions (C,), is attached with `toward` once the
    picture has been seen by the network.
    """

    layer: str
    source: Hashable
    name: str = ""  # for labels only
    target: Any = field(default=None, compare=False, hash=False)

    def toward(self, target) -> Guide:
        return dataclasses.replace(self, target=target.float() / (target.float().norm() + 1e-8))

    @property
    def layers(self):
        return frozenset({self.layer})

    @property
    def label(self):
        return f"guide {self.name} @ {self.layer}" if self.name else f"guide@{self.layer}"

    def __call__(self, acts):
        if self.target is None:
            raise ValueError(f"{self.label} has no target yet: attach the guide's features with toward()")
        features = acts[self.layer].float()
        return (features * self.target.view(1, -1, 1, 1).to(features.device)).sum(1).mean()


@dataclass(frozen=True, repr=False)
class WeightedSum(Objective):
    """Σ weight × objective; weights may be numbers or tensors."""

    terms: tuple[tuple[Objective, Any], ...]

    @property
    def layers(self):
        return frozenset().union(*(objective.layers for objective, _ in self.terms))

    @property
    def label(self):
        return " + ".join(f"{w:g}*{o.label}" if isinstance(w, (int, float)) else f"w*{o.label}"
                          for o, w in self.terms)

    def __call__(self, acts):
        total = None
        for objective, weight in self.terms:
            value = objective(acts) * weight
            total = value if total is None else total + value
        return total

    def __add__(self, other: Objective) -> Objective:
        extra = other.terms if isinstance(other, WeightedSum) else ((other, 1.0),)
        return WeightedSum(self.terms + extra)


def weighted_sum(terms) -> Objective:
    """Sum of (objective, weight) pairs, e.g. [(LayerL2("mixed_3"), 0.7), (ChannelL2("mixed_5", 3), 0.3)]."""
    terms = tuple(terms)
    if not terms:
        raise ValueError("an objective needs at least one term")
    return WeightedSum(terms)


def structure(weights: Mapping[Objective, float]) -> tuple[Objective, ...]:
    """The terms of a frame's {objective: weight} in a fixed order: what a captured dream depends on
    (the weights themselves are numbers fed to it)."""
    return tuple(sorted(weights, key=repr_key))


def repr_key(objective: Objective) -> str:
    return f"{type(objective).__name__}:{objective.label}:{getattr(objective, 'source', '')!r}"


def objective_of(terms: tuple[Objective, ...], weights, guide_target: Callable[[Guide], Any] | None) -> Objective:
    """The one place a frame's terms become the objective the dream raises: guides get their
    targets, and each term is scaled by its entry of `weights` (a tensor the engine refills)."""
    bound = []
    for term in terms:
        if isinstance(term, Guide) and term.target is None:
            if guide_target is None:
                raise ValueError(f"{term.label} needs the guide's features, and no guide_target was given")
            term = term.toward(guide_target(term))
        bound.append(term)
    return weighted_sum((term, weights[i]) for i, term in enumerate(bound))


# The names the rest of the code and notebooks know them by.
layer_l2, channel_l2, class_logit = LayerL2, ChannelL2, ClassLogit


def guide(layer: str, target) -> Guide:
    """A guide toward `target`, the (C,) mean feature of a guide image at `layer`."""
    return Guide(layer, source=object()).toward(target)  # a source of its own: unequal to any other guide
