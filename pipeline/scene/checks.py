"""What types cannot say: segments cover the frames, layers exist in the model,
files exist and can be read, the output can be written."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Optional

from pydantic import BaseModel

from ..media import ffmpeg
from ..models.zoo import ZOO
from .clips import CLIP_SUFFIXES, ClipError, is_clip, probe
from .errors import SceneIssue, did_you_mean
from .formats import allowed, format_of
from .keyframes import Track
from .schema import MAX_FRAMES, Scene, Segment
from .text_checks import file_issue, text_issues


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
        if segment.frames is None:
            issues.append(SceneIssue(("segments", index), "say where this segment is: frames: [first, last], "
                                                          "or at: where it starts"))
            continue
        issues += _bounds_issues(segment, index, expected, last)
        expected = segment.frames[1] + 1 if segment.frames[0] <= segment.frames[1] else expected
        issues += _segment_issues(segment, index)
    if expected <= last and not issues:
        issues.append(
            SceneIssue(
                ("segments", len(scene.segments) - 1, "frames"),
                f"segments end at frame {expected - 1}, but the video has {last + 1} frames (0-{last}): "
                f"extend the last segment to {last} or set frames: {expected}",
            )
        )
    for field, config in [("dream", scene.dream), ("motion", scene.motion), ("color", scene.color),
                          ("sharpen", scene.sharpen), ((), scene)]:
        for track_path, track in _tracks(config, (field,) if field else ()):
            for frame in track.frames if not track.is_constant else []:
                if frame > last:
                    issues.append(
                        SceneIssue(track_path + (frame,), f"keyframe {frame} is past the last frame {last}")
                    )
    return issues


def _bounds_issues(segment: Segment, index: int, expected: int, last: int) -> list[SceneIssue]:
    """Where the segment lies against the one before and the video's end: no gaps, no overlaps."""
    where = ("segments", index, "at" if segment.at is not None else "frames")
    first, end = segment.frames
    if segment.at is not None and segment.at != first:
        return [SceneIssue(where, f"at lands on frame {segment.at}, but frames starts at {first}: give one of them, "
                                  "or make them agree")]
    if first > end:
        return [SceneIssue(where, f"starts at {first} but ends at {end}: write [{end}, {first}]?")]
    issues = []
    if first > expected:
        issues.append(SceneIssue(where, f"starts at {first}, leaving frames {expected}-{first - 1} without a "
                                        "segment (gap)"))
    elif first < expected:
        issues.append(SceneIssue(where, f"starts at {first}, overlapping frames {first}-{expected - 1} of the "
                                        "segment before"))
    if end > last:
        issues.append(SceneIssue(where, f"ends at {end}, past the last frame {last} (the video has {last + 1} frames)"))
    return issues


def _segment_issues(segment: Segment, index: int) -> list[SceneIssue]:
    """The segment's own keys against its length: cuts, blends, crossfades, keyframes."""
    issues = []
    first, end = segment.frames
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
        issues.append(SceneIssue(("segments", index, "transition"),
                                 f"{segment.transition} frames is longer than the segment ({length} frames)"))
    for config, path in [(segment.dream, ("dream",)), (segment.motion, ("motion",)), (segment, ())]:
        for track_path, track in _tracks(config, ("segments", index) + path):
            for frame in track.frames if not track.is_constant else []:
                if not first <= frame <= end:
                    issues.append(SceneIssue(track_path + (frame,), f"keyframe {frame} is outside this segment's "
                                                                    f"frames {first}-{end} (keyframes are absolute "
                                                                    "frame numbers)"))
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
    from ..models.imagenet import class_index, class_names

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


MAX_IMAGE_PIXELS = 50_000_000  # a start, cut or guide image is cover-fit to the frame; more is a bomb or a mistake


def _image_issue(image: Path, hint: str) -> Optional[str]:
    """Why `image` cannot be used, or None."""
    if not image.exists():
        return f"image '{image}' not found; {hint}"
    if not image.is_file():
        return f"'{image}' is not a file"
    if image.suffix.lower() in CLIP_SUFFIXES and image.suffix.lower() != ".gif":
        return f"'{image.name}' is a video clip; {hint}"
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(image) as opened:
                pixels = opened.width * opened.height
                if pixels > MAX_IMAGE_PIXELS:
                    return (f"'{image}' is {opened.width}x{opened.height}, over {MAX_IMAGE_PIXELS // 10**6} "
                            "megapixels: scale it down (the frame is at most 16384 px a side anyway)")
                opened.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return f"'{image}' is too large to be a safe image (over {MAX_IMAGE_PIXELS // 10**6} megapixels)"
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        return f"cannot read image '{image}' ({error}); is it a complete PNG/JPEG file?"
    return None


