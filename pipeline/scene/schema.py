"""The scene file format as typed pydantic models: the one source of truth for
what a scene file may say. Loading with line numbers is in load.py, the checks
types cannot express in checks.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr

from .keyframes import Track
from .values import MAX_WEIGHT, ChannelWeights, ClassWeights, Duration, LayerWeights, keyframed


MAX_FRAMES = 1_000_000  # over 9 hours at 30 fps; bounds every frame count before anything is allocated
STRICT = dict(extra="forbid", frozen=True, allow_inf_nan=False)  # NaN and infinity are refused everywhere


class _Strict(BaseModel):
    model_config = ConfigDict(**STRICT)


class DreamConfig(_Strict):
    """How hard and at which scales each frame is dreamed. Unset keys inherit."""

    octaves: Optional[keyframed(ge=1, le=8)] = None
    octave_scale: Optional[keyframed(gt=1.0, le=4.0)] = None
    iterations: Optional[keyframed(ge=0, le=500)] = None
    step: Optional[keyframed(ge=0.0, le=1.0)] = None
    jitter: Optional[keyframed(ge=0, le=512)] = None
    smooth: Optional[keyframed(ge=0.0, le=10.0)] = None


class MotionConfig(_Strict):
    """Applied to the previous frame before it is dreamed on. Unset keys inherit."""

    zoom: Optional[keyframed(ge=0.5, le=2.0)] = None
    rotate: Optional[keyframed(ge=-90.0, le=90.0)] = None
    translate: Optional[keyframed(ge=-1000.0, le=1000.0, vector=2)] = None
    resample: Optional[Literal["bicubic", "bilinear"]] = None


DREAM_DEFAULTS = DreamConfig(
    octaves=2, octave_scale=1.4, iterations=8, step=0.002, jitter=16, smooth=0.5
)
MOTION_DEFAULTS = MotionConfig(zoom=1.0, rotate=0.0, translate=[0, 0], resample="bicubic")

PRESETS = (
    "ultrafast", "superfast", "veryfast", "faster", "fast",
    "medium", "slow", "slower", "veryslow",
)  # fmt: skip


class EncodeConfig(_Strict):
    crf: int = Field(18, ge=0, le=51)  # H.264/H.265 quality; WebP quality is 100 - 2 * crf
    preset: Literal[PRESETS] = "medium"
    codec: Optional[Literal["h264", "h265", "prores"]] = None  # default: the format's own


class AudioConfig(_Strict):
    file: str
    fade_in: float = Field(0.0, ge=0, le=3600)  # seconds
    fade_out: float = Field(0.0, ge=0, le=3600)


def _parse_audio(raw: Any) -> Any:
    return {"file": raw} if isinstance(raw, str) else raw


class FadeConfig(_Strict):
    """Fade the picture from and to black, in seconds."""

    model_config = ConfigDict(**STRICT, populate_by_name=True)

    fade_in: float = Field(0.0, ge=0, le=3600, alias="in")
    fade_out: float = Field(0.0, ge=0, le=3600, alias="out")


class ColorConfig(_Strict):
    """Pull each frame's LAB colour statistics toward a reference, against drift."""

    reference: Literal["start", "first"] = "start"  # the start image, or frame 0 as rendered
    strength: keyframed(ge=0.0, le=1.0) = Track.constant(0.0)  # per frame; 0 is off
    mode: Literal["lab", "luma"] = "lab"  # luma: the dream changes only lightness, colours stay


class SharpenConfig(_Strict):
    """A per-frame unsharp mask against the softening of repeated resampling."""

    amount: keyframed(ge=0.0, le=3.0) = Track.constant(0.0)
    radius: float = Field(1.0, gt=0.0, le=10.0)  # pixels


class GuideConfig(_Strict):
    """Dream toward the features of an image."""

    image: str
    layers: Optional[LayerWeights] = None  # default: the segment's layers, else "parts"
    weight: float = Field(1.0, ge=-MAX_WEIGHT, le=MAX_WEIGHT)


class Segment(_Strict):
    model_config = ConfigDict(**STRICT, populate_by_name=True)

    frames: tuple[Annotated[int, Field(ge=0, le=MAX_FRAMES)], Annotated[int, Field(ge=0, le=MAX_FRAMES)]]
    # What the dream raises: any of these, summed with their weights.
    layers: Optional[LayerWeights] = None
    channels: Optional[ChannelWeights] = None
    class_: Optional[ClassWeights] = Field(None, alias="class")
    guide: Optional[GuideConfig] = None
    start: Optional[str] = None  # cut to a new image (or color, or noise) at this segment's first frame
    blend: int = Field(0, ge=0, le=MAX_FRAMES)  # frames to blend into that image; 0 is a hard cut
    transition: int = Field(0, ge=0, le=MAX_FRAMES)
    dream: DreamConfig = DreamConfig()
    motion: MotionConfig = MotionConfig()


class Scene(_Strict):
    output: Optional[str] = None
    size: tuple[Annotated[int, Field(ge=16, le=16384)], Annotated[int, Field(ge=16, le=16384)]]
    fps: float = Field(30, gt=0, le=240)
    frames: Optional[int] = Field(None, ge=1, le=MAX_FRAMES)
    duration: Optional[Duration] = None
    seed: int = Field(0, ge=0, le=2**63 - 1)
    start: str = "noise"
    dream_start: bool = False
    model: str = "inception_v3"
    weights: str = "pretrained"  # pretrained, random, or a state_dict file for the same architecture
    dream: DreamConfig = DreamConfig()
    motion: MotionConfig = MotionConfig()
    color: ColorConfig = ColorConfig()
    sharpen: SharpenConfig = SharpenConfig()
    segments: list[Segment] = Field(min_length=1)
    encode: EncodeConfig = EncodeConfig()
    audio: Optional[Annotated[AudioConfig, BeforeValidator(_parse_audio)]] = None
    fade: FadeConfig = FadeConfig()
    rendered: Optional[dict] = None  # written into sidecars (how a video was made); ignored here

    _file: Path = PrivateAttr(default=Path("scene.yaml"))

    @property
    def file(self) -> Path:
        return self._file

    @property
    def frame_count(self) -> int:
        if self.frames is not None:
            return self.frames
        return max(1, round((self.duration or 0) * self.fps))

    @property
    def output_path(self) -> Path:
        if self.output is None:
            return self._file.parent / "renders" / f"{self._file.stem}.mp4"
        return self._file.parent / self.output

    @property
    def weights_source(self) -> str | Path:
        """"pretrained", "random", or the path of a checkpoint file."""
        if self.weights in ("pretrained", "random"):
            return self.weights
        return self._file.parent / self.weights

    @property
    def audio_path(self) -> Optional[Path]:
        return None if self.audio is None else self._file.parent / self.audio.file

    @property
    def start_image(self) -> Optional[Path]:
        """The start image's path, or None when start is a color or noise."""
        return self.resolve_image(self.start)

    def input_files(self) -> list[Path]:
        """Every file the render reads: start and cut images, guide images, weights, audio."""
        files = [self.resolve_image(self.start)]
        for segment in self.segments:
            files.append(self.resolve_image(segment.start) if segment.start else None)
            files.append(self._file.parent / segment.guide.image if segment.guide else None)
        files += [self.weights_source if isinstance(self.weights_source, Path) else None, self.audio_path]
        return list(dict.fromkeys(f for f in files if f is not None))

    def resolve_image(self, start: str) -> Optional[Path]:
        """A `start`-style value's image path (relative to the scene), or None for a color or noise."""
        if start == "noise" or COLOR.match(start):
            return None
        return self._file.parent / start


COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
