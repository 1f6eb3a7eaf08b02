"""The Python API for programs and notebooks: the command line's render, as one call.

    import pipeline
    scene = pipeline.Scene.from_data({...}, base_dir="assets")   # or pipeline.load_scene("x.yaml")
    result = pipeline.render(scene, out="renders/x.mp4", device="auto")

It keeps every promise the command makes (nothing but the render's own files is
touched, a finished output is verified, an interruption leaves a resumable
checkpoint); problems are exceptions instead of exit codes. Torch is imported
only when a render starts.

A render behaves as a library should: it changes nothing process-wide. The command
applies speed settings for the whole process first (cuDNN autotuning; glibc keeping
freed memory, so a CPU step does not zero fresh pages every time); a program that owns
its process may do the same with `pipeline.configure_runtime()`. Messages (a damaged
piece made again, a stop request) go to the `dreamzoom` logger; the program decides
whether and how they show. The network is loaded once and kept for the next render
in this process (a few, least recently used first: models/cache.py);
`pipeline.models.clear_cache()` lets go of them.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .output.layout import cache_dir, clash_with_inputs
from .scene import Scene, SceneError, output_issues

if TYPE_CHECKING:
    from .session.session import RenderResult


def render(scene: Scene, out: str | Path | None = None, *, device: str = "auto",
           progress: bool | Callable[[int, int], None] = False, preview: bool = False,
           frames: range | None = None, resume: bool = False, overwrite: bool = False,
           checkpoint_every: int = 50, precision: str = "auto", max_vram: float | None = None) -> RenderResult:
    """Render `scene` to `out` (default: the scene's output); returns the RenderResult
    (path, frames, seconds, device; `paths`: every output, one per deliverable with `deliver:`,
    which takes no `out`).

    progress: False, True (a progress bar on stderr) or a callable given (frames done,
    frames to do) after each frame. preview: a small, quick version. frames: write only
    this range of the timeline. The other options are the command line's flags.

    Raises SceneError (a bad `out`, one that would replace a file the scene reads, a sound
    track whose analysis fails or gives values out of bounds),
    ValueError (an unusable device or frame range), RenderRefused (something is in the
    way; the message names the option that allows it), OutputBusy (another render writes
    `out`), RenderInterrupted (Ctrl-C or SIGTERM: the partial video and the checkpoint
    are kept for resume=True), ModelUnavailable, and the errors of a failed write.
    """
    _check_arguments(out, device, progress, frames, checkpoint_every, max_vram)
    if scene.deliver and out is not None:
        raise SceneError(scene.file, [(0, "deliver", "this scene delivers several outputs, each named by its "
                                                     "item's output (" + ", ".join(i.output for i in scene.deliver)
                                                     + "): leave out= out")])
    output = Path(out) if out is not None else scene.output_path
    problems = [(0, field, message) for field, message in output_issues(scene, output)]
    for each in scene.output_paths if scene.deliver else [output]:
        clash = None if problems else clash_with_inputs(scene, each)  # a name that cannot work has no clash
        if clash:
            problems.append((0, "output", clash))
    if problems:
        raise SceneError(scene.file, problems)
    if frames is not None and (frames.step != 1 or not 0 <= frames.start < frames.stop <= scene.frame_count):
        raise ValueError(f"frames {frames} is not a range of consecutive frames within the scene's "
                         f"0-{scene.frame_count - 1}")
    if frames is not None and scene.loop and len(frames) != scene.frame_count:
        raise ValueError("a loop's end is blended into its start, so it is rendered whole: leave frames out")

    from .plan import make_plan
    from .scene.audio import analysed
    from .session.devices import pick_device
    from .session.session import render as render_session

    scene = analysed(scene, cache_dir(output))
    chosen = pick_device(device)
    plan = make_plan(scene, preview=preview, output=output)
    return render_session(scene, plan, output, chosen, progress=progress, frames=frames, resume=resume,
                          overwrite=overwrite, checkpoint_every=checkpoint_every, precision=precision,
                          max_vram=max_vram)


def _check_arguments(out, device, progress, frames, checkpoint_every, max_vram) -> None:
    """TypeError or ValueError for arguments no render can use, before anything starts."""
    if out is not None and not isinstance(out, (str, PathLike)):
        raise TypeError(f"out takes a path (str or Path), got {out!r}")
    if not isinstance(device, str):
        raise TypeError(f"device takes 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    if not (isinstance(progress, bool) or callable(progress)):
        raise TypeError(f"progress takes True, False or a callable(done, total), got {progress!r}")
    if frames is not None and not isinstance(frames, range):
        raise TypeError(f"frames takes a range, like range(0, 30), got {frames!r}")
    if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, int) or checkpoint_every < 1:
        raise ValueError(f"checkpoint_every takes a whole number of frames, 1 or more, got {checkpoint_every!r}")
    if max_vram is not None and not (isinstance(max_vram, (int, float)) and 0 < max_vram < float("inf")):
        raise ValueError(f"max_vram takes GiB as a positive number, got {max_vram!r}")
