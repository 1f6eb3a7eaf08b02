"""Words as pictures: fonts, their coverage, line wrapping and antialiased rasterising
(FreeType through Pillow), and the WCAG contrast arithmetic. Pillow and numpy only, no
torch, so a scene's text can be checked when it loads.

A rasterised text is an (h, w, 4) uint8 RGBA picture with straight alpha, plus the
rectangle of its body (the box, or the glyphs and their stroke) inside it: the body is
what is anchored and measured; a shadow may hang outside it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageColor, ImageDraw, ImageFilter, ImageFont, features

FONTS = Path(__file__).with_name("fonts")
BUNDLED = {"sans": FONTS / "DejaVuSans.ttf", "sans-bold": FONTS / "DejaVuSans-Bold.ttf"}
"""Fonts shipped with the package (DejaVu Sans, Bitstream Vera licence: fonts/LICENSE):
Latin, Greek, Cyrillic, Hebrew, Arabic and more."""

LINE_SPACING = 1.2  # lines are this many text sizes apart
COMPLEX_SCRIPTS = ("ARABIC", "HEBREW", "SYRIAC", "THAANA", "NKO", "DEVANAGARI", "BENGALI", "GURMUKHI", "GUJARATI",
                   "ORIYA", "TAMIL", "TELUGU", "KANNADA", "MALAYALAM", "SINHALA", "THAI", "LAO", "TIBETAN",
                   "MYANMAR", "KHMER", "MONGOLIAN")
"""Scripts whose letters join, reorder or run right to left: they need the raqm layout engine."""


def raqm() -> bool:
    """Whether Pillow lays text out with raqm (bidirectional text, shaping of complex scripts)."""
    return bool(features.check("raqm"))


def font_path(font: str | Path | None) -> Path:
    """A bundled font's file by name (None: sans), else the path itself."""
    if font is None:
        return BUNDLED["sans"]
    return BUNDLED.get(str(font), Path(font))


def font_issue(path: Path) -> str | None:
    """Why `path` is not a font Pillow can draw with, in a few words, or None."""
    if not path.is_file():
        return f"'{path}' not found"
    try:
        ImageFont.truetype(str(path), 12)
        cmap(path)
    except Exception as error:  # any reader failure: the file is not a usable font
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:120]
        return f"'{path.name}' is not a TrueType or OpenType font ({reason}): give a .ttf or .otf file"
    return None


@lru_cache(maxsize=16)
def cmap(path: Path) -> frozenset[int]:
    """The code points the font has a glyph for."""
    from fontTools.ttLib import TTFont

    with TTFont(str(path), lazy=True, fontNumber=0) as font:
        table = font.getBestCmap()
    if not table:
        raise ValueError("it has no character map")
    return frozenset(table)


def control_characters(text: str) -> list[str]:
    """Control and other invisible format characters in `text`, except line breaks."""
    return [c for c in dict.fromkeys(text) if c != "\n" and unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn")]


DRAWN_WITHOUT_GLYPH = {0x20, 0xA0, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0xFE0F, 0xFE0E, 0x2060, 0xFEFF}
"""Spaces, joiners and direction marks: laid out, never drawn, so a font may lack them."""


def missing_characters(path: Path, text: str) -> list[str]:
    """The characters of `text` (besides line breaks) the font has no glyph for, each once."""
    have = cmap(path)
    return [c for c in dict.fromkeys(text) if c != "\n" and ord(c) not in have and ord(c) not in DRAWN_WITHOUT_GLYPH]


def needs_layout(text: str) -> str | None:
    """The first complex or right-to-left script `text` uses (e.g. 'ARABIC'), or None."""
    for char in text:
        if ord(char) < 0x590:
            continue
        name = unicodedata.name(char, "")
        script = next((s for s in COMPLEX_SCRIPTS if name.startswith(s)), None)
        if script:
            return script
    return None


def codepoint(char: str) -> str:
    """'U+1F984 (🦄)': a character named so it can be found, printable or not."""
    shown = f" ({char})" if char.isprintable() and not char.isspace() else ""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}{shown}" + (f" {name}" if name else "")


def rgba(color: str) -> tuple[int, int, int, int]:
    """A colour as written ('#fff', '#ffffffcc', 'white', 'rgb(0, 0, 0)') as RGBA 0..255."""
    value = ImageColor.getrgb(color)
    return (*value, 255) if len(value) == 3 else tuple(value)


# ------------------------------------------------------------------ layout and rasterising


@dataclass(frozen=True)
class Look:
    """How a text is drawn, in pixels. Colours are RGBA 0..255."""

    font: Path
    size: int  # the font's size in pixels
    color: tuple[int, int, int, int] = (255, 255, 255, 255)
    stroke: int = 0  # outline width in pixels
    stroke_color: tuple[int, int, int, int] = (0, 0, 0, 255)
    shadow: tuple[int, int, float, tuple[int, int, int, int]] | None = None  # dx, dy, blur radius, colour
    box: tuple[tuple[int, int, int, int], int, int] | None = None  # colour, padding, corner radius
    align: str = "center"


@lru_cache(maxsize=64)
def load_font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    engine = ImageFont.Layout.RAQM if raqm() else ImageFont.Layout.BASIC
    return ImageFont.truetype(str(path), max(1, size), layout_engine=engine)


