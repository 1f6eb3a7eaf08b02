"""The plan: what every frame needs, resolved from a scene. Pure, no torch.

Each frame gets its layer weights (crossfades included), its dream settings
and its motion, with keyframes and segment overrides already applied, so the
frame loop only reads values and the whole render can be printed beforehand.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..dream.objectives import ChannelL2, ClassLogit, Guide, LayerL2, Objective
from ..dream.settings import DreamSettings
from ..scene.formats import format_of
from ..scene.expressions import Formula
from ..scene.keyframes import mix
from ..scene.schema import COLOR, DREAM_DEFAULTS, MOTION_DEFAULTS, Input, Scene
from ..models.zoo import ZOO
from .deliver import TITLE_SAFE_MARGINS, DeliverableSpec, deliverable_specs, even as _even
from .text import shown_opacity, text_specs

PREVIEW_LONG_SIDE = 384
PREVIEW_MAX_ITERATIONS = 4


@dataclass(frozen=True)
class MotionSettings:
    zoom: float
    rotate: float  # degrees per frame, counter-clockwise
    translate: tuple[float, float]  # pixels per frame, +x right, +y down
    resample: str = "bicubic"
    center: tuple[float, float] = (0.5, 0.5)  # the pivot, in fractions of the frame


@dataclass(frozen=True)
class Picture:
    """A start, cut or guide picture, resolved: an image file, a '#rrggbb' colour, or noise."""

    image: Path | None = None
    color: str | None = None
    seed: int = 0  # noise


@dataclass(frozen=True)
class MaskSpec:
    """Where a frame may change: a greyscale image, or the start image's opacity (`alpha`)."""

    image: Path
    alpha: bool = False  # the start image's transparency: transparent parts change, opaque ones are kept
    feather: float = 0.0  # pixels, at the plan's size
    invert: bool = False
    follows: str = "screen"  # or "camera": moved by each frame's motion like the picture


@dataclass(frozen=True)
class OverlaySpec:
    """A picture laid over the video's frames first..last, fading in and out."""

    image: Path
    position: tuple[float, float]
    anchor: str
    width: float  # a fraction of the frame's width
    opacity: Any  # Track | Formula over the video's frames
    first: int
    last: int
    fade_in: int = 0  # frames
    fade_out: int = 0
    safe: bool = False  # position is within the safe area, and the picture kept inside it

    def opacity_at(self, n: int, timeline: int | None = None) -> float:
        return shown_opacity(self, n, timeline)


@dataclass(frozen=True)
class Footage:
    """What a frame dreams on when a clip plays: the clip's frame (resampled to the plan's size
    and fps), the one before it for the optical flow, and how much of the previous dreamed frame
    the flow carries."""

    clip: Path
    frame: int  # the clip's frame at the plan's fps
    previous: int | None  # its frame before, when this frame follows one of the same clip
    flow: float  # 0..1
    blend: float = 1.0  # below 1 while a segment's cut blends into the clip

    @property
    def carries(self) -> bool:
        return self.previous is not None and self.flow > 0.0


@dataclass(frozen=True)
class FrameSpec:
    index: int
    segment: int
    terms: dict[Objective, float]  # objective term -> weight (see segment_terms)
    dream: DreamSettings
    motion: MotionSettings
    color_strength: float = 0.0  # pull toward the colour reference, 0..1
    sharpen: tuple[float, float] = (0.0, 1.0)  # unsharp mask amount, radius
    cut: tuple[Picture, float] | None = None  # (segment start, weight): blend the frame into it
    dreamed: bool = True  # frame 0 is the plain start picture unless the scene dreams it too
    warped: bool = True  # frame 0 has no frame before it to move
    mask: tuple[MaskSpec, float] | None = None  # (where the frame may change, strength)
    footage: Footage | None = None  # the clip frame it dreams on, if a clip plays


@dataclass(frozen=True)
class Plan:
    width: int
    height: int
    fps: float
    frames: Sequence[FrameSpec]  # FrameSpecs: each resolved when asked for
    preview: bool = False
    notes: list[str] = field(default_factory=list)
    seed: int = 0
    start: Picture | None = Picture()  # None when a clip plays from frame 0
    color_reference: str = "start"  # the start picture, or frame 0 as rendered ("first")
    color_mode: str = "lab"  # lab: match statistics; luma: the dream changes only lightness
    model: str = "inception_v3"
    weights: str | Path = "pretrained"
    loop: int = 0  # frames dreamed past the end, blended into the video's last ones so it loops
    overlays: tuple[OverlaySpec, ...] = ()
    texts: tuple = ()  # TextSpecs (plan/text.py): words and captions over the video's frames
    reverse: bool = False  # the video plays the timeline backwards: video frame n is timeline frame N-1-n
    deliverables: tuple[DeliverableSpec, ...] = ()  # with deliver: each cut from the canvas (width x height)
    safe: tuple[float, float, float, float] = TITLE_SAFE_MARGINS  # the safe area's margins: top, right, bottom, left

    @property
    def frame_count(self) -> int:
        """The video's frames (the timeline of `frames` holds a loop's frames past the end too)."""
        return len(self.frames) - self.loop


