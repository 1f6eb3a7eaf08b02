"""Cut to the music: audio features in formulas, bpm: auto, seamless loops, the pivot of the zoom."""

import subprocess

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pytest

from pipeline import SceneError, render
from pipeline.plan import make_plan
from pipeline.scene.audio import analysed
from pipeline.media import audio as audio_module
from pipeline.output.layout import cache_dir
from pipeline.media.audio import cached_analysis

RATE = 44100
CLICKS_AT = 0.25  # seconds of the first click; then one every 0.5 s (120 bpm)


def write_audio(path, samples: np.ndarray) -> None:
    raw = path.with_suffix(".raw")
    raw.write_bytes((np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes())
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", "-f", "s16le", "-ar", str(RATE), "-ac",
                    "1", "-i", str(raw), str(path)], check=True)
    raw.unlink()


def clicks(seconds: float) -> np.ndarray:
    """A click (a 10 ms 1 kHz blip) every 0.5 s from CLICKS_AT."""
    samples = np.zeros(int(seconds * RATE), dtype=np.float32)
    blip = np.sin(2 * np.pi * 1000 * np.arange(441) / RATE) * np.exp(-np.arange(441) / 80)
    for at in np.arange(CLICKS_AT, seconds - 0.02, 0.5):
        start = int(at * RATE)
        samples[start:start + 441] += blip[: len(samples) - start]
    return samples


@pytest.fixture(scope="module")
def click_track(tmp_path_factory):
    path = tmp_path_factory.mktemp("audio") / "clicks.m4a"
    write_audio(path, clicks(8.0))
    return path


@pytest.fixture
def audio_scene(make_scene, click_track, tmp_path):
    (tmp_path / "clicks.m4a").write_bytes(click_track.read_bytes())

    def make(**keys):
        data = {"size": [96, 76], "fps": 30, "duration": "6s", "audio": "clicks.m4a", "start": "logo.png",
                "dream": {"octaves": 1, "iterations": 1, "step": 0.03, "jitter": 4},
                "segments": [{"frames": [0, 179], "layers": "edges"}], **keys}
        return make_scene(data)

    return make


def test_onset_peaks_on_the_clicks_and_falls_between_them(click_track):
    analysis = cached_analysis(click_track, 6.0, None)
    onset = analysis.per_frame("onset", 30, 180)
    click_frames = [round((CLICKS_AT + 0.5 * k) * 30) for k in range(11)]
    for frame in click_frames:
        assert onset[frame - 1:frame + 2].max() > 0.5  # a peak on every click
    between = [frame + 7 for frame in click_frames]  # a quarter second after each click
    assert onset[between].max() < 0.1
    assert analysis.per_frame("loudness", 30, 180)[between].max() < 0.1
    assert onset.max() <= 1.0 and onset.min() >= 0.0


def test_bpm_auto_finds_120_and_beats_land_on_the_clicks(audio_scene):
    scene = audio_scene(bpm="auto", motion={"zoom": {"0": 1.0, "4b": 1.05}})
    assert scene.awaits_analysis
    ready = analysed(scene)
    bpm, first_beat = ready.tempo
    assert bpm == pytest.approx(120, abs=0.5)
    assert first_beat == pytest.approx(CLICKS_AT, abs=0.03)  # beat_offset defaults to the first beat
    assert ready.motion.zoom.frames[-1] == round((first_beat + 2.0) * 30)  # 4 beats of 0.5 s after it
    written = analysed(audio_scene(bpm="auto", beat_offset=1.0, motion={"zoom": {"0": 1.0, "4b": 1.05}}))
    assert written.tempo[1] == 1.0 and written.motion.zoom.frames[-1] == 90


def test_a_zoom_that_pulses_on_the_onsets(audio_scene):
    scene = analysed(audio_scene(motion={"zoom": "1 + 0.05 * onset"}))
    plan = make_plan(scene)
    zooms = np.array([plan.frames[n].motion.zoom for n in range(180)])
    click = round((CLICKS_AT + 1.0) * 30)
    assert zooms[click - 1:click + 2].max() > 1.025 and zooms[click + 7] < 1.005


def test_audio_features_need_audio_and_are_checked_against_bounds_after_the_analysis(make_scene, write_scene,
                                                                                    click_track, tmp_path):
    from pipeline import load_scene

    with pytest.raises(SceneError, match="'onset' is a feature of the sound track: set audio"):
        make_scene({"size": [96, 76], "frames": 10, "motion": {"zoom": "1 + onset"},
                    "segments": [{"frames": [0, 9], "layers": "edges"}]})
    with pytest.raises(SceneError, match="auto finds the tempo in the sound track: set audio"):
        make_scene({"size": [96, 76], "frames": 10, "bpm": "auto", "segments": [{"frames": [0, 9], "layers": "edges"}]})
    (tmp_path / "clicks.m4a").write_bytes(click_track.read_bytes())
    path = write_scene("""
        size: [96, 76]
        duration: 2s
        audio: clicks.m4a
        motion:
          zoom: "0.45 + onset"
        segments:
          - frames: [0, 59]
            layers: edges
    """)
    scene = load_scene(path)  # fast: the formula waits for the analysis
    with pytest.raises(SceneError) as caught:
        analysed(scene)
    line, field, message = caught.value.problems[0]
    assert (line, field) == (5, "motion.zoom") and "below the minimum 0.5 at frame 0" in message


