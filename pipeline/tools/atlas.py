"""Layer catalog and atlas: see what each layer of a model dreams before choosing.

`layer_table` prints a model's layers; `make_atlas` dreams one image at each
alias (or every layer) and lays the results out as one labelled contact sheet.
"""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image
from tqdm import tqdm

from ..dream.core import dream
from ..image.pixels import cover_fit, to_pixels, to_tensor
from ..models.cache import network
from ..dream.objectives import layer_l2
from ..dream.settings import DreamSettings
from ..models.zoo import ZOO, ModelSpec
from ..output.sheets import contact_sheet

ATLAS_DREAM = DreamSettings(octaves=3, octave_scale=1.4, iterations=10, step=0.006, jitter=12, smooth=0.5)


def layer_table(spec: ModelSpec) -> str:
    aliases = {layer: alias for alias, layer in spec.aliases.items()}
    lines = [
        f"{spec.name}: {spec.description}",
        f"weights: {spec.source}" + ("" if spec.offline else " (needs internet the first time)"),
        f"input: at least {spec.min_size} px per side" + (f"; {spec.classes} ImageNet classes" if spec.classes else ""),
        "",
        f"{'layer':<16}{'alias':<10}{'channels':>9}{'stride':>8}  depth",
    ]
    count = len(spec.layers)
    for index, layer in enumerate(spec.layers, start=1):
        depth = "#" * round(20 * index / count)
        lines.append(
            f"{layer.name:<16}{aliases.get(layer.name, ''):<10}{layer.channels:>9}{layer.stride:>8}  {depth}"
        )
    return "\n".join(lines)


def model_list() -> str:
    lines = [f"{'model':<20}{'offline':<9}description"]
    for spec in ZOO.values():
        lines.append(f"{spec.name:<20}{'yes' if spec.offline else 'no':<9}{spec.description}")
    return "\n".join(lines)


def make_atlas(
    image: Path,
    model: str = "inception_v3",
    every_layer: bool = False,
    size: int = 480,
    device: torch.device | str = "cpu",
    columns: int = 3,
    progress: bool = True,
) -> Image.Image:
    """The image (long side `size`) dreamed at each alias, or at every layer."""
    spec = ZOO[model]
    with Image.open(image) as opened:
        aspect = opened.height / opened.width
    width = size if aspect <= 1 else round(size / aspect)
    height = round(width * aspect)
    width, height = max(width, spec.min_size), max(height, spec.min_size)
    base = to_tensor(cover_fit(image, width, height), device)
    net = network(model, device)
    if every_layer:
        targets = [(name, name) for name in spec.layer_names]
    else:
        targets = [(f"{alias} ({layer})", layer) for alias, layer in spec.aliases.items()]
    tiles = [("start image", Image.fromarray(to_pixels(base)))]
    for label, layer in tqdm(targets, desc=f"atlas {model}", unit="layer", disable=not progress):
        dreamed = dream(net, base, layer_l2(layer), ATLAS_DREAM, torch.Generator().manual_seed(0))
        tiles.append((label, Image.fromarray(to_pixels(dreamed))))
    return contact_sheet(tiles, columns)
