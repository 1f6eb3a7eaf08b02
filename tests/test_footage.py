"""Dreaming over footage: a clip's frames in, the same number out, the dream following its motion."""

import re
import subprocess

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pytest

from pipeline import SceneError, render
from pipeline.plan import make_plan
from pipeline.session.footage import ClipFrames

SMALL = {"size": [96, 76], "seed": 1, "dream": {"octaves": 1, "iterations": 2, "step": 0.03, "jitter": 4},
         "segments": [{"at": 0, "layers": "circles"}]}
FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def texture(width: int, height: int, seed: int = 1) -> np.ndarray:
    """Soft coloured blobs: something the optical flow can follow."""
    import cv2

    noise = (np.random.default_rng(seed).random((height, width, 3)) * 255).astype(np.uint8)
    return cv2.normalize(cv2.GaussianBlur(noise, (0, 0), 3), None, 0, 255, cv2.NORM_MINMAX)


def sliding_clip(path, frames: int, fps: float = 10, step: int = 2, size=(120, 90), sound: bool = False):
    """A clip of `frames` frames whose picture moves `step` pixels right each frame."""
    width, height = size
    wide = texture(width + step * frames, height)
    pictures = [np.ascontiguousarray(wide[:, step * (frames - i):step * (frames - i) + width]) for i in range(frames)]
    writer = imageio_ffmpeg.write_frames(str(path), size, fps=fps, macro_block_size=1, quality=10,
                                         audio_path=None)
    writer.send(None)
    for picture in pictures:
        writer.send(picture)
    writer.close()
    if sound:  # add a tone as long as the clip
        with_sound = path.with_name("sound_" + path.name)
        subprocess.run([FFMPEG, "-v", "error", "-i", str(path), "-f", "lavfi", "-i",
                        f"sine=frequency=440:duration={frames / fps}", "-c:v", "copy", "-c:a", "aac", "-shortest",
                        str(with_sound)], check=True)
        with_sound.replace(path)
    return pictures


def video_facts(path) -> tuple[int, float, tuple[int, int], str]:
    """(frames, fps, size, ffmpeg's account) of a rendered video."""
    frames = iio.imread(path)
    account = subprocess.run([FFMPEG, "-i", str(path)], capture_output=True, text=True).stderr
    fps = float(re.search(r"([\d.]+) fps", account)[1])
    return len(frames), fps, (frames.shape[2], frames.shape[1]), account


@pytest.mark.slow
def test_a_clip_of_n_frames_gives_n_frames_at_its_rate_with_its_sound(make_scene, reuse_inception, tmp_path):
    sliding_clip(tmp_path / "clip.mp4", 9, fps=12, sound=True)
    scene = make_scene({**SMALL, "start": "clip.mp4", "audio": "start",
                        "dream": {**SMALL["dream"], "iterations": 1}})
    assert scene.frame_count == 9 and scene.fps == 12  # frames, duration and fps from the clip
    count, fps, size, account = video_facts(render(scene, tmp_path / "out.mp4", device="cpu").path)
    assert (count, fps, size) == (9, 12.0, (96, 76))
    assert "Audio: aac" in account and "Duration: 00:00:00.75" in account


def test_the_clip_is_resampled_to_the_scenes_fps_and_size_cover_fit(make_scene, tmp_path):
    pictures = sliding_clip(tmp_path / "clip.mp4", 10, fps=10, size=(120, 60))
    scene = make_scene({**SMALL, "start": "clip.mp4", "fps": 25})
    plan = make_plan(scene)
    assert len(plan.frames) == 25 and any("10 fps" in note for note in plan.notes)
    reader = ClipFrames(tmp_path / "clip.mp4", 76, 76, 25)
    try:
        first = reader.frame(0).astype(int)
        centre = pictures[0][:, 30:90]  # cover-fit: the middle square of the wide picture, scaled 76/60
        import cv2

        expected = cv2.resize(centre, (76, 76), interpolation=cv2.INTER_AREA).astype(int)
        assert np.abs(first - expected).mean() < 8
        assert np.array_equal(reader.frame(3), reader.frame(3))
        later = reader.frame(24).copy()
        assert np.array_equal(reader.frame(0), first)  # an earlier frame: read again from the start
        assert np.array_equal(reader.frame(24), later)
        assert np.array_equal(reader.frame(25), later)  # one past the end (a rounding): the last frame
    finally:
        reader.close()


