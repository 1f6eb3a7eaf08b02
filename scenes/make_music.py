"""Make scenes/pulse.m4a, the sound track of scenes/pulse.yaml: python scenes/make_music.py

Twelve seconds at 120 bpm, synthesised here: a kick on every beat, a hi-hat between the
beats, a bass line that changes each bar and a soft chord. Nothing recorded, nobody's music.
"""

import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pipeline.media import ffmpeg  # noqa: E402  (the one place that runs ffmpeg)

RATE = 44100
BPM = 120
BARS = 6  # of four beats: 12 s
BEAT = 60 / BPM


def envelope(length: int, decay: float) -> np.ndarray:
    return np.exp(-np.arange(length) / (decay * RATE))


def kick() -> np.ndarray:
    t = np.arange(int(0.35 * RATE)) / RATE
    pitch = 50 + 90 * np.exp(-t / 0.04)  # a falling sine: the thump
    return np.sin(2 * np.pi * np.cumsum(pitch) / RATE) * envelope(len(t), 0.09)


def hat(rng: np.random.Generator) -> np.ndarray:
    noise = rng.standard_normal(int(0.06 * RATE))
    return np.diff(noise, prepend=0.0) * 0.15 * envelope(len(noise), 0.012)  # differenced noise: bright


def tone(frequency: float, seconds: float, decay: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    saw = 2 * ((frequency * t) % 1.0) - 1
    return (0.6 * saw + 0.4 * np.sin(2 * np.pi * frequency * t)) * envelope(len(t), decay)


def song() -> np.ndarray:
    rng = np.random.default_rng(7)
    track = np.zeros(int(BARS * 4 * BEAT * RATE) + RATE)

    def add(sound, at, gain=1.0):
        start = int(at * RATE)
        track[start:start + len(sound)] += gain * sound[: len(track) - start]

    roots = [55.0, 55.0, 43.65, 49.0, 55.0, 41.2]  # A, A, F, G, A, E
    for bar, root in enumerate(roots):
        for beat in range(4):
            at = (bar * 4 + beat) * BEAT
            add(kick(), at, 0.9)
            add(hat(rng), at + BEAT / 2, 1.0)
            add(tone(root, BEAT * 0.9, 0.25), at, 0.25 if beat % 2 == 0 else 0.18)
        for ratio in (2.0, 2.52, 3.0):  # a soft chord over the bar
            add(tone(root * ratio * 2, 4 * BEAT, 1.2), bar * 4 * BEAT, 0.03)
    return track[: int(BARS * 4 * BEAT * RATE)] / np.abs(track).max() * 0.8


def main() -> None:
    out = Path(__file__).with_name("pulse.m4a")
    with tempfile.TemporaryDirectory() as folder:
        pcm = Path(folder) / "pulse.wav"
        with wave.open(str(pcm), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(RATE)
            wav.writeframes((song() * 32767).astype(np.int16).tobytes())
        ffmpeg.run("-i", pcm, "-c:a", "aac", "-b:a", "96k", out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