def test_no_beat_in_silence(make_scene, tmp_path):
    write_audio(tmp_path / "silence.wav", np.zeros(RATE * 3, dtype=np.float32))
    scene = make_scene({"size": [96, 76], "frames": 60, "bpm": "auto", "audio": "silence.wav",
                        "segments": [{"frames": [0, 59], "layers": "edges"}]})
    with pytest.raises(SceneError, match="no steady beat in the 2 s of .silence.wav. the video plays: write the tempo"):
        analysed(scene)


def test_the_analysis_is_cached_beside_the_output_by_the_files_hash(audio_scene, tmp_path, monkeypatch):
    scene = audio_scene(motion={"zoom": "1 + 0.05 * onset"})
    first = analysed(scene, cache_dir(scene.output_path))
    cached = list((tmp_path / "renders" / ".dreamzoom-cache").glob("audio-*.npz"))
    assert len(cached) == 1

    def no_analysis(samples):
        raise AssertionError("analysed again")

    monkeypatch.setattr(audio_module, "analyse", no_analysis)
    again = analysed(scene, cache_dir(scene.output_path))
    assert again.motion.zoom.values.tolist() == first.motion.zoom.values.tolist()
    cached[0].write_bytes(b"not an analysis")  # a damaged cache is made again, never trusted
    monkeypatch.undo()
    assert analysed(scene, cache_dir(scene.output_path)).motion.zoom.values.tolist() == first.motion.zoom.values.tolist()


def frames_of(path) -> np.ndarray:
    return iio.imread(path).astype(float)


def steps_and_seam(video, zoom: float) -> tuple[np.ndarray, float]:
    """Mean differences between each frame and the one before it moved by the zoom (what the
    eye reads as the same picture moving on), and the same across the seam, last to first."""
    import torch

    from pipeline.image.motion import warp

    frames = torch.from_numpy(frames_of(video) / 255.0).permute(0, 3, 1, 2).float()

    def step(before, after):
        return float((warp(before[None], zoom)[0] - after).abs().mean() * 255)

    return np.array([step(a, b) for a, b in zip(frames[:-1], frames[1:])]), step(frames[-1], frames[0])


@pytest.mark.slow
def test_a_loop_seam_is_as_small_as_its_steps(make_scene, reuse_inception, tmp_path):
    base = {"size": [96, 76], "fps": 10, "frames": 24, "seed": 1, "start": "logo.png",
            "dream": {"octaves": 1, "iterations": 2, "step": 0.01, "jitter": 4}, "motion": {"zoom": 1.04},
            "segments": [{"frames": [0, 23], "layers": "circles"}]}
    looped = render(make_scene({**base, "loop": True}, name="looped"), device="cpu").path
    plain = render(make_scene(base, name="plain"), device="cpu").path
    steps, seam = steps_and_seam(looped, 1.04)
    assert len(steps) == 23 and seam <= steps.max() * 1.1, (seam, steps)
    steps, seam = steps_and_seam(plain, 1.04)
    assert seam > 2 * steps.max(), (seam, steps)  # without loop: a jump the assertion above would catch


@pytest.mark.slow
def test_a_looped_render_with_sound_resumes_to_the_same_video(audio_scene, reuse_inception, tmp_path):
    scene = audio_scene(duration="2s", loop=True, fade={"in": 0.2, "out": 0.2}, bpm="auto",
                        segments=[{"frames": [0, 59], "layers": "edges"}], motion={"zoom": "1.02 + 0.03 * onset"})
    reference = render(scene, tmp_path / "reference.mp4", device="cpu", checkpoint_every=20).path

    def stop_in_the_blend(done, total):
        if done == 62:  # past the video's end: the seam is being blended
            raise KeyboardInterrupt

    from pipeline.session.session import RenderInterrupted

    with pytest.raises(RenderInterrupted):
        render(scene, tmp_path / "resumed.mp4", device="cpu", checkpoint_every=20, progress=stop_in_the_blend)
    resumed = render(scene, tmp_path / "resumed.mp4", device="cpu", checkpoint_every=20, resume=True).path
    assert np.array_equal(frames_of(resumed), frames_of(reference))
    assert len(frames_of(reference)) == 60
    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-i", str(reference)], capture_output=True, text=True)
    assert "Audio: aac" in probe.stderr
    assert "Duration: 00:00:02.0" in probe.stderr
    import yaml

    rendered = yaml.safe_load((tmp_path / "reference.mp4.yaml").read_text())["rendered"]
    assert rendered["bpm_found"] == pytest.approx(120, abs=0.5)


