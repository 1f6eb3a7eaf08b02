"""The render command's options, defined once.

Each option says whether it is per scene: those are handed on, rebuilt from
this same table, to every scene of a batch (a `--jobs` child process or a
Ray task), so a new option cannot be forgotten there.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Option:
    flag: str
    options: dict = field(default_factory=dict)
    per_scene: bool = True  # handed on to each scene of a batch
    group: str | None = None  # options of one group exclude each other


OPTIONS = (
    Option("--out", dict(type=Path, help="write here instead of the scene's output (.mp4, .mov, .gif, .webp, "
                                          "or a folder)"), per_scene=False),
    Option("--frames", dict(metavar="A:B", help="write only frames A to B (inclusive); earlier frames are still "
                                                "dreamed")),
    Option("--device", dict(default="auto", help="auto (CUDA when available, else CPU), cpu, cuda or cuda:N"),
           per_scene=False),
    Option("--preview", dict(action="store_true", help="fast reduced render: long side 384 px, at most 4 (longer) "
                                                       "steps per octave (the default when no GPU is used)"),
           group="quality"),
    Option("--full", dict(action="store_true", help="full size and settings even on the CPU"), group="quality"),
    Option("--set", dict(action="append", metavar="PATH=VALUE",
                         help="change one value of the scene, by its dotted key path: dream.step=0.003, "
                              "segments.1.layers=parts, vars.tagline=\"Dream on\"; the value is read as in the "
                              "scene file (repeatable)")),
    Option("--batch", dict(type=Path, metavar="ROWS.csv", help="one video per row of a CSV (header: the scene's "
                                                              "vars and dotted key paths) or JSON Lines file"),
           per_scene=False),
    Option("--vary", dict(action="append", metavar="PATH=A,B,...",
                          help="render every combination of these values, each beside the scene's output and named "
                               "after its values, plus NAME.variants.png: the same moments of each (repeatable)"),
           per_scene=False),
    Option("--dry-run", dict(action="store_true", help="print the resolved plan and exit")),
    Option("--json", dict(action="store_true", help="with --dry-run: the plan as JSON Lines on stdout, one object "
                                                    "per frame (frame, time, segment, motion, dream, colour, "
                                                    "layers)")),
    Option("--plot", dict(type=Path, metavar="FILE.png", help="with --dry-run: draw every value that changes over "
                                                              "time over the sound's waveform and onsets, with "
                                                              "segment starts and beats (needs matplotlib)"),
           per_scene=False),
    Option("--storyboard", dict(action="store_true", help="render segment starts, midpoints and the last frame, "
                                                          "small and fast, into NAME.storyboard.png")),
    Option("--precision", dict(default="auto", choices=["auto", "fp32", "bf16"],
                               help="network arithmetic: auto (bf16 on a GPU and on CPUs with bf16 matrix units "
                                    "such as Intel AMX, else fp32), fp32 or bf16")),
    Option("--max-vram", dict(type=float, metavar="GIB", help="GPU memory the dream may use; larger frames are "
                                                              "dreamed in tiles (default: the whole GPU)")),
    Option("--quiet", dict(action="store_true", help="no progress bar"), per_scene=False),
    Option("--report", dict(type=Path, metavar="FILE.json", help="write how the run went (per scene: status, exit "
                                                                 "code, frames, seconds, output size and SHA-256, "
                                                                 "warnings) as JSON"), per_scene=False),
    Option("--resume", dict(action="store_true", help="continue an interrupted render from its checkpoint")),
    Option("--overwrite", dict(action="store_true", help="replace an existing output (or checkpoint)")),
    Option("--checkpoint-every", dict(type=int, default=50, metavar="N",
                                      help="save a resumable checkpoint every N frames (default 50)")),
    Option("--jobs", dict(type=int, default=1, help="scenes rendered at once (one GPU each when there are GPUs)"),
           per_scene=False),
    Option("--ray", dict(nargs="?", const="local", metavar="ADDRESS",
                         help="render the scenes on Ray, one task per scene: a local instance, or join the cluster "
                              "at ADDRESS"), per_scene=False),
    Option("--serve", dict(metavar="PORT", help="while rendering, serve a live page (the latest frame, progress, "
                                                "frames/s, ETA, the segments) at http://127.0.0.1:PORT/; 0 picks "
                                                "a free port"), per_scene=False),
    Option("--serve-host", dict(metavar="ADDRESS", help="with --serve: listen on ADDRESS instead of 127.0.0.1 "
                                                        "(0.0.0.0: every interface; the page has no password)"),
           per_scene=False),
)


def build_parser(prog: str = "render.py") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Render a DeepDream zoom video from a YAML scene file.",
        epilog=f"Also: {prog} layers [MODEL] (layer table), {prog} atlas IMAGE (what each layer dreams), "
               f"{prog} check VIDEO (how a finished video looks), {prog} schema (the scene format).",
    )
    parser.add_argument("scenes", type=Path, nargs="+", metavar="SCENE", help="scene files, e.g. scenes/*.yaml")
    groups: dict[str, argparse._MutuallyExclusiveGroup] = {}
    for option in OPTIONS:
        if option.group and option.group not in groups:
            groups[option.group] = parser.add_mutually_exclusive_group()
        target = groups[option.group] if option.group else parser
        target.add_argument(option.flag, **option.options)
    return parser


def parse_args(argv, prog: str = "render.py") -> argparse.Namespace:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.checkpoint_every < 1:
        parser.error("--checkpoint-every must be at least 1")
    if args.max_vram is not None and args.max_vram <= 0:
        parser.error("--max-vram must be a positive number of GiB, e.g. 12")
    if args.plot is not None and not args.dry_run:
        parser.error("--plot draws the plan: use it with --dry-run")
    if args.plot is not None and len(args.scenes) > 1:
        parser.error("--plot names one file: use it with one scene")
    if (args.batch is not None or args.vary) and len(args.scenes) > 1:
        parser.error(f"{'--batch' if args.batch is not None else '--vary'} makes many videos from one scene: "
                     "give one scene file")
    if (args.batch is not None or args.vary) and args.out is not None:
        parser.error("--out names one file; the rows and variants each have their own output")
    if args.json and not args.dry_run:
        parser.error("--json prints the plan: use it with --dry-run")
    return args


def scene_flags(args: argparse.Namespace) -> list[str]:
    """The per-scene options of `args` as command-line flags, for a batch's children and tasks."""
    flags = []
    for option in OPTIONS:
        if not option.per_scene:
            continue
        value = getattr(args, option.flag[2:].replace("-", "_"))
        if option.options.get("action") == "store_true":
            flags += [option.flag] if value else []
        elif option.options.get("action") == "append":
            flags += [part for item in value or [] for part in (option.flag, item)]
        elif value is not None and value != option.options.get("default"):
            flags += [option.flag, str(value)]
    return flags


def parse_frames(text: str | None, count: int) -> range:
    """'A:B' (inclusive, either side may be left out) -> range; the whole timeline if None."""
    if text is None:
        return range(count)
    first, sep, last = text.partition(":")
    try:
        start = int(first) if first.strip() else 0
        end = int(last) if sep and last.strip() else (count - 1 if sep else start)
    except ValueError:
        raise ValueError(f"'{text}' is not A:B, e.g. 100:199") from None
    if not 0 <= start <= end < count:
        raise ValueError(f"'{text}' is outside the scene's frames 0-{count - 1}")
    return range(start, end + 1)


def set_overrides(args: argparse.Namespace) -> list:
    """--set PATH=VALUE as overrides of the scene (scene/templates.py); ValueError naming the flag
    for one that is not PATH=VALUE."""
    from ..scene.templates import Override, TemplateError, parse_set

    found = []
    for text in getattr(args, "set", None) or []:
        try:
            path, value = parse_set(text)
        except TemplateError as error:
            raise ValueError(f"--set {text[:80]}: {error}") from None
        shown = text if len(text) <= 80 else text[:60] + "..."
        found.append(Override(path, value, f"--set {shown}", ".".join(str(p) for p in path)))
    return found
