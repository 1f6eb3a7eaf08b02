"""Labelled contact sheets (the atlas, the storyboard, the grid of --vary's variants), saved atomically."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont


def grid(count: int) -> tuple[int, int]:
    """(columns, rows) for `count` tiles: as few empty cells as can be, at least as wide as tall and
    no wider than max(3, twice as tall) (tiles and screens are wide), then the squarest.
    1..9 tiles: 1x1, 2x1, 3x1, 2x2, 3x2 (3 + 2), 3x2, 4x2 (4 + 3), 4x2, 3x3."""
    def fits(columns: int) -> bool:
        rows = -(-count // columns)
        return rows <= columns <= max(3, 2 * rows)

    columns = min((c for c in range(1, count + 1) if fits(c)), key=lambda c: (c * -(-count // c) - count, c))
    return columns, -(-count // columns)


def contact_sheet(tiles: list[tuple[str, Image.Image]], columns: int | None = None) -> Image.Image:
    """Tiles of equal size in a grid (by default one that fits their number), each labelled in its
    top-left corner; a last row that is not full is centred."""
    width, height = tiles[0][1].size
    columns = columns or grid(len(tiles))[0]
    rows = (len(tiles) + columns - 1) // columns
    sheet = Image.new("RGB", (width * columns, height * rows), (0, 0, 0))
    font = ImageFont.load_default(size=max(12, height // 12))
    draw = ImageDraw.Draw(sheet)
    last_row = len(tiles) - (rows - 1) * columns
    for index, (label, tile) in enumerate(tiles):
        row, column = divmod(index, columns)
        indent = (columns - last_row) * width // 2 if row == rows - 1 else 0
        x, y = indent + column * width, row * height
        sheet.paste(tile, (x, y))
        draw.multiline_text((x + 6, y + 4), label, font=font, fill="white", stroke_width=2, stroke_fill="black")
    return sheet


def captioned_rows(rows: list[tuple[str, list[tuple[str, Image.Image]]]], long_side: int = 320) -> Image.Image:
    """One row of tiles per entry (each tile labelled in its top-left corner, shrunk to at most
    `long_side`, small ones enlarged), with the entry's caption in a strip under its row: the same moments of several
    variants, the values that make each one under it."""
    width, height = rows[0][1][0][1].size
    scale = min(1.0, long_side / max(width, height)) if max(width, height) > long_side * 0.6 else \
        long_side * 0.6 / max(width, height)  # small frames are shown larger, so their labels fit
    width, height = max(1, round(width * scale)), max(1, round(height * scale))
    columns = max(len(tiles) for _, tiles in rows)
    font = ImageFont.load_default(size=max(12, height // 12))
    caption_font = ImageFont.load_default(size=max(14, height // 10))
    strip = max(24, height // 6) * max(1, max(caption.count("\n") + 1 for caption, _ in rows))
    sheet = Image.new("RGB", (width * columns, (height + strip) * len(rows)), (0, 0, 0))
    draw = ImageDraw.Draw(sheet)
    for row, (caption, tiles) in enumerate(rows):
        y = row * (height + strip)
        for column, (label, tile) in enumerate(tiles):
            x = column * width
            sheet.paste(tile.convert("RGB").resize((width, height), Image.LANCZOS), (x, y))
            draw.multiline_text((x + 6, y + 4), label, font=font, fill="white", stroke_width=2, stroke_fill="black")
        draw.multiline_text((6, y + height + 4), caption, font=caption_font, fill="white")
    return sheet


def variants_path(output: Path) -> Path:
    """Where `--vary` puts the grid of the variants of a render to `output`: beside it."""
    return output.with_name(output.stem + ".variants.png")


def storyboard_path(output: Path) -> Path:
    """Where `--storyboard` puts the sheet for a render to `output`: beside it."""
    return output.with_name(output.stem + ".storyboard.png")


def save_atomically(image: Image.Image, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.part")
    image.save(temp, format="PNG", optimize=True)
    os.replace(temp, path)
    return path
