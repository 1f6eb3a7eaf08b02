"""`check VIDEO`: how a finished video looks, per sixth, with a warning for each figure out of bounds;
with `--preset NAME`, whether it meets a platform's spec (size, rate, length, codecs, fast start,
bitrate, sound and loudness), from the file's packets and its decoded sound only."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from ..output.sidecar import invoked_as
from .outcome import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK

LOUDNESS_TOLERANCE = 1.0  # LU either side of a preset's loudness


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


def preset_findings(video: Path, preset) -> list[tuple[bool | None, str]]:
    """What `video` meets of `preset`, one (passed, words) per requirement: passed is None for a
    note that does not fail it (no sound). Reads the packets and decodes only the sound: the look
    figures are the only pass that decodes the picture. MediaError if it is not a readable video."""
    from ..media import ffmpeg
    from ..media.files import moov_before_mdat
    from ..media.loudness import loudness

    facts = ffmpeg.probe(video)
    v = facts.video
    if v is None:
        raise ffmpeg.MediaError("it has no video stream")
    found: list[tuple[bool | None, str]] = []
    want = preset.size
    found.append(((v.width, v.height) == want,
                  f"size {v.width}x{v.height}" + ("" if (v.width, v.height) == want else f", not {want[0]}x{want[1]}")))
    fps = float(v.rate) if v.rate else 0.0
    found.append((preset.takes_fps(fps), f"frame rate {fps:.3f} fps" + (
        "" if preset.takes_fps(fps) else f", outside {preset.fps_text()}")))
    seconds = v.seconds or facts.seconds or 0.0
    found.append((seconds <= preset.max_duration + 0.01, f"duration {seconds:.2f} s" + (
        "" if seconds <= preset.max_duration + 0.01 else f", over the {preset.max_duration:g} s the platform takes")))
    codec_ok = v.codec == "h264" and v.pix_fmt == "yuv420p"
    found.append((codec_ok, f"video {v.codec} {v.pix_fmt}" + ("" if codec_ok else ", not h264 yuv420p")))
    if video.suffix.lower() in (".mp4", ".mov", ".m4v"):
        first = moov_before_mdat(video)
        found.append((first is True, "fast start: the index (moov) comes before the media (mdat)" if first else
                      "no fast start: the index (moov) comes after the media; re-mux with -movflags +faststart"))
    else:
        found.append((False, f"container {facts.container}, not MP4 (fast start needs MP4 or MOV)"))
    cap = preset.bitrate_for(fps)
    bitrate = v.bytes * 8 / seconds if seconds else 0.0
    found.append((bitrate <= cap, f"video bitrate {bitrate / 1e6:.2f} Mbit/s" + (
        "" if bitrate <= cap else f", over the {cap / 1e6:g} Mbit/s cap")))
    a = facts.audio
    if a is None:
        found.append((None, "no sound: nothing to check of AAC, its rate or its loudness"))
        return found
    sound_ok = a.codec == "aac" and a.sample_rate == preset.audio_rate
    found.append((sound_ok, f"sound {a.codec} {a.sample_rate / 1000:g} kHz" + (
        "" if sound_ok else f", not AAC {preset.audio_rate / 1000:g} kHz")))
    integrated, peak = loudness(video)
    if not math.isfinite(integrated):
        found.append((None, "the sound is silent, or shorter than the 0.4 s a loudness needs: no loudness to measure"))
        return found
    off = integrated - preset.loudness
    found.append((abs(off) <= LOUDNESS_TOLERANCE, f"loudness {integrated:.1f} LUFS" + (
        "" if abs(off) <= LOUDNESS_TOLERANCE else
        f", {abs(off):.1f} LU {'over' if off > 0 else 'under'} the target of {preset.loudness:g}")))
    found.append((peak <= preset.true_peak, f"true peak {peak:.1f} dBTP" + (
        "" if peak <= preset.true_peak else f", over the limit of {preset.true_peak:g}")))
    return found


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
    parser.add_argument("--preset", metavar="NAME",
                        help="also check it against a platform's spec (see `presets`): a requirement it fails "
                             "makes the exit code 1")
    parser.add_argument("--json", action="store_true", help="the figures and warnings as one JSON object")
    args = parser.parse_args(argv)
    video = args.video
    if args.zoom is not None and not 0.5 <= args.zoom <= 2.0:
        parser.error("--zoom is the scale from one frame to the next, e.g. 1.02 (between 0.5 and 2)")
    preset = None
    if args.preset is not None:
        from ..scene.presets import PRESETS, preset_names

        preset = PRESETS.get(args.preset)
        if preset is None:
            print(f"--preset {args.preset}: no such preset; the presets are {preset_names()}", file=sys.stderr)
            return EXIT_BAD_INPUT
    if not video.exists():
        print(f"{video}: no such file", file=sys.stderr)
        return EXIT_BAD_INPUT
    findings = []
    if preset is not None and video.is_dir():
        print(f"{video}: a folder of PNG frames is not a video file a platform takes: check a deliverable "
              f"rendered to .mp4 against {preset.name}, or leave --preset out", file=sys.stderr)
        return EXIT_BAD_INPUT
    if preset is not None:
        from ..media.ffmpeg import MediaError

        try:
            findings = preset_findings(video, preset)
        except (MediaError, OSError) as error:
            print(f"{video}: cannot read it as a video: {error}", file=sys.stderr)
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
    failed = any(passed is False for passed, _ in findings)
    if args.json:
        data = {"video": str(video), "flicker_motion": source, **report.as_dict()}
        if preset is not None:
            data["preset"] = {"name": preset.name, "passed": not failed,
                              "findings": [{"passed": passed, "text": text} for passed, text in findings]}
        lines = [json.dumps(data)]
    else:
        lines = [f"{video}: {report.frames} frames, {report.width}x{report.height}; {source}", table(report)]
        lines += [f"warning: {warning}" for warning in report.warnings] or ["ok: no figure out of bounds"]
        if preset is not None:
            lines.append(f"{preset.name} ({preset.platform}):")
            lines += [f"{'note' if passed is None else 'ok' if passed else 'FAIL'}: {text}" for passed, text in findings]
            lines.append(f"fails {preset.name}: {sum(p is False for p, _ in findings)} requirement(s)" if failed
                         else f"meets {preset.name}")
    try:
        print("\n".join(lines), flush=True)
    except BrokenPipeError:  # the reader has what it wanted (`| head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_FAILED if failed else EXIT_OK