def test_frames_cannot_cut_a_loop(make_scene):
    scene = make_scene({"size": [96, 76], "frames": 12, "loop": True,
                        "segments": [{"frames": [0, 11], "layers": "edges"}]})
    with pytest.raises(ValueError, match="rendered whole"):
        render(scene, frames=range(0, 6))


@pytest.mark.slow
def test_dry_run_names_the_tempo_and_plots_the_timing(audio_scene, command, tmp_path):
    import yaml
    from PIL import Image

    scene = audio_scene(bpm="auto", loop=True, motion={"zoom": "1 + 0.05 * onset", "center": [0.3, 0.5]},
                        segments=[{"at": 0, "layers": "edges"}, {"at": "6b", "layers": "circles"}])
    scene_file = tmp_path / "music.yaml"
    data = {k: v for k, v in scene._source[0].items()}
    scene_file.write_text(yaml.safe_dump(data))
    plot = tmp_path / "curves.png"
    done = command(scene_file, "--dry-run", "--plot", plot)
    assert done.returncode == 0, done.stderr
    assert "bpm found in clicks.m4a, beat 0 at 0.2" in done.stdout
    assert "audio    onset of clicks.m4a" in done.stdout
    assert "loop     frames 180-209 are dreamed past the end" in done.stdout
    with Image.open(plot) as image:
        assert image.size[0] >= 1000 and image.size[1] >= 300
    again = command(scene_file, "--dry-run", "--plot", plot)
    assert again.returncode == 2 and "exists: add --overwrite" in again.stderr
    assert command(scene_file, "--plot", plot).returncode == 2  # only with --dry-run
    bad = command(scene_file, "--dry-run", "--plot", tmp_path / "clicks.m4a")
    assert bad.returncode == 2 and "the plot is a PNG image" in bad.stderr


def mixed_sound(tone, loop_seconds: float, seconds: float = 2.0) -> np.ndarray:
    """The sound a render of `seconds` at 30 fps muxes from `tone` (a loop's: looped), decoded."""
    from pipeline.output.sinks import Audio, audio_args

    out = tone.with_name(f"mixed-{loop_seconds}.mkv")
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    repeat = ["-stream_loop", "-1"] if loop_seconds else []
    subprocess.run([ffmpeg, "-y", "-v", "error", "-f", "lavfi", "-i", f"color=c=black:s=16x16:r=30:d={seconds}",
                    *repeat, "-i", str(tone), "-map", "0:v:0", "-c:v", "ffv1", "-c:a", "pcm_s16le",
                    *audio_args(Audio(tone, loop=loop_seconds), 30, 0, round(seconds * 30), round(seconds * 30)),
                    str(out)], check=True)
    raw = subprocess.run([ffmpeg, "-v", "error", "-i", str(out), "-map", "0:a:0", "-f", "s16le", "-ac", "1",
                          "-ar", str(RATE), "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.int16).astype(float) / 32767


def test_a_loops_sound_wraps_without_a_click(tmp_path):
    tone = tmp_path / "tone.wav"  # 3 s of a tone whose phase at 2 s is far from its phase at 0
    write_audio(tone, 0.5 * np.cos(2 * np.pi * 440.25 * np.arange(3 * RATE) / RATE).astype(np.float32))
    looped = mixed_sound(tone, 20 / 30)
    plain = mixed_sound(tone, 0.0)
    assert len(looped) == len(plain) == 2 * RATE
    largest_step = np.abs(np.diff(looped)).max()
    assert abs(looped[-1] - looped[0]) <= 1.05 * largest_step  # played on repeat: no click at the wrap
    assert abs(plain[-1] - plain[0]) > 5 * np.abs(np.diff(plain)).max()  # without loop: a click


def test_a_track_without_samples_is_refused_and_features_reach_1_at_any_fps(make_scene, click_track, tmp_path):
    import wave

    with wave.open(str(tmp_path / "empty.wav"), "wb") as empty:
        empty.setnchannels(1), empty.setsampwidth(2), empty.setframerate(22050)
    with pytest.raises(SceneError, match="empty.wav' holds no sound"):
        make_scene({"size": [96, 76], "frames": 3, "loop": True, "audio": "empty.wav",
                    "segments": [{"at": 0, "layers": "edges"}]})
    analysis = cached_analysis(click_track, 6.0, None)
    for fps in (4, 30, 240):
        assert analysis.per_frame("loudness", fps, round(6 * fps)).max() == pytest.approx(1.0)