def wrap(text: str, font_file: Path, size: int, width: float) -> list[str]:
    """`text` broken into lines no wider than `width` pixels at `size`: at its line breaks and
    between words; a word wider than a line on its own is broken between letters."""
    font = load_font(font_file, size)
    lines = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            trial = f"{line} {word}" if line else word
            if font.getlength(trial) <= width or not line and font.getlength(word) <= width:
                line = trial
                continue
            if line:
                lines.append(line)
            line = ""
            for char in word:  # a word too long for a line: broken where it must be
                if line and font.getlength(line + char) > width:
                    lines.append(line)
                    line = ""
                line += char
        lines.append(line)
    return lines


def rasterise(lines: list[str], look: Look, max_height: int | None = None) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The lines drawn as (h, w, 4) uint8 straight-alpha RGBA and the body's (x, y, w, h) inside
    it. Lines past `max_height` pixels of body are left out (they could not be seen)."""
    font = load_font(look.font, look.size)
    ascent, descent = font.getmetrics()
    step = max(1, round(look.size * LINE_SPACING))
    if max_height is not None:
        lines = lines[:max(1, max_height // step + 1)]
    widths = [font.getlength(line) for line in lines]
    pad = look.box[1] if look.box else 0
    edge = look.stroke + pad
    body_w = int(np.ceil(max(widths, default=0))) + 2 * edge
    body_h = step * (len(lines) - 1) + ascent + descent + 2 * edge
    margin = 0
    if look.shadow is not None:
        dx, dy, blur, _ = look.shadow
        margin = max(abs(dx), abs(dy)) + int(np.ceil(3 * blur))
    size = (body_w + 2 * margin, body_h + 2 * margin)
    fill, outline = Image.new("L", size), Image.new("L", size)
    draw_fill, draw_outline = ImageDraw.Draw(fill), ImageDraw.Draw(outline)
    for index, (line, width) in enumerate(zip(lines, widths)):
        free = body_w - 2 * edge - width
        x = margin + edge + {"left": 0, "center": free / 2, "right": free}[look.align]
        y = margin + edge + ascent + index * step
        draw_fill.text((x, y), line, font=font, fill=255, anchor="ls")
        if look.stroke:
            draw_outline.text((x, y), line, font=font, fill=255, anchor="ls", stroke_width=look.stroke,
                              stroke_fill=255)
    layers = []  # (coverage 0..1, colour), bottom first
    if look.box is not None:
        color, _, radius = look.box
        plate = Image.new("L", size)
        ImageDraw.Draw(plate).rounded_rectangle((margin, margin, margin + body_w - 1, margin + body_h - 1),
                                                radius=min(radius, body_w // 2, body_h // 2), fill=255)
        layers.append((plate, color))
    glyphs = outline if look.stroke else fill
    if look.shadow is not None:
        dx, dy, blur, color = look.shadow
        shade = Image.new("L", size)
        shade.paste(glyphs, (dx, dy))
        if blur > 0:
            shade = shade.filter(ImageFilter.GaussianBlur(blur))
        layers.append((shade, color))
    if look.stroke:
        layers.append((outline, look.stroke_color))
    layers.append((fill, look.color))
    return over(layers, size), (margin, margin, body_w, body_h)


def over(layers, size: tuple[int, int]) -> np.ndarray:
    """Coverage masks in colours, each laid over those before it: straight-alpha RGBA uint8."""
    premultiplied = np.zeros((size[1], size[0], 3), np.float32)
    alpha = np.zeros((size[1], size[0], 1), np.float32)
    for mask, color in layers:
        a = np.asarray(mask, np.float32)[..., None] / 255.0 * (color[3] / 255.0)
        premultiplied = np.asarray(color[:3], np.float32) / 255.0 * a + premultiplied * (1.0 - a)
        alpha = a + alpha * (1.0 - a)
    rgb = np.divide(premultiplied, alpha, out=np.zeros_like(premultiplied), where=alpha > 0)
    return (np.concatenate([rgb, alpha], axis=2) * 255.0).round().clip(0, 255).astype(np.uint8)


# ------------------------------------------------------------------ contrast (WCAG 2.x)


def relative_luminance(rgb) -> np.ndarray | float:
    """WCAG 2.x relative luminance of sRGB values in [0, 1] (last axis R, G, B): 0 black .. 1 white."""
    c = np.asarray(rgb, np.float64)
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def contrast_ratio(a: float, b: float) -> float:
    """WCAG 2.x contrast ratio of two relative luminances: 1 (none) .. 21 (black on white)."""
    light, dark = max(a, b), min(a, b)
    return (light + 0.05) / (dark + 0.05)


MIN_CONTRAST = 3.0  # WCAG 2.x: large text (and graphics) need at least 3:1 (success criterion 1.4.3)
MAX_LOW_SHARE = 0.1  # more than a tenth of a text's frames below it is reported


def readability_warning(record: dict) -> str | None:
    """The sentence for a text whose contrast fell below 3:1 on more than a tenth of its frames,
    from its record {text, content, frames, below_3_to_1, lowest, mean}, or None."""
    frames, low = record.get("frames") or 0, record.get("below_3_to_1") or 0
    if not frames or low <= MAX_LOW_SHARE * frames:
        return None
    return (f"{record.get('text')} ({record.get('content')!r}) is hard to read: its contrast with the picture behind "
            f"it is below 3:1 on {low} of its {frames} frames (lowest {record.get('lowest') or 0:.1f}:1); give it "
            "a stroke (stroke: true) or a plate behind it (box: true)")