def picture(scene: Scene, start: str) -> Picture:
    """A `start`-style value of the scene as a Picture."""
    if start == "noise":
        return Picture(seed=scene.seed)
    if COLOR.match(start):
        return Picture(color=start)
    return Picture(image=scene.resolve_image(start))


def _value_at(value: float | Formula, frame: int) -> float:
    return value.at(frame) if isinstance(value, Formula) else value


@dataclass(frozen=True)
class TermWeight:
    """A term's weight in a segment: the sum of products of its parts, each a number or a
    formula of time (a guide's weight times its layer's, an alias and its layer named twice)."""

    parts: tuple[tuple[float | Formula, float | Formula], ...]

    def at(self, frame: int) -> float:
        return sum(_value_at(a, frame) * _value_at(b, frame) for a, b in self.parts)

    def describe(self) -> str:
        if not any(isinstance(v, Formula) for part in self.parts for v in part):
            return f"{self.at(0):.3g}"
        return " + ".join("*".join(v.describe() if isinstance(v, Formula) else f"{v:g}" for v in part if v != 1.0)
                          or "1" for part in self.parts)


def segment_terms(scene: Scene) -> list[dict[Objective, TermWeight]]:
    """Each segment's objective as {term: weight}, aliases and class names resolved."""
    from ..models.imagenet import class_index, class_names

    spec = ZOO[scene.model]
    resolved = []
    for segment in scene.segments:
        terms: dict[Objective, TermWeight] = {}

        def add(term, weight, factor=1.0):
            before = terms[term].parts if term in terms else ()
            terms[term] = TermWeight(before + ((weight, factor),))

        for name, weight in (segment.layers or {}).items():
            add(LayerL2(spec.resolve(name)), weight)
        for key, weight in (segment.channels or {}).items():
            layer, channel = key.rsplit(":", 1)
            add(ChannelL2(spec.resolve(layer), int(channel)), weight)
        for name, weight in (segment.class_ or {}).items():
            index = class_index(name)
            add(ClassLogit(index, class_names()[index]), weight)
        if segment.guide:
            guide_layers = segment.guide.layers or segment.layers or {"parts": 1.0}
            source = picture(scene, segment.guide.image)
            for name, weight in guide_layers.items():
                add(Guide(spec.resolve(name), source, segment.guide.image), segment.guide.weight, weight)
        resolved.append(terms)
    return resolved


def _crossfade(before: dict, after: dict, alpha: float) -> dict[str, float]:
    mixed = {}
    for layer in list(before) + [k for k in after if k not in before]:
        w = before.get(layer, 0.0) * (1 - alpha) + after.get(layer, 0.0) * alpha
        if w != 0.0:
            mixed[layer] = w
    return mixed


def _setting(name, segment_config, scene_config, defaults, frame):
    track = getattr(segment_config, name) or getattr(scene_config, name) or getattr(defaults, name)
    return track.at(frame)


def plan_size(scene: Scene, preview: bool, even_sides: bool, long_side: int, max_iterations: int):
    """(width, height, scale, notes): the frame size a render uses, and why it differs from the scene's."""
    width, height = scene.size
    scale = 1.0
    notes = []
    if preview:
        scale = min(1.0, long_side / max(width, height))
        scale = max(scale, ZOO[scene.model].min_size / min(width, height))
        width, height = width * scale, height * scale
    if even_sides:
        width, height = _even(width), _even(height)
    else:
        width, height = max(1, round(width)), max(1, round(height))
    if not preview and (width, height) != tuple(scene.size):
        notes.append(
            f"size {scene.size[0]}x{scene.size[1]} rounded to {width}x{height}: this video format needs even sides"
        )
    if preview:
        same = (width, height) == tuple(scene.size)  # a size that did not change is not news
        resized = "" if same else f"{width}x{height} instead of {scene.size[0]}x{scene.size[1]}, "
        fewer = "" if same else ", octaves sized as at full size (features keep their share of the frame)"
        notes.append(f"preview: {resized}at most {max_iterations} (longer) steps per octave{fewer}")
    return width, height, scale, notes


