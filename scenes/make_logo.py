"""Draw scenes/logo.png, the default scene's start image: python scenes/make_logo.py"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

WIDTH, HEIGHT = 1280, 720


def draw_logo() -> Image.Image:
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    # Deep blue to violet radial backdrop.
    r = np.hypot((x - WIDTH / 2) / WIDTH, (y - HEIGHT / 2) / HEIGHT)
    backdrop = np.stack([40 + 90 * r, 30 + 40 * r, 90 + 60 * (1 - r)], axis=-1)
    image = Image.fromarray(np.clip(backdrop, 0, 255).astype(np.uint8))

    draw = ImageDraw.Draw(image)
    cx, cy = WIDTH // 2, HEIGHT // 2
    # Concentric rings behind the word: structure for the dream to latch onto.
    for i, radius in enumerate(range(330, 40, -36)):
        color = (255, 200 - 12 * i, 80 + 18 * i)
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), outline=color, width=6)
    font = ImageFont.load_default(size=150)
    text = "dreamzoom"
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    origin = (cx - (right - left) / 2 - left, cy - (bottom - top) / 2 - top)
    shadow = Image.new("L", image.size, 0)
    ImageDraw.Draw(shadow).text(origin, text, font=font, fill=255)
    image.paste((10, 10, 30), mask=shadow.filter(ImageFilter.GaussianBlur(10)))
    draw.text(origin, text, font=font, fill=(255, 255, 255), stroke_width=4, stroke_fill=(20, 20, 40))
    return image


if __name__ == "__main__":
    target = Path(__file__).with_name("logo.png")
    draw_logo().save(target, optimize=True)
    print(f"wrote {target}")
