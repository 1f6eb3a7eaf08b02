"""`check VIDEO`: how a finished video looks, per sixth, with a warning for each figure out of bounds."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from ..output.sidecar import invoked_as
from .outcome import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK


def sidecar_motion(video: Path):
    """(motion of video frame i, where it came from) from the sidecar beside `video`, or (None, why not).
    The sidecar is the scene as rendered: its plan gives every frame's zoom, turn and pan. A
    deliverable's is its crop's share of the canvas' motion: the pivot and pan in its own pixels,
    the crop's own move (a focus that follows the action) taken off."""
    from ..plan import make_plan
    from ..scene.audio import analysed
    from ..scene import SceneError, load_scene
    from ..output.layout import cache_dir, sidecar_path

    sidecar = sidecar_path(video)
    if not sidecar.is_file():
        return None, "no sidecar"
    try:
        scene = analysed(load_scene(sidecar), cache_dir(video))  # motion may follow the sound track
        rendered = scene.rendered or {}
        plan = make_plan(scene, preview=bool(rendered.get("preview")), output=video)
        first = int((rendered.get("frames") or [0])[0])
        spec = None
        if plan.deliverables:
            spec = plan.deliverables[int((rendered.get("deliverable") or {})["index"])]
    except (SceneError, OSError, ValueError, TypeError, KeyError, IndexError) as error:
        reason = error.render().splitlines()[0] if isinstance(error, SceneError) else str(error)
        return None, f"the sidecar could not be read ({reason})"
    canvas = (plan.width, plan.height)

    def in_crop(move, before: int, after: int):
        """A canvas move from timeline frame `before` to `after` as the deliverable's frames see it."""
        if spec is None:
            return move
        zoom, turn, (dx, dy), (cx, cy) = move
        (x0, y0, _), (x1, y1, _) = spec.crop_at(before, canvas), spec.crop_at(after, canvas)
        (cw, ch), (w, h) = spec.crop, spec.size
        sx, sy = w / cw, h / ch
        return (zoom, turn, ((dx + x0 - x1) * sx, (dy + y0 - y1) * sy),
                ((cx * canvas[0] - x0) / cw, (cy * canvas[1] - y0) / ch))

    def motion(index: int):
        if plan.reverse:  # video frame i - 1 is the timeline frame after i's: its move, undone
            timeline = plan.frame_count - first - index
            if not 0 < timeline < plan.frame_count or not plan.frames[timeline].warped:
                return None
            return in_crop(undone(plan.frames[timeline].motion), timeline, timeline - 1)
        timeline = first + index + plan.loop  # a loop's video starts `loop` frames into the dream
        if not 0 <= timeline < plan.frame_count or not plan.frames[timeline].warped:
            return None
        m = plan.frames[timeline].motion
        return in_crop((m.zoom, m.rotate, tuple(m.translate), tuple(m.center)), timeline - 1, timeline)

    return motion, f"camera motion from {sidecar.name}" + (f" ({spec.label}'s crop)" if spec is not None else "")


def undone(m):
    """The camera move that takes a frame back to the one it was made from: the inverse of zoom
    and turn about the same centre, then translate, as (zoom, rotate, translate, center)."""
    zoom, turn = 1.0 / m.zoom, -m.rotate
    a, b = zoom * math.cos(math.radians(turn)), zoom * math.sin(math.radians(turn))
    dx, dy = m.translate
    return zoom, turn, (-(a * dx + b * dy), -(-b * dx + a * dy)), tuple(m.center)


def sidecar_text_warnings(video: Path) -> list[str]:
    """What the render measured of its words' contrast, from the sidecar: a warning per text that
    was hard to read."""
    import yaml

    from ..image.text import readability_warning
    from ..output.layout import sidecar_path

    try:
        data = yaml.safe_load(sidecar_path(video).read_text())
        records = data["rendered"].get("text_contrast") or []
        return [w for w in (readability_warning(r) for r in records if isinstance(r, dict)) if w]
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError, ValueError):
        return []


def check_command(argv) -> int:
    parser = argparse.ArgumentParser(
        prog=f"{invoked_as()} check",
        description="Measure a finished video per sixth: clipped pixels, detail, hue spread, flicker and colour "
                    "drift, each with a warning in plain words when it is out of bounds.",
    )
    parser.add_argument("video", type=Path, help="a rendered video (.mp4, .mov, .mkv, .gif, .webp) or PNG folder")
    parser.add_argument("--zoom", type=float, metavar="Z",
                        help="the zoom per frame, to compensate before measuring flicker (default: from the video's "
                             "sidecar, else none)")
    parser.add_argument("--json", action="store_true", help="the figures and warnings as one JSON object")
    args = parser.parse_args(argv)
    video = args.video
    if args.zoom is not None and not 0.5 <= args.zoom <= 2.0:
        parser.error("--zoom is the scale from one frame to the next, e.g. 1.02 (between 0.5 and 2)")
    if not video.exists():
        print(f"{video}: no such file", file=sys.stderr)
        return EXIT_BAD_INPUT

    from ..tools.quality import measure, read_frames, table

    if args.zoom is not None:
        zoom = args.zoom
        motion, source = (lambda index: (zoom, 0.0, (0.0, 0.0), (0.5, 0.5))), f"zoom {zoom:g} from --zoom"
    else:
        motion, source = sidecar_motion(video)
        source = source if motion else f"{source}: flicker is the plain difference (give --zoom Z to compensate)"
    try:
        report = measure(read_frames(video), motion)
    except KeyboardInterrupt:
        print("Interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # any decoder failure is one line: the file is not a video we can read
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        print(f"{video}: cannot read it as a video: {reason}", file=sys.stderr)
        return EXIT_BAD_INPUT
    report.warnings += sidecar_text_warnings(video)
    if args.json:
        lines = [json.dumps({"video": str(video), "flicker_motion": source, **report.as_dict()})]
    else:
        lines = [f"{video}: {report.frames} frames, {report.width}x{report.height}; {source}", table(report)]
        lines += [f"warning: {warning}" for warning in report.warnings] or ["ok: no figure out of bounds"]
    try:
        print("\n".join(lines), flush=True)
    except BrokenPipeError:  # the reader has what it wanted (`| head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_OK