def test_past_its_end_a_clip_holds_its_last_frame_or_loops(make_scene, tmp_path):
    sliding_clip(tmp_path / "clip.mp4", 6)
    held = make_plan(make_scene({**SMALL, "start": "clip.mp4", "frames": 10}))
    assert [held.frames[n].footage.frame for n in range(10)] == [0, 1, 2, 3, 4, 5, 5, 5, 5, 5]
    looped = make_plan(make_scene({**SMALL, "start": "clip.mp4", "frames": 14, "clip_end": "loop"}))
    assert [looped.frames[n].footage.frame for n in range(14)] == [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1]
    assert looped.frames[6].footage.previous == 5 and looped.frames[0].footage.previous is None


def test_a_cut_clip_keeps_its_clip_end_and_flow_into_the_segments_after(make_scene, tmp_path):
    sliding_clip(tmp_path / "clip.mp4", 3)
    scene = make_scene({**SMALL, "start": "logo.png", "frames": 10, "fps": 10,
                        "segments": [{"frames": [0, 1], "layers": "edges"},
                                     {"frames": [2, 4], "layers": "circles", "start": "clip.mp4", "clip_end": "loop",
                                      "flow": 0.3},
                                     {"frames": [5, 9], "layers": "edges", "flow": 0.6}]})
    plan = make_plan(scene)
    assert [plan.frames[n].footage.frame for n in range(2, 10)] == [0, 1, 2, 0, 1, 2, 0, 1]
    assert [plan.frames[n].footage.flow for n in (4, 5)] == [0.3, 0.6]


@pytest.mark.slow
def test_a_render_reads_its_clip_once_front_to_back(make_scene, reuse_inception, tmp_path, monkeypatch):
    """The next frame is decoded while this one dreams, in order: the decoder never starts over."""
    sliding_clip(tmp_path / "clip.mp4", 8)
    opened = []
    original = ClipFrames._open
    monkeypatch.setattr(ClipFrames, "_open", lambda self: (opened.append(1), original(self)))
    scene = make_scene({**SMALL, "start": "clip.mp4", "dream": {**SMALL["dream"], "iterations": 1}})
    render(scene, tmp_path / "out.mkv", device="cpu")
    assert len(opened) == 1


@pytest.mark.slow
def test_a_segment_cuts_to_a_clip_which_plays_from_its_first_frame(make_scene, reuse_inception, tmp_path):
    sliding_clip(tmp_path / "clip.mp4", 6)
    scene = make_scene({**SMALL, "start": "logo.png", "frames": 10, "fps": 10, "motion": {"zoom": 1.05},
                        "segments": [{"frames": [0, 3], "layers": "edges"},
                                     {"frames": [4, 9], "layers": "circles", "start": "clip.mp4", "blend": 2,
                                      "clip_end": "loop"}]})
    plan = make_plan(scene)
    assert [plan.frames[n].footage for n in range(4)] == [None] * 4
    assert [plan.frames[n].footage.frame for n in range(4, 10)] == [0, 1, 2, 3, 4, 5]
    assert plan.frames[4].footage.blend == 0.5 and plan.frames[5].footage.blend == 1.0
    frames = iio.imread(render(scene, tmp_path / "cut.mp4", device="cpu").path)
    assert len(frames) == 10


