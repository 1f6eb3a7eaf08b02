"""Loudness as ITU-R BS.1770 measures it, and a sound track brought to a target.

Measured by the bundled ffmpeg's `loudnorm` filter in its measuring pass (BS.1770-4 integrated
loudness with its gates, and the true peak on a 4x oversampled signal, which the standard asks
for): no second meter to install, and the same one reads the track before it is muxed and the
finished file afterwards. Applied in two passes: the track is measured as it will be muxed, then
either turned up or down by one constant gain (when that keeps its true peak under the limit:
the sound is unchanged but for its level), or, where the gain would push peaks over the limit,
given that gain and run through ffmpeg's lookahead limiter (`alimiter`) at four times its rate,
where sample peaks are true peaks; the limiter shaves only the peaks, and the gain is corrected
by measuring again, since shaved peaks take a little loudness with them. loudnorm's own second
pass is not used: it falls back to a gain that rides the level over 3-second windows (pumping)
whenever the linear gain does not fit, misses its target on tracks under 3 s, and takes
a track of constant loudness (a loudness range of 0) for one it may not turn up linearly.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import ffmpeg

SILENCE = -70.0  # LUFS: BS.1770's absolute gate; a track this quiet has nothing to normalise
CODEC_HEADROOM = 0.5  # dB: what AAC's encoding may add to a true peak; targets stay this far under the limit
ACCURACY = 0.2  # LU: a limited track's gain is measured again until it is this close to its target
ROUNDS = 3  # at most, after the first measurement


@dataclass(frozen=True)
class Loudness:
    integrated: float  # LUFS; -inf for silence
    true_peak: float  # dBTP; -inf for silence
    range: float  # LU: the loudness range (EBU Tech 3342)

    def text(self) -> str:
        if not math.isfinite(self.integrated):
            return "silent"
        return f"{self.integrated:.1f} LUFS, true peak {self.true_peak:.1f} dBTP"


def _number(value) -> float:
    """loudnorm writes numbers as strings, silence as "-inf"."""
    number = float(value)
    return -math.inf if math.isnan(number) else number


def measure(args: list[str | Path]) -> Loudness:
    """The loudness of the sound that ffmpeg `args` (its inputs, and options that end in one mapped
    sound stream, e.g. ... "-map", "0:a:0") make; MediaError if ffmpeg cannot make it."""
    said = ffmpeg.run_reporting(*args, "-af", "loudnorm=print_format=json", "-f", "null", "-")
    return _parsed(said)


def measure_graph(args: list[str | Path], graph: str) -> Loudness:
    """As measure(), for a sound made by a filter graph whose output is labelled [sound]."""
    graph = re.sub(r"\[sound\]$", ",loudnorm=print_format=json[sound]", graph)
    said = ffmpeg.run_reporting(*args, "-filter_complex", graph, "-map", "[sound]", "-f", "null", "-")
    return _parsed(said)


def _parsed(said: str) -> Loudness:
    found = re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", said)
    if found is None:
        raise ffmpeg.MediaError("the loudness meter reported nothing")
    data = json.loads(found.group(0))
    return Loudness(_number(data["input_i"]), _number(data["input_tp"]), _number(data["input_lra"]))


def loudness(path: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of the first sound stream of the file at `path`; -inf for
    silence. Only the sound is decoded. MediaError if the file has no sound or cannot be read."""
    measured = measure(["-i", Path(path), "-map", "0:a:0"])
    return measured.integrated, measured.true_peak


def limited(gain: float, ceiling: float, rate: int) -> list[str]:
    """Filters that turn a track up by `gain` dB and hold its true peaks under `ceiling` dBTP: a
    lookahead limiter at 4x `rate` (Hz), where sample peaks are the true peaks, its delay
    compensated so the sound stays on the picture, then back to `rate`."""
    limit = min(1.0, max(0.0625, 10 ** (ceiling / 20)))
    return [f"volume={gain:.3f}dB", f"aresample={4 * rate}",
            f"alimiter=limit={limit:.5f}:attack=5:release=50:level=0:latency=1", f"aresample={rate}"]


@dataclass(frozen=True)
class Normalisation:
    """What was done to a track: its loudness before, the filters that bring it to the target, and
    how (linear: one gain; limited: a gain and a true-peak limiter; silent: nothing)."""

    before: Loudness
    filters: list[str]
    how: str
    expected: Loudness | None = None  # measured after the filters, where they were measured


def normalisation(track: Callable[[list[str]], tuple[list[str | Path], str]], target: float, true_peak: float,
                  rate: int) -> Normalisation:
    """The filters that bring a track to `target` LUFS with its true peak under `true_peak` dBTP.
    `track(filters)` gives the ffmpeg inputs and the filter graph (output [sound]) of the whole
    track as it will be muxed, with `filters` applied; `rate` is its sample rate in Hz."""
    before = measure_graph(*track([]))
    if not before.integrated > SILENCE:
        return Normalisation(before, [], "silent")
    gain = target - before.integrated
    ceiling = true_peak - CODEC_HEADROOM
    if before.true_peak + gain <= ceiling:
        return Normalisation(before, [f"volume={gain:.3f}dB"], "linear")
    filters, after = limited(gain, ceiling, rate), None
    for _ in range(ROUNDS):
        after = measure_graph(*track(filters))
        miss = target - after.integrated
        if abs(miss) <= ACCURACY or not math.isfinite(miss):
            break
        gain += miss
        filters = limited(gain, ceiling, rate)
        after = None
    return Normalisation(before, filters, "limited", after)
