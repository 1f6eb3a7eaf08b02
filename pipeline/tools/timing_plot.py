"""`--dry-run --plot curves.png`: every value that changes over time, one row each, drawn over
the sound's waveform and onsets, with segment boundaries and beat ticks, so the timing can be
seen before a frame is dreamed. matplotlib is an optional extra (`pip install '.[plot]'`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

MAX_POINTS = 4000  # frames drawn per curve: more than a plot's width in pixels
MAX_ROWS = 24  # more would be too thin to read; the chart says so


class PlotUnavailable(Exception):
    """matplotlib is not installed; the message says how to get it."""


def changing_values(records: list[dict]) -> dict[str, np.ndarray]:
    """name -> values over the records, for every number (or component, or layer weight) that changes."""
    columns: dict[str, list] = {}
    for index, record in enumerate(records):
        flat = {}
        for key, value in record.items():
            if key in ("frame", "time", "video_frame", "segment"):  # segments: the dashed lines
                continue
            if isinstance(value, dict):
                flat.update({f"{key} {name}": weight for name, weight in value.items()})
            elif isinstance(value, list) and value and all(isinstance(v, list) for v in value):  # each crop's box
                flat.update({f"{key} {n} {name}": v for n, box in enumerate(value)
                             for name, v in zip(("left", "top", "width", "height"), box)})
            elif isinstance(value, list):
                names = "xy" if len(value) == 2 and key != "overlay_opacity" else range(len(value))
                flat.update({f"{key} {name}": v for name, v in zip(names, value) if not isinstance(v, bool)})
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                flat[key] = value
        for key, value in flat.items():
            columns.setdefault(key, [0.0] * index).append(float(value))
        for key in columns.keys() - flat.keys():  # a layer weight absent here is 0
            columns[key].append(0.0)
    arrays = {key: np.asarray(values) for key, values in columns.items()}
    return {key: values for key, values in arrays.items() if np.ptp(values) > 1e-12}


def draw(path: Path, records: list[dict], fps: float, segment_starts: list[int], beats: np.ndarray,
         waveform: tuple[np.ndarray, float] | None = None, onsets: np.ndarray | None = None,
         title: str = "", loop_from: int | None = None) -> Path:
    """Write the plot to `path` (PNG, atomically); `records` are the plan's frames (frame_records)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotUnavailable("--plot draws with matplotlib: pip install matplotlib "
                              "(or the project's plot extra: pip install '.[plot]')") from None
    stride = max(1, len(records) // MAX_POINTS)
    records = records[::stride]
    times = np.array([r["time"] for r in records])
    curves = changing_values(records)
    names = list(curves)[:MAX_ROWS]
    rows = len(names) + 1
    figure, axes = plt.subplots(rows, 1, figsize=(12, 1.2 + 1.1 * rows), sharex=True, squeeze=False)
    axes = axes[:, 0]
    sound = axes[0]
    if waveform is not None:
        envelope, rate = waveform
        t = np.arange(len(envelope)) / rate
        sound.fill_between(t, -envelope, envelope, color="0.6", linewidth=0)
        for onset in onsets if onsets is not None else ():
            sound.axvline(onset, color="tab:red", linewidth=0.6, alpha=0.7)
        sound.set_ylabel("sound", rotation=0, ha="right")
    else:
        sound.text(0.5, 0.5, "no sound track", ha="center", va="center", transform=sound.transAxes)
    sound.set_yticks([])
    for axis, name in zip(axes[1:], names):
        axis.plot(times, curves[name], linewidth=1.0)
        axis.set_ylabel(name, rotation=0, ha="right")
    for axis in axes:
        for start in segment_starts[1:]:
            axis.axvline(start / fps, color="k", linewidth=0.8, linestyle="--")
        if loop_from is not None:
            axis.axvspan(loop_from / fps, times[-1] if len(times) else loop_from / fps, color="tab:orange",
                         alpha=0.12)
    end = times[-1] if len(times) else 1.0
    visible = beats[(beats >= 0) & (beats <= end)]
    if len(visible) <= 2000:
        sound.vlines(visible, 0, 0.12, transform=sound.get_xaxis_transform(), color="tab:purple", linewidth=1.2)
    left_out = f"; {len(curves) - len(names)} more values not drawn" if len(curves) > len(names) else ""
    axes[-1].set_xlabel("seconds (dashed: segment starts; purple ticks: beats; red: onsets; orange: loop seam"
                        f"{left_out})")
    axes[0].set_title(title)
    figure.tight_layout()
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".plot-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            figure.savefig(file, format="png", dpi=100)
        os.chmod(temp, 0o644)  # as any file the render writes, not mkstemp's private 0600
        os.replace(temp, path)
    finally:
        plt.close(figure)
        Path(temp).unlink(missing_ok=True)
    return path
