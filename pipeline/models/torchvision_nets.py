"""torchvision's ImageNet networks, split into named stages for dreaming.

Pretrained weights come through torchvision's weights API and are cached
where torch caches them (see `torch.hub.get_dir()`); without a network the
error names the exact file to download and where to put it.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn
from torchvision import models

from .network import PooledClassifier
from .weights import ModelUnavailable, offline_models

_WEIGHTS = {
    "googlenet": models.GoogLeNet_Weights.IMAGENET1K_V1,
    "vgg16": models.VGG16_Weights.IMAGENET1K_V1,
    "resnet50": models.ResNet50_Weights.IMAGENET1K_V2,
    "inception_v3_tv": models.Inception_V3_Weights.IMAGENET1K_V1,
}


def architecture(name: str) -> nn.Module:
    if name == "googlenet":
        return models.googlenet(weights=None, aux_logits=False, init_weights=False)
    if name == "vgg16":
        return models.vgg16(weights=None, init_weights=False)
    if name == "resnet50":
        return models.resnet50(weights=None)
    if name == "inception_v3_tv":
        return models.inception_v3(weights=None, aux_logits=False, init_weights=False)
    raise KeyError(name)


def weights_file(name: str) -> Path:
    """Where torch's cache keeps this model's pretrained file."""
    url = _WEIGHTS[name].url
    return Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]


def load_pretrained(model: nn.Module, name: str) -> None:
    weights = _WEIGHTS[name]
    try:
        state = weights.get_state_dict(progress=False, check_hash=True)
    except (OSError, RuntimeError) as error:  # URLError is an OSError
        raise ModelUnavailable(
            f"cannot download the {name} weights ({error}). Download\n"
            f"  {weights.url}\n"
            f"on a machine with internet and place it at\n"
            f"  {weights_file(name)}\n"
            f"or use a model that works offline: {', '.join(offline_models())}."
        ) from None
    model.load_state_dict(state)


class _VGGLogits(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.avgpool, self.classifier = model.avgpool, model.classifier

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(x), 1))


def _vgg_stages(model) -> "OrderedDict[str, nn.Module]":
    stages, block, conv, pending = OrderedDict(), 1, 0, []
    for layer in model.features:
        pending.append(layer)
        if isinstance(layer, nn.ReLU):
            conv += 1
            stages[f"conv{block}_{conv}"] = nn.Sequential(*pending)
            pending = []
        elif isinstance(layer, nn.MaxPool2d):
            stages[f"pool{block}"] = nn.Sequential(*pending)
            pending, block, conv = [], block + 1, 0
    stages["logits"] = _VGGLogits(model)
    return stages


def stages(model: nn.Module, name: str) -> nn.ModuleDict:
    # ReLUs must not work in place: an activation we keep for the objective
    # would be overwritten by the next stage.
    for module in model.modules():
        if isinstance(module, nn.ReLU):
            module.inplace = False
    if name == "vgg16":
        return nn.ModuleDict(_vgg_stages(model))
    if name == "resnet50":
        parts = OrderedDict(conv1=nn.Sequential(model.conv1, model.bn1, model.relu), pool1=model.maxpool)
        for index in range(1, 5):
            for block_index, block in enumerate(getattr(model, f"layer{index}")):
                parts[f"layer{index}_{block_index}"] = block
        parts["logits"] = PooledClassifier(model.fc)
        return nn.ModuleDict(parts)
    # googlenet and inception_v3: the children in order, minus pooling/dropout/fc
    # at the end and the input transform (our normalization feeds them directly).
    skip = {"avgpool", "dropout", "fc", "aux1", "aux2", "AuxLogits"}
    parts = OrderedDict((n, m) for n, m in model.named_children() if n not in skip)
    parts["logits"] = PooledClassifier(model.fc)
    return nn.ModuleDict(parts)
