"""Scene files: the typed models that define the format, and their loading.

The pydantic models below are the one source of truth for what a scene file
may say. `load_scene` reads YAML (safe loader only), validates structure and
types with pydantic, then checks what types cannot express (segments cover
the frames, layers exist in the model, images exist), and reports every
problem as `file:LINE: field.path: message`, before anything expensive runs.
"""

from __future__ import annotations

import difflib
import os
import re
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, ValidationError

from .formats import allowed, format_of
from .keyframes import EASES, Track
from .zoo import ZOO

# ---------------------------------------------------------------- errors


class SceneIssue(typing.NamedTuple):
    path: tuple
    message: str


class SceneError(Exception):
    """One or more problems in a scene file, each with its line and field."""

    def __init__(self, file: Path, problems: list[tuple[int, str, str]]):
        self.file = file
        self.problems = problems  # (line, dotted field path, message)
        super().__init__(self.render())

    def render(self) -> str:
        lines = []
        for line, field, message in self.problems:
            where = f"{self.file}:{line}:" if line else f"{self.file}:"
            lines.append(f"{where} {field}: {message}" if field else f"{where} {message}")
        return "\n".join(lines)


# ---------------------------------------------------------------- value parsers


def _number(raw: Any, what: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise ValueError(f"{what} must be a number, got {raw!r}")
    return float(raw)


def _vector(raw: Any, length: int) -> tuple[float, ...]:
    if not isinstance(raw, (list, tuple)) or len(raw) != length:
        raise ValueError(f"expected a list of {length} numbers like [0, 0], got {raw!r}")
    return tuple(_number(v, "each component") for v in raw)


def _check_bounds(value: float, ge=None, gt=None, le=None) -> None:
    if ge is not None and value < ge:
        raise ValueError(f"must be at least {ge:g}, got {value:g}")
    if gt is not None and value <= gt:
        raise ValueError(f"must be greater than {gt:g}, got {value:g}")
    if le is not None and value > le:
        raise ValueError(f"must be at most {le:g}, got {value:g}")


def _keyframe_frame(key: Any) -> int:
    if isinstance(key, bool):
        raise ValueError(f"keyframe keys are frame numbers, got {key!r}")
    if isinstance(key, int):
        frame = key
    elif isinstance(key, str) and key.strip().isdigit():
        frame = int(key)
    else:
        raise ValueError(
            f"keyframe keys are frame numbers (or 'ease'), got {key!r}; "
            "write keyframes as {0: 1.0, 150: 1.05}"
        )
    if frame < 0:
        raise ValueError(f"keyframe frame {frame} is negative")
    return frame


def keyframed(*, ge=None, gt=None, le=None, vector: int = 0):
    """A field type: a constant, or keyframes {frame: value, ..., ease: smooth}."""

    def parse_value(raw):
        value = _vector(raw, vector) if vector else _number(raw, "the value")
        for component in value if vector else (value,):
            _check_bounds(component, ge=ge, gt=gt, le=le)
        return value

    def parse(raw):
        if isinstance(raw, Track):
            return raw
        if not isinstance(raw, dict):
            return Track.constant(parse_value(raw))
        ease = "linear"
        points = {}
        for key, value in raw.items():
            if key == "ease":
                if value not in EASES:
                    raise ValueError(f"ease must be one of {', '.join(EASES)}, got {value!r}")
                ease = value
                continue
            frame = _keyframe_frame(key)
            try:
                points[frame] = parse_value(value)
            except ValueError as error:
                raise ValueError(f"keyframe {frame}: {error}") from None
        if not points:
            raise ValueError("keyframes need at least one {frame: value} entry")
        return Track(tuple(sorted(points.items())), ease)

    return Annotated[Track, BeforeValidator(parse)]


_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*m)?\s*(?:(\d+(?:\.\d+)?)\s*s?)?\s*$")


