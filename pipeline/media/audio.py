"""A sound track's features, one value per video frame, for formulas (`zoom: "1 + 0.05 * onset"`)
and the tempo for `bpm: auto`. Knows nothing of scenes: scene/audio.py applies it to one.

The track is decoded by the bundled ffmpeg (so mp3, m4a, aac and wav all work) and analysed
with librosa, the field's standard: loudness (the RMS envelope), onset (onset strength: a peak
on each hit that falls off within a few frames), bass, mid and treble (band energies), each
normalised to 0..1 over the part of the track the video plays. The analysis is cached beside
the output, named by the file's hash, so a second render of the scene starts at once.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import ffmpeg
from .files import file_hash

SAMPLE_RATE = 22050
HOP = 256  # samples per analysis value: 86 a second, finer than any video's frames
N_FFT = 2048
BANDS = {"bass": (20.0, 250.0), "mid": (250.0, 4000.0), "treble": (4000.0, SAMPLE_RATE / 2)}  # Hz
PEAK_FEATURES = ("onset",)  # a frame takes the peak of these within its time, the mean of the others
FEATURES = ("loudness", "onset", "bass", "mid", "treble")  # each 0..1
VERSION = 1  # of the analysis: a cached one of another version is made again


class AudioError(Exception):
    """The sound track could not be decoded or analysed; the message is one line."""


@dataclass(frozen=True)
class Analysis:
    """A track's features at the analysis rate, its tempo, and what the timing plot draws."""

    curves: dict[str, np.ndarray]  # name -> values 0..1, one per HOP samples
    bpm: float | None  # None where no steady beat was found
    first_beat: float  # seconds
    onsets: np.ndarray  # seconds of the hits
    envelope: np.ndarray  # peak amplitude per HOP samples: the waveform, drawn
    rate: float = SAMPLE_RATE / HOP  # values a second

    def per_frame(self, name: str, fps: float, count: int) -> np.ndarray:
        """The feature over each of `count` video frames (its time [n, n+1) / fps): the mean,
        or the peak for onsets so no hit falls between frames; 0 past the track's end. Scaled
        so its largest frame is 1, at any fps."""
        curve = self.curves[name]
        edges = np.round(np.arange(count + 1) * self.rate / fps).astype(np.int64)
        starts, ends = edges[:-1], np.maximum(edges[1:], edges[:-1] + 1)
        values = np.zeros(count)
        inside = starts < len(curve)
        if inside.any():
            starts, ends = starts[inside], np.minimum(ends[inside], len(curve))
            if name in PEAK_FEATURES:
                values[inside] = [curve[a:b].max() for a, b in zip(starts, ends)]
            else:
                sums = np.concatenate([[0.0], np.cumsum(curve)])
                values[inside] = (sums[ends] - sums[starts]) / (ends - starts)
        return _normalised(values)


def decode(path: Path, seconds: float, repeat: bool = False) -> np.ndarray:
    """The first `seconds` of the track as mono float32 samples at SAMPLE_RATE; with `repeat`
    the track starts again at its end (a loop's sound does), else it simply ends."""
    repeat_input = ["-stream_loop", "-1"] if repeat else []
    try:
        samples = ffmpeg.run(*repeat_input, "-i", Path(path), "-t", f"{seconds:.3f}", "-map", "0:a:0", "-ac", "1",
                             "-ar", str(SAMPLE_RATE), "-f", "f32le", "-", timeout=600)
    except ffmpeg.MediaError as error:
        raise AudioError(f"cannot decode '{path}': {error}") from None
    return np.frombuffer(samples, dtype=np.float32)