def make_plan(
    scene: Scene,
    preview: bool = False,
    output: Path | None = None,
    long_side: int = PREVIEW_LONG_SIDE,
    max_iterations: int = PREVIEW_MAX_ITERATIONS,
) -> Plan:
    """Resolve every frame of `scene`.

    `preview` shrinks the size to `long_side` and the steps per octave to
    `max_iterations` (longer ones, so each frame dreams as much). `output`
    (default: the scene's) decides whether sides must be even.
    """
    if scene.awaits_analysis:
        raise ValueError("the scene reads its sound track: plan.analysed(scene) first")
    even_sides = not scene.deliver and format_of(output or scene.output_path).even_sides  # a canvas is not encoded
    width, height, scale, notes = plan_size(scene, preview, even_sides, long_side, max_iterations)
    deliverables = deliverable_specs(scene, (width, height), scale, notes, overlay_specs)
    frames = FrameSpecs(scene, segment_terms(scene), scale, max_iterations if preview else None)
    notes += clip_notes(scene)
    start = None if scene.clip(scene.start) else picture(scene, scene.start)
    return Plan(
        width, height, scene.fps, frames, preview, notes, seed=scene.seed, start=start,
        color_reference=scene.color.reference, color_mode=scene.color.mode, model=scene.model,
        weights=scene.weights_source, loop=scene.loop_frames, overlays=overlay_specs(scene),
        texts=text_specs(scene), reverse=scene.reverse, deliverables=deliverables,
    )


def clip_notes(scene: Scene) -> list[str]:
    """What the render does to the scene's clips that their owner may not expect."""
    notes = []
    for value in dict.fromkeys(value for _, value, _ in scene.starts()):
        clip = scene.clip(value)
        if clip is None:
            continue
        if clip.variable:
            notes.append(f"{clip.path.name} has a variable frame rate: its frames are resampled to a constant "
                         f"{scene.fps:g} fps by their times")
        elif abs(clip.fps - scene.fps) > 1e-3:
            notes.append(f"{clip.path.name} plays at {clip.fps:g} fps: its frames are resampled to {scene.fps:g} fps")
    return notes


def overlay_specs(scene: Scene, overlays: list | None = None) -> tuple[OverlaySpec, ...]:
    """The scene's overlays (or these overlay keys, a deliverable's), on the video's frames."""
    last = scene.frame_count - 1
    return tuple(OverlaySpec(
        scene.input_path(Input("image", ""), o.image), tuple(o.position), o.anchor, o.width, o.opacity,
        o.start or 0, last if o.end is None else o.end, round(o.fade_in * scene.fps), round(o.fade_out * scene.fps),
        o.safe,
    ) for o in (scene.overlay if overlays is None else overlays))


def mask_spec(scene: Scene, mask, scale: float) -> MaskSpec:
    """A scene's or segment's mask, its feather at the plan's size."""
    if mask.image == "start":
        return MaskSpec(scene.start_image, True, mask.feather * scale, mask.invert, mask.follows)
    return MaskSpec(scene.input_path(Input("mask", ""), mask.image), False, mask.feather * scale, mask.invert,
                    mask.follows)


class FrameSpecs(Sequence):
    """The plan's frames, each resolved when it is asked for, so a plan of a million
    frames costs neither time nor memory until the render reaches them."""

    def __init__(self, scene: Scene, weights: list, scale: float, max_iterations: int | None):
        self.scene, self.weights, self.scale, self.max_iterations = scene, weights, scale, max_iterations
        self.starts = [segment.frames[0] for segment in scene.segments]
        self.sources = scene.starts()
        self.source_starts = [first for first, _, _ in self.sources]
        self.clips = {value: scene.clip(value) for _, value, _ in self.sources}

    def __len__(self) -> int:
        return self.scene.frame_count + self.scene.loop_frames

    def __getitem__(self, n):
        if isinstance(n, slice):
            return [self[i] for i in range(*n.indices(len(self)))]
        if not -len(self) <= n < len(self):
            raise IndexError(f"frame {n} is outside 0-{len(self) - 1}")
        n %= len(self)
        segment = bisect.bisect_right(self.starts, n) - 1
        spec = _frame_spec(self.scene, segment, n, self.weights, self.scale, self.max_iterations)
        return replace(spec, footage=self.footage(n, segment))

    def footage(self, n: int, index: int) -> Footage | None:
        """Frame n's clip frame, if a clip plays there: it plays from its cut on, held at its last
        frame or looped (clip_end) past its end. clip_end and flow are the frame's segment's, else
        those of the segment that cut to the clip, else the scene's."""
        first, value, cut = self.sources[bisect.bisect_right(self.source_starts, n) - 1]
        clip = self.clips[value]
        if clip is None:
            return None
        segment = self.scene.segments[index]
        length = clip.frames_at(self.scene.fps)
        ends = segment.clip_end or (cut and cut.clip_end) or self.scene.clip_end

        def clip_frame(k: int) -> int:
            return min(k, length - 1) if ends == "hold" else k % length

        flow = (segment.flow or (cut and cut.flow) or self.scene.flow).at(n)
        blend = 1.0 if cut is None or n - first >= cut.blend else (n - first + 1) / cut.blend
        return Footage(clip.path, clip_frame(n - first), clip_frame(n - first - 1) if n > first else None, flow,
                       blend)


