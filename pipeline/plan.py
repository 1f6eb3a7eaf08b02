"""The plan: what every frame needs, resolved from a scene. Pure, no torch.

Each frame gets its layer weights (crossfades included), its dream settings
and its motion, with keyframes and segment overrides already applied, so the
frame loop only reads values and the whole render can be printed beforehand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

from .formats import format_of
from .keyframes import mix
from .scene import DREAM_DEFAULTS, MOTION_DEFAULTS, Scene
from .zoo import ZOO

PREVIEW_LONG_SIDE = 384
PREVIEW_MAX_ITERATIONS = 4


@dataclass(frozen=True)
class DreamSettings:
    octaves: int
    octave_scale: float
    iterations: int
    step: float
    jitter: int  # pixels
    smooth: float  # gradient blur sigma, pixels


@dataclass(frozen=True)
class MotionSettings:
    zoom: float
    rotate: float  # degrees per frame, counter-clockwise
    translate: tuple[float, float]  # pixels per frame, +x right, +y down
    resample: str = "bicubic"


@dataclass(frozen=True)
class FrameSpec:
    index: int
    segment: int
    terms: dict[tuple, float]  # objective term -> weight (see segment_terms)
    dream: DreamSettings
    motion: MotionSettings
    color_strength: float = 0.0  # pull toward the colour reference, 0..1
    sharpen: tuple[float, float] = (0.0, 1.0)  # unsharp mask amount, radius
    cut: tuple[str, float] | None = None  # (segment start, weight): blend the frame into it


@dataclass(frozen=True)
class Plan:
    width: int
    height: int
    fps: float
    frames: list[FrameSpec]
    preview: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def frame_count(self) -> int:
        return len(self.frames)


def _even(n: float) -> int:
    """Round up to an even number of pixels (yuv420p video needs even sides)."""
    return max(2, math.ceil(round(n, 6) / 2) * 2)


Term = tuple  # ("layer", name) | ("channel", layer, index) | ("class", index) | ("guide", image, layer)


def segment_terms(scene: Scene) -> list[dict[Term, float]]:
    """Each segment's objective as {term: weight}, aliases and class names resolved."""
    from .imagenet import class_index

    spec = ZOO[scene.model]
    resolved = []
    for segment in scene.segments:
        terms: dict[Term, float] = {}

        def add(term, weight):
            terms[term] = terms.get(term, 0.0) + weight

        for name, weight in (segment.layers or {}).items():
            add(("layer", spec.resolve(name)), weight)
        for key, weight in (segment.channels or {}).items():
            layer, channel = key.rsplit(":", 1)
            add(("channel", spec.resolve(layer), int(channel)), weight)
        for name, weight in (segment.class_ or {}).items():
            add(("class", class_index(name)), weight)
        if segment.guide:
            guide_layers = segment.guide.layers or segment.layers or {"parts": 1.0}
            for name, weight in guide_layers.items():
                add(("guide", segment.guide.image, spec.resolve(name)), segment.guide.weight * weight)
        resolved.append(terms)
    return resolved