def _parse_duration(raw: Any) -> float:
    """'10s', '1m30s', '2m', 12.5 -> seconds."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        seconds = float(raw)
    else:
        match = _DURATION.match(str(raw)) if isinstance(raw, str) else None
        if not match or not any(match.groups()):
            raise ValueError(f"duration must look like '10s', '1m30s' or 12.5, got {raw!r}")
        minutes, secs = match.groups()
        seconds = float(minutes or 0) * 60 + float(secs or 0)
    if seconds <= 0:
        raise ValueError("duration must be positive")
    return seconds


def _parse_layers(raw: Any) -> dict[str, float]:
    """'circles' | ['mixed_3', 'mixed_4'] | {'mixed_3': 0.7, 'parts': 0.3}."""
    hint = "layers takes a name ('circles'), a list of names, or {name: weight}"
    if isinstance(raw, str):
        return {raw: 1.0}
    if isinstance(raw, list) and raw and all(isinstance(n, str) for n in raw):
        return {name: 1.0 for name in raw}
    if isinstance(raw, dict) and raw:
        weights = {}
        for name, weight in raw.items():
            if not isinstance(name, str):
                raise ValueError(f"{hint}; {name!r} is not a name")
            weights[name] = _number(weight, f"the weight of {name!r}")
        if not any(weights.values()):
            raise ValueError("at least one layer weight must be non-zero")
        return weights
    raise ValueError(f"{hint}, got {raw!r}")


def _parse_channels(raw: Any) -> dict[str, float]:
    """{'mixed_4': [12, 40]} or {'mixed_4:12': 1.0} -> {'mixed_4:12': 1.0, ...}."""
    hint = "channels takes {layer: [channel, ...]} or {'layer:channel': weight}"
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"{hint}, got {raw!r}")
    weights = {}
    for key, value in raw.items():
        if isinstance(value, list):
            if not value or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in value):
                raise ValueError(f"{hint}; {key}: expected channel numbers like [12, 40]")
            weights.update({f"{key}:{channel}": 1.0 for channel in value})
        elif isinstance(key, str) and re.fullmatch(r"[^:]+:\d+", key):
            weights[key] = _number(value, f"the weight of {key!r}")
        else:
            raise ValueError(f"{hint}; got {key!r}: {value!r}")
    return weights


def _parse_classes(raw: Any) -> dict[str, float]:
    """'tabby' | 281 | ['tabby', 'daisy'] | {'tabby': 1.0} -> {'tabby': 1.0}."""
    if isinstance(raw, (str, int)) and not isinstance(raw, bool):
        return {str(raw): 1.0}
    if isinstance(raw, list) and raw and all(isinstance(c, (str, int)) for c in raw):
        return {str(c): 1.0 for c in raw}
    if isinstance(raw, dict) and raw:
        return {str(k): _number(v, f"the weight of {k!r}") for k, v in raw.items()}
    raise ValueError(f"class takes an ImageNet class name or number, a list, or {{class: weight}}, got {raw!r}")


Duration = Annotated[float, BeforeValidator(_parse_duration)]
LayerWeights = Annotated[dict[str, float], BeforeValidator(_parse_layers)]
ChannelWeights = Annotated[dict[str, float], BeforeValidator(_parse_channels)]
ClassWeights = Annotated[dict[str, float], BeforeValidator(_parse_classes)]


# ---------------------------------------------------------------- the format


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
    fade_in: float = Field(0.0, ge=0)  # seconds
    fade_out: float = Field(0.0, ge=0)


def _parse_audio(raw: Any) -> Any:
    return {"file": raw} if isinstance(raw, str) else raw


class FadeConfig(_Strict):
    """Fade the picture from and to black, in seconds."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    fade_in: float = Field(0.0, ge=0, alias="in")
    fade_out: float = Field(0.0, ge=0, alias="out")


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
    weight: float = 1.0