def _clip_issue(clip: Path) -> Optional[str]:
    """Why a clip cannot be dreamed over, or None."""
    try:
        probe(clip)
    except ClipError as error:
        return str(error)
    return None


def _audio_issue(audio: Path) -> Optional[str]:
    """Why `audio` has no sound ffmpeg can read, or None: its first second is decoded (a fraction
    of a second), so a bad track, or one that lists a stream without samples, is found before the
    frames are dreamed, not when they are joined."""
    try:
        start = ffmpeg.run("-i", audio, "-t", "1", "-map", "0:a:0", "-ac", "1", "-ar", "8000", "-f", "s16le", "-",
                           timeout=60)
    except ffmpeg.NotRun as error:
        return f"cannot read audio '{audio}' ({error})"
    except ffmpeg.MediaError:
        return f"'{audio}' has no sound track ffmpeg can read; audio takes a sound file (mp3, m4a, wav, ...)"
    if not start:
        return f"'{audio}' holds no sound (no samples decode); audio takes a sound file (mp3, m4a, wav, ...)"
    return None


def _check_files(scene: Scene) -> list[SceneIssue]:
    issues = []
    for path, marker, file in scene.inputs():
        if marker.kind == "footage" and file.is_file() and is_clip(file):
            problem = _clip_issue(file)
        elif marker.kind in ("footage", "picture", "image", "mask"):
            problem = _image_issue(file, marker.takes)
        elif not file.is_file():
            problem = f"'{file}' not found; {marker.takes}"
        elif marker.kind in ("font", "captions"):
            problem = file_issue(marker.kind, file)
        else:
            problem = _audio_issue(file) if marker.kind == "audio" else None
        if problem:
            issues.append(SceneIssue(path, problem))
    if scene.output is not None and not scene.deliver:  # the default output is checked where it is used
        issues += [SceneIssue((field,), message) for field, message in output_issues(scene, scene.output_path)]
    return issues


def output_issues(scene: Scene, output: Path) -> list[tuple[str, str]]:
    """What is wrong with writing this scene to `output`: (field, message) pairs."""
    if output.name in ("", ".", "..") or any(c in str(output) for c in "\n\r\0"):
        return [("output", f"{str(output)!r} cannot be an output name: it needs a file or folder name, "
                           "without line breaks")]
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


def check_scene(scene: Scene, timeline: bool = True) -> list[SceneIssue]:
    """What types cannot say: coverage, layer names, files. Without `timeline` (beats on a stand-in
    tempo until bpm: auto is analysed) where segments and keyframes land is left for later."""
    issues = []
    if scene.bpm == "auto" and scene.audio is None:
        issues.append(SceneIssue(("bpm",), "auto finds the tempo in the sound track: set audio (a sound file), "
                                           "or write the tempo, e.g. bpm: 120"))
    if (scene.frames is None) == (scene.duration is None):
        issues.append(SceneIssue(("frames",), "give either frames: N or duration: '10s' (exactly one; with a "
                                              "video clip as start, neither is needed)"))
        return issues
    if scene.size is None:
        return issues + (_deliver_issues(scene, timeline) or [SceneIssue(
            ("size",), "this key is required: the frame's [width, height] in pixels, e.g. size: [1280, 720] "
                       "(or list deliver: items, each with a size or a preset, to size the canvas)")])
    if scene.frame_count > MAX_FRAMES:
        return [SceneIssue(("duration",), f"{scene.duration:g} s at {scene.fps:g} fps is {scene.frame_count} frames; "
                                          f"a scene has at most {MAX_FRAMES} (split a longer video into scenes)")]
    return (issues + (_check_segments(scene) if timeline else []) + _check_model_and_layers(scene)
            + _check_files(scene) + _check_footage(scene) + _check_overlays_and_masks(scene, timeline)
            + text_issues(scene, timeline) + _deliver_issues(scene, timeline))


