"""A stage's final ReLU moved behind the strided max pool that follows it: max_pool(relu(x)) = relu(max_pool(x)).

Every network of the zoo max-pools its largest activations right after a
ReLU (GoogLeNet's first and third convolutions, Inception v3's stem, every
VGG block, ResNet's stem). ReLU is monotonic, so pooling first and applying
the ReLU to the pooled tensor computes the same numbers, and with a stride-2
pool the ReLU's forward and backward passes (a sixth of a CPU step in fp32)
then touch a quarter of the pixels.

The gradient is the same too, ties included. Where a window's maximum is
positive, the pre-activation has the same maximum at the same first position
(every other value in the window is smaller, before or after the ReLU).
Where it is zero or less, PyTorch's order sends the window's gradient to its
first zero, which the ReLU's backward pass then zeroes; here the ReLU's
backward pass zeroes it before the pool. Either way nothing arrives.

The stage before the pool keeps its name as a layer: the network
(network.py) applies the ReLU to what it passes on (`layer_output`) when an
objective asks for that layer. Stride-1 pools gain nothing (the ReLU touches
as many pixels before as after), so only strided ones are rewritten.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.utils import _pair


class WithoutFinalReLU(nn.Module):
    """A stage whose final ReLU is left to the next stage; `layer_output` gives the stage's own output."""

    def __init__(self, body: nn.Module):
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    @staticmethod
    def layer_output(x: torch.Tensor) -> torch.Tensor:
        return F.relu(x)


class PoolThenReLU(nn.Module):
    """max_pool(relu(x)) computed as relu(max_pool(x)): the ReLU on the pooled, smaller tensor."""

    def __init__(self, pool: nn.Module):
        super().__init__()
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.pool(x))


def _without_final_relu(stage: nn.Module) -> nn.Module | None:
    """The stage without its final ReLU, or None when it does not end in one this recognises: a
    Sequential ending in nn.ReLU, or torchvision's BasicConv2d (conv, bn, then F.relu)."""
    if isinstance(stage, nn.Sequential) and len(stage) > 1 and type(stage[-1]) is nn.ReLU:
        return nn.Sequential(*list(stage)[:-1])
    if type(stage).__name__ == "BasicConv2d" and type(stage).__module__.startswith("torchvision.") and \
            set(dict(stage.named_children())) == {"conv", "bn"}:
        return nn.Sequential(stage.conv, stage.bn)
    return None


def _strided_max_pool(stage: nn.Module) -> bool:
    """A plain max pool (alone, or alone in a Sequential) with a stride over 1 and no dilation."""
    if isinstance(stage, nn.Sequential) and len(stage) == 1:
        stage = stage[0]
    return type(stage) is nn.MaxPool2d and not stage.return_indices and _pair(stage.dilation) == (1, 1) and \
        max(_pair(stage.stride if stage.stride is not None else stage.kernel_size)) > 1


def relu_after_pools(stages: nn.ModuleDict) -> int:
    """Rewrite (in place) every stage that ends in a ReLU and is followed by a strided max pool;
    returns how many pairs were rewritten."""
    names = list(stages)
    rewritten = 0
    for name, following in zip(names, names[1:]):
        body = _without_final_relu(stages[name])
        if body is not None and _strided_max_pool(stages[following]):
            stages[name] = WithoutFinalReLU(body)
            stages[following] = PoolThenReLU(stages[following])
            rewritten += 1
    return rewritten