def compensated_steps(video, shift: int = 2) -> np.ndarray:
    """Mean difference between each frame (from the fifth on) and the next, after moving it by the
    clip's `shift` pixels to the right: what the eye reads as the same picture moving on."""
    frames = iio.imread(video).astype(float)[4:]
    return np.array([np.abs(b[:, 4 + shift:-4] - a[:, 4:-4 - shift]).mean() for a, b in zip(frames[:-1], frames[1:])])


@pytest.mark.slow
def test_with_flow_the_dream_follows_the_moving_clip_instead_of_boiling(make_scene, reuse_inception, tmp_path):
    sliding_clip(tmp_path / "clip.mp4", 14, size=(96, 76))
    base = {**SMALL, "start": "clip.mp4"}
    steady = render(make_scene({**base, "flow": 0.8}, name="flow"), tmp_path / "flow.mkv", device="cpu").path
    afresh = render(make_scene({**base, "flow": 0}, name="afresh"), tmp_path / "afresh.mkv", device="cpu").path
    followed, boiling = compensated_steps(steady), compensated_steps(afresh)
    assert followed.mean() < 0.5 * boiling.mean(), (followed, boiling)
    clip = iio.imread(tmp_path / "clip.mp4").astype(float)
    dreamed = np.abs(iio.imread(steady).astype(float)[-1] - clip[-1]).mean()
    assert dreamed > 0.5 * np.abs(iio.imread(afresh).astype(float)[-1] - clip[-1]).mean()  # as dreamed, not less


@pytest.mark.slow
def test_an_interrupted_render_resumes_mid_clip_to_identical_frames(make_scene, reuse_inception, tmp_path):
    from pipeline.session.session import RenderInterrupted

    sliding_clip(tmp_path / "clip.mp4", 10)
    scene = make_scene({**SMALL, "start": "clip.mp4", "clip_end": "loop", "frames": 14,
                        "dream": {**SMALL["dream"], "iterations": 1}, "motion": {"zoom": 1.02}})
    reference = render(scene, tmp_path / "reference.mkv", device="cpu", checkpoint_every=4).path

    def stop(done, total):
        if done == 7:
            raise KeyboardInterrupt

    with pytest.raises(RenderInterrupted):
        render(scene, tmp_path / "resumed.mkv", device="cpu", checkpoint_every=4, progress=stop)
    resumed = render(scene, tmp_path / "resumed.mkv", device="cpu", checkpoint_every=4, resume=True).path
    assert np.array_equal(iio.imread(resumed), iio.imread(reference))


def test_a_clip_is_as_long_as_its_video_not_its_sound(make_scene, tmp_path):
    sliding_clip(tmp_path / "clip.mp4", 10)
    subprocess.run([FFMPEG, "-v", "error", "-i", str(tmp_path / "clip.mp4"), "-f", "lavfi", "-i",
                    "sine=duration=3", "-c:v", "copy", "-c:a", "aac", str(tmp_path / "long_sound.mp4")], check=True)
    assert make_scene({**SMALL, "start": "long_sound.mp4"}).frame_count == 10


def test_a_variable_frame_rate_clip_is_resampled_by_its_times_with_a_note(make_scene, tmp_path):
    sliding_clip(tmp_path / "even.mp4", 20, fps=10)
    # frames 0-9 last 0.2 s each, 10-19 0.1 s: 3 seconds in all
    subprocess.run([FFMPEG, "-v", "error", "-i", str(tmp_path / "even.mp4"), "-vf",
                    "setpts='if(lt(N,10),2*N,N+10)/10/TB'", "-fps_mode", "vfr", str(tmp_path / "vfr.mp4")], check=True)
    plan = make_plan(make_scene({**SMALL, "start": "vfr.mp4", "fps": 10}))
    assert len(plan.frames) == 30
    assert any("variable frame rate" in note for note in plan.notes), plan.notes