def _deliver_issues(scene: Scene, timeline: bool) -> list[SceneIssue]:
    """Deliverables: each has a size, a crop inside the canvas, an output of its own that is no
    input, and fits its preset's length and frame rates; `output` and `deliver` are not both set."""
    if not scene.deliver:
        return []
    from .presets import preset_names

    issues = []
    if scene.output is not None:
        issues.append(SceneIssue(("output",), "a scene has output or deliver, not both: give this file as one of "
                                              "deliver's items (deliver: [{output: ..., preset: ...}]) or remove "
                                              "deliver"))
    reads = {path.resolve(): what for what, path in [("the scene file", scene.file)] + [
        (".".join(map(str, key)), file) for key, _, file in scene.inputs()]}
    written: dict = {}
    seconds = scene.frame_count / scene.fps
    last = scene.frame_count - 1
    for index, item in enumerate(scene.deliver):
        where = ("deliver", index)
        name = f"deliver.{index}" + (f" ({item.preset})" if item.preset else "")
        if item.frame_size is None:
            issues.append(SceneIssue(where, f"give this deliverable a size: [width, height] or a preset: "
                                            f"{preset_names()}"))
            continue
        if Path(item.output).name in ("", ".", "..") or any(c in item.output for c in "\n\r\0"):
            issues.append(SceneIssue(where + ("output",), f"{item.output!r} cannot be an output name: it needs a "
                                                          "file or folder name, without line breaks"))
            continue
        path = scene.file.parent / item.output
        issues += [SceneIssue(where + ("output",) if field == "output" else (field,), message)
                   for field, message in output_issues(scene, path)
                   if field != "audio"]  # a GIF or PNG deliverable beside videos with sound is silent
        resolved = path.resolve()
        for other, (earlier, label, named) in written.items():
            if resolved == earlier:
                issues.append(SceneIssue(where + ("output",), f"{label} writes {item.output} too: give each "
                                                              "deliverable an output of its own"))
            elif str(resolved).casefold() == other:
                issues.append(SceneIssue(where + ("output",), f"{item.output} differs from {label}'s {named} only "
                                                              "in case: on macOS and Windows they are one file; give "
                                                              "each deliverable a name of its own"))
            elif earlier in resolved.parents:
                issues.append(SceneIssue(where + ("output",), f"{item.output} is inside {label}'s folder {named}: "
                                                              "give each deliverable a place of its own"))
            elif resolved in earlier.parents:
                issues.append(SceneIssue(where + ("output",), f"{item.output} is a folder that holds {label}'s "
                                                              f"{named}: give each deliverable a place of its own"))
        written.setdefault(str(resolved).casefold(), (resolved, f"deliver.{index}", item.output))
        if resolved in reads:
            issues.append(SceneIssue(where + ("output",), f"{item.output} is {reads[resolved]}, which this render "
                                                          "reads: choose another output name"))
        size = item.frame_size
        if item.crop is not None and abs(item.crop[0] * size[1] - item.crop[1] * size[0]) > 0.01 * size[0] * size[1]:
            issues.append(SceneIssue(where + ("crop",), f"{item.crop[0]}x{item.crop[1]} has another shape than "
                                                        f"{size[0]}x{size[1]}: the picture would be stretched; give a "
                                                        f"crop of the deliverable's shape or leave it out"))
        if scene.size is not None:
            crop = item.crop_in(tuple(scene.size))
            if crop[0] > scene.size[0] or crop[1] > scene.size[1]:
                issues.append(SceneIssue(where + ("crop",), f"{crop[0]}x{crop[1]} is larger than the canvas "
                                                            f"{scene.size[0]}x{scene.size[1]} (size): make the crop "
                                                            "smaller or leave it out (the largest of its shape that "
                                                            "fits is used)"))
        preset = item.platform
        if preset is not None and item.preset is not None:
            if seconds > preset.max_duration + 1e-9:
                issues.append(SceneIssue(where + ("preset",), f"{name}: {item.preset} takes at most "
                                                              f"{preset.max_duration:g} s, and the scene is "
                                                              f"{seconds:g} s long: shorten it or choose another "
                                                              "preset"))
            if not preset.takes_fps(scene.fps):
                issues.append(SceneIssue(where + ("preset",), f"{name}: {item.preset} takes {preset.fps_text()}, "
                                                              f"and the scene plays at {scene.fps:g} fps: change "
                                                              "fps (every deliverable shares it) or choose another "
                                                              "preset"))
        if timeline and isinstance(item.focus, Track):
            issues += [SceneIssue(where + ("focus", frame), f"keyframe {frame} is past the last frame {last}")
                       for frame in item.focus.frames if not item.focus.is_constant and frame > last]
        for number, overlay in enumerate(item.overlay):
            first, end = overlay.start or 0, last if overlay.end is None else overlay.end
            if timeline and end > last:
                issues.append(SceneIssue(where + ("overlay", number, "end"), f"ends at {end}, past the last "
                                                                             f"frame {last}"))
            elif first > end:
                issues.append(SceneIssue(where + ("overlay", number, "start"), f"starts at {first}, after its end "
                                                                               f"{end}"))
    return issues


