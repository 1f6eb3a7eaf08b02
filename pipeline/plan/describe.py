"""The plan as text: the table `--dry-run` prints, and the labels of objective terms."""

from __future__ import annotations

from pydantic import BaseModel

from ..scene import Scene
from ..scene.formats import format_of
from ..scene.keyframes import Track
from ..scene.schema import DreamConfig, MotionConfig
from ..dream.objectives import Objective
from .deliver import clamped_ranges
from .frames import Plan, TermWeight, segment_terms


def describe_terms(terms: dict[Objective, float | TermWeight]) -> str:
    def shown(weight):
        return weight.describe() if isinstance(weight, TermWeight) else f"{weight:.3g}"

    return ", ".join(f"{term.label} {shown(weight)}" for term, weight in terms.items())


def describe(scene: Scene, plan: Plan) -> str:
    """A table of the plan, one block per segment, for --dry-run."""
    out = [
        f"scene    {scene.file}",
        *([] if plan.deliverables else [f"output   {scene.output_path}"]),
        f"{'canvas' if plan.deliverables else 'video':<8} {plan.width}x{plan.height}, {plan.fps:g} fps, "
        f"{plan.frame_count} frames ({plan.frame_count / plan.fps:.1f} s)",
        f"model    {scene.model} ({scene.weights} weights)    start {scene.start}"
        + ("  (dreamed)" if scene.dream_start else "")
        + f"    seed {scene.seed}"
        + (f"    crf {scene.encode.crf}" if format_of(scene.output_path).name in ("mp4", "webp") else ""),
    ]
    out += _deliverables(plan) + _music(scene, plan) + _clips(scene)
    for overlay in plan.overlays:
        out.append(f"overlay  {overlay.image.name} at [{overlay.position[0]:g}, {overlay.position[1]:g}] "
                   f"({overlay.anchor}), {overlay.width:g} of the width, frames {overlay.first}-{overlay.last}, "
                   f"opacity {overlay.opacity.describe()}")
    for text in plan.texts:
        words = text.content.replace("\n", " / ")
        out.append(f"text     {text.name}: {words[:40]!r}{'...' if len(words) > 40 else ''}, frames "
                   f"{text.first}-{text.last}, {text.style.size:g} of the height, opacity {text.opacity.describe()}")
    if plan.reverse:
        out.append(f"reverse  the video plays the dream backwards: video frame n is dreamed frame "
                   f"{plan.frame_count - 1} - n")
    for where, mask in [("scene", scene.mask)] + [(f"segment {i}", s.mask) for i, s in enumerate(scene.segments)]:
        if mask is not None:
            out.append(f"mask     {where}: {mask.image}" + (" inverted" if mask.invert else "")
                       + f", feather {mask.feather:g} px, follows the {mask.follows}, "
                       f"strength {mask.strength.describe()}")
    if scene.color.strength != Track.constant(0.0):
        out.append(f"color    match {scene.color.reference}, strength {scene.color.strength.describe()}")
    out += [f"note     {note}" for note in plan.notes]
    out += [f"time     {path}: " + ", ".join(f"{key} -> frame {frame}" for key, frame in landed)
            for path, landed in _landed_keys(scene)]
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
            dream, motion = _columns(spec.dream, DreamConfig), _columns(spec.motion, MotionConfig)
            out.append(f"  frame {spec.index:>5}: {dream} | {motion}")
    return "\n".join(out)


def _deliverables(plan: Plan) -> list[str]:
    """Each deliverable: output, size, crop (where it is resampled) and where the crop is clamped."""
    lines = []
    canvas = (plan.width, plan.height)
    for spec in plan.deliverables:
        crop = f"crop {spec.crop[0]}x{spec.crop[1]}" + (" resampled" if spec.resampled else "")
        lines.append(f"deliver  {spec.label}: {spec.output}  {spec.size[0]}x{spec.size[1]}, {crop}, focus "
                     f"{spec.focus.describe()}")
        clamped = clamped_ranges(spec, canvas, len(plan.frames))
        if clamped:
            where = ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in clamped[:6])
            more = f" and {len(clamped) - 6} more" if len(clamped) > 6 else ""
            lines.append(f"clamped  {spec.label}: the crop would leave the canvas on frames {where}{more}: "
                         "moved back inside")
    return lines