@pytest.mark.parametrize("keys, message", [
    ({"start": "garbage.mp4"}, "start: cannot use clip 'garbage.mp4': ffmpeg cannot read it"),
    ({"start": "empty.mp4"}, "start: cannot use clip 'empty.mp4'"),
    ({"start": "tone.mp4"}, "start: cannot use clip 'tone.mp4': it has no video stream"),
    ({"start": "clip.mp4", "audio": "start"}, "audio: 'clip.mp4' has no sound track"),
    ({"start": "logo.png", "frames": 5, "audio": "start"}, "audio: start keeps the start clip's own sound, but "
                                                            "start is 'logo.png'"),
    ({"start": "logo.png", "frames": 5, "flow": 0.5}, "flow: flow is about dreaming over a video clip"),
    ({"start": "logo.png", "frames": 5, "segments": [{"at": 0, "layers": "edges", "clip_end": "loop"}]},
     "segments.0.clip_end: clip_end is about dreaming over a video clip"),
    ({"start": "clip.mp4", "flow": 1.5}, "flow: .*1.5"),
    ({"start": "clip.mp4", "flow": float("nan")}, "flow"),
    ({"start": "clip.mp4", "clip_end": "bounce"}, "clip_end: write 'hold' or 'loop'"),
    ({"start": "clip.mp4", "frames": 5, "segments": [{"at": 0, "layers": "edges", "guide": {"image": "clip.mp4"}}]},
     "segments.0.guide.image: 'clip.mp4' is a video clip"),
    ({"start": "logo.png"}, "frames: give either frames: N or duration"),
    ({"start": "nothere.mp4"}, "start: clip '.*nothere.mp4' not found"),
    ({"start": "list.mp4"}, "start: cannot use clip 'list.mp4': it is a concat file, not a video"),
    ({"start": "clip.mp4", "loop": True}, "loop: loop: true makes a seamless loop by dreaming past the end"),
    ({"start": "clip.mp4", "mask": "start"}, "mask.image: start uses the start image's transparency, but start is "
                                             "'clip.mp4'"),
])
def test_bad_clips_and_clip_keys_are_refused_with_one_line(make_scene, tmp_path, keys, message):
    sliding_clip(tmp_path / "clip.mp4", 4)
    (tmp_path / "garbage.mp4").write_bytes(b"\x00\x01not a video" * 100)
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "list.mp4").write_text("ffconcat version 1.0\nfile clip.mp4\n")  # a list of other files
    subprocess.run([FFMPEG, "-v", "error", "-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac",
                    str(tmp_path / "tone.mp4")], check=True)
    with pytest.raises(SceneError) as caught:
        make_scene({**SMALL, **keys})
    assert len(caught.value.problems) == 1, caught.value.render()
    assert re.search(message, caught.value.render()), caught.value.render()


def test_a_clip_damaged_partway_stops_the_render_with_one_line_not_a_frozen_frame(make_scene, tmp_path):
    from pipeline.scene.clips import ClipError

    sliding_clip(tmp_path / "clip.mkv", 20)
    data = (tmp_path / "clip.mkv").read_bytes()
    (tmp_path / "clip.mkv").write_bytes(data[:len(data) // 2])
    reader = ClipFrames(tmp_path / "clip.mkv", 96, 76, 10)
    try:
        reader.frame(2)
        with pytest.raises(ClipError, match="clip 'clip.mkv' ended at frame .* while frame 19 was due"):
            reader.frame(18)
    finally:
        reader.close()


def test_an_ntsc_clip_keeps_its_exact_rate(make_scene, tmp_path):
    """ffmpeg prints 23.98; the clip plays 24000/1001 frames a second, and so does the video."""
    subprocess.run([FFMPEG, "-v", "error", "-f", "lavfi", "-i", "testsrc=size=120x90:rate=24000/1001:duration=1",
                    "-c:v", "libx264", str(tmp_path / "ntsc.mp4")], check=True)
    assert make_scene({**SMALL, "start": "ntsc.mp4"}).fps == pytest.approx(24000 / 1001, abs=1e-9)
