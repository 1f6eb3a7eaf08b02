"""reverse: true: the dream plays backwards (a zoom out of the logo ends on it), piece by piece,
with words, fades and --frames as the viewer sees them and the sound forward."""

import subprocess

import imageio_ffmpeg
import numpy as np
import pytest

from pipeline import render
from pipeline.cli.check import sidecar_motion
from pipeline.session.session import RenderInterrupted

from tests.test_text import frames_in

DREAM = {"size": [96, 76], "fps": 10, "frames": 7, "weights": "random", "start": "logo.png", "seed": 3,
         "dream": {"octaves": 1, "iterations": 1, "step": 0.05}, "motion": {"zoom": 0.92},
         "segments": [{"at": 0, "layers": "edges"}]}


def test_reverse_gives_the_frames_backwards_and_words_in_the_viewers_order(make_scene, tmp_path):
    forward = frames_in(render(make_scene(DREAM), tmp_path / "forward", device="cpu", checkpoint_every=3).path)
    words = {"text": [{"content": "A", "color": "#ff0000", "size": 0.4, "end": 1, "box": "#ff0000"}]}
    scene = make_scene({**DREAM, "reverse": True, **words}, name="back")
    back = frames_in(render(scene, tmp_path / "back", device="cpu", checkpoint_every=3).path)
    assert len(back) == 7
    assert np.array_equal(back[2:], forward[::-1][2:])  # the last dreamed frame first
    changed = [int((b != f).any(axis=2).sum()) for b, f in zip(back, forward[::-1])]
    assert changed[0] > 300 and changed[1] > 300 and changed[2:] == [0] * 5  # the words on the first two seen
    assert (back[0] == [255, 0, 0]).all(axis=2).sum() > 300
    assert np.abs(np.diff(forward, axis=0)).mean() > 1  # a real zoom, not still frames


def test_reverse_with_frames_counts_as_the_viewer_sees(make_scene, tmp_path):
    scene = make_scene({**DREAM, "reverse": True})
    whole = frames_in(render(scene, tmp_path / "whole", device="cpu", checkpoint_every=3).path)
    part = render(scene, tmp_path / "part", device="cpu", checkpoint_every=3, frames=range(1, 4)).path
    assert sorted(p.name for p in part.glob("*.png")) == ["part_00001.png", "part_00002.png", "part_00003.png"]
    assert np.array_equal(frames_in(part), whole[1:4])


def test_reverse_resumes_identically_after_an_interruption(make_scene, tmp_path):
    scene = make_scene({**DREAM, "reverse": True, "fade": {"in": 0.2},
                        "text": [{"content": "Go", "start": 2, "fade_in": 0.2}]})
    reference = frames_in(render(scene, tmp_path / "reference", device="cpu", checkpoint_every=2).path)

    def stop(done, total):
        if done == 5:
            raise KeyboardInterrupt

    with pytest.raises(RenderInterrupted):
        render(scene, tmp_path / "resumed", device="cpu", checkpoint_every=2, progress=stop)
    resumed = render(scene, tmp_path / "resumed", device="cpu", checkpoint_every=2, resume=True)
    assert np.array_equal(frames_in(resumed.path), reference)
    assert reference[0].mean() < 0.5 * reference[3].mean()  # the fade from black is at the video's start


def decoded(path, stream: str) -> np.ndarray:
    """A file's video frames (H, W, 3 each) or its sound (mono 16-bit samples), decoded by ffmpeg."""
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    if stream == "a":
        raw = subprocess.run([ffmpeg, "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", "8000",
                              "-f", "s16le", "-"], capture_output=True, check=True).stdout
        return np.frombuffer(raw, np.int16).astype(float)
    raw = subprocess.run([ffmpeg, "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, 76, 96, 3).astype(float)


def test_a_reversed_video_keeps_its_sound_forward(make_scene, tmp_path):
    sweep = tmp_path / "sweep.wav"  # silence, then a tone: reversed, the tone would come first
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                    "aevalsrc='if(gt(t,0.5),sin(2*PI*440*t),0)':d=1:s=8000", str(sweep)], check=True)
    keys = {**DREAM, "size": [96, 76], "frames": 10, "audio": "sweep.wav"}
    forward = render(make_scene(keys), tmp_path / "forward.mp4", device="cpu", checkpoint_every=5).path
    back = render(make_scene({**keys, "reverse": True}, name="back"), tmp_path / "back.mp4", device="cpu",
                  checkpoint_every=5).path
    sound = decoded(back, "a")
    half = len(sound) // 2
    assert np.abs(sound[:half - 400]).mean() < 50 < np.abs(sound[half + 400:]).mean()  # quiet, then the tone
    assert np.allclose(sound, decoded(forward, "a"), atol=200)
    pictures, ahead = decoded(back, "v"), decoded(forward, "v")
    assert len(pictures) == 10
    assert np.abs(pictures - ahead[::-1]).mean() < 0.5 * np.abs(pictures - ahead).mean()


def test_check_reads_a_reversed_videos_camera_backwards(make_scene, tmp_path):
    scene = make_scene({**DREAM, "reverse": True, "motion": {"zoom": 0.8, "translate": [2, 0]}})
    video = render(scene, tmp_path / "back", device="cpu").path
    motion, source = sidecar_motion(video)
    assert motion is not None, source
    zoom, turn, shift, center = motion(1)  # video frame 0 -> 1 is timeline 6 -> 5: the zoom undone
    assert zoom == pytest.approx(1 / 0.8) and turn == 0 and shift == pytest.approx((-2 / 0.8, 0))
    assert motion(6) == motion(1) and motion(0) is None  # the first video frame follows none


def test_a_reversed_gif_and_an_interrupted_partial_play_as_seen(make_scene, tmp_path):
    from PIL import Image, ImageSequence

    scene = make_scene({**DREAM, "frames": 5, "reverse": True})
    frames = frames_in(render(scene, tmp_path / "png", device="cpu", checkpoint_every=2).path)
    gif = render(scene, tmp_path / "back.gif", device="cpu", checkpoint_every=2).path
    with Image.open(gif) as image:
        shown = [np.asarray(f.convert("RGB")).astype(int) for f in ImageSequence.Iterator(image)]
    assert len(shown) == 5
    errors = [[np.abs(s - f).mean() for f in frames] for s in shown]
    assert [int(np.argmin(row)) for row in errors] == [0, 1, 2, 3, 4]  # each GIF frame is its own

    def stop(done, total):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(RenderInterrupted) as caught:
        render(scene, tmp_path / "cut", device="cpu", checkpoint_every=2, progress=stop)
    partial = frames_in(caught.value.partial)  # the last frames of the video, as dreamed so far
    assert np.array_equal(partial, frames[-len(partial):])