def _check_footage(scene: Scene) -> list[SceneIssue]:
    """Keys about clips need a clip: flow and clip_end where nothing plays one, audio: start on a
    start that is not a clip with sound. A seamless loop cannot play a clip: its seam dreams past the
    end, where the clip has no frames."""
    issues = []
    has_clip = any(_is_clip_value(scene, value) for _, value, _ in scene.starts())
    for path, config in [((), scene)] + [(("segments", i), s) for i, s in enumerate(scene.segments)]:
        for key in ("flow", "clip_end"):
            if not has_clip and not _is_default(config, key):  # a sidecar writes the defaults out
                issues.append(SceneIssue(path + (key,), f"{key} is about dreaming over a video clip, and this scene "
                                                        "plays none: set start to a clip (mp4, mov, ...) or remove "
                                                        f"{key}"))
    if has_clip and scene.loop:
        issues.append(SceneIssue(("loop",), "loop: true makes a seamless loop by dreaming past the end, and a clip "
                                            "has no frames there: remove loop, or loop the clip itself "
                                            "(clip_end: loop)"))
    if scene.audio is not None and scene.audio.file == "start":
        clip = scene.clip(scene.start) if _is_clip_value(scene, scene.start) else None
        if clip is None:
            issues.append(SceneIssue(("audio",), f"start keeps the start clip's own sound, but start is "
                                                 f"{scene.start!r}, not a video clip: give audio a sound file"))
        elif not clip.has_audio:
            issues.append(SceneIssue(("audio",), f"'{clip.path.name}' has no sound track: give audio a sound file, "
                                                 "or leave audio out"))
        else:
            problem = _audio_issue(clip.path)
            issues += [SceneIssue(("audio",), problem)] if problem else []
    return issues


def _is_default(config: BaseModel, key: str) -> bool:
    value, default = getattr(config, key), type(config).model_fields[key].default
    return value == default or (isinstance(value, Track) and value == Track.constant(default))


def _is_clip_value(scene: Scene, value: str) -> bool:
    """Whether a start-style value names a clip that plays (one that cannot is reported at its key)."""
    try:
        return scene.clip(value) is not None
    except (ClipError, OSError):
        return False


def _check_overlays_and_masks(scene: Scene, timeline: bool) -> list[SceneIssue]:
    """Overlays within the video's frames; `mask: start` on a start image that has transparency."""
    issues = []
    last = scene.frame_count - 1
    for index, overlay in enumerate(scene.overlay):
        first, end = overlay.start or 0, last if overlay.end is None else overlay.end
        if timeline and end > last:
            issues.append(SceneIssue(("overlay", index, "end"), f"ends at {end}, past the last frame {last}"))
        elif first > end:
            issues.append(SceneIssue(("overlay", index, "start"), f"starts at {first}, after its end {end}"))
    masks = [(("mask",), scene.mask)] + [(("segments", i, "mask"), s.mask) for i, s in enumerate(scene.segments)]
    for path, mask in masks:
        if mask is None or mask.image != "start":
            continue
        problem = _transparency_issue(scene)
        if problem:
            issues.append(SceneIssue(path + ("image",), problem))
    return issues


def _transparency_issue(scene: Scene) -> Optional[str]:
    """Why the start image has no transparency for `mask: start` to read, or None."""
    image = scene.start_image
    if image is None or _is_clip_value(scene, scene.start):
        return f"start uses the start image's transparency, but start is {scene.start!r}: give an image file"
    if _image_issue(image, "") is not None:
        return None  # reported at start
    from PIL import Image

    with Image.open(image) as opened:
        if opened.mode in ("RGBA", "LA", "PA") or "transparency" in opened.info:
            return None
    return (f"start uses the start image's transparency, but '{image.name}' has none (mode {opened.mode}): "
            "save it as a PNG with transparency, or give a mask image")
