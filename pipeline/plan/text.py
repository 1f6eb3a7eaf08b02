"""Text items and captions on the video's frames: each resolved to what the compositor needs,
sizes as fractions, frames as the viewer sees them. Pure, no torch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..scene.captions import on_frames, read_cues
from ..scene.keyframes import Track
from ..scene.schema import TITLE_SAFE, Input, Scene, TextStyle

RGBA = tuple[int, int, int, int]


@dataclass(frozen=True)
class Style:
    """How a text looks, in fractions of the text size (stroke, shadow, box) or of the frame."""

    font: Path
    size: float  # a fraction of the frame's height
    color: RGBA
    stroke: tuple[float, RGBA] | None = None  # width, colour
    shadow: tuple[float, float, float, RGBA] | None = None  # dx, dy, blur, colour
    box: tuple[RGBA, float, float] | None = None  # colour, padding, radius
    align: str = "center"
    max_width: float = 1.0  # a fraction of the frame's (or the safe area's) width
    safe: bool = True


@dataclass(frozen=True)
class TextSpec:
    """Words laid over the video's frames first..last, fading in and out."""

    name: str  # where it was written: 'text.0', 'captions (line 12)'
    content: str
    style: Style
    position: Any  # Track | Formula of [x, y] over the video's frames
    anchor: str
    opacity: Any  # Track | Formula
    scale: Any  # Track | Formula
    first: int
    last: int
    fade_in: int = 0  # frames
    fade_out: int = 0

    def opacity_at(self, n: int, timeline: int | None = None) -> float:
        """Its opacity on video frame n: 0 outside first..last, ramped over the fades."""
        return max(0.0, min(1.0, shown_opacity(self, n, timeline)))



def shown_opacity(item, n: int, timeline: int | None = None) -> float:
    """An overlay's or a text's opacity on video frame n (showing `timeline` frame, by default n: a
    loop's video starts later on the timeline, where its music is): its `opacity` there, 0 outside
    its `first`..`last` frames, ramped over its `fade_in` and `fade_out` frames."""
    if not item.first <= n <= item.last:
        return 0.0
    level = item.opacity.at(n if timeline is None else timeline)
    if item.fade_in:
        level *= min(1.0, (n - item.first + 1) / (item.fade_in + 1))
    if item.fade_out:
        level *= min(1.0, (item.last - n + 1) / (item.fade_out + 1))
    return level

def safe_area(width: int, height: int, safe: bool,
              margins: tuple[float, float, float, float] = (TITLE_SAFE,) * 4) -> tuple[float, float, float, float]:
    """(left, top, width, height) in pixels that positions refer to: the safe area inside `margins`
    (top, right, bottom, left fractions: the title-safe area, or a deliverable's preset's) or the frame."""
    if not safe:
        return 0.0, 0.0, float(width), float(height)
    top, right, bottom, left = margins
    return left * width, top * height, (1 - left - right) * width, (1 - top - bottom) * height


def style_of(scene: Scene, config: TextStyle) -> Style:
    from ..image.text import font_path, rgba  # Pillow only for scenes with words

    font = scene.input_path(Input("font", ""), config.font) if config.font is not None else None
    stroke = (config.stroke.width, rgba(config.stroke.color)) if config.stroke and config.stroke.width > 0 else None
    shadow = None
    if config.shadow is not None:
        shadow = (*config.shadow.offset, config.shadow.blur, rgba(config.shadow.color))
    box = (rgba(config.box.color), config.box.padding, config.box.radius) if config.box is not None else None
    return Style(font or font_path(config.font), config.size, rgba(config.color), stroke, shadow, box, config.align,
                 config.max_width, config.safe)


def text_specs(scene: Scene) -> tuple[TextSpec, ...]:
    """The scene's text items, then its captions (one spec per stretch of cues on screen)."""
    last = scene.frame_count - 1
    specs = [TextSpec(
        f"text.{index}", item.content, style_of(scene, item), item.position, item.anchor, item.opacity, item.scale,
        item.start or 0, last if item.end is None else item.end, round(item.fade_in * scene.fps),
        round(item.fade_out * scene.fps),
    ) for index, item in enumerate(scene.text)]
    captions = scene.captions
    if captions is not None:
        style = style_of(scene, captions)
        file = scene.input_path(Input("captions", ""), captions.file)
        for shown in on_frames(read_cues(file), scene.fps, scene.frame_count):
            lines = ", ".join(str(line) for line in shown.lines)
            specs.append(TextSpec(f"captions ({file.name} line {lines})", shown.text, style,
                                  Track.constant(tuple(captions.position)), captions.anchor, Track.constant(1.0),
                                  Track.constant(1.0), shown.first, shown.last))
    return tuple(specs)
