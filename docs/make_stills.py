"""Make the README's pictures from real renders.

    python docs/make_stills.py frames scenes/renders/logo.mp4   # -> docs/logo-frames.png
    python docs/make_stills.py aliases                          # -> docs/aliases.png
"""

from __future__ import annotations

import sys
from pathlib import Path

import imageio.v3 as iio
import torch
from PIL import Image, ImageDraw, ImageFont

from pipeline.dream import dream
from pipeline.images import cover_fit, to_pixels, to_tensor
from pipeline.models import load_model
from pipeline.objectives import weighted_layers
from pipeline.plan import DreamSettings
from pipeline.zoo import INCEPTION_V3

HERE = Path(__file__).resolve().parent
LOGO = HERE.parent / "scenes" / "logo.png"


def contact_sheet(tiles: list[tuple[str, Image.Image]], columns: int) -> Image.Image:
    width, height = tiles[0][1].size
    rows = (len(tiles) + columns - 1) // columns
    sheet = Image.new("RGB", (width * columns, height * rows), (0, 0, 0))
    font = ImageFont.load_default(size=max(12, height // 12))
    for index, (label, tile) in enumerate(tiles):
        x, y = (index % columns) * width, (index // columns) * height
        sheet.paste(tile, (x, y))
        ImageDraw.Draw(sheet).text(
            (x + 6, y + 4), label, font=font, fill="white", stroke_width=2, stroke_fill="black"
        )
    return sheet


def frames_sheet(video: Path, picks=(0, 75, 149, 200, 250, 299)) -> Image.Image:
    frames = iio.imread(video)
    return contact_sheet([(f"frame {n}", Image.fromarray(frames[n])) for n in picks], columns=3)


def aliases_sheet(width=480, height=270) -> Image.Image:
    net = load_model("inception_v3")
    image = to_tensor(cover_fit(LOGO, width, height), "cpu")
    settings = DreamSettings(octaves=3, octave_scale=1.4, iterations=10, step=0.006, jitter=12, smooth=0.5)
    tiles = [("start image", Image.fromarray(to_pixels(image)))]
    for alias, layer in INCEPTION_V3.aliases.items():
        dreamed = dream(net, image, weighted_layers({layer: 1.0}), settings, torch.Generator().manual_seed(0))
        tiles.append((f"{alias} ({layer})", Image.fromarray(to_pixels(dreamed))))
    return contact_sheet(tiles, columns=3)


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    if what == "frames" and len(sys.argv) == 3:
        frames_sheet(Path(sys.argv[2])).save(HERE / "logo-frames.png", optimize=True)
    elif what == "aliases":
        aliases_sheet().save(HERE / "aliases.png", optimize=True)
    else:
        sys.exit(__doc__)
