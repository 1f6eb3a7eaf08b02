"""Command line: `python render.py SCENE.yaml [options]`, plus
`python render.py layers [MODEL]` and `python render.py atlas IMAGE [options]`.

Exit codes: 0 done, 1 the render failed, 2 bad input (scene or arguments),
130 interrupted (a playable partial video is kept).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from .plan import describe, make_plan
from .scene import SceneError, load_scene, output_issues

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


@dataclass
class Outcome:
    """How one scene went: for the exit code and the batch summary."""

    scene: Path
    status: str  # done, invalid, refused, failed, interrupted, planned, storyboard
    code: int
    frames: int = 0
    seconds: float = 0.0
    output: Path | None = None


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="render.py",
        description="Render a DeepDream zoom video from a YAML scene file.",
        epilog="Also: render.py layers [MODEL] (layer table), render.py atlas IMAGE (what each layer dreams).",
    )
    parser.add_argument("scenes", type=Path, nargs="+", metavar="SCENE", help="scene files, e.g. scenes/*.yaml")
    parser.add_argument(
        "--out", type=Path, help="write here instead of the scene's output (.mp4, .mov, .gif, .webp, or a folder)"
    )
    parser.add_argument(
        "--frames", metavar="A:B", help="write only frames A to B (inclusive); earlier frames are still dreamed"
    )
    parser.add_argument(
        "--device", default="auto", help="auto (CUDA when available, else CPU), cpu, cuda or cuda:N"
    )
    quality = parser.add_mutually_exclusive_group()
    quality.add_argument(
        "--preview",
        action="store_true",
        help="fast reduced render: long side 384 px, at most 4 (longer) steps per octave "
        "(the default when no GPU is used)",
    )
    quality.add_argument("--full", action="store_true", help="full size and settings even on the CPU")
    parser.add_argument("--dry-run", action="store_true", help="print the resolved plan and exit")
    parser.add_argument(
        "--storyboard",
        action="store_true",
        help="render segment starts, midpoints and the last frame, small and fast, into NAME.storyboard.png",
    )
    parser.add_argument(
        "--precision", default="auto", choices=["auto", "fp32", "bf16"],
        help="network arithmetic: auto (bf16 on a GPU and on CPUs with bf16 matrix units such as Intel AMX, "
             "else fp32), fp32 or bf16",
    )
    parser.add_argument(
        "--max-vram", type=float, metavar="GIB",
        help="GPU memory the dream may use; larger frames are dreamed in tiles (default: the whole GPU)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted render from its checkpoint")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output (or checkpoint)")
    parser.add_argument(
        "--checkpoint-every", type=int, default=50, metavar="N",
        help="save a resumable checkpoint every N frames (default 50)",
    )
    parser.add_argument("--jobs", type=int, default=1, help="scenes rendered at once (one GPU each when there are GPUs)")
    parser.add_argument(
        "--ray", nargs="?", const="local", metavar="ADDRESS",
        help="render the scenes on Ray, one task per scene: a local instance, or join the cluster at ADDRESS",
    )
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.checkpoint_every < 1:
        parser.error("--checkpoint-every must be at least 1")
    if args.max_vram is not None and args.max_vram <= 0:
        parser.error("--max-vram must be a positive number of GiB, e.g. 12")
    return args


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


def pick_device(requested: str):
    """Resolve --device; raises ValueError with a hint when it cannot work."""
    import torch

    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(requested)
    except RuntimeError:
        raise ValueError(f"--device {requested}: not a device; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"--device {requested}: no CUDA GPU is visible here; use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(
                f"--device {requested}: only {torch.cuda.device_count()} GPU(s) visible (cuda:0..)"
            )
    elif device.type != "cpu":
        raise ValueError(f"--device {requested}: only cpu and cuda are supported")
    return device


def layers_command(argv) -> int:
    from .atlas import layer_table, model_list
    from .zoo import ZOO

    parser = argparse.ArgumentParser(prog="render.py layers", description="List a model's layers and aliases.")
    parser.add_argument("model", nargs="?", default="inception_v3", help="a model name (default inception_v3)")
    args = parser.parse_args(argv)
    if args.model not in ZOO:
        print(f"unknown model '{args.model}'. Available:\n{model_list()}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(layer_table(ZOO[args.model]))
    print()
    print(model_list())
    return EXIT_OK


def atlas_command(argv) -> int:
    from .zoo import ZOO

    parser = argparse.ArgumentParser(
        prog="render.py atlas", description="Dream one image at each alias (or layer) into one labelled PNG."
    )
    parser.add_argument("image", type=Path)
    parser.add_argument("--model", default="inception_v3", choices=list(ZOO))
    parser.add_argument("--out", type=Path, help="the PNG to write (default IMAGE_MODEL_atlas.png here)")
    parser.add_argument("--all-layers", action="store_true", help="every layer instead of the aliases")
    parser.add_argument("--size", type=int, default=480, help="long side of each tile in pixels (default 480)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    args = parser.parse_args(argv)
    if not args.image.is_file():
        print(f"{args.image}: no such image", file=sys.stderr)
        return EXIT_BAD_INPUT
    out = args.out or Path(f"{args.image.stem}_{args.model}_atlas.png")
    if out.suffix.lower() != ".png":
        print(f"--out {out}: the atlas is a .png", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        device = pick_device(args.device)
    except ValueError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_INPUT

    from PIL import UnidentifiedImageError

    from .atlas import make_atlas, save_atomically
    from .weights import ModelUnavailable

    try:
        sheet = make_atlas(args.image, args.model, args.all_layers, args.size, device)
    except (UnidentifiedImageError, OSError) as error:
        print(f"{args.image}: cannot read image: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ModelUnavailable as error:
        print(f"model {args.model}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"Atlas: {save_atomically(sheet, out)}")
    return EXIT_OK


def storyboard_command(scene, output: Path, device, progress: bool) -> int:
    from .atlas import save_atomically
    from .storyboard import make_storyboard, storyboard_path
    from .weights import ModelUnavailable

    try:
        sheet = make_storyboard(scene, device, progress)
    except ModelUnavailable as error:
        print(f"{scene.file}: model {scene.model}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("Interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"Storyboard: {save_atomically(sheet, storyboard_path(output))}")
    return EXIT_OK


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "layers":
        return layers_command(argv[1:])
    if argv and argv[0] == "atlas":
        return atlas_command(argv[1:])
    args = parse_args(argv)
    if len(args.scenes) > 1 and args.out is not None:
        print("--out names one file: use it with one scene (each scene has its own output)", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        if len(args.scenes) == 1 and not args.ray:
            try:
                device = pick_device(args.device)
            except ValueError as error:
                print(error, file=sys.stderr)
                return EXIT_BAD_INPUT
            return render_scene(args.scenes[0], args, device).code

        from .batch import run_batch

        return run_batch(args)
    except KeyboardInterrupt:
        print("Interrupted. Run the same command with --resume to continue.", file=sys.stderr)
        return EXIT_INTERRUPTED


def render_scene(path: Path, args, device) -> Outcome:
    """Validate and render one scene as the command line asks; prints its messages."""
    try:
        scene = load_scene(path)
    except SceneError as error:
        print(error.render(), file=sys.stderr)
        return Outcome(path, "invalid", EXIT_BAD_INPUT)
    output = args.out if args.out is not None else scene.output_path
    problems = output_issues(scene, output) if args.out is not None else []
    try:
        frames = parse_frames(args.frames, scene.frame_count)
    except ValueError as error:
        problems.append(("--frames", str(error)))
    if problems:
        for field, message in problems:
            print(f"--out {output}: {field}: {message}" if field != "--frames" else f"--frames: {message}",
                  file=sys.stderr)
        return Outcome(path, "invalid", EXIT_BAD_INPUT, output=output)

    preview = args.preview or (device.type == "cpu" and not args.full)
    plan = make_plan(scene, preview=preview, output=output)

    if args.dry_run:
        print(describe(scene, plan))
        return Outcome(path, "planned", EXIT_OK, output=output)

    if args.storyboard:
        return Outcome(path, "storyboard", storyboard_command(scene, output, device, not args.quiet), output=output)

    if preview and not args.preview:
        print(
            "No GPU in use: rendering a PREVIEW so it finishes in minutes "
            "(add --full for full size and settings on the CPU, much slower).",
            file=sys.stderr,
        )
    notes = plan.notes + (["--max-vram caps GPU memory; it does nothing on the CPU"]
                          if args.max_vram and device.type == "cpu" else [])
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    part = f" (writing frames {frames.start}-{frames.stop - 1})" if len(frames) != plan.frame_count else ""
    print(
        f"Rendering {path}: {plan.frame_count} frames{part}, {plan.width}x{plan.height} "
        f"at {plan.fps:g} fps, model {scene.model}, on {device}",
        file=sys.stderr,
    )

    import torch

    from .encode import EncodeError
    from .loop import RenderInterrupted, RenderRefused, render
    from .weights import ModelUnavailable

    try:
        result = render(
            scene, plan, output, device, progress=not args.quiet, frames=frames, resume=args.resume,
            overwrite=args.overwrite, checkpoint_every=args.checkpoint_every, precision=args.precision,
            max_vram=args.max_vram,
        )
    except RenderRefused as refused:
        print(f"{scene.file}: {refused}", file=sys.stderr)
        return Outcome(path, "refused", EXIT_BAD_INPUT, output=output)
    except RenderInterrupted as stop:
        where = f"; the {stop.frames} frames so far are in {stop.partial}" if stop.partial else ""
        print(f"Interrupted{where}. Run the same command with --resume to continue.", file=sys.stderr)
        return Outcome(path, "interrupted", EXIT_INTERRUPTED, stop.frames, output=output)
    except ModelUnavailable as error:
        print(f"{scene.file}: model {scene.model}: {error}", file=sys.stderr)
        return Outcome(path, "invalid", EXIT_BAD_INPUT, output=output)
    except (MemoryError, torch.cuda.OutOfMemoryError) as error:
        print(f"{scene.file}: out of memory on {device}: {str(error).splitlines()[0]}. "
              "Lower --max-vram (the dream then works in tiles) or free the GPU, "
              "and run the same command with --resume.", file=sys.stderr)
        return Outcome(path, "failed", EXIT_FAILED, output=output)
    except (EncodeError, OSError) as error:
        print(f"{scene.file}: writing {output} failed: {error}. The checkpoint is kept: fix the cause "
              "and run the same command with --resume.", file=sys.stderr)
        return Outcome(path, "failed", EXIT_FAILED, output=output)
    print(
        f"Done: {result.frames} frames in {result.seconds:.1f} s "
        f"({result.fps:.2f} frames/s) on {result.device}"
    )
    print(f"Video: {result.path}")
    return Outcome(path, "done", EXIT_OK, result.frames, result.seconds, result.path)
