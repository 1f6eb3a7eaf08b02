"""`--dry-run --plot FILE.png`: the scene's timing drawn, before anything is dreamed."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..plan import frame_records
from .outcome import EXIT_BAD_INPUT, EXIT_OK


def plot_issue(scene, plot: Path, overwrite: bool) -> str | None:
    """Why `plot` cannot be written, or None: checked before the plan is made."""
    if plot.suffix.lower() != ".png":
        return f"--plot {plot}: the plot is a PNG image: name it like curves.png"
    if not plot.parent.is_dir():
        return f"--plot {plot}: the folder {plot.parent} does not exist"
    if plot.is_dir():
        return f"--plot {plot}: is a folder"
    if plot.resolve() in {path.resolve() for path in scene.input_files()}:
        return f"--plot {plot}: the scene reads that file: choose another name"
    if plot.exists() and not overwrite:
        return f"--plot {plot} exists: add --overwrite to replace it"
    return None


def plot_command(scene, plan, output: Path, plot: Path) -> int:
    """Draw the plan's changing values over the sound track into `plot`."""
    from ..tools.timing_plot import PlotUnavailable, draw
    from ..output.layout import cache_dir
    from ..scene.audio import analysis_of

    stride = max(1, len(plan.frames) // 4000)
    records = list(frame_records(plan, step=stride))
    waveform = onsets = None
    if scene.audio is not None:
        analysis = analysis_of(scene, cache_dir(output))
        waveform, onsets = (analysis.envelope, analysis.rate), analysis.onsets
    bpm, offset = scene.tempo
    end = len(plan.frames) / plan.fps
    beats = offset + np.arange(0, (end - offset) * bpm / 60 + 1) * 60 / bpm if bpm else np.array([])
    try:
        draw(plot, records, plan.fps, [segment.frames[0] for segment in scene.segments], beats, waveform, onsets,
             title=f"{scene.file.name}: {plan.frame_count} frames at {plan.fps:g} fps",
             loop_from=plan.frame_count if plan.loop else None)
    except PlotUnavailable as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as error:
        print(f"--plot {plot}: cannot write it: {error.strerror or error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"Plot: {plot}", file=sys.stderr)
    return EXIT_OK
