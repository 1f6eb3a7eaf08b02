"""The scene file format as typed pydantic models: the one source of truth for
what a scene file may say. Loading with line numbers is in load.py, the checks
types cannot express in checks.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Callable, ClassVar, Literal, Optional, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, WithJsonSchema, model_validator

from ..models.zoo import ZOO
from .clips import CLIP_FORMATS, ClipInfo, is_clip, probe
from .deliver import canvas_for, crop_for
from .presets import PRESETS as PLATFORM_PRESETS, Preset
from .timing import MAX_FRAMES, MOMENT_SCHEMA, timing_from
from .values import ChannelWeights, ClassWeights, Duration, Flag, Int, LayerWeights, Number, Weight, keyframed


STRICT = dict(extra="forbid", frozen=True, allow_inf_nan=False)  # NaN and infinity are refused everywhere


class _Strict(BaseModel):
    model_config = ConfigDict(**STRICT)


@dataclass(frozen=True)
class Input:
    """Marks a key that names a file the render reads, relative to the scene file: such files
    are checked before the render, hashed into its checkpoint, never overwritten by an output,
    and written relative to the sidecar.

    kind: "picture" (an image, or a '#rrggbb' colour or 'noise', which name no file), "footage"
    (a picture, or a video clip to dream over), "image" (an image file), "mask" (an image file, or 'start': the start image's transparency),
    "weights" (a .pth file, unless pretrained or random) or "audio" (a file with a sound track, or
    'start': the start clip's own sound).
    """

    kind: str
    takes: str  # what the key takes, for the message when the file is missing


PICTURE = "an image path (relative to the scene file), a color like '#ffffff', or 'noise'"
FOOTAGE = (f"an image or a video clip ({CLIP_FORMATS}; relative to the scene file), a color like '#ffffff', "
           "or 'noise'")
ClipEnd = Literal["hold", "loop"]


def inherited(default: Any, description: str) -> Any:
    """A dream or motion key: unset in a segment it is the scene's, unset there `default`."""
    return Field(None, description=description, json_schema_extra={"default": default})


def defaults_of(model: type[BaseModel]) -> BaseModel:
    """The built-in values of a model whose keys are all `inherited`."""
    return model(**{name: field.json_schema_extra["default"] for name, field in model.model_fields.items()})


class DreamConfig(_Strict):
    """How hard and at which scales each frame is dreamed. Unset keys inherit."""

    octaves: Optional[keyframed(ge=1, le=8, formulas=False)] = inherited(
        2, "image pyramid levels (never below the model's minimum size)")
    octave_scale: Optional[keyframed(gt=1.0, le=4.0, formulas=False)] = inherited(
        1.4, "size ratio between pyramid levels")
    feature_scale: Optional[keyframed(ge=1.0, le=8.0, formulas=False)] = inherited(
        1.0, "how much larger the dream's features come out: the pyramid's top octave is the frame shrunk by "
        "this much, its detail carried up to full size (2 dreams a 1280x720 frame at 640x360: features twice "
        "the size, a quarter of the pixels to dream)")
    iterations: Optional[keyframed(ge=0, le=500, formulas=False)] = inherited(8, "gradient steps per octave")
    step: Optional[keyframed(ge=0.0, le=1.0)] = inherited(
        0.002, "step size: mean pixel change per step, in [0, 1] units")
    jitter: Optional[keyframed(ge=0, le=512)] = inherited(16, "random shift per step, pixels")
    smooth: Optional[keyframed(ge=0.0, le=10.0)] = inherited(0.5, "gradient blur sigma, pixels")


class MotionConfig(_Strict):
    """Applied to the previous frame before it is dreamed on. Unset keys inherit."""

    zoom: Optional[keyframed(ge=0.5, le=2.0)] = inherited(1.0, "scale per frame: above 1 zooms in, below 1 out")
    rotate: Optional[keyframed(ge=-90.0, le=90.0)] = inherited(0.0, "degrees per frame, counter-clockwise")
    translate: Optional[keyframed(ge=-1000.0, le=1000.0, vector=2)] = inherited(
        [0, 0], "pixels per frame, [x, y]: +x right, +y down")
    center: Optional[keyframed(ge=0.0, le=1.0, vector=2)] = inherited(
        [0.5, 0.5], "the pivot of zoom and rotation, [x, y] in fractions of the frame: [0, 0] is the top left")
    resample: Optional[Literal["bicubic", "bilinear"]] = inherited(
        "bicubic", "the warp's interpolation; bilinear is softer")


DREAM_DEFAULTS = defaults_of(DreamConfig)
MOTION_DEFAULTS = defaults_of(MotionConfig)

PRESETS = (
    "ultrafast", "superfast", "veryfast", "faster", "fast",
    "medium", "slow", "slower", "veryslow",
)  # fmt: skip


class EncodeConfig(_Strict):
    """How the video is compressed."""

    crf: Int = Field(18, ge=0, le=51, description="H.264/H.265 quality, 0 (lossless) .. 51; 18 looks clean. "
                                                  "WebP quality is 100 - 2 * crf")
    preset: Literal[PRESETS] = Field("medium", description="x264/x265 speed against size")
    codec: Optional[Literal["h264", "h265", "prores"]] = Field(
        None, description="default: the format's own (h264 in .mp4, prores in .mov)")


class AudioConfig(_Strict):
    """A sound track, encoded as AAC and cut or padded to the video."""

    file: Annotated[str, Input("audio", "audio takes a sound file (relative to the scene file), or start: the "
                                        "start clip's sound")] = Field(
        description="the sound file: mp3, m4a, wav, ..., or start: the start clip's own sound")
    fade_in: Number = Field(0.0, ge=0, le=3600, description="seconds")
    fade_out: Number = Field(0.0, ge=0, le=3600, description="seconds")
    loudness: Optional[Number] = Field(
        None, ge=-40, le=-5, description="integrated loudness (LUFS, ITU-R BS.1770) the muxed track is brought to, "
                                         "e.g. -14 for streaming and social video, -23 for EBU R 128 broadcast; "
                                         "unset: the track as it is")
    true_peak: Number = Field(-1.0, ge=-9, le=0, description="dBTP the normalised track's true peak stays under "
                                                              "(with loudness)")


def _parse_audio(raw: Any) -> Any:
    return {"file": raw} if isinstance(raw, str) else raw


_Audio = Annotated[AudioConfig, BeforeValidator(_parse_audio, json_schema_input_type=Union[str, AudioConfig])]


class FadeConfig(_Strict):
    """Fade the picture from and to black."""

    fade_in: Number = Field(0.0, ge=0, le=3600, alias="in", description="seconds from black at the start")
    fade_out: Number = Field(0.0, ge=0, le=3600, alias="out", description="seconds to black at the end")


class ColorConfig(_Strict):
    """Pull each frame's LAB colour statistics toward a reference, against drift."""

    reference: Literal["start", "first"] = Field(
        "start", description="the start image (start) or frame 0 as rendered (first)")
    strength: keyframed(ge=0.0, le=1.0) = Field(
        0.0, validate_default=True,
        description="per frame, 0 (off) .. 1: how far the spread moves toward the reference's; in lab mode the "
                    "mean lightness moves twice and the mean colour three times as far (at most all the way)")
    mode: Literal["lab", "luma"] = Field(
        "lab", description="lab: match mean and spread, each pixel's hue kept and the most saturated held back; "
                           "luma: the dream changes only lightness")


class SharpenConfig(_Strict):
    """A per-frame unsharp mask, off by default: bicubic resampling (the default) keeps a zoom loop's
    detail by itself, and sharpening every frame builds up: at radius 1, amount 1 boosts detail of 3-4
    pixels by about 1.7x per frame, a fine maze within seconds. For nearest or bilinear resampling,
    a little (0.1 .. 0.3) counters their softening."""

    amount: keyframed(ge=0.0, le=3.0) = Field(
        0.0, validate_default=True, description="0 (off) .. 3; a little (0.1 .. 0.3) counters the softening of "
                                                "bilinear or nearest resampling, more builds up a fine maze")
    radius: Number = Field(1.0, gt=0.0, le=10.0, description="pixels")


class GuideConfig(_Strict):
    """Dream toward the features of an image."""

    image: Annotated[str, Input("picture", f"guide.image takes {PICTURE}")] = Field(
        description="the guide image (relative to the scene file)")
    layers: Optional[LayerWeights] = Field(None, description="whose features to match; default: the segment's "
                                                             "layers, else parts")
    weight: Weight = Field(1.0, description="the guide's share of the objective, within ±1000")


MAX_BPM = 1000


def _tempo(raw: Any) -> Any:
    if raw == "auto":
        return raw
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not 0 < raw <= MAX_BPM:
        raise ValueError(f"write the beats per minute (a number above 0, at most {MAX_BPM}, e.g. 120) or auto "
                         f"(found in the sound track), got {raw!r}")
    return float(raw)


Tempo = Annotated[Union[Literal["auto"], float], BeforeValidator(_tempo), WithJsonSchema({"anyOf": [
    {"enum": ["auto"]}, {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_BPM}]})]


def _moment(raw: Any, info) -> int:
    return timing_from(info).frame(raw)


Moment = Annotated[int, BeforeValidator(_moment), WithJsonSchema(MOMENT_SCHEMA), Field(ge=0, le=MAX_FRAMES)]
"""A frame number, a time ('5s', '1m30s') or a beat ('16b'), landed on its frame."""


ANCHORS = ("center", "top-left", "top", "top-right", "left", "right", "bottom-left", "bottom", "bottom-right")
Fraction = Annotated[Number, Field(ge=0.0, le=1.0)]


class OverlayConfig(_Strict):
    """A picture composited onto every video frame after the dream and never fed back into it,
    so it stays still and sharp while the world dreams and zooms behind it."""

    image: Annotated[str, Input("image", "overlay.image takes an image, best a PNG with transparency "
                                         "(relative to the scene file)")] = Field(
        description="the picture: a PNG with transparency (relative to the scene file)")
    position: tuple[Fraction, Fraction] = Field(
        (0.5, 0.5), description="where its anchor goes, [x, y] in fractions of the frame: [0.5, 0.5] is the centre")
    anchor: Literal[ANCHORS] = Field("center", description="the point of the overlay placed at position, so a "
                                                           "corner logo sits well in 16:9 and 9:16 alike")
    width: Number = Field(0.3, gt=0.0, le=1.0, description="its width, a fraction of the frame's; the height follows")
    opacity: keyframed(ge=0.0, le=1.0) = Field(1.0, validate_default=True, description="0 (invisible) .. 1")
    start: Optional[Moment] = Field(None, description="the first video frame it shows on (a frame, time or beat); "
                                                      "default the first")
    end: Optional[Moment] = Field(None, description="the last video frame it shows on; default the last")
    fade_in: Number = Field(0.0, ge=0, le=3600, description="seconds to fade in from start")
    fade_out: Number = Field(0.0, ge=0, le=3600, description="seconds to fade out until end")
    safe: Flag = Field(False, description="true: position is within the safe area (a deliverable's preset's, "
                                          "else the title-safe area) and the picture is kept inside it")


TITLE_SAFE = 0.05
"""The title-safe margin on each side, a fraction of the frame's width and height: 5%, as in
EBU R 95 and SMPTE ST 2046-1 (title-safe area 90% of the width and height)."""
FONTS = ("sans", "sans-bold")  # bundled: DejaVu Sans and DejaVu Sans Bold
MAX_TEXT = 2000  # characters of one text item


def _color(raw: Any) -> str:
    from PIL import ImageColor

    if not isinstance(raw, str):
        raise ValueError(f"write a colour as '#rrggbb', '#rrggbbaa' (with opacity) or a name like white, got {raw!r}")
    try:
        ImageColor.getrgb(raw)
    except ValueError:
        raise ValueError(f"{raw!r} is not a colour: write '#rrggbb', '#rrggbbaa' (with opacity) or a name like "
                         "white") from None
    return raw


def _content(raw: Any) -> str:
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise ValueError(f"write the words as text, e.g. content: 'Dream bigger' (got {type(raw).__name__})")
    text = raw if isinstance(raw, str) else str(raw)
    if not text.strip():
        raise ValueError("write the words to show, e.g. content: 'Dream bigger'")
    if len(text) > MAX_TEXT:
        raise ValueError(f"{len(text)} characters; a text item holds at most {MAX_TEXT} (use captions for more)")
    return text


Color = Annotated[str, BeforeValidator(_color), WithJsonSchema({"type": "string", "examples": ["#ffffff", "#000000aa",
                                                                                               "white"]})]
FontFile = Annotated[Optional[str], Input("font", "font takes a .ttf or .otf file (relative to the scene file), or "
                                                  "sans or sans-bold (bundled)")]


class StrokeConfig(_Strict):
    """An outline around each letter."""

    width: Number = Field(0.08, ge=0.0, le=0.5, description="a fraction of the text size")
    color: Color = Field("#000000", description="'#rrggbb', '#rrggbbaa' or a name")


class ShadowConfig(_Strict):
    """A soft shadow under the letters."""

    offset: tuple[Annotated[Number, Field(ge=-1.0, le=1.0)], Annotated[Number, Field(ge=-1.0, le=1.0)]] = Field(
        (0.05, 0.05), description="[x, y], fractions of the text size: +x right, +y down")
    blur: Number = Field(0.06, ge=0.0, le=1.0, description="a fraction of the text size")
    color: Color = Field("#000000b0", description="'#rrggbbaa': the alpha is the shadow's strength")


class BoxConfig(_Strict):
    """A plate behind the text."""

    color: Color = Field("#000000a0", description="'#rrggbbaa': the alpha is the plate's opacity")
    padding: Number = Field(0.35, ge=0.0, le=5.0, description="around the text, a fraction of the text size")
    radius: Number = Field(0.25, ge=0.0, le=5.0, description="corner radius, a fraction of the text size")


def _shorthand(key: str, off: Any = None) -> Callable[[Any], Any]:
    """true: the defaults; false: `off`; a string: the value of `key`."""
    def parse(raw: Any) -> Any:
        if raw is True:
            return {}
        if raw is False or raw is None:
            return off
        if isinstance(raw, str) and key:
            return {key: raw}
        return raw
    return parse


_Stroke = Annotated[Optional[StrokeConfig], BeforeValidator(  # off is width 0, so a sidecar keeps it off
    _shorthand("color", {"width": 0}), json_schema_input_type=Union[bool, str, StrokeConfig, None])]
_Shadow = Annotated[Optional[ShadowConfig], BeforeValidator(
    _shorthand(""), json_schema_input_type=Union[bool, ShadowConfig, None])]
_Box = Annotated[Optional[BoxConfig], BeforeValidator(
    _shorthand("color"), json_schema_input_type=Union[bool, str, BoxConfig, None])]


class TextStyle(_Strict):
    """How words look: shared by text items and captions."""

    font: FontFile = Field(None, description="a .ttf or .otf file (relative to the scene file), or sans / sans-bold: "
                                             "the bundled DejaVu Sans (Latin, Greek, Cyrillic, Hebrew, Arabic, ...); "
                                             "default sans")
    size: Number = Field(0.08, gt=0.0, le=1.0, description="the text size, a fraction of the frame's height")
    color: Color = Field("#ffffff", description="'#rrggbb', '#rrggbbaa' or a name like white")
    stroke: _Stroke = Field(None, description="an outline: {width (fraction of the size), color}, a colour, or true")
    shadow: _Shadow = Field(None, description="a soft shadow: {offset, blur, color}, or true")
    box: _Box = Field(None, description="a plate behind the text: {color (with alpha), padding, radius}, a colour, "
                                        "or true")
    align: Literal["left", "center", "right"] = Field("center", description="how lines line up")
    max_width: Number = Field(1.0, gt=0.0, le=1.0, description="lines wrap between words to this width, a fraction "
                                                               "of the frame's (of the title-safe area's with safe)")
    safe: Flag = Field(True, description=f"true: position is within the title-safe area ({TITLE_SAFE:.0%} in from "
                                         "each side, EBU R 95) and the text is kept inside it")


class TextConfig(TextStyle):
    """Words composited onto the video's frames after the dream, never fed back into it."""

    content: Annotated[str, BeforeValidator(_content), WithJsonSchema({"type": "string", "minLength": 1,
                                                                       "maxLength": MAX_TEXT})] = Field(
        description="the words (UTF-8); \\n breaks a line")
    position: keyframed(ge=0.0, le=1.0, vector=2) = Field(
        (0.5, 0.5), validate_default=True, description="where its anchor goes, [x, y] in fractions of the frame (or "
                                                       "of the safe area); keyframes or expressions slide it")
    anchor: Literal[ANCHORS] = Field("center", description="the point of the text's box placed at position")
    opacity: keyframed(ge=0.0, le=1.0) = Field(1.0, validate_default=True, description="0 (invisible) .. 1")
    scale: keyframed(gt=0.0, le=10.0) = Field(1.0, validate_default=True,
                                              description="grows or shrinks the text about its anchor")
    start: Optional[Moment] = Field(None, description="the first video frame it shows on; default the first")
    end: Optional[Moment] = Field(None, description="the last video frame it shows on; default the last")
    fade_in: Number = Field(0.0, ge=0, le=3600, description="seconds to fade in from start")
    fade_out: Number = Field(0.0, ge=0, le=3600, description="seconds to fade out until end")


class CaptionsConfig(TextStyle):
    """Subtitles from an SRT or WebVTT file, each shown at its times, wrapped inside the safe area."""

    file: Annotated[str, Input("captions", "captions takes an .srt or .vtt file (relative to the scene file)")] = Field(
        description="the captions: .srt or .vtt (relative to the scene file)")
    size: Number = Field(0.055, gt=0.0, le=1.0, description="the text size, a fraction of the frame's height")
    stroke: _Stroke = Field(StrokeConfig(), description="an outline (default black); false for none")
    position: tuple[Fraction, Fraction] = Field((0.5, 1.0), description="where the anchor goes: default the bottom "
                                                                        "middle of the safe area")
    anchor: Literal[ANCHORS] = Field("bottom", description="the point of the captions' box placed at position")
    max_width: Number = Field(0.8, gt=0.0, le=1.0, description="lines wrap between words to this width")


def _parse_captions(raw: Any) -> Any:
    return {"file": raw} if isinstance(raw, str) else raw


_Captions = Annotated[CaptionsConfig, BeforeValidator(_parse_captions,
                                                      json_schema_input_type=Union[str, CaptionsConfig])]


class MaskConfig(_Strict):
    """Where the loop may change the picture: white lets the warp, the dream, colour matching and
    sharpening act, black keeps the picture as it was, grey some of each."""

    image: Annotated[str, Input("mask", "mask takes a greyscale image (relative to the scene file) or start "
                                        "(the start image's transparency)")] = Field(
        description="a greyscale image (cover-fit like start), or start: the start image's transparent parts "
                    "dream, its opaque parts are kept")
    feather: Number = Field(0.0, ge=0, le=500, description="softens the mask's edge, pixels")
    invert: Flag = Field(False, description="true: black dreams, white is kept")
    follows: Literal["screen", "camera"] = Field(
        "screen", description="screen: fixed on screen (what it keeps stays still); camera: moves with the zoom, "
                              "rotation and pan like the picture")
    strength: keyframed(ge=0.0, le=1.0) = Field(1.0, validate_default=True,
                                                description="how much it keeps: 0 (the mask is off) .. 1")


def _parse_mask(raw: Any) -> Any:
    return {"image": raw} if isinstance(raw, str) else raw


_Mask = Annotated[MaskConfig, BeforeValidator(_parse_mask, json_schema_input_type=Union[str, MaskConfig])]


class Segment(_Strict):
    """A frame range and what is dreamed in it; its dream and motion keys override the scene's."""

    model_config = ConfigDict(**STRICT, json_schema_extra={"anyOf": [{"required": ["frames"]},
                                                                     {"required": ["at"]}]})

    frames: Optional[tuple[Moment, Moment]] = Field(
        None, description="first and last frame, inclusive; frames, times ('5s') or beats ('16b')")
    at: Optional[Moment] = Field(None, description="where the segment starts (instead of frames): it runs until "
                                                   "the next segment's start, the last one to the end")
    layers: Optional[LayerWeights] = Field(
        None, description="raise whole layers: a name or alias, a list, or {name: weight}")
    channels: Optional[ChannelWeights] = Field(
        None, description="raise single feature maps: {layer: [channel, ...]} or {'layer:channel': weight}")
    class_: Optional[ClassWeights] = Field(
        None, alias="class", description="raise an ImageNet class's score, by name or number (models with classes)")
    guide: Optional[GuideConfig] = Field(None, description="move features toward an image's")
    start: Annotated[Optional[str], Input("footage", f"a segment's start takes {FOOTAGE}")] = Field(
        None, description="cut to a new image, clip (played from its first frame), color or noise at this "
                          "segment's first frame")
    blend: Int = Field(0, ge=0, le=MAX_FRAMES, description="frames to blend into start; 0 is a hard cut")
    clip_end: Optional[ClipEnd] = Field(None, description="this segment's clip, shorter than the segment: "
                                                          "hold its last frame or loop it (default: the scene's)")
    flow: Optional[keyframed(ge=0.0, le=1.0)] = Field(None, description="this segment's flow (default: the "
                                                                        "scene's)")
    transition: Int = Field(0, ge=0, le=MAX_FRAMES,
                            description="frames to crossfade objective and motion from the segment before")
    dream: DreamConfig = Field(default_factory=DreamConfig, description="this segment's overrides")
    motion: MotionConfig = Field(default_factory=MotionConfig, description="this segment's overrides")
    mask: Optional[_Mask] = Field(None, description="this segment's mask, instead of the scene's")


Side = Annotated[Int, Field(ge=16, le=16384)]


class DeliverConfig(_Strict):
    """One deliverable: a crop of the dream canvas, resampled to its size and encoded to its own output,
    with its own overlays and fade; a preset gives a platform's size, frame rates, length, bitrate and
    sound, and anything set here wins."""

    output: str = Field(description="this deliverable's file: .mp4, .mov, .mkv, .gif, .webp, or a folder for PNGs")
    preset: Optional[Literal[tuple(PLATFORM_PRESETS)]] = Field(
        None, description="a platform's specification (see Presets): size, frame rates, length, bitrate, sound, "
                          "safe area")
    size: Optional[tuple[Side, Side]] = Field(None, description="width, height in pixels (default: the preset's)")
    crop: Optional[tuple[Side, Side]] = Field(
        None, description="the canvas pixels it shows, [w, h], of its shape; default: its size where the canvas "
                          "holds it, else the largest rect of its shape that fits, resampled")
    focus: keyframed(ge=0.0, le=1.0, vector=2) = Field(
        (0.5, 0.5), validate_default=True, description="where the crop centres on the canvas, [x, y] in fractions "
                                                       "of it; keyframes or expressions follow the action; a crop "
                                                       "never leaves the canvas (it is moved back inside)")
    overlay: list[OverlayConfig] = Field(default_factory=list, description="pictures over this deliverable only, "
                                                                           "after the scene's")
    fade: Optional[FadeConfig] = Field(None, description="this deliverable's fade, instead of the scene's")

    @property
    def platform(self) -> Optional[Preset]:
        return PLATFORM_PRESETS[self.preset] if self.preset is not None else None

    @property
    def frame_size(self) -> Optional[tuple[int, int]]:
        """Its size in pixels: its own, else its preset's; None when it has neither (a check says so)."""
        if self.size is not None:
            return tuple(self.size)
        return tuple(self.platform.size) if self.platform is not None else None

    def crop_in(self, canvas: tuple[int, int]) -> tuple[int, int]:
        """The canvas pixels it shows (see scene/deliver.py's crop_for)."""
        return crop_for(self.frame_size, canvas, self.crop)


class Scene(_Strict):
    """A dreamzoom scene: what to render, frame by frame."""

    # frames or duration, not both; neither when start is a clip (its length is the clip's)
    # one canvas size or deliverables to size it; output or deliver, not both
    model_config = ConfigDict(**STRICT, json_schema_extra={"allOf": [
        {"not": {"required": ["frames", "duration"]}}, {"not": {"required": ["output", "deliver"]}},
        {"anyOf": [{"required": ["size"]}, {"required": ["deliver"]}]}]})

    # Every key is defined here once; the defaults, the key reference (docs/reference.md), the JSON
    # Schema, --dry-run and the sidecar derive from these fields.

    output: Optional[str] = Field(None, description="the video: .mp4, .mov (ProRes), .mkv, .gif, .webp, or a "
                                                    "folder for PNGs; default renders/<scene>.mp4 (or deliver)")
    size: Optional[tuple[Side, Side]] = Field(
        None, description="width, height in pixels; with deliver, the dream canvas the deliverables are cut from "
                          "(default: the smallest that holds every deliverable's crop at full resolution)")
    fps: Number = Field(30, gt=0, le=240, description="frames per second; may be fractional (29.97); default 30, "
                                                         "or the start clip's")
    frames: Optional[Int] = Field(None, ge=1, le=MAX_FRAMES, description="length in frames (or duration)")
    duration: Optional[Duration] = Field(None, description="length in seconds: 12.5, '10s', '1m30s' (or frames)")
    bpm: Optional[Tempo] = Field(
        None, description="the music's tempo, so times may be written in beats ('16b'); auto: found in the audio")
    beat_offset: Optional[Number] = Field(None, ge=0, le=1e6, description="seconds from the start to beat 0; "
                                                                          "default 0, or the first beat with bpm: auto")
    loop: Flag = Field(False, description="true: the last frame flows into the first (and the sound loops), for "
                                          "clips played on repeat")
    seed: Int = Field(0, ge=0, le=2**63 - 1, description="same seed, same video (on the CPU, bit for bit)")
    start: Annotated[str, Input("footage", f"start takes {FOOTAGE}")] = Field(
        "noise", description="the first picture: an image (cover-fit to size), a color '#ffffff', noise, or a "
                             "video clip to dream over frame by frame (then frames, duration and fps default to "
                             "the clip's)")
    clip_end: ClipEnd = Field("hold", description="a clip shorter than the video: hold its last frame, or loop it")
    flow: keyframed(ge=0.0, le=1.0) = Field(
        0.8, validate_default=True, description="dreaming over a clip: how much of the previous dreamed frame is "
                                                "carried along the clip's motion (optical flow), 0 (each frame "
                                                "afresh) .. 1 (all of it, except where the clip shows new things)")
    dream_start: Flag = Field(False, description="true: frame 0 is dreamed too, not the plain start picture")
    model: str = Field("inception_v3", description="the network that dreams (see Models)",
                       json_schema_extra={"enum": list(ZOO)})
    weights: Annotated[str, Input("weights", "weights takes pretrained, random, or a .pth state_dict file "
                                             "(relative to the scene file)")] = Field(
        "pretrained", description="pretrained, random, or a .pth state_dict for the same architecture")
    dream: DreamConfig = Field(default_factory=DreamConfig,
                               description="how each frame is dreamed; segments may override")
    motion: MotionConfig = Field(default_factory=MotionConfig,
                                 description="the camera, per frame; segments may override")
    color: ColorConfig = Field(default_factory=ColorConfig, description="against colour drift")
    sharpen: SharpenConfig = Field(default_factory=SharpenConfig, description="against resampling blur")
    segments: list[Segment] = Field(min_length=1, description="cover every frame, in order, without overlap")
    encode: EncodeConfig = Field(default_factory=EncodeConfig, description="compression")
    audio: Optional[_Audio] = Field(None, description="a sound file, or {file, fade_in, fade_out}")
    fade: FadeConfig = Field(default_factory=FadeConfig, description="the picture from and to black, {in: s, out: s}")
    overlay: list[OverlayConfig] = Field(default_factory=list, description="pictures kept still and sharp on top "
                                                                           "of every frame (a logo, a tagline)")
    text: list[TextConfig] = Field(default_factory=list, description="words on top of every frame (a tagline, a "
                                                                    "call to action): see docs/text.md")
    captions: Optional[_Captions] = Field(None, description="subtitles: an .srt or .vtt file, or {file, size, color, "
                                                            "stroke, box, ...}")
    reverse: Flag = Field(False, description="true: the video plays backwards, so a zoom out of the logo ends on it; "
                                             "overlays, text, captions, fades and sound follow the video as seen")
    mask: Optional[_Mask] = Field(None, description="where the loop may change the picture: a greyscale image "
                                                    "(white dreams, black is kept), start, or {image, feather, "
                                                    "invert, follows, strength}")
    deliver: list[DeliverConfig] = Field(
        default_factory=list, description="several outputs from one dream (instead of output): each a crop of the "
                                          "canvas at its own size or a platform preset, see docs/deliver.md")
    rendered: Optional[dict] = Field(None, exclude=True, json_schema_extra={"readOnly": True},
                                     description="a sidecar's record of how its video was made; ignored here")

    _file: Path = PrivateAttr(default=Path("scene.yaml"))
    _source: tuple = PrivateAttr(default=({}, {}))  # the data and key lines it was read from
    _timing: Any = PrivateAttr(default=None)  # the Timing it was validated with

    @property
    def awaits_analysis(self) -> bool:
        """Whether the sound track must be analysed (scene/audio.py) before the frames can be planned:
        bpm: auto, or formulas of audio features."""
        analysed = self._timing is not None and self._timing.features is not None
        return not analysed and (self.bpm == "auto" or bool(self.audio_features))

    @property
    def audio_features(self) -> list[str]:
        """The audio features the scene's formulas read."""
        from .expressions import AUDIO_NAMES

        awaiting = self._timing.awaiting if self._timing is not None else ()
        return [name for name in AUDIO_NAMES if name in awaiting]

    @property
    def tempo(self) -> tuple[Optional[float], float]:
        """(bpm, beat_offset) as beats land: written, or found in the sound track with bpm: auto."""
        if self._timing is not None and not self._timing.provisional:
            return self._timing.bpm, self._timing.beat_offset
        return (None if self.bpm == "auto" else self.bpm), self.beat_offset or 0.0

    @property
    def loop_frames(self) -> int:
        """Frames dreamed past the end and blended into the start (loop: true), else 0."""
        from .timing import loop_frames

        return loop_frames(self.frame_count, self.fps) if self.loop else 0

    @model_validator(mode="after")
    def _canvas_from_deliverables(self) -> "Scene":
        """Without size, deliverables size the canvas: the smallest that holds every crop at full
        resolution. An item without a size is reported by the checks."""
        sizes = [(item.frame_size, item.crop) for item in self.deliver]
        if self.size is None and sizes and all(size is not None for size, _ in sizes):
            object.__setattr__(self, "size", canvas_for(sizes))
        return self

    @model_validator(mode="after")
    def _segments_from_starts(self) -> "Scene":
        """Give each `at:` segment its frames: up to the next segment's start, the last to the end.
        Disagreements and gaps are reported by the checks, with their lines."""
        if (self.frames is None) == (self.duration is None) or self.frame_count > MAX_FRAMES:
            return self
        starts = [s.at if s.at is not None else (s.frames[0] if s.frames else None) for s in self.segments]
        segments = list(self.segments)
        for index, segment in enumerate(segments):
            if segment.frames is None and segment.at is not None:
                following = next((start for start in starts[index + 1:] if start is not None), self.frame_count)
                segments[index] = segment.model_copy(update={"frames": (segment.at, max(segment.at, following - 1))})
        object.__setattr__(self, "segments", segments)  # frozen to users; completed once here
        return self

    from_data: ClassVar[Callable[..., "Scene"]]
    """Scene.from_data(data, base_dir=".", name="scene"): a scene from a dict, validated as fully as
    a file (load.py defines it: validation needs the checks, which need this module)."""

    @property
    def file(self) -> Path:
        return self._file

    @property
    def frame_count(self) -> int:
        if self.frames is not None:
            return self.frames
        return max(1, round((self.duration or 0) * self.fps))

    @property
    def output_paths(self) -> list[Path]:
        """Every output the scene writes: its deliverables', else its one output."""
        if self.deliver:
            return [self._file.parent / item.output for item in self.deliver]
        return [self.output_path]

    @property
    def output_path(self) -> Path:
        """The output; with deliver, the first deliverable's (where the work folder and lock go)."""
        if self.deliver:
            return self._file.parent / self.deliver[0].output
        if self.output is None:
            return self._file.parent / "renders" / f"{self._file.stem}.mp4"
        return self._file.parent / self.output

    @property
    def weights_source(self) -> str | Path:
        """"pretrained", "random", or the path of a checkpoint file."""
        return self.input_path(Input("weights", ""), self.weights) or self.weights

    @property
    def audio_path(self) -> Optional[Path]:
        """The sound track's file: audio's, or with audio: start the start clip."""
        if self.audio is None:
            return None
        return self.start_image if self.audio.file == "start" else self._file.parent / self.audio.file

    def starts(self) -> list[tuple[int, str, Optional["Segment"]]]:
        """What plays from where: (first frame, start value, the segment that cuts to it or None),
        the scene's own start first."""
        return [(0, self.start, None)] + [(s.frames[0], s.start, s) for s in self.segments if s.start is not None]

    def clip(self, start: str) -> Optional[ClipInfo]:
        """What a `start`-style value's clip holds, or None when it names no clip (read once per file;
        the loader has checked it)."""
        path = self.resolve_image(start)
        return probe(path) if path is not None and is_clip(path) else None

    @property
    def start_image(self) -> Optional[Path]:
        """The start image's (or clip's) path, or None when start is a color or noise."""
        return self.resolve_image(self.start)

    def inputs(self) -> list[tuple[tuple, Input, Path]]:
        """(key path, marker, file) for every key naming a file the render reads, as written."""
        return [(path, marker, file) for path, marker, value in input_keys(self)
                if (file := self.input_path(marker, value)) is not None]

    def input_files(self) -> list[Path]:
        """Every file the render reads: start and cut images, guide images, weights, audio."""
        return list(dict.fromkeys(file for _, _, file in self.inputs()))

    def input_path(self, marker: Input, value: str) -> Optional[Path]:
        """The file an input key's value names, or None (a colour, noise, built-in weights)."""
        if marker.kind in ("picture", "footage") and (value == "noise" or COLOR.match(value)):
            return None
        if marker.kind in ("mask", "audio") and value == "start":
            return None
        if marker.kind == "weights" and value in ("pretrained", "random"):
            return None
        if marker.kind == "font" and value in FONTS:
            return None
        return self._file.parent / value

    def resolve_image(self, start: str) -> Optional[Path]:
        """A `start`-style value's image path (relative to the scene), or None for a color or noise."""
        return self.input_path(Input("picture", ""), start)


def input_keys(model: BaseModel, path: tuple = ()):
    """Yields (key path, Input marker, value) for every set key marked Input, in and below `model`."""
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        key = path + (field.alias or name,)
        marker = next((m for m in field.metadata if isinstance(m, Input)), None)
        if marker is not None and value is not None:
            yield key, marker, value
        elif isinstance(value, BaseModel):
            yield from input_keys(value, key)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from input_keys(item, key + (index,))


def public_keys(model: type[BaseModel]) -> list[str]:
    """The keys a scene file may write in `model` (aliases; no internal fields)."""
    return [field.alias or name for name, field in model.model_fields.items() if not field.exclude]


COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