def _frame_spec(scene: Scene, index: int, n: int, weights: list, scale: float, max_iterations: int | None):
    """Frame n of segment `index`: keyframes, overrides and the crossfade from the segment before applied."""
    segment = scene.segments[index]
    first = segment.frames[0]
    layers = {term: weight.at(n) for term, weight in weights[index].items()}
    fading = segment.transition and n - first < segment.transition
    alpha = (n - first + 1) / (segment.transition + 1) if fading else 1.0
    if fading:
        layers = _crossfade({term: weight.at(n) for term, weight in weights[index - 1].items()}, layers, alpha)

    def dream_value(name):
        return _setting(name, segment.dream, scene.dream, DREAM_DEFAULTS, n)

    def motion_value(name):
        value = _setting(name, segment.motion, scene.motion, MOTION_DEFAULTS, n)
        if alpha < 1.0:  # crossfade the motion too, from the segment before
            before = _setting(name, scene.segments[index - 1].motion, scene.motion, MOTION_DEFAULTS, n)
            return mix(before, value, alpha)
        return value

    octave_scale = dream_value("octave_scale")
    octaves, top, dream_pixels = pyramid(max(1, round(dream_value("octaves"))), octave_scale,
                                         dream_value("feature_scale"), scale)
    dream = DreamSettings(
        octaves=octaves,
        octave_scale=octave_scale,
        iterations=max(0, round(dream_value("iterations"))),
        step=dream_value("step"),
        jitter=max(0, round(dream_value("jitter") * dream_pixels)),
        smooth=dream_value("smooth") * dream_pixels,
        top=top,
    )
    if max_iterations is not None and dream.iterations > max_iterations:
        # Fewer, longer steps: the preview dreams as much per frame as the full render.
        dream = replace(dream, iterations=max_iterations, step=dream.step * dream.iterations / max_iterations)
    dx, dy = motion_value("translate")
    motion = MotionSettings(
        zoom=motion_value("zoom"),
        rotate=motion_value("rotate"),
        translate=(dx * scale, dy * scale),
        resample=segment.motion.resample or scene.motion.resample or MOTION_DEFAULTS.resample,
        center=motion_value("center"),
    )
    cut = None
    if segment.start is not None and n - first < max(1, segment.blend) and not scene.clip(segment.start):
        cut = (picture(scene, segment.start), (n - first + 1) / max(1, segment.blend))
    sharpen = (scene.sharpen.amount.at(n), scene.sharpen.radius * scale)
    mask = segment.mask or scene.mask
    return FrameSpec(n, index, dict(layers), dream, motion, scene.color.strength.at(n), sharpen, cut,
                     dreamed=n > 0 or scene.dream_start, warped=n > 0,
                     mask=None if mask is None else (mask_spec(scene, mask, scale), mask.strength.at(n)))


def pyramid(octaves: int, octave_scale: float, feature_scale: float, scale: float) -> tuple[int, float, float]:
    """(octaves, top, dream pixels) for a frame shrunk by `scale` (a preview), so it shows what the full
    size will: the number of octaves, the top octave against the frame, and the size of the dream's
    pixels against the full render's (jitter and smoothing are counted in them).

    The network's features have a fixed size in pixels: a smaller frame dreamt with the same pyramid shows
    them larger, eyes where the full render has a fine maze. So the pyramid keeps its sizes in pixels:
    the full render's top octave is the frame shrunk by `feature_scale`; a preview still larger than that
    dreams its top octave at the same size in pixels, and a smaller one dreams at its own size and leaves
    out the octaves its shrinking stands in for, so the smallest octave, which sets the largest features,
    keeps about its size.
    """
    relative = scale * feature_scale  # this frame against the full render's top octave
    if relative >= 1.0:
        return octaves, 1.0 / relative, 1.0
    return max(1, octaves - round(math.log(1.0 / relative) / math.log(octave_scale))), 1.0, relative
