"""Loudness: a render's sound brought to `audio.loudness` (LUFS) under `audio.true_peak` (dBTP),
measured over the whole timeline, so a --frames range sounds as that part of the whole render."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from pipeline import SceneError
from pipeline.media import ffmpeg
from pipeline.media.loudness import loudness
from pipeline.output.encoder import VideoWriter
from pipeline.output.sinks import Audio, VideoSettings, VideoSink
from tests.helpers import ROOT

PULSE = ROOT / "scenes" / "pulse.m4a"  # -17.6 LUFS with true peaks of +3 dBTP: -14 needs the limiter


def tiny_dream(**audio) -> dict:
    return {"size": [48, 32], "fps": 8, "duration": "1s", "start": "logo.png", "model": "efficientnet_lite0",
            "weights": "random", "dream": {"octaves": 1, "iterations": 1, "step": 0.03},
            "segments": [{"at": 0, "layers": "edges"}], "audio": {"file": "pulse.m4a", **audio}}


@pytest.mark.slow
def test_a_render_comes_out_at_its_loudness_under_its_true_peak(write_scene, tmp_path, capsys):
    from pipeline.cli import main

    shutil.copy(PULSE, tmp_path / "pulse.m4a")
    scene = write_scene(tiny_dream(loudness=-14))
    code = main([str(scene), "--out", str(tmp_path / "out.mp4"), "--report", str(tmp_path / "report.json"),
                 "--device", "cpu", "--quiet"])
    out = capsys.readouterr().out
    integrated, true_peak = loudness(tmp_path / "out.mp4")
    assert code == 0 and abs(integrated - -14) <= 1.0 and true_peak <= -1.0, (integrated, true_peak)
    assert loudness(PULSE)[0] < -16  # the track itself is quieter: the render turned it up
    assert f"Sound: {integrated:.1f} LUFS, true peak {true_peak:.1f} dBTP (target -14 LUFS" in out
    reported = json.loads((tmp_path / "report.json").read_text())["scenes"][0]
    assert reported["loudness"] == {"integrated": round(integrated, 2), "true_peak": round(true_peak, 2)}
    assert not [w for w in reported["warnings"] if "sound" in w]


def two_part_track(path: Path) -> Path:
    """1 s of a quiet tone, then 1 s of a loud one: each half alone measures differently."""
    ffmpeg.run("-f", "lavfi", "-i", "aevalsrc=if(lt(t\\,1)\\,0.1\\,0.3)*sin(2*PI*440*t):s=48000:d=2",
               "-c:a", "pcm_s16le", path)
    return path


def sink_render(tmp_path: Path, audio: Audio, frames: range, name: str) -> Path:
    """A 2-second, 24-frame video of black frames, frames `frames` of it written, the sound muxed."""
    video = VideoSettings(48, 32, 12.0, first_frame=frames.start, frame_count=len(frames), total_frames=24,
                          audio=audio, audio_rate=48_000)
    output = tmp_path / f"{name}.mp4"
    sink = VideoSink(output, video)
    work = tmp_path / f".{name}.work"
    work.mkdir()
    writer = VideoWriter(work / "piece_000000.mp4", 48, 32, 12.0, preset="ultrafast")
    for _ in frames:
        writer.write(np.zeros((32, 48, 3), np.uint8))
    piece = writer.finish()
    return sink.join([piece], output)


def test_a_frames_range_gets_the_gain_of_the_whole_render(tmp_path):
    track = two_part_track(tmp_path / "two parts.wav")
    audio = Audio(track, loudness=-23.0, true_peak=-1.0)
    whole = sink_render(tmp_path, audio, range(24), "whole")
    loud_half = sink_render(tmp_path, audio, range(12, 24), "loud-half")
    assert loudness(whole)[0] == pytest.approx(-23, abs=1.0)
    # the loud half alone is louder than the whole: it got the whole's gain, not one of its own
    assert loudness(loud_half)[0] > -21.5
    plain = sink_render(tmp_path, Audio(track), range(12, 24), "plain-half")
    gain = loudness(loud_half)[0] - loudness(plain)[0]
    assert gain == pytest.approx(-23 - loudness(track)[0], abs=0.5)


def test_silence_is_left_as_it_is(tmp_path):
    silent = tmp_path / "-silent.wav"  # a leading dash is a file name, not an option
    ffmpeg.run("-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-t", "1", "-c:a", "pcm_s16le", silent)
    video = sink_render(tmp_path, Audio(silent, loudness=-14.0), range(12), "quiet")
    assert loudness(video)[0] == -np.inf


def test_loudness_of_a_file_that_is_not_a_video_is_a_media_error(tmp_path):
    fake = tmp_path / "not a video.mp4"
    fake.write_text("hello")
    with pytest.raises(ffmpeg.MediaError):
        loudness(fake)


@pytest.mark.parametrize("audio, message", [
    ({"loudness": float("nan")}, "audio.loudness"),
    ({"loudness": float("inf")}, "audio.loudness"),
    ({"loudness": 1e300}, "audio.loudness"),
    ({"loudness": 3}, "audio.loudness"),
    ({"loudness": "-14"}, "audio.loudness"),
    ({"loudness": -14, "true_peak": float("nan")}, "audio.true_peak"),
    ({"loudness": -14, "true_peak": 2}, "audio.true_peak"),
    ({"loudness": -14, "true_peak": "loud"}, "audio.true_peak"),
])
def test_loudness_keys_refuse_what_is_not_a_level(make_scene, tmp_path, audio, message):
    shutil.copy(PULSE, tmp_path / "pulse.m4a")
    with pytest.raises(SceneError, match=message.replace(".", r"\.")):
        make_scene(tiny_dream(**audio))


@pytest.mark.parametrize("make", [
    lambda: Audio(PULSE, loudness=float("nan")), lambda: Audio(PULSE, loudness=float("inf")),
    lambda: Audio(PULSE, loudness=5.0), lambda: Audio(PULSE, loudness=-14.0, true_peak=float("nan")),
    lambda: VideoSettings(48, 32, 12.0, max_bitrate=float("nan")), lambda: VideoSettings(48, 32, 12.0, max_bitrate=0),
    lambda: VideoSettings(48, 32, 12.0, max_bitrate=10**30), lambda: VideoSettings(48, 32, 12.0, audio_rate="48k"),
])
def test_encoding_settings_refuse_what_no_encoder_takes(make):
    with pytest.raises(ValueError):
        make()


def test_a_sound_too_short_to_measure_is_not_called_silent(make_scene, tmp_path, capsys):
    from pipeline.cli.single import sound_of

    shutil.copy(PULSE, tmp_path / "pulse.m4a")
    video = tmp_path / "short.mp4"  # a 4-frame scene at 24 fps: 0.17 s of a loud tone
    ffmpeg.run("-f", "lavfi", "-i", "color=s=16x16:d=0.17", "-f", "lavfi", "-i", "sine=d=0.17", "-c:a", "aac",
               "-shortest", video)
    sound_of(make_scene(tiny_dream(loudness=-14)), video)
    assert "Sound: silent, or shorter than the 0.4 s a loudness needs" in capsys.readouterr().out
