"""Encoding: exact frames, size and fps; nothing appears under the final name until done."""

import imageio.v3 as iio
import numpy as np
import pytest

from pipeline.output.encoder import VideoWriter, partial_path


def frames(count, width, height):
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    return [np.roll(base, 4 * i, axis=1) for i in range(count)]



def test_writes_exact_frame_count_size_and_fps(tmp_path):
    target = tmp_path / "deep" / "clip.mp4"
    writer = VideoWriter(target, 96, 64, fps=12, crf=18, preset="ultrafast")
    for frame in frames(17, 96, 64):
        writer.write(frame)
    assert not target.exists() and partial_path(target).exists()
    assert writer.finish() == target
    assert not partial_path(target).exists()
    decoded = iio.imread(target)
    assert decoded.shape == (17, 64, 96, 3)
    assert iio.immeta(target)["fps"] == pytest.approx(12)


def test_fractional_fps_is_kept(tmp_path):
    target = tmp_path / "ntsc.mp4"
    writer = VideoWriter(target, 64, 48, fps=29.97, crf=23, preset="ultrafast")
    for frame in frames(5, 64, 48):
        writer.write(frame)
    writer.finish()
    assert iio.immeta(target)["fps"] == pytest.approx(29.97, abs=0.01)


def test_crf_trades_size_for_quality(tmp_path):
    sizes = {}
    for crf in (10, 40):
        target = tmp_path / f"crf{crf}.mp4"
        writer = VideoWriter(target, 128, 96, fps=10, crf=crf, preset="ultrafast")
        for frame in frames(6, 128, 96):
            writer.write(frame)
        sizes[crf] = writer.finish().stat().st_size
    assert sizes[10] > 2 * sizes[40]


def test_discard_leaves_nothing(tmp_path):
    target = tmp_path / "gone.mp4"
    writer = VideoWriter(target, 64, 48, fps=10, crf=18, preset="ultrafast")
    writer.write(frames(1, 64, 48)[0])
    writer.discard()
    assert list(tmp_path.iterdir()) == []


def test_rejects_odd_sizes_and_wrong_frames(tmp_path):
    with pytest.raises(ValueError, match="even"):
        VideoWriter(tmp_path / "odd.mp4", 65, 48, fps=10, crf=18, preset="ultrafast")
    writer = VideoWriter(tmp_path / "x.mp4", 64, 48, fps=10, crf=18, preset="ultrafast")
    with pytest.raises(ValueError, match="uint8"):
        writer.write(np.zeros((48, 64, 3), dtype=np.float32))
    writer.discard()


def test_max_bitrate_caps_a_crf_encode(tmp_path):
    """Noise at CRF 10 takes megabits; capped at 200 kbit/s it stays near the cap (the two-second
    buffer may start full, so a four-second clip averages a little over it)."""
    noise = np.random.default_rng(1).integers(0, 255, (40, 96, 128, 3), dtype=np.uint8)
    bitrates = {}
    for cap in (None, 200_000):
        target = tmp_path / f"cap{cap}.mp4"
        writer = VideoWriter(target, 128, 96, fps=10, crf=10, preset="ultrafast", max_bitrate=cap)
        for frame in noise:
            writer.write(frame)
        bitrates[cap] = writer.finish().stat().st_size * 8 / 4.0
    assert bitrates[None] > 5 * 200_000
    assert bitrates[200_000] < 1.5 * 200_000