def _music(scene: Scene, plan: Plan) -> list[str]:
    """The tempo (found, with bpm: auto), the audio features formulas read, and a loop's seam."""
    lines = []
    bpm, offset = scene.tempo
    if scene.bpm == "auto" and bpm is not None:
        lines.append(f"tempo    {bpm:g} bpm found in {scene.audio.file}, beat 0 at {offset:.3f} s")
    elif bpm is not None:
        lines.append(f"tempo    {bpm:g} bpm, beat 0 at {offset:.3f} s")
    if scene.audio_features:
        lines.append(f"audio    {', '.join(scene.audio_features)} of {scene.audio.file}, 0..1 per frame")
    if plan.loop:
        end = plan.frame_count
        lines.append(f"loop     frames {end}-{end + plan.loop - 1} are dreamed past the end and blended into the "
                     f"video's last {plan.loop}; it starts at dreamed frame {plan.loop}")
    return lines


def _clips(scene: Scene) -> list[str]:
    """Each clip played: its length, rate, what happens past its end, and the flow."""
    lines = []
    for first, value, segment in scene.starts():
        clip = scene.clip(value)
        if clip is not None:
            ends = (segment and segment.clip_end) or scene.clip_end
            lines.append(f"clip     {value} from frame {first}: {clip.seconds:.2f} s at {clip.fps:g} fps = "
                         f"{clip.frames_at(scene.fps)} frames at {scene.fps:g} fps, then {ends}s; flow "
                         f"{((segment and segment.flow) or scene.flow).describe()}")
    if scene.audio is not None and scene.audio.file == "start":
        lines.append(f"audio    the sound of {scene.start}")
    return lines


def _columns(settings, config) -> str:
    """A frame's resolved values, one per key of the scene's `config` section, in its order."""
    def show(value):
        if isinstance(value, (tuple, list)):
            return "[" + ", ".join(show(v) for v in value) + "]"
        return f"{value:g}" if isinstance(value, float) else str(value)

    return ", ".join(f"{name} {show(getattr(settings, name))}" for name in config.model_fields)


def _landed_keys(scene: BaseModel, path: str = ""):
    """(key path, [(written, frame)]) for every keyframed value with keys written as times or beats."""
    for name, value in scene:
        where = f"{path}{name}"
        if isinstance(value, Track) and value.landed:
            yield where, value.landed
        elif isinstance(value, BaseModel):
            yield from _landed_keys(value, where + ".")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from _landed_keys(item, f"{where}.{index}.")


def frame_records(plan: Plan, step: int = 1):
    """One flat dict per frame (every `step`-th) with the values the render uses, for `--dry-run --json`."""
    for spec in plan.frames[::step]:
        record = {"frame": spec.index, "time": round(spec.index / plan.fps, 6), "segment": spec.segment}
        if plan.loop:  # the video frame each dreamed frame shows in (or is blended into, at the seam)
            record["video_frame"] = (spec.index - plan.loop) % plan.frame_count
        for settings, config in ((spec.motion, MotionConfig), (spec.dream, DreamConfig)):
            record.update({name: _json_value(getattr(settings, name)) for name in config.model_fields})
        amount, radius = spec.sharpen
        record.update({"color_strength": spec.color_strength, "sharpen": amount, "sharpen_radius": radius,
                       "layers": {term.label: weight for term, weight in spec.terms.items()}})
        if spec.mask is not None:
            record["mask_strength"] = spec.mask[1]
        if spec.footage is not None:
            record.update({"clip_frame": spec.footage.frame, "flow": spec.footage.flow})
        if plan.overlays:
            video = (spec.index - plan.loop) % plan.frame_count
            record["overlay_opacity"] = [o.opacity_at(video, video + plan.loop) for o in plan.overlays]
        if plan.deliverables:  # each crop's [left, top, width, height] on the canvas, and whether it was clamped
            canvas = (plan.width, plan.height)
            crops = [(d.crop_at(spec.index, canvas), d.crop) for d in plan.deliverables]
            record["crops"] = [[x, y, w, h] for (x, y, _), (w, h) in crops]
            record["clamped"] = [clamped for (_, _, clamped), _ in crops]
        yield record


def _json_value(value):
    return list(value) if isinstance(value, tuple) else value