def analyse(samples: np.ndarray) -> Analysis:
    """The features and tempo of mono samples at SAMPLE_RATE."""
    import librosa

    if len(samples) < N_FFT:
        samples = np.pad(samples, (0, N_FFT - len(samples)))
    spectrum = np.abs(librosa.stft(samples, n_fft=N_FFT, hop_length=HOP))
    frequencies = librosa.fft_frequencies(sr=SAMPLE_RATE, n_fft=N_FFT)
    curves = {"loudness": librosa.feature.rms(S=spectrum, frame_length=N_FFT)[0],
              "onset": librosa.onset.onset_strength(y=samples, sr=SAMPLE_RATE, hop_length=HOP, n_fft=N_FFT)}
    for name, (low, high) in BANDS.items():
        band = (frequencies >= low) & (frequencies < high)
        curves[name] = np.sqrt((spectrum[band] ** 2).mean(axis=0))
    length = spectrum.shape[1]
    curves = {name: _normalised(curve[:length]) for name, curve in curves.items()}
    bpm, first_beat = _tempo(curves["onset"])
    onsets = librosa.onset.onset_detect(onset_envelope=curves["onset"], sr=SAMPLE_RATE, hop_length=HOP,
                                        units="time")
    padded = np.pad(np.abs(samples), (0, length * HOP - len(samples))) if length * HOP > len(samples) else \
        np.abs(samples[:length * HOP])
    envelope = padded.reshape(length, HOP).max(axis=1)
    return Analysis(curves, bpm, first_beat, np.asarray(onsets, dtype=float), envelope)


def _normalised(curve: np.ndarray) -> np.ndarray:
    curve = np.nan_to_num(np.asarray(curve, dtype=float), nan=0.0, posinf=0.0, neginf=0.0).clip(min=0.0)
    peak = curve.max(initial=0.0)
    return curve / peak if peak > 1e-12 else np.zeros_like(curve)


def _tempo(onset: np.ndarray) -> tuple[float | None, float]:
    """(bpm, seconds of the first beat) from the onset curve: librosa's beat tracker, then a line
    fitted through its beats, so the tempo is not rounded to the analysis grid (120, not 117.5)."""
    import librosa

    if not onset.any():
        return None, 0.0
    _, beats = librosa.beat.beat_track(onset_envelope=onset, sr=SAMPLE_RATE, hop_length=HOP)
    times = librosa.frames_to_time(np.asarray(beats), sr=SAMPLE_RATE, hop_length=HOP)
    if len(times) < 4:
        return None, 0.0
    period, first = np.polyfit(np.arange(len(times)), times, 1)
    if not period > 0:
        return None, 0.0
    return round(60.0 / float(period), 2), float(first % period)


def cached_analysis(path: Path, seconds: float, cache: Path | None, repeat: bool = False) -> Analysis:
    """The analysis of the track's first `seconds` (played on repeat with `repeat`), from `cache`
    (a folder) when made before."""
    name = f"audio-{file_hash(path)[:24]}-{seconds:.3f}s{'-repeated' if repeat else ''}-v{VERSION}.npz"
    if cache is not None and (cache / name).is_file():
        try:
            with np.load(cache / name, allow_pickle=False) as stored:
                bpm = float(stored["bpm"])
                return Analysis({n: stored[n] for n in FEATURES}, bpm if bpm > 0 else None,
                                float(stored["first_beat"]), stored["onsets"], stored["envelope"])
        except (OSError, KeyError, ValueError):
            pass  # damaged or foreign: made again below
    analysis = analyse(decode(path, seconds, repeat))
    if cache is not None:
        _store(cache / name, analysis)
    return analysis


def _store(path: Path, analysis: Analysis) -> None:
    """Write the cache file atomically; a cache that cannot be written is only a slower next render."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".audio-", suffix=".npz.tmp")
        with os.fdopen(handle, "wb") as file:
            np.savez(file, bpm=analysis.bpm or 0.0, first_beat=analysis.first_beat, onsets=analysis.onsets,
                     envelope=analysis.envelope, **analysis.curves)
        os.chmod(temp, 0o644)  # as any file the render writes, not mkstemp's private 0600
        os.replace(temp, path)
    except OSError:
        pass
