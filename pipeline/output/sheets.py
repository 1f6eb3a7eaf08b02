"""Labelled contact sheets (the atlas, the storyboard), saved atomically."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont


def contact_sheet(tiles: list[tuple[str, Image.Image]], columns: int) -> Image.Image:
    """Tiles of equal size in a grid, each labelled in its top-left corner."""
    width, height = tiles[0][1].size
    rows = (len(tiles) + columns - 1) // columns
    sheet = Image.new("RGB", (width * columns, height * rows), (0, 0, 0))
    font = ImageFont.load_default(size=max(12, height // 12))
    draw = ImageDraw.Draw(sheet)
    for index, (label, tile) in enumerate(tiles):
        x, y = (index % columns) * width, (index // columns) * height
        sheet.paste(tile, (x, y))
        draw.text((x + 6, y + 4), label, font=font, fill="white", stroke_width=2, stroke_fill="black")
    return sheet


def save_atomically(image: Image.Image, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.part")
    image.save(temp, format="PNG", optimize=True)
    os.replace(temp, path)
    return path
