"""Stride-1 average pooling whose backward pass is itself an average pooling.

Inception v3 average-pools every block's input (3x3, stride 1, padding 1,
padding not counted). PyTorch's backward pass for that scatters each output
gradient back over its window, which on the CPU in bf16 and channels_last
takes 5x as long as the forward pass (an eighth of a 640x360 dream step).
With stride 1 and a centred window the pixels a window covers are exactly
the windows that cover a pixel, so the input gradient is a sum pooling of
the output gradient, each term first divided by its window's size: one
forward pooling, the same numbers up to rounding.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.utils import _pair


def is_centred_avg_pool(module: nn.Module) -> bool:
    """A stride-1 average pooling with an odd square window padded by half of it, which this covers."""
    if type(module) is not nn.AvgPool2d or module.ceil_mode or module.divisor_override is not None:
        return False
    height, width = _pair(module.kernel_size)
    return height == width and height % 2 == 1 and _pair(module.stride) == (1, 1) and \
        _pair(module.padding) == (height // 2, height // 2)


class _CentredAvgPool(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, kernel: int, count_include_pad: bool):
        ctx.kernel, ctx.count_include_pad = kernel, count_include_pad
        return F.avg_pool2d(x, kernel, 1, kernel // 2, count_include_pad=count_include_pad)

    @staticmethod
    def backward(ctx, grad):
        kernel = ctx.kernel
        if not ctx.count_include_pad:  # divide by each window's own size instead of kernel**2
            ones = torch.ones(1, 1, *grad.shape[2:], dtype=grad.dtype, device=grad.device)
            grad = grad / F.avg_pool2d(ones, kernel, 1, kernel // 2, count_include_pad=True)
        return F.avg_pool2d(grad, kernel, 1, kernel // 2, count_include_pad=True), None, None


class CentredAvgPool(nn.Module):
    """Drop-in for a centred stride-1 nn.AvgPool2d (see is_centred_avg_pool)."""

    def __init__(self, pool: nn.AvgPool2d):
        super().__init__()
        self.kernel = _pair(pool.kernel_size)[0]
        self.count_include_pad = pool.count_include_pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _CentredAvgPool.apply(x, self.kernel, self.count_include_pad)
