"""The commands: render scenes (one, or a batch), list a model's layers, make an atlas.

Exit codes: 0 done, 1 the render failed, 2 bad input (scene or arguments),
130 interrupted (a playable partial video is kept).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from ..plan import describe, make_plan
from ..scene import SceneError, load_scene, output_issues
from .args import parse_args, parse_frames

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


def layers_command(argv) -> int:
    from ..tools.atlas import layer_table, model_list
    from ..models.zoo import ZOO

    parser = argparse.ArgumentParser(prog=f"{program_name()} layers", description="List a model's layers and aliases.")
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
    from ..models.zoo import ZOO

    parser = argparse.ArgumentParser(
        prog=f"{program_name()} atlas", description="Dream one image at each alias (or layer) into one labelled PNG."
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
    from ..session.devices import pick_device

    try:
        device = pick_device(args.device)
    except ValueError as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_INPUT

    from PIL import UnidentifiedImageError

    from ..output.sheets import save_atomically
    from ..tools.atlas import make_atlas
    from ..models.weights import ModelUnavailable

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
    from ..output.sheets import save_atomically
    from ..session.storyboard import make_storyboard, storyboard_path
    from ..models.weights import ModelUnavailable

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


def program_name() -> str:
    """How this command was started, for its messages: render.py, python -m pipeline or dreamzoom."""
    name = Path(sys.argv[0]).name
    return "python -m pipeline" if name == "__main__.py" else name


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "layers":
        return layers_command(argv[1:])
    if argv and argv[0] == "atlas":
        return atlas_command(argv[1:])
    args = parse_args(argv, program_name())
    if len(args.scenes) > 1 and args.out is not None:
        print("--out names one file: use it with one scene (each scene has its own output)", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        if len(args.scenes) == 1 and not args.ray:
            return render_scene(args.scenes[0], args).code

        from .batch import run_batch

        return run_batch(args)
    except KeyboardInterrupt:
        print("Interrupted. Run the same command with --resume to continue.", file=sys.stderr)
        return EXIT_INTERRUPTED


def render_scene(path: Path, args) -> Outcome:
    """Validate and render one scene as the command line asks; prints its messages.

    Nothing heavy is imported (torch included) until the scene and the options are known to be good.
    """
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

    from ..session.devices import pick_device

    try:
        device = pick_device(args.device)
    except ValueError as error:
        print(error, file=sys.stderr)
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

    from ..output.encoder import EncodeError
    from ..session.session import RenderInterrupted, RenderRefused, render
    from ..models.weights import ModelUnavailable

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
