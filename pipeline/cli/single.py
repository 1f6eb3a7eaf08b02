"""One scene, as the command line asks: validate, then dry-run, storyboard or render, with its messages.

Nothing heavy is imported (torch included) until the scene and the options are known to be good.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..output.layout import cache_dir, clash_with_inputs, deliver_work_dir, work_dir
from ..plan.deliver import sound_target
from ..plan import describe, frame_records, make_plan
from ..scene import SceneError, load_scene, output_issues
from ..scene.audio import analysed
from .args import parse_frames, set_overrides
from .plot import plot_command, plot_issue
from .outcome import EXIT_BAD_INPUT, EXIT_BUSY, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, Outcome, status_of
from .replace import may_replace


def say(message: str) -> None:
    print(message, file=sys.stderr)


def render_scene(path: Path, args, feed=None, overrides: list | None = None) -> Outcome:
    """Validate, then dry-run, storyboard or render one scene as the command line asks; `feed`
    (--serve's live page) sees the render. `overrides`: the values a batch's row puts in the scene
    (with --set's), else --set's."""
    try:
        scene = load_scene(path, overrides=set_overrides(args) if overrides is None else overrides)
    except ValueError as error:  # a --set that is not PATH=VALUE
        say(str(error))
        return Outcome(path, "invalid", EXIT_BAD_INPUT)
    except SceneError as error:
        say(error.render())
        return Outcome(path, "invalid", EXIT_BAD_INPUT)
    output = args.out if args.out is not None else scene.output_path
    frames = checked_options(scene, output, args)
    if frames is None:
        return Outcome(path, "invalid", EXIT_BAD_INPUT, output=output)
    outputs = scene.output_paths if scene.deliver else [output]
    resuming = args.resume and not args.dry_run and not args.storyboard
    work = deliver_work_dir(scene) if scene.deliver else work_dir(output)
    if resuming and work.is_dir():
        from ..session.checkpoint import is_ours  # torch: only where a render follows

        if is_ours(work):  # stopped, perhaps while placing its files or before their sidecars: the render
            outputs = []  # decides from its checkpoint, under its lock, which of them are its own
    finished = resuming and bool(outputs) and all(map(os.path.lexists, outputs))
    if not args.dry_run and not finished:  # what is in the way is settled before anything else is said or done
        from ..output.sheets import storyboard_path

        overwrite = args.overwrite
        for target in [storyboard_path(output)] if args.storyboard else outputs:
            refused, overwrite = may_replace(target, overwrite)
            if refused is not None:
                return Outcome(path, status_of(refused), refused, output=output)
        args = argparse.Namespace(**{**vars(args), "overwrite": overwrite})  # this scene's answer only
    issue = plot_issue(scene, args.plot, args.overwrite) if args.plot is not None else None
    if issue:
        say(issue)
        return Outcome(path, "invalid", EXIT_BAD_INPUT, output=output)
    try:
        scene = analysed(scene, cache_dir(output))  # the sound track, where formulas or bpm: auto read it
    except SceneError as error:
        say(error.render())
        return Outcome(path, "invalid", EXIT_BAD_INPUT, output=output)

    from ..session.devices import CUDA_WITHOUT_GPU, cuda_build_without_gpu, pick_device

    try:
        device = pick_device(args.device)
    except ValueError as error:
        say(str(error))
        return Outcome(path, "invalid", EXIT_BAD_INPUT, output=output)
    if not args.dry_run and cuda_build_without_gpu():
        say(f"note: {CUDA_WITHOUT_GPU}")
    preview = args.preview or (device.type == "cpu" and not args.full)
    plan = make_plan(scene, preview=preview, output=output)
    if args.dry_run:
        print_plan(scene, plan, args)
        code = EXIT_OK if args.plot is None else plot_command(scene, plan, output, args.plot)
        return Outcome(path, "planned" if code == EXIT_OK else "invalid", code, output=output)
    if finished:  # --resume over a finished render: kept when it is this one, else replaced only with --overwrite
        kept = finished_render(path, scene, plan, output, frames, args)
        if kept is not None:
            return kept
        args = argparse.Namespace(**{**vars(args), "overwrite": True})
    from ..dream.runtime import configure_runtime

    configure_runtime()  # this process is the command's: its speed settings apply
    if args.storyboard:
        if feed is not None:
            feed.started(scene, plan, None, output)
        return Outcome(path, "storyboard", storyboard_command(scene, output, device, not args.quiet), output=output)
    warnings = announce(path, scene, plan, frames, device, args, output)
    if feed is not None:
        feed.started(scene, plan, frames, output)
    outcome = run_render(path, scene, plan, output, frames, device, args, feed)
    outcome.warnings = warnings + outcome.warnings
    return outcome


def finished_render(path: Path, scene, plan, output: Path, frames: range, args) -> Outcome | None:
    """With --resume, an output already there: kept (status 'kept') when it is complete and its
    sidecar records this very render (the same resolved scene, input files, size and frames);
    otherwise refused, saying what changed, unless --overwrite lets it be rendered again (None)."""
    from ..output.sidecar import changes_since
    from ..output.verify import Damaged
    from ..session.session import scene_sink

    why = None
    for spec in plan.deliverables or [None]:  # every deliverable must be this render, whole
        each = output if spec is None else spec.output
        size = (plan.width, plan.height) if spec is None else spec.size
        changed = changes_since(scene, each, plan.preview, size, frames)
        if changed is None:
            why = "it has no sidecar to say what it was rendered from"
        elif changed:
            more = f" and {len(changed) - 6} more" if len(changed) > 6 else ""
            why = f"it was rendered from other values: {', '.join(changed[:6])}{more} changed"
        else:
            try:
                scene_sink(scene, plan, each, frames, spec).verify_output(each, len(frames))
            except (Damaged, OSError) as error:
                why = f"it is damaged ({error})"
        if why is not None:
            output = each
            break
    if why is None:
        say(f"{', '.join(str(d.output) for d in plan.deliverables) or output} is already rendered from this scene: "
            "kept")
        kept = [{"output": str(d.output), "size": list(d.size)} for d in plan.deliverables] or None
        return Outcome(path, "kept", EXIT_OK, len(frames), output=output, deliverables=kept)
    if args.overwrite:
        say(f"Rendering {output} again: {why}")
        return None
    say(f"{output} exists and {why}: add --overwrite to render it again")
    return Outcome(path, "refused", EXIT_BAD_INPUT, output=output)


def print_plan(scene, plan, args) -> None:
    """--dry-run: the plan as a table, or with --json as JSON Lines (naming the scene in a batch)."""
    if not args.json:
        print(describe(scene, plan))
        return
    named = {"scene": str(scene.file)} if len(args.scenes) > 1 else {}
    if getattr(args, "row", None):  # a batch's row or variant
        named = {"scene": str(scene.file), "row": args.row}
    try:
        for record in frame_records(plan):
            print(json.dumps({**named, **record}))
        sys.stdout.flush()
    except BrokenPipeError:  # the reader has what it wanted (`| head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def checked_options(scene, output: Path, args) -> range | None:
    """The frames to write, or None after saying what is wrong with --out or --frames."""
    shown = str(output) if str(output).isprintable() else repr(str(output))
    problems = []
    if scene.deliver and args.out is not None:
        named = ", ".join(f"deliver.{i}.output ({item.output})" for i, item in enumerate(scene.deliver))
        say(f"--out {shown}: {scene.file} delivers several outputs, each named by its item's output: {named}; "
            "leave --out out (or change those outputs)")
        return None
    if args.out is not None or scene.output is None:  # an output the scene names was checked with it
        where = f"--out {shown}" if args.out is not None else f"{scene.file}: output {shown}"
        problems += [f"{where}: {field}: {message}" for field, message in output_issues(scene, output)]
    for each in scene.output_paths if scene.deliver else [output]:
        clash = None if problems else clash_with_inputs(scene, each)  # a name that cannot work has no clash
        if clash:
            problems.append(f"{scene.file}: output {each}: {clash}")
    try:
        frames = parse_frames(args.frames, scene.frame_count)
    except ValueError as error:
        problems.append(f"--frames: {error}")
    if args.frames is not None and scene.loop:
        problems.append("--frames: a loop's end is blended into its start, so it is rendered whole: "
                        "leave --frames out")
    for problem in problems:
        say(problem)
    return None if problems else frames


def announce(path: Path, scene, plan, frames: range, device, args, output: Path) -> list[str]:
    """Say what is about to happen; returns the warnings among it."""
    if plan.preview and not args.preview:
        say("No GPU in use: rendering a PREVIEW so it finishes in minutes "
            "(add --full for full size and settings on the CPU, much slower).")
    notes = plan.notes + (["--max-vram caps GPU memory; it does nothing on the CPU"]
                          if args.max_vram and device.type == "cpu" else [])
    for note in notes:
        say(f"note: {note}")
    part = f" (writing frames {frames.start}-{frames.stop - 1})" if len(frames) != plan.frame_count else ""
    row = f" ({args.row})" if getattr(args, "row", None) else ""
    size = f"{plan.width}x{plan.height}"
    if plan.deliverables:
        size = (f"a {size} canvas cut into {len(plan.deliverables)} deliverables ("
                + ", ".join(f"{d.size[0]}x{d.size[1]}" for d in plan.deliverables) + ")")
    say(f"Rendering {path}{row}: {plan.frame_count} frames{part}, {size} "
        f"at {frame_rate(plan.fps, output)}, model {scene.model}, on {device}")
    return notes


def frame_rate(fps: float, output: Path) -> str:
    """The rate the output plays at: a GIF holds only whole hundredths of a second per frame."""
    from ..output.encoder import gif_fps
    from ..scene.formats import format_of

    if format_of(output).name != "gif" or abs(gif_fps(fps) - fps) < 1e-6:
        return f"{fps:g} fps"
    return f"{gif_fps(fps):.3g} fps (a GIF's frame times are whole hundredths of a second: the nearest to {fps:g})"


def run_render(path: Path, scene, plan, output: Path, frames: range, device, args, feed=None) -> Outcome:
    """Render, turning every way it can end into one message and an outcome."""
    import contextlib

    import torch

    from ..models.weights import ModelUnavailable
    from ..output.encoder import EncodeError
    from ..output.verify import Damaged
    from ..scene.clips import ClipError
    from ..session.lock import OutputBusy
    from ..session.session import RenderInterrupted, RenderRefused, render
    from ..session.signals import exit_code_for

    hooks = feed.hooks(bar=not args.quiet) if feed is not None else contextlib.nullcontext({"progress": not args.quiet})
    try:
        with hooks as watching:
            result = render(
                scene, plan, output, device, frames=frames, resume=args.resume, overwrite=args.overwrite,
                checkpoint_every=args.checkpoint_every, precision=args.precision, max_vram=args.max_vram, **watching,
            )
    except RenderRefused as refused:
        say(f"{scene.file}: {refused}")
        return Outcome(path, "refused", EXIT_BAD_INPUT, output=output)
    except OutputBusy as busy:
        say(f"{scene.file}: busy: {busy}")
        return Outcome(path, "busy", EXIT_BUSY, output=output)
    except RenderInterrupted as stop:
        kept = ", ".join(str(partial) for partial in stop.partials)
        where = f"; the {stop.frames} frames so far are in {kept}" if kept else ""
        say(f"Interrupted{where}. Run the same command with --resume to continue.")
        return Outcome(path, "interrupted", exit_code_for(stop.signum), stop.frames, output=output)
    except ModelUnavailable as error:
        say(f"{scene.file}: model {scene.model}: {error}")
        return Outcome(path, "invalid", EXIT_BAD_INPUT, output=output)
    except (MemoryError, torch.cuda.OutOfMemoryError) as error:
        say(f"{scene.file}: out of memory on {device}: {str(error).splitlines()[0]}. "
            "Lower --max-vram (the dream then works in tiles) or free the GPU, "
            "and run the same command with --resume.")
        return Outcome(path, "failed", EXIT_FAILED, output=output)
    except Damaged as damaged:
        kept = deliver_work_dir(scene) if scene.deliver else work_dir(output)
        say(f"{scene.file}: {output} was not finished: {damaged}. Everything is kept in {kept}: "
            "the same command with --resume makes the damaged piece again.")
        return Outcome(path, "failed", EXIT_FAILED, output=output)
    except ClipError as error:
        say(f"{scene.file}: {error}. The frames so far are kept: fix or replace the clip and run the same command "
            "with --resume.")
        return Outcome(path, "failed", EXIT_FAILED, output=output)
    except (EncodeError, OSError) as error:
        say(f"{scene.file}: writing {output} failed: {error}. The checkpoint is kept: fix the cause "
            "and run the same command with --resume.")
        return Outcome(path, "failed", EXIT_FAILED, output=output)
    print(f"Done: {result.frames} frames in {result.seconds:.1f} s ({result.fps:.2f} frames/s) on {result.device}")
    measured, notes, deliverables = None, [], None
    if plan.deliverables:
        deliverables = []
        for spec, written in zip(plan.deliverables, result.paths):
            print(f"Video: {written} ({spec.size[0]}x{spec.size[1]}, {spec.label})")
            sound, its_notes = sound_of(scene, written, sound_target(scene, spec.preset))
            notes += [f"{spec.label}: {note}" for note in its_notes]
            deliverables.append({"output": str(written), "size": list(spec.size),
                                 **({"loudness": sound} if sound is not None else {})})
    else:
        print(f"Video: {result.path}")
        measured, notes = sound_of(scene, result.path)
    for note in (*result.notes, *notes):
        print(f"warning: {note}")
    return Outcome(path, "done", EXIT_OK, result.frames, result.seconds, result.path, list(notes),
                   loudness=measured, dreamed=result.dreamed, deliverables=deliverables)


def sound_of(scene, video: Path, target: tuple[float | None, float] | None = None) -> tuple[dict | None, list[str]]:
    """The loudness measured in the finished file's sound, printed; and a warning where it missed the
    target (the scene's, or a deliverable's) by more than 1 LU or its true peak went over the limit.
    (None, []) without sound."""
    from ..media.ffmpeg import MediaError
    from ..media.loudness import loudness
    from ..scene.formats import format_of

    if scene.audio is None or format_of(video).name not in ("mp4", "mov", "mkv"):
        return None, []
    try:
        integrated, true_peak = loudness(video)
    except MediaError as error:
        return None, [f"the sound's loudness could not be measured: {error}"]
    wanted, limit = target or (scene.audio.loudness, scene.audio.true_peak)
    notes = []
    if not integrated > -1e9:  # silence measures -inf
        print("Sound: silent, or shorter than the 0.4 s a loudness needs: nothing measured or normalised")
        return {"integrated": None, "true_peak": None}, notes
    target = "" if wanted is None else f" (target {wanted:g} LUFS, true peak under {limit:g} dBTP)"
    print(f"Sound: {integrated:.1f} LUFS, true peak {true_peak:.1f} dBTP{target}")
    if wanted is not None and abs(integrated - wanted) > 1.0:
        notes.append(f"the sound measures {integrated:.1f} LUFS, {abs(integrated - wanted):.1f} LU from its "
                     f"target of {wanted:g}")
    if wanted is not None and true_peak > limit:
        notes.append(f"the sound's true peak is {true_peak:.1f} dBTP, over its limit of {limit:g}")
    return {"integrated": round(integrated, 2), "true_peak": round(true_peak, 2)}, notes


def storyboard_command(scene, output: Path, device, progress: bool) -> int:
    from ..models.weights import ModelUnavailable
    from ..output.sheets import save_atomically, storyboard_path
    from ..scene.clips import ClipError
    from ..session.storyboard import make_storyboard

    try:
        sheet = make_storyboard(scene, device, progress)
    except ModelUnavailable as error:
        print(f"{scene.file}: model {scene.model}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ClipError as error:  # a clip changed or damaged since the scene was checked
        print(f"{scene.file}: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("Interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"Storyboard: {save_atomically(sheet, storyboard_path(output))}")
    return EXIT_OK