def describe_terms(terms: dict[Term, float]) -> str:
    def label(term):
        kind, *rest = term
        if kind == "layer":
            return rest[0]
        if kind == "channel":
            return f"{rest[0]}:{rest[1]}"
        if kind == "class":
            from .imagenet import class_names

            return f"class {rest[0]} ({class_names()[rest[0]]})"
        return f"guide {rest[0]} @ {rest[1]}"

    return ", ".join(f"{label(t)} {w:.3g}" for t, w in terms.items())


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
    even_sides = format_of(output or scene.output_path).even_sides
    width, height = scene.size
    notes = []
    scale = 1.0
    if preview:
        scale = min(1.0, long_side / max(width, height))
        min_side = ZOO[scene.model].min_size
        scale = max(scale, min_side / min(width, height))
        width, height = width * scale, height * scale
    if even_sides:
        even_width, even_height = _even(width), _even(height)
    else:
        even_width, even_height = max(1, round(width)), max(1, round(height))
    if not preview and (even_width, even_height) != tuple(scene.size):
        notes.append(
            f"size {scene.size[0]}x{scene.size[1]} rounded to {even_width}x{even_height}: "
            "this video format needs even sides"
        )
    if preview:
        notes.append(
            f"preview: {even_width}x{even_height} instead of {scene.size[0]}x{scene.size[1]}, "
            f"at most {max_iterations} (longer) steps per octave"
        )

    weights = segment_terms(scene)
    frames = []
    for index, segment in enumerate(scene.segments):
        first, end = segment.frames
        for n in range(first, end + 1):
            layers = weights[index]
            fading = segment.transition and n - first < segment.transition
            alpha = (n - first + 1) / (segment.transition + 1) if fading else 1.0
            if fading:
                layers = _crossfade(weights[index - 1], layers, alpha)

            def dream_value(name):
                return _setting(name, segment.dream, scene.dream, DREAM_DEFAULTS, n)

            def motion_value(name):
                value = _setting(name, segment.motion, scene.motion, MOTION_DEFAULTS, n)
                if alpha < 1.0:  # crossfade the motion too, from the segment before
                    before = _setting(name, scene.segments[index - 1].motion, scene.motion, MOTION_DEFAULTS, n)
                    return mix(before, value, alpha)
                return value

            dream = DreamSettings(
                octaves=max(1, round(dream_value("octaves"))),
                octave_scale=dream_value("octave_scale"),
                iterations=max(0, round(dream_value("iterations"))),
                step=dream_value("step"),
                jitter=max(0, round(dream_value("jitter") * scale)),
                smooth=dream_value("smooth") * scale,
            )
            if preview and dream.iterations > max_iterations:
                # Fewer, longer steps: the preview dreams as much per frame as the full render.
                dream = replace(dream, iterations=max_iterations, step=dream.step * dream.iterations / max_iterations)
            dx, dy = motion_value("translate")
            motion = MotionSettings(
                zoom=motion_value("zoom"),
                rotate=motion_value("rotate"),
                translate=(dx * scale, dy * scale),
                resample=segment.motion.resample or scene.motion.resample or MOTION_DEFAULTS.resample,
            )
            cut = None
            if segment.start is not None and n - first < max(1, segment.blend):
                cut = (segment.start, (n - first + 1) / max(1, segment.blend))
            sharpen = (scene.sharpen.amount.at(n), scene.sharpen.radius * scale)
            color = scene.color.strength.at(n)
            frames.append(FrameSpec(n, index, dict(layers), dream, motion, color, sharpen, cut))
    return Plan(even_width, even_height, scene.fps, frames, preview, notes)


def describe(scene: Scene, plan: Plan) -> str:
    """A table of the plan, one block per segment, for --dry-run."""
    out = [
        f"scene    {scene.file}",
        f"output   {scene.output_path}",
        f"video    {plan.width}x{plan.height}, {plan.fps:g} fps, {plan.frame_count} frames "
        f"({plan.frame_count / plan.fps:.1f} s)",
        f"model    {scene.model} ({scene.weights} weights)    start {scene.start}"
        + ("  (dreamed)" if scene.dream_start else "")
        + f"    seed {scene.seed}    crf {scene.encode.crf}",
    ]
    if scene.color.strength.points != ((0, 0.0),):
        out.append(f"color    match {scene.color.reference}, strength {scene.color.strength.describe()}")
    out += [f"note     {note}" for note in plan.notes]
    weights = segment_terms(scene)
    for index, segment in enumerate(scene.segments):
        first, end = segment.frames
        out.append("")
        asked = f"layers {', '.join(segment.layers)}  ->  " if segment.layers else ""
        out.append(f"segment {index}: frames {first}-{end}  {asked}dream {describe_terms(weights[index])}")
        if segment.transition:
            out.append(f"  crossfade from segment {index - 1} over {segment.transition} frames")
        if segment.start is not None:
            out.append(f"  cut to {segment.start}" + (f", blended over {segment.blend} frames" if segment.blend else ""))
        for spec in (plan.frames[first], plan.frames[end]):
            d, m = spec.dream, spec.motion
            out.append(
                f"  frame {spec.index:>5}: octaves {d.octaves} x{d.octave_scale:g}, "
                f"{d.iterations} it, step {d.step:g}, jitter {d.jitter}, smooth {d.smooth:g} | "
                f"zoom {m.zoom:g}, rotate {m.rotate:g}, translate [{m.translate[0]:g}, {m.translate[1]:g}]"
            )
    return "\n".join(out)