class Segment(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    frames: tuple[int, int]
    # What the dream raises: any of these, summed with their weights.
    layers: Optional[LayerWeights] = None
    channels: Optional[ChannelWeights] = None
    class_: Optional[ClassWeights] = Field(None, alias="class")
    guide: Optional[GuideConfig] = None
    start: Optional[str] = None  # cut to a new image (or color, or noise) at this segment's first frame
    blend: int = Field(0, ge=0)  # frames to blend into that image; 0 is a hard cut
    transition: int = Field(0, ge=0)
    dream: DreamConfig = DreamConfig()
    motion: MotionConfig = MotionConfig()


class Scene(_Strict):
    output: Optional[str] = None
    size: tuple[Annotated[int, Field(ge=16, le=16384)], Annotated[int, Field(ge=16, le=16384)]]
    fps: float = Field(30, gt=0, le=240)
    frames: Optional[int] = Field(None, ge=1)
    duration: Optional[Duration] = None
    seed: int = 0
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

    def resolve_image(self, start: str) -> Optional[Path]:
        """A `start`-style value's image path (relative to the scene), or None for a color or noise."""
        if start == "noise" or COLOR.match(start):
            return None
        return self._file.parent / start


COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


# ---------------------------------------------------------------- YAML with lines


def _key(node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":int"):
        try:
            return int(node.value)
        except ValueError:
            return node.value
    return node.value if isinstance(node, yaml.ScalarNode) else str(node.value)


def _line_map(node: yaml.Node, path: tuple, lines: dict, duplicates: list) -> None:
    """Record the 1-based line of every key and list item, and duplicate keys."""
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key_node, value_node in node.value:
            key = _key(key_node)
            if key in seen:
                duplicates.append((path + (key,), key_node.start_mark.line + 1))
            seen.add(key)
            lines[path + (key,)] = key_node.start_mark.line + 1
            _line_map(value_node, path + (key,), lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[path + (index,)] = item.start_mark.line + 1
            _line_map(item, path + (index,), lines, duplicates)


def _line_of(lines: dict, path: tuple) -> int:
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return 1


def _dotted(path: tuple) -> str:
    return ".".join(str(p) for p in path)


# ---------------------------------------------------------------- pydantic errors


def _unwrap(annotation):
    """The model class inside Optional[...] / list[...], or None."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is None:
            return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if not args:
            return None
        annotation = args[0] if origin is not dict else args[-1]


def _model_at(path: tuple):
    model = Scene
    for part in path:
        if isinstance(part, int):
            continue
        fields = {f.alias or n: f for n, f in model.model_fields.items()} if model else {}
        field = fields.get(part)
        model = _unwrap(field.annotation) if field else None
    return model


def did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _pydantic_issue(error: dict) -> SceneIssue:
    path = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        model = _model_at(path[:-1])
        allowed = [f.alias or n for n, f in model.model_fields.items()] if model else []
        return SceneIssue(
            path,
            f"unknown key '{path[-1]}'{did_you_mean(path[-1], allowed)}"
            + (f" Allowed here: {', '.join(allowed)}" if allowed else ""),
        )
    if kind == "missing":
        return SceneIssue(path, "this key is required")
    message = error["msg"]
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
    elif "input" in error and not isinstance(error["input"], (dict, list)):
        message += f" (got {error['input']!r})"
    return SceneIssue(path, message)


# ---------------------------------------------------------------- meaning checks


def _tracks(config: BaseModel, path: tuple):
    for name in type(config).model_fields:
        value = getattr(config, name)
        if isinstance(value, Track):
            yield path + (name,), value


def _check_segments(scene: Scene) -> list[SceneIssue]:
    issues = []
    last = scene.frame_count - 1
    expected = 0
    for index, segment in enumerate(scene.segments):
        where = ("segments", index, "frames")
        first, end = segment.frames
        if first > end:
            issues.append(SceneIssue(where, f"starts at {first} but ends at {end}: write [{end}, {first}]?"))
            continue
        if first > expected:
            issues.append(
                SceneIssue(where, f"starts at {first}, leaving frames {expected}-{first - 1} without a segment (gap)")
            )
        elif first < expected:
            issues.append(
                SceneIssue(where, f"starts at {first}, overlapping frames {first}-{expected - 1} of the segment before")
            )
        if end > last:
            issues.append(
                SceneIssue(where, f"ends at {end}, past the last frame {last} (the video has {last + 1} frames)")
            )
        expected = end + 1
        length = end - first + 1
        if segment.start is not None and index == 0:
            issues.append(SceneIssue(("segments", 0, "start"), "the first segment begins with the scene's start: "
                                                                "set the top-level start instead"))
        if segment.blend and segment.start is None:
            issues.append(SceneIssue(("segments", index, "blend"), "blend needs a start image to blend into"))
        elif segment.blend > length:
            issues.append(SceneIssue(("segments", index, "blend"),
                                     f"{segment.blend} frames is longer than the segment ({length} frames)"))
        if segment.transition and index == 0:
            issues.append(
                SceneIssue(("segments", 0, "transition"), "the first segment has no segment before it to crossfade from")
            )
        elif segment.transition > length:
            issues.append(
                SceneIssue(
                    ("segments", index, "transition"),
                    f"{segment.transition} frames is longer than the segment ({length} frames)",
                )
            )
        for field in ("dream", "motion"):
            for track_path, track in _tracks(getattr(segment, field), ("segments", index, field)):
                for frame in track.frames if not track.is_constant else []:
                    if not first <= frame <= end:
                        issues.append(
                            SceneIssue(
                                track_path + (frame,),
                                f"keyframe {frame} is outside this segment's frames {first}-{end} "
                                "(keyframes are absolute frame numbers)",
                            )
                        )
    if expected <= last and not issues:
        issues.append(
            SceneIssue(
                ("segments", len(scene.segments) - 1, "frames"),
                f"segments end at frame {expected - 1}, but the video has {last + 1} frames (0-{last}): "
                f"extend the last segment to {last} or set frames: {expected}",
            )
        )
    for field in ("dream", "motion", "color", "sharpen"):
        for track_path, track in _tracks(getattr(scene, field), (field,)):
            for frame in track.frames if not track.is_constant else []:
                if frame > last:
                    issues.append(
                        SceneIssue(track_path + (frame,), f"keyframe {frame} is past the last frame {last}")
                    )
    return issues


def _check_model_and_layers(scene: Scene) -> list[SceneIssue]:
    spec = ZOO.get(scene.model)
    if spec is None:
        return [
            SceneIssue(
                ("model",),
                f"unknown model '{scene.model}'{did_you_mean(scene.model, ZOO)} Available: {', '.join(ZOO)}",
            )
        ]
    issues = []
    if min(scene.size) < spec.min_size:
        issues.append(
            SceneIssue(("size",), f"{scene.size[0]}x{scene.size[1]} is too small for {spec.name}: "
                                  f"each side needs at least {spec.min_size} pixels")
        )
    for index, segment in enumerate(scene.segments):
        issues += [SceneIssue(("segments", index) + path, message) for path, message in _objective_issues(segment, spec)]
    return issues


def _unknown_layer(name: str, spec) -> str:
    return (
        f"unknown layer '{name}' for {spec.name}{did_you_mean(name, spec.choices)} "
        f"Valid: {', '.join(spec.choices)}"
    )


def _objective_issues(segment: Segment, spec) -> list[tuple[tuple, str]]:
    from .imagenet import class_index, class_names

    issues = []
    if not (segment.layers or segment.channels or segment.class_ or segment.guide):
        issues.append(((), "say what to dream: layers, channels, class and/or guide"))
    for name in segment.layers or {}:
        if name not in spec.choices:
            issues.append((("layers",), _unknown_layer(name, spec)))
    for key in segment.channels or {}:
        layer, channel = key.rsplit(":", 1)
        if layer not in spec.choices:
            issues.append((("channels",), _unknown_layer(layer, spec)))
        elif int(channel) >= spec.layer(layer).channels:
            issues.append((("channels",), f"{layer} has channels 0-{spec.layer(layer).channels - 1}, not {channel}"))
    if segment.class_ and not spec.classes:
        with_classes = [name for name, other in ZOO.items() if other.classes]
        issues.append((("class",), f"{spec.name} has no classifier; class works with {', '.join(with_classes)}"))
    elif segment.class_:
        for name in segment.class_:
            try:
                class_index(name)
            except KeyError:
                issues.append((("class",), f"unknown ImageNet class '{name}'{did_you_mean(name, class_names())} "
                                           "Use a name like 'tabby' or a number 0-999"))
    if segment.guide:
        for name in segment.guide.layers or {}:
            if name not in spec.choices:
                issues.append((("guide", "layers"), _unknown_layer(name, spec)))
    return issues


def _image_issue(image: Path, hint: str) -> Optional[str]:
    """Why `image` cannot be used, or None."""
    if not image.exists():
        return f"image '{image}' not found; {hint}"
    if not image.is_file():
        return f"'{image}' is not a file"
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(image) as opened:
            opened.verify()
    except Image.DecompressionBombError:
        return f"'{image}' is too large to be a safe image (over {2 * Image.MAX_IMAGE_PIXELS // 10**6} megapixels)"
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        return f"cannot read image '{image}' ({error}); is it a complete PNG/JPEG file?"
    return None


def _check_files(scene: Scene) -> list[SceneIssue]:
    issues = []
    if scene.start_image is not None:
        hint = "start takes an image path (relative to the scene file), a color like '#ffffff', or 'noise'"
        problem = _image_issue(scene.start_image, hint)
        if problem:
            issues.append(SceneIssue(("start",), problem))
    for index, segment in enumerate(scene.segments):
        cut = scene.resolve_image(segment.start) if segment.start else None
        if cut is not None:
            problem = _image_issue(cut, "a segment's start takes an image path, a color or 'noise'")
            if problem:
                issues.append(SceneIssue(("segments", index, "start"), problem))
        if segment.guide:
            problem = _image_issue(scene.file.parent / segment.guide.image, "paths are relative to the scene file")
            if problem:
                issues.append(SceneIssue(("segments", index, "guide", "image"), problem))
    weights = scene.weights_source
    if isinstance(weights, Path) and not weights.is_file():
        issues.append(
            SceneIssue(("weights",), f"'{weights}' not found; weights takes pretrained, random, "
                                     "or a .pth state_dict file (relative to the scene file)")
        )
    issues += [SceneIssue((field,), message) for field, message in output_issues(scene, scene.output_path)]
    if scene.audio_path is not None and not scene.audio_path.is_file():
        issues.append(SceneIssue(("audio",), f"audio file '{scene.audio_path}' not found (relative to the scene file)"))
    return issues


def output_issues(scene: Scene, output: Path) -> list[tuple[str, str]]:
    """What is wrong with writing this scene to `output`: (field, message) pairs."""
    try:
        kind = format_of(output)
    except KeyError:
        return [("output", f"'{output.name}' has an unsupported suffix; use {allowed()}")]
    issues = []
    folder = output.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        issues.append(("output", f"cannot create a folder for {output}: {folder} is a file"))
    elif not os.access(folder, os.W_OK):
        issues.append(("output", f"cannot write to {folder}: choose an output folder you may write to"))
    codec = scene.encode.codec
    if codec is not None and codec not in kind.codecs:
        choices = f"use {' or '.join(kind.codecs)}" if kind.codecs else "leave it out"
        issues.append(("encode", f"codec {codec} does not go in a {kind.name} file; {choices}"))
    if scene.audio is not None and not kind.audio:
        issues.append(("audio", f"a {kind.name} output has no sound track; use .mp4 or .mov for audio"))
    return issues


def check_scene(scene: Scene) -> list[SceneIssue]:
    """What types cannot say: coverage, layer names, files."""
    issues = []
    if (scene.frames is None) == (scene.duration is None):
        issues.append(SceneIssue(("frames",), "give either frames: N or duration: '10s' (exactly one)"))
        return issues
    return issues + _check_segments(scene) + _check_model_and_layers(scene) + _check_files(scene)


# ---------------------------------------------------------------- loading


def load_scene(file: str | Path) -> Scene:
    """Read and fully validate a scene file; raises SceneError listing every problem."""
    file = Path(file)
    if not file.exists():
        raise SceneError(file, [(0, "", "no such file")])
    if file.is_dir():
        raise SceneError(file, [(0, "", "is a directory, not a scene file")])
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SceneError(file, [(0, "", f"cannot read: {error}")]) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        raise SceneError(file, [(mark.line + 1 if mark else 0, "", f"YAML syntax error: {problem}")]) from None
    if not isinstance(data, dict):
        raise SceneError(file, [(1, "", "a scene file is a YAML mapping (key: value lines)")])

    lines: dict = {}
    duplicates: list = []
    _line_map(root, (), lines, duplicates)
    if duplicates:
        raise SceneError(file, [(line, _dotted(path), "appears twice") for path, line in duplicates])

    try:
        scene = Scene.model_validate(data)
    except ValidationError as error:
        issues = [_pydantic_issue(e) for e in error.errors()]
        raise SceneError(file, [(_line_of(lines, i.path), _dotted(i.path), i.message) for i in issues]) from None
    scene._file = file
    issues = check_scene(scene)
    if issues:
        raise SceneError(file, [(_line_of(lines, i.path), _dotted(i.path), i.message) for i in issues])
    return scene
