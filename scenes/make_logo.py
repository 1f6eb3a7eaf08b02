"""Draw scenes/logo.png, the default scene's start image; scenes/logo-square.png, the same drawn
for the square canvas of scenes/campaign.yaml (the wordmark narrow enough for its 9:16 crop); and
scenes/badge.png, the wordmark on a transparent background that scenes/brand.yaml keeps over its
zoom: python scenes/make_logo.py"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

def draw_logo(width: int = 1280, height: int = 720, font_size: int = 150) -> Image.Image:
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    scale = min(width, height) / 720  # the rings fill the shorter side
    # Deep blue to violet radial backdrop.
    r = np.hypot((x - width / 2) / width, (y - height / 2) / height)
    backdrop = np.stack([40 + 90 * r, 30 + 40 * r, 90 + 60 * (1 - r)], axis=-1)
    image = Image.fromarray(np.clip(backdrop, 0, 255).astype(np.uint8))

    draw = ImageDraw.Draw(image)
    cx, cy = width // 2, height // 2
    # Concentric rings behind the word: structure for the dream to latch onto.
    for i, radius in enumerate(range(round(330 * scale), 40, -round(36 * scale))):
        color = (255, 200 - 12 * i, 80 + 18 * i)
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), outline=color, width=round(6 * scale))
    font = ImageFont.load_default(size=font_size)
    text = "dreamzoom"
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    origin = (cx - (right - left) / 2 - left, cy - (bottom - top) / 2 - top)
    shadow = Image.new("L", image.size, 0)
    ImageDraw.Draw(shadow).text(origin, text, font=font, fill=255)
    image.paste((10, 10, 30), mask=shadow.filter(ImageFilter.GaussianBlur(10)))
    draw.text(origin, text, font=font, fill=(255, 255, 255), stroke_width=4, stroke_fill=(20, 20, 40))
    return image


def draw_badge() -> Image.Image:
    """The wordmark, white with a dark outline and a soft shadow, on transparency."""
    font = ImageFont.load_default(size=120)
    text = "dreamzoom"
    left, top, right, bottom = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox((0, 0), text, font=font)
    pad = 30
    size = (right - left + 2 * pad, bottom - top + 2 * pad)
    origin = (pad - left, pad - top)
    shadow = Image.new("L", size, 0)
    ImageDraw.Draw(shadow).text(origin, text, font=font, fill=200, stroke_width=6)
    badge = Image.new("RGBA", size, (10, 10, 30, 0))
    badge.putalpha(shadow.filter(ImageFilter.GaussianBlur(8)))
    ImageDraw.Draw(badge).text(origin, text, font=font, fill=(255, 255, 255, 255), stroke_width=4,
                               stroke_fill=(20, 20, 40, 255))
    return badge


if __name__ == "__main__":
    square = lambda: draw_logo(960, 960, font_size=86)  # noqa: E731
    for name, draw in (("logo.png", draw_logo), ("logo-square.png", square), ("badge.png", draw_badge)):
        target = Path(__file__).with_name(name)
        draw().save(target, optimize=True)
        print(f"wrote {target}")
